"""The comparison report, on a SQLite store that the tests fill through MLflow's public API.

Experiment `compare` holds runs with known values: three LSTM and two GRU seeds, and one
failed LSTM. Experiment `messy` holds what the report must survive: a run another tool
logged, a run named like an HTML attack with missing metrics, a sweep with a trial, a
seed-repeat parent with its two children, and a report run.
"""

from __future__ import annotations

import base64
import io
import math
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from rnn_tracking import report
from rnn_tracking.cli import main
from rnn_tracking.report import Selection, TableOptions, build_report

# Its tests share module-scoped fixtures (trained once): one xdist worker runs them all.
pytestmark = pytest.mark.xdist_group("unit_report")

SCRIPT_NAME = "<script>alert(1)</script>"
COMMON = {"units": "8", "dropout": "0.0", "learning_rate": "0.0001"}
# name -> (params, summary metrics, val_accuracy per epoch)
COMPARE_RUNS = {
    "lstm-s42": (
        {"arch": "lstm", "seed": "42"},
        {
            "param_count": 8809,
            "best_epoch": 5,
            "best_val_accuracy": 0.81,
            "test_accuracy": 0.80,
            "train_seconds": 100.0,
            "epochs_run": 8,
        },
        [0.6, 0.7, 0.81],
    ),
    "lstm-s43": (
        {"arch": "lstm", "seed": "43"},
        {
            "param_count": 8809,
            "best_epoch": 6,
            "best_val_accuracy": 0.83,
            "test_accuracy": 0.82,
            "train_seconds": 110.0,
            "epochs_run": 10,
        },
        [0.65, 0.83],
    ),
    "lstm-s44": (
        # The same learning rate in another spelling: it must not count as a difference.
        {"arch": "lstm", "seed": "44", "learning_rate": "1e-4"},
        {
            "param_count": 8809,
            "best_epoch": 4,
            "best_val_accuracy": 0.85,
            "test_accuracy": 0.84,
            "train_seconds": 90.0,
            "epochs_run": 6,
        },
        [0.7, 0.85],
    ),
    "gru-s42": (
        {"arch": "gru", "seed": "42"},
        {
            "param_count": 8633,
            "best_epoch": 7,
            "best_val_accuracy": 0.72,
            "test_accuracy": 0.70,
            "train_seconds": 80.0,
            "epochs_run": 10,
        },
        [0.6, 0.72],
    ),
    "gru-s43": (
        {"arch": "gru", "seed": "43"},
        {
            "param_count": 8633,
            "best_epoch": 3,
            "best_val_accuracy": 0.73,
            "test_accuracy": 0.72,
            "train_seconds": 60.0,
            "epochs_run": 5,
        },
        [0.73],
    ),
}


def log_run(
    client, experiment_id, name, params=None, metrics=None, tags=None, curve=(), status="FINISHED"
):
    """Creates one run through the public API and returns its id."""
    run = client.create_run(experiment_id, run_name=name, tags=tags or {})
    run_id = run.info.run_id
    now = 1_700_000_000_000
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()]
        + [Metric("val_accuracy", v, now, step) for step, v in enumerate(curve, start=1)],
        params=[Param(k, str(v)) for k, v in (params or {}).items()],
    )
    client.set_terminated(run_id, status=status)
    return run_id


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Fills one SQLite store for the module's read-only tests; returns (client, run ids)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('report') / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    ids = {}
    compare = client.create_experiment("compare")
    for name, (params, metrics, curve) in COMPARE_RUNS.items():
        ids[name] = log_run(
            client, compare, name, COMMON | params, metrics, {"arch": params["arch"]}, curve
        )
    ids["lstm-failed"] = log_run(
        client,
        compare,
        "lstm-failed",
        COMMON | {"arch": "lstm", "seed": "45"},
        {"best_epoch": 2},
        status="FAILED",
    )
    messy = client.create_experiment("messy")
    ids["other-tool"] = log_run(client, messy, "other-tool", {"alpha": "0.5"}, {"rmse": 1.0})
    ids[SCRIPT_NAME] = log_run(
        client, messy, SCRIPT_NAME, {"arch": "simplernn", "units": "4|8"}, {"test_accuracy": 0.5}
    )
    ids["study"] = log_run(client, messy, "study", {"n_trials": "3"}, {"best_value": 0.9})
    ids["trial-0"] = log_run(
        client,
        messy,
        "trial-0",
        {"arch": "lstm"},
        {"test_accuracy": 0.9},
        {"mlflow.parentRunId": ids["study"]},
    )
    ids["repeats"] = log_run(
        client,
        messy,
        "lstm-2seeds",
        {"arch": "lstm", "seeds": "2"},
        {"test_accuracy_mean": 0.61},
        {report.SEED_REPEATS_TAG: "2"},
    )
    for seed, accuracy in ((1, 0.6), (2, 0.62)):
        ids[f"seed{seed}"] = log_run(
            client,
            messy,
            f"lstm-seed{seed}",
            {"arch": "lstm", "seed": str(seed), "units": "8"},
            {"test_accuracy": accuracy},
            {"mlflow.parentRunId": ids["repeats"], report.SEED_REPEAT_OF_TAG: ids["repeats"]},
        )
    ids["report"] = log_run(client, messy, "report", tags={report.REPORT_KIND_TAG: "report"})
    return client, ids


# Run names and param values that Matplotlib would read as mathtext: the first renders
# wrongly, the second crashes the parser (unknown symbol, dangling superscript).
MATH_NAMES = ("$x$ \\alpha", "$\\foo$ and $x^$")


@pytest.fixture(scope="module")
def math_store(tmp_path_factory):
    """Fills a store of two runs per name in MATH_NAMES; the name is also param `label`."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('math') / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("math")
    for index, name in enumerate(MATH_NAMES):
        for seed in (1, 2):
            metrics = {
                "test_accuracy": 0.7 + 0.05 * index + 0.01 * seed,
                "train_seconds": 10.0 + index,
                "param_count": 100 + index,
                "epochs_run": 2,
            }
            params = {"arch": "lstm", "label": name, "seed": str(seed)}
            log_run(client, experiment, name, params, metrics, curve=[0.6, 0.7])
    return client


def make_math(client, group_by=()):
    selection = Selection(experiment_names=("math",))
    return build_report(selection, TableOptions(group_by=group_by), client)


@pytest.fixture
def store_uri(store, monkeypatch):
    """Points MLflow (environment and fluent API) at the module's store, then back."""
    import mlflow

    uri = store[0]._tracking_client.tracking_uri
    previous = mlflow.get_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield uri
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


def make(store, *experiments, options=None, **selection):
    client, _ = store
    selection = Selection(experiment_names=experiments, **selection)
    return build_report(selection, options or TableOptions(), client)


@pytest.mark.slow
def test_run_table_holds_the_differing_params_and_metrics_sorted_by_test_accuracy(store):
    _, ids = store
    built = make(store, "compare")
    order = ["lstm-s44", "lstm-s43", "lstm-s42", "gru-s43", "gru-s42"]
    expected = pd.DataFrame(
        {
            "run_name": order,
            "run_id": [ids[name] for name in order],
            "arch": [COMPARE_RUNS[name][0]["arch"] for name in order],
            # Only the seed differs: units, dropout and the learning rate (in two
            # spellings) are the same in every run.
            "seed": ["44", "43", "42", "43", "42"],
        }
    )
    for metric in report.DEFAULT_METRICS[:-1]:
        expected[metric] = [float(COMPARE_RUNS[name][1][metric]) for name in order]
    expected["seconds_per_epoch"] = [
        COMPARE_RUNS[name][1]["train_seconds"] / COMPARE_RUNS[name][1]["epochs_run"]
        for name in order
    ]
    pd.testing.assert_frame_equal(built.table, expected, check_dtype=False)
    assert built.param_columns == ("seed",)
    assert built.comparison is None


@pytest.mark.slow
def test_group_table_gives_each_groups_mean_sample_std_and_size(store):
    built = make(store, "compare", options=TableOptions(group_by=("arch",)))
    table = built.table.set_index("arch")
    assert list(table.index) == ["lstm", "gru"]
    assert table.loc["lstm", "n"] == 3 and table.loc["gru", "n"] == 2
    assert table.loc["lstm", "test_accuracy_mean"] == pytest.approx(0.82)
    assert table.loc["lstm", "test_accuracy_std"] == pytest.approx(0.02)
    assert table.loc["gru", "test_accuracy_mean"] == pytest.approx(0.71)
    assert table.loc["gru", "test_accuracy_std"] == pytest.approx(math.sqrt(0.0002))
    assert table.loc["gru", "train_seconds_mean"] == pytest.approx(70.0)
    assert table.loc["lstm", "seconds_per_epoch_mean"] == pytest.approx((12.5 + 11 + 15) / 3)
    shown = report.display_table(built).set_index("arch")
    assert shown.loc["lstm", "test_accuracy"] == "0.8200 ± 0.0200"
    assert shown.loc["gru", "param_count"] == "8,633 ± 0"
    assert shown.loc["gru", "best_epoch"] == "5 ± 2.8"


@pytest.mark.slow
def test_groups_by_several_params_and_cuts_to_the_top_k(store):
    options = TableOptions(group_by=("arch", "seed"), top_k=2)
    table = make(store, "compare", options=options).table
    assert table[["arch", "seed", "n"]].values.tolist() == [["lstm", "44", 1], ["lstm", "43", 1]]
    assert math.isnan(table.loc[0, "test_accuracy_std"])


@pytest.mark.slow
def test_best_two_groups_are_tested_with_welchs_t_test_and_said_in_words(store):
    comparison = make(store, "compare", options=TableOptions(group_by=("arch",))).comparison
    lstm, gru = [0.80, 0.82, 0.84], [0.70, 0.72]
    from scipy import stats

    expected = stats.ttest_ind(lstm, gru, equal_var=False)
    assert comparison.startswith(
        "Best two groups by mean test_accuracy: lstm (0.8200 ± 0.0200, n=3)"
    )
    assert "gru (0.7100 ± 0.0141, n=2) by 0.1100" in comparison
    assert f"p = {expected.pvalue:.3g}" in comparison
    assert comparison.endswith("the difference is significant at the 5% level.")


def test_overlapping_groups_are_called_not_significant():
    frame = pd.DataFrame(
        {
            "arch": ["lstm"] * 3 + ["gru"] * 3,
            "metrics.test_accuracy": [0.80, 0.83, 0.78, 0.79, 0.82, 0.77],
        }
    )
    comparison = report.compare_best_groups(frame, ["arch"])
    assert "not significant at the 5% level" in comparison


def test_a_single_run_leader_also_gets_the_best_two_repeated_groups_compared():
    frame = pd.DataFrame(
        {
            "arch": ["tfidf_logreg"] + ["lstm"] * 3 + ["gru"] * 3,
            "metrics.test_accuracy": [0.90, 0.80, 0.82, 0.84, 0.70, 0.72, 0.71],
        }
    )
    comparison = report.compare_best_groups(frame, ["arch"])
    first, second = comparison.split(" Best two groups with repeats: ")
    assert first.startswith("Best two groups by mean test_accuracy: tfidf_logreg (0.9000, n=1)")
    assert "Not tested: tfidf_logreg has a single run" in first
    assert second.startswith("lstm (0.8200 ± 0.0200, n=3) ahead of gru (0.7100 ± 0.0100, n=3)")
    assert second.endswith("significant at the 5% level.")


@pytest.mark.slow
def test_a_group_of_one_run_is_not_tested_and_the_report_says_how_to_fix_it(store):
    comparison = make(store, "compare", options=TableOptions(group_by=("seed",))).comparison
    assert "seed=44 (0.8400, n=1)" in comparison
    assert "Not tested: seed=44 has a single run" in comparison
    assert "--seeds" in comparison


@pytest.mark.slow
def test_failed_runs_are_left_out_by_default_and_marked_when_asked_for(store):
    _, ids = store
    assert ids["lstm-failed"] not in set(make(store, "compare").table["run_id"])
    built = make(store, "compare", statuses=report.STATUSES)
    table = built.table.set_index("run_name")
    assert table.loc["lstm-failed", "status"] == "FAILED"
    assert table.loc["lstm-s44", "status"] == "FINISHED"
    # Its missing metrics are blanks, sorted last.
    assert built.table["run_name"].iloc[-1] == "lstm-failed"
    assert report.display_table(built).iloc[-1]["test_accuracy"] == report.MISSING


@pytest.mark.slow
def test_other_tools_runs_sweeps_and_seed_repeats_are_selected_as_documented(store):
    names = set(make(store, "messy").table["run_name"])
    # Seed repeats are rows and their parent is not; the sweep trial is out, the report too.
    assert names == {"other-tool", SCRIPT_NAME, "study", "lstm-seed1", "lstm-seed2"}
    with_children = set(make(store, "messy", children="include").table["run_name"])
    assert with_children == names | {"trial-0"}


@pytest.mark.slow
def test_a_param_only_some_runs_log_is_shown_only_where_they_disagree(store):
    built = make(store, "messy")
    # alpha and n_trials are each logged by one run; units by three, with two values.
    assert built.param_columns == ("units", "seed")
    shown = report.display_table(built).set_index("run_name")
    assert shown.loc[SCRIPT_NAME, "units"] == "4|8"
    assert shown.loc["other-tool", "units"] == report.MISSING


@pytest.mark.slow
def test_runs_without_arch_or_metrics_show_blanks(store):
    shown = report.display_table(make(store, "messy")).set_index("run_name")
    assert shown.loc["other-tool", "arch"] == report.MISSING
    assert shown.loc["other-tool", "test_accuracy"] == report.MISSING
    assert shown.loc[SCRIPT_NAME, "train_seconds"] == report.MISSING
    assert shown.loc[SCRIPT_NAME, "test_accuracy"] == "0.5000"


@pytest.mark.slow
def test_several_experiments_are_read_together_and_named(store):
    built = make(store, "compare,messy")
    assert len(built.table) == 5 + 5
    assert set(built.table["experiment"]) == {"compare", "messy"}


@pytest.mark.slow
def test_filter_string_narrows_the_selection(store):
    built = make(
        store, "compare", filter_string="params.arch = 'gru' and metrics.test_accuracy > 0.71"
    )
    assert built.table["run_name"].tolist() == ["gru-s43"]


@pytest.mark.slow
def test_sort_by_another_metric_ascending(store):
    options = TableOptions(sort_by="train_seconds", ascending=True, metrics=("train_seconds",))
    table = make(store, "compare", options=options).table
    assert table["train_seconds"].tolist() == [60.0, 80.0, 90.0, 100.0, 110.0]
    assert list(table.columns) == ["run_name", "run_id", "arch", "seed", "train_seconds"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("selection", "options", "message"),
    [
        (
            {"experiment_names": ("nope",)},
            TableOptions(),
            "experiment_name: no experiment named 'nope'",
        ),
        ({"filter_string": "params.arch ==="}, TableOptions(), "filter: MLflow cannot read"),
        (
            {},
            TableOptions(metrics=("test_acc",)),
            "metrics: no selected run has the metric 'test_acc'",
        ),
        ({}, TableOptions(group_by=("colour",)), "group_by: 'colour' is neither a param nor a tag"),
        ({}, TableOptions(sort_by="epochs_run"), "sort_by: 'epochs_run' is not a metric column"),
    ],
)
def test_bad_options_are_one_line_errors_naming_the_option(store, selection, options, message):
    selection = {"experiment_names": ("compare",)} | selection
    with pytest.raises(ValueError, match=message) as error:
        build_report(Selection(**selection), options, store[0])
    assert "\n" not in str(error.value)


def test_selection_rejects_unknown_statuses_and_children():
    with pytest.raises(ValueError, match="status: got 'done'"):
        Selection(statuses=report.parse_statuses("finished,done"))
    with pytest.raises(ValueError, match="children: got 'maybe'"):
        Selection(children="maybe")
    assert report.parse_statuses("ALL") == report.STATUSES


@pytest.mark.slow
@pytest.mark.parametrize(
    ("experiments", "group_by"), [(("compare", "messy"), ()), (("compare",), ("arch",))]
)
def test_markdown_round_trips_to_the_displayed_table(store, experiments, group_by):
    # The messy runs bring a name with <, > and a param value with a pipe (units=4|8).
    built = make(store, *experiments, options=TableOptions(group_by=group_by))
    text = report.render_markdown(built)
    header, rule, *rows = [line for line in text.splitlines() if line.startswith("|")]
    parsed = pd.DataFrame(
        [split_markdown_row(row) for row in rows], columns=split_markdown_row(header)
    )
    pd.testing.assert_frame_equal(parsed, report.display_table(built))
    assert set(rule) <= set("|:-")


def split_markdown_row(line):
    """Splits one Markdown table row on unescaped pipes and unescapes the cells."""
    cells, cell, index = [], "", 1
    body = line.strip()
    while index < len(body) - 1:
        if body[index] == "\\":
            cell += body[index + 1]
            index += 2
            continue
        if body[index] == "|":
            cells.append(cell.strip())
            cell = ""
        else:
            cell += body[index]
        index += 1
    cells.append(cell.strip())
    return cells


@pytest.mark.slow
def test_csv_round_trips_to_the_numeric_table(store, tmp_path):
    for options in (TableOptions(), TableOptions(group_by=("arch",))):
        built = make(store, "compare", options=options)
        read = pd.read_csv(
            io.StringIO(report.render_csv(built)),
            dtype={"run_id": str, "seed": str},
            float_precision="round_trip",
        )
        pd.testing.assert_frame_equal(read, built.table, check_dtype=False)


@pytest.mark.slow
def test_html_is_well_formed_and_escapes_every_user_value(store, math_store):
    built = make(store, "messy")
    page = report.render_html(built, {"plot.png": b"\x89PNG fake"})
    assert SCRIPT_NAME not in page
    root = ElementTree.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    assert root.find(".//script") is None
    cells = [cell.text for cell in root.iter("td")]
    assert SCRIPT_NAME in cells
    image = root.find(".//img")
    assert image.get("src").startswith("data:image/png;base64,")
    # Dollars and backslashes are not markup in HTML: they are shown as written.
    page = report.render_html(make_math(math_store), {})
    root = ElementTree.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    assert set(MATH_NAMES) <= {cell.text for cell in root.iter("td")}


def test_pareto_front_keeps_the_points_no_cheaper_point_beats():
    costs = [1.0, 2.0, 3.0, 2.0, 4.0, np.nan, 0.5]
    scores = [0.70, 0.80, 0.75, 0.60, 0.90, 0.99, np.nan]
    assert report.pareto_front(costs, scores).tolist() == [
        True,
        True,
        False,
        False,
        True,
        False,
        False,
    ]


@pytest.mark.slow
def test_plots_are_pngs_and_read_histories_only_of_the_shown_runs(store, monkeypatch):
    client, ids = store
    built = make(store, "compare", options=TableOptions(top_k=2))
    fetched = []
    original = client.get_metric_history

    def spy(run_id, key):
        fetched.append(run_id)
        return original(run_id, key)

    monkeypatch.setattr(client, "get_metric_history", spy)
    plots = report.make_plots(built, client)
    assert list(plots) == list(report.PLOT_NAMES)
    assert all(png.startswith(b"\x89PNG") for png in plots.values())
    assert sorted(fetched) == sorted([ids["lstm-s44"], ids["lstm-s43"]])


@pytest.mark.slow
@pytest.mark.parametrize("group_by", [(), ("label",)])
def test_plots_draw_run_names_and_group_labels_as_written_not_as_mathtext(
    math_store, monkeypatch, group_by
):
    import matplotlib.text

    from rnn_tracking.report import plots

    drawn = []
    original = plots.figure_to_png

    def capture(figure):
        figure.canvas.draw()
        drawn.extend(
            text
            for text in figure.findobj(matplotlib.text.Text)
            if any(name in text.get_text() for name in MATH_NAMES)
        )
        return original(figure)

    monkeypatch.setattr(plots, "figure_to_png", capture)
    pngs = report.make_plots(make_math(math_store, group_by), math_store)
    assert all(png.startswith(b"\x89PNG") for png in pngs.values())
    assert drawn
    assert not any(text.get_parse_math() or text.get_usetex() for text in drawn)


@pytest.mark.slow
def test_report_command_writes_every_output(store_uri, tmp_path):
    out = tmp_path / "out"
    code = main(
        ["report", "--experiment-name", "compare", "--group-by", "arch", "--output-dir", str(out)]
    )
    assert code == 0
    names = {str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()}
    assert names == {"report.md", "report.csv", "report.html"} | {
        f"plots/{name}" for name in report.PLOT_NAMES
    }
    # The page embeds the very PNG files written beside it.
    page = (out / "report.html").read_text(encoding="utf-8")
    root = ElementTree.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    embedded = [image.get("src") for image in root.iter("img")]
    expected = [
        "data:image/png;base64," + base64.b64encode((out / "plots" / name).read_bytes()).decode()
        for name in report.PLOT_NAMES
    ]
    assert embedded == expected


@pytest.mark.slow
def test_no_matching_runs_is_one_line_and_a_non_zero_exit(store_uri, capsys):
    code = main(
        ["report", "--experiment-name", "compare", "--filter", "params.arch = 'transformer'"]
    )
    error = capsys.readouterr().err
    assert code == 1
    assert error.strip().splitlines() == [
        "rnn-tracking: no runs match: experiment(s) 'compare'; status finished; "
        "filter \"params.arch = 'transformer'\"; sweep child runs excluded."
    ]


@pytest.mark.slow
@pytest.mark.parametrize("enabled_before", [True, False])
@pytest.mark.parametrize("experiment", ["compare", "nope"])
def test_report_command_leaves_the_garbage_collector_as_it_found_it(
    store_uri, enabled_before, experiment
):
    import gc

    (gc.enable if enabled_before else gc.disable)()
    frozen = gc.get_freeze_count()
    try:
        main(["report", "--experiment-name", experiment])
        assert gc.isenabled() is enabled_before
        # Only the program freezes its heap on the way out, never a caller's process.
        assert gc.get_freeze_count() == frozen
    finally:
        gc.enable()


def test_paged_search_holds_the_collector_off_only_while_a_page_is_read():
    import gc

    from rnn_tracking.runs import search_runs_paged

    class Page(list):
        token = None

    class Client:
        seen: list[bool] = []

        def search_runs(self, *args, page_token=None, **kwargs):
            self.seen.append(gc.isenabled())
            page = Page(["first", "second"] if page_token is None else ["third"])
            page.token = "next" if page_token is None else None
            return page

    client = Client()
    found = []
    for run in search_runs_paged(["0"], client=client):
        found.append((run, gc.isenabled()))
    assert found == [("first", True), ("second", True), ("third", True)]
    assert client.seen == [False, False]


@pytest.mark.slow
def test_unknown_experiment_is_a_usage_error(store_uri, capsys):
    assert main(["report", "--experiment-name", "nope"]) == 2
    assert "experiment_name: no experiment named 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_log_to_mlflow_logs_the_outputs_as_a_report_run_that_later_reports_skip(
    store, store_uri, tmp_path
):
    client, _ = store
    built = make(store, "compare")
    files = report.write_outputs(built, report.Outputs(log_to_mlflow=True).resolved(tmp_path))
    run_id = report.log_report(built, files, "compare")
    run = client.get_run(run_id)
    assert run.data.tags[report.REPORT_KIND_TAG] == "report"
    artifacts = {item.path for item in client.list_artifacts(run_id)}
    assert {"report.md", "report.csv", "report.html", "report.json", "plots"} <= artifacts
    assert run_id not in set(make(store, "compare").table["run_id"])
    client.delete_run(run_id)
    assert Path(tmp_path / "report.html").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("interruption", "status"),
    [(KeyboardInterrupt(), "KILLED"), (OSError("disk full"), "FAILED")],
)
def test_a_report_run_cut_short_ends_killed_or_failed_with_an_error_tag(
    store, store_uri, tmp_path, monkeypatch, interruption, status
):
    import mlflow

    client, _ = store
    built = make(store, "compare")

    def cut_short(*args, **kwargs):
        raise interruption

    monkeypatch.setattr(mlflow, "log_dict", cut_short)
    with pytest.raises(type(interruption)):
        report.log_report(built, [], "compare")
    experiment = client.get_experiment_by_name("compare")
    [run] = client.search_runs(
        [experiment.experiment_id], f"tags.`{report.REPORT_KIND_TAG}` = 'report'"
    )
    assert run.info.status == status
    assert run.data.tags["error"].startswith(type(interruption).__name__)
    client.delete_run(run.info.run_id)


def test_report_help_states_the_defaults_the_report_applies(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {', '.join(report.DEFAULT_METRICS)})" in text
    assert f"(default: {report.MAX_CURVES})" in text
    assert " or ".join(report.CHILDREN) in text


def test_every_report_template_is_shipped_as_package_data():
    import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["rnn_tracking.report"]
    package = root / "rnn_tracking" / "report"
    templates = [path.relative_to(package).as_posix() for path in package.glob("templates/*")]
    assert templates
    assert all(any(fnmatch.fnmatch(name, p) for p in patterns) for name in templates)


@pytest.mark.slow
def test_a_cost_column_in_the_table_gets_its_own_pareto_plot(store, monkeypatch):
    from rnn_tracking.report import plots as plots_module

    # The toy runs have no cost summaries, so best_epoch stands in for one.
    monkeypatch.setattr(plots_module, "COST_METRICS", ("best_epoch",))
    built = make(store, "compare", options=TableOptions(metrics=("test_accuracy", "best_epoch")))
    plots = report.make_plots(built, store[0])
    assert list(plots) == [*report.PLOT_NAMES, "accuracy_vs_best_epoch.png"]
