"""The comparison report: tracked runs pulled into one table, grouped, tested and plotted.

A report answers "which architecture is better, by how much, at what cost, and is the
difference real?". It reads runs from the tracking store, never writes to them, and builds:

- a table with one row per run (name, id, `arch`, only the params that differ among the
  selected runs, then the metric columns), or one row per group of runs (by `arch` or any
  params) holding each metric's mean ± std and the group's size n;
- a sentence saying whether the best two groups differ significantly in test accuracy
  (Welch's t-test, which does not assume equal spreads);
- plots: validation accuracy per epoch overlaid, test accuracy per group with error bars,
  and test accuracy against training time and against parameter count with the Pareto front;
- the same content as an aligned terminal table, Markdown, CSV and one self-contained HTML
  page, where every value is escaped because run names and params come from users.

Runs are read page by page, and metric histories are fetched only for the runs whose learning
curves are drawn, so a report over thousands of runs stays fast. Runs that other tools logged
(no `arch`, missing metrics) are shown with blanks, not refused.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import Run, ViewType
from mlflow.tracking import MlflowClient

from rnn_tracking.config import FIELDS, format_value, parse_value

# The metric columns of the table, in order; `seconds_per_epoch` is derived, not logged.
DEFAULT_METRICS = (
    "param_count",
    "best_epoch",
    "best_val_accuracy",
    "test_accuracy",
    "train_seconds",
    "seconds_per_epoch",
)
DERIVED_METRICS = ("seconds_per_epoch",)
# Shown as whole numbers in a run's row; every other metric gets a fixed number of decimals.
INTEGER_METRICS = ("param_count", "best_epoch", "epochs_run")
SIGNIFICANCE_METRIC = "test_accuracy"
SIGNIFICANCE_LEVEL = 0.05
CURVE_METRIC = "val_accuracy"

STATUSES = ("FINISHED", "FAILED", "KILLED", "RUNNING", "SCHEDULED")
CHILDREN = ("exclude", "include")
PAGE_SIZE = 1000
MAX_CURVES = 50
MISSING = "-"

# Tags written by rnn-tracking itself (tracking.py writes the seed-repeat ones).
REPORT_KIND_TAG = "rnn_tracking.kind"
REPORT_KIND = "report"
SEED_REPEATS_TAG = "seed_repeats"
SEED_REPEAT_OF_TAG = "seed_repeat_of"
PARENT_TAG = "mlflow.parentRunId"
ENTRY_POINT_TAG = "mlflow.project.entryPoint"

PLOT_NAMES = (
    "learning_curves.png",
    "test_accuracy_by_group.png",
    "accuracy_vs_train_seconds.png",
    "accuracy_vs_param_count.png",
)


def parse_statuses(text: str) -> tuple[str, ...]:
    """Reads `finished`, `all` or a comma-separated list of statuses, in any case."""
    if text.strip().lower() == "all":
        return STATUSES
    return tuple(dict.fromkeys(part.strip().upper() for part in text.split(",") if part.strip()))


class NoRunsError(LookupError):
    """No run matches the selection; the message says which selection that was."""


@dataclass(frozen=True)
class Selection:
    """Which runs a report reads.

    `experiment_names` empty means the active experiment ($MLFLOW_EXPERIMENT_NAME or
    $MLFLOW_EXPERIMENT_ID, else MLflow's Default). `filter_string` is MLflow's search
    syntax (`params.units = '8' and metrics.test_accuracy > 0.7`). `children` says whether
    sweep trials (child runs) are in; seed repeats are always in, since they are the runs a
    mean ± std is made of. `statuses` lists the run statuses shown.
    """

    experiment_names: tuple[str, ...] = ()
    filter_string: str = ""
    children: str = "exclude"
    statuses: tuple[str, ...] = ("FINISHED",)

    def __post_init__(self) -> None:
        if self.children not in CHILDREN:
            raise ValueError(
                f"children: got {self.children!r}; valid values are {', '.join(CHILDREN)}."
            )
        bad = [status for status in self.statuses if status not in STATUSES]
        if bad or not self.statuses:
            raise ValueError(
                f"status: got {(bad or [''])[0].lower()!r}; valid values are 'all' or a "
                f"comma-separated list of {', '.join(s.lower() for s in STATUSES)}."
            )

    def describe(self) -> str:
        """Says in words which runs were selected, for headers and error messages."""
        names = ", ".join(repr(name) for name in self.experiment_names) or "the active one"
        statuses = (
            "any status"
            if set(self.statuses) == set(STATUSES)
            else "status " + ", ".join(status.lower() for status in self.statuses)
        )
        parts = [f"experiment(s) {names}", statuses]
        if self.filter_string:
            parts.append(f"filter {self.filter_string!r}")
        parts.append(f"sweep child runs {self.children}d")
        return "; ".join(parts)


@dataclass(frozen=True)
class TableOptions:
    """How the table is laid out: metric columns, groups, order and length.

    `sort_by` defaults to test_accuracy (else the first metric column); the order is
    descending unless `ascending`. `top_k` = 0 keeps every row (or group).
    """

    metrics: tuple[str, ...] = DEFAULT_METRICS
    group_by: tuple[str, ...] = ()
    sort_by: str | None = None
    ascending: bool = False
    top_k: int = 0
    max_curves: int = MAX_CURVES

    def __post_init__(self) -> None:
        if not self.metrics:
            raise ValueError("metrics: got an empty list; valid values are metric names.")
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise ValueError(f"top_k: got {self.top_k!r}; valid values are integers >= 0.")
        if not isinstance(self.max_curves, int) or self.max_curves < 0:
            raise ValueError(
                f"max_curves: got {self.max_curves!r}; valid values are integers >= 0."
            )

    @property
    def sort_metric(self) -> str:
        if self.sort_by:
            return self.sort_by
        return SIGNIFICANCE_METRIC if SIGNIFICANCE_METRIC in self.metrics else self.metrics[0]


@dataclass(frozen=True, eq=False)
class Report:
    """A built report: the selected runs, the table and the comparison of the best groups.

    `runs` has one row per selected run: `run_name`, `run_id`, `experiment`, `status`,
    `arch`, then `params.<name>`, `metrics.<name>` and `tags.<name>` columns. `table` is
    what is shown, numeric: one row per run (the differing params as strings), or one row
    per group with the group keys, `n`, and `<metric>_mean` / `<metric>_std` columns.
    """

    selection: Selection
    options: TableOptions
    runs: pd.DataFrame
    table: pd.DataFrame
    param_columns: tuple[str, ...]
    comparison: str | None
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S"))

    @property
    def grouped(self) -> bool:
        return bool(self.options.group_by)

    def shown_runs(self) -> pd.DataFrame:
        """Returns the selected runs that the table shows (all runs of the groups shown)."""
        if not self.grouped:
            return self.runs.set_index("run_id").loc[self.table["run_id"]].reset_index()
        keys = set(self.table[list(self.options.group_by)].itertuples(index=False, name=None))
        labels = group_labels(self.runs, self.options.group_by)
        return self.runs[[label in keys for label in labels]]


# --- Selecting runs ---------------------------------------------------------------------


def resolve_experiment_ids(client: MlflowClient, names: Sequence[str]) -> dict[str, str]:
    """Maps experiment names to ids; with no names, the active experiment.

    An unknown name is a ValueError that lists the experiments that exist.
    """
    if not names:
        env_name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if env_name:
            names = [env_name]
        else:
            experiment_id = os.environ.get("MLFLOW_EXPERIMENT_ID") or "0"
            experiment = client.get_experiment(experiment_id)
            return {experiment.name: experiment.experiment_id}
    found = {}
    for given in names:
        experiment = client.get_experiment_by_name(given)
        if experiment is None and "," in given:
            # Names may also come comma-separated in one value (as `-P experiment_name=a,b`).
            parts = [part.strip() for part in given.split(",") if part.strip()]
            found.update(resolve_experiment_ids(client, parts))
            continue
        if experiment is None:
            known = [e.name for e in client.search_experiments(max_results=50)]
            raise ValueError(
                f"experiment_name: no experiment named {given!r}; valid values are the "
                f"experiments in the store: {', '.join(repr(k) for k in known) or 'none'}."
            )
        found[experiment.name] = experiment.experiment_id
    return found


def search_all_runs(
    client: MlflowClient, experiment_ids: Sequence[str], filter_string: str
) -> list[Run]:
    """Returns every active run matching the filter, reading the store page by page."""
    runs: list[Run] = []
    token = None
    while True:
        page = client.search_runs(
            list(experiment_ids),
            filter_string=filter_string,
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=PAGE_SIZE,
            order_by=["attributes.start_time ASC"],
            page_token=token,
        )
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def is_shown_run(run: Run, selection: Selection, own_run_id: str | None) -> bool:
    """Says whether a searched run belongs in the table.

    Reports (this one included) and seed-repeat parents are never rows: a parent trained
    no model, its children did. Child runs are sweep trials unless they are seed repeats.
    """
    tags = run.data.tags
    if run.info.run_id == own_run_id or tags.get(REPORT_KIND_TAG) == REPORT_KIND:
        return False
    if tags.get(ENTRY_POINT_TAG) == REPORT_KIND or SEED_REPEATS_TAG in tags:
        return False
    is_sweep_child = PARENT_TAG in tags and SEED_REPEAT_OF_TAG not in tags
    return selection.children == "include" or not is_sweep_child


def select_runs(selection: Selection, client: MlflowClient | None = None) -> list[Run]:
    """Returns the runs a selection names, oldest first; raises NoRunsError if none."""
    client = client or MlflowClient()
    experiments = resolve_experiment_ids(client, selection.experiment_names)
    # MLflow's filter compares the status with one value only; several are kept below.
    conditions = []
    if len(selection.statuses) == 1:
        conditions.append(f"attributes.status = '{selection.statuses[0]}'")
    if selection.filter_string.strip():
        conditions.append(selection.filter_string.strip())
    try:
        runs = search_all_runs(client, list(experiments.values()), " and ".join(conditions))
    except mlflow.exceptions.MlflowException as error:
        message = str(error.message).splitlines()[0]
        raise ValueError(
            f"filter: MLflow cannot read {selection.filter_string!r} ({message}); valid values "
            "are MLflow search filters such as \"params.arch = 'lstm'\"."
        ) from None
    own_run_id = os.environ.get("MLFLOW_RUN_ID")
    shown = [
        run
        for run in runs
        if run.info.status in selection.statuses and is_shown_run(run, selection, own_run_id)
    ]
    if not shown:
        raise NoRunsError(f"no runs match: {selection.describe()}.")
    return shown


# --- The table --------------------------------------------------------------------------


def canonical_param(name: str, value: str) -> str:
    """Spells a config param one way (`1e-4` and `0.0001` are one value); others as logged."""
    if name in FIELDS:
        try:
            return format_value(parse_value(name, value))
        except ValueError:
            return value
    return value


def runs_to_frame(runs: Sequence[Run], experiment_names: dict[str, str]) -> pd.DataFrame:
    """Flattens runs into one row each (see `Report.runs`), adding `seconds_per_epoch`.

    `seconds_per_epoch` is train_seconds / epochs_run: both are summary metrics, so no
    metric history has to be read. Tags that MLflow itself writes (`mlflow.*`) are left out.
    """
    rows = []
    for run in runs:
        data = run.data
        row = {
            "run_name": run.info.run_name or "",
            "run_id": run.info.run_id,
            "experiment": experiment_names.get(run.info.experiment_id, run.info.experiment_id),
            "status": run.info.status,
            "arch": data.params.get("arch") or data.tags.get("arch") or "",
        }
        row.update({f"params.{k}": canonical_param(k, v) for k, v in data.params.items()})
        row.update({f"metrics.{k}": float(v) for k, v in data.metrics.items()})
        row.update({f"tags.{k}": v for k, v in data.tags.items() if not k.startswith("mlflow.")})
        seconds, epochs = data.metrics.get("train_seconds"), data.metrics.get("epochs_run")
        if seconds is not None and epochs:
            row["metrics.seconds_per_epoch"] = float(seconds) / float(epochs)
        rows.append(row)
    return pd.DataFrame(rows)


def list_metrics(frame: pd.DataFrame) -> list[str]:
    """Returns the metric names any selected run logged, derived ones included."""
    return sorted(c.removeprefix("metrics.") for c in frame.columns if c.startswith("metrics."))


def metric_values(frame: pd.DataFrame, name: str) -> pd.Series:
    """Returns one metric per run as floats; NaN where a run lacks it."""
    column = f"metrics.{name}"
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return frame[column].astype(float)


def differing_params(frame: pd.DataFrame) -> list[str]:
    """Returns the params that take two or more values among the runs that logged them.

    A param only some runs have (a baseline has no `units`) is shown only if those runs
    disagree on it, so mixing in runs of other kinds does not flood the table; the runs
    without it show a blank. Config fields come first in their declared order, then other
    params alphabetically; `arch` has its own column.
    """
    names = [c.removeprefix("params.") for c in frame.columns if c.startswith("params.")]
    differing = [name for name in names if name != "arch" and frame[f"params.{name}"].nunique() > 1]
    order = {name: index for index, name in enumerate(FIELDS)}
    return sorted(differing, key=lambda name: (order.get(name, len(order)), name))


def key_column(frame: pd.DataFrame, key: str) -> str:
    """Returns the column a group key reads: `arch`, else a param, else a tag."""
    if key == "arch":
        return "arch"
    for column in (f"params.{key}", f"tags.{key}"):
        if column in frame:
            return column
    params = sorted(c.removeprefix("params.") for c in frame.columns if c.startswith("params."))
    raise ValueError(
        f"group_by: {key!r} is neither a param nor a tag of the selected runs; valid values "
        f"are arch or the params: {', '.join(params) or 'none'}."
    )


def group_labels(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Returns each run's group as a tuple of key values; a missing value is MISSING."""
    columns = [key_column(frame, key) for key in keys]
    values = frame[columns].astype(object).where(frame[columns].notna(), MISSING)
    values = values.replace("", MISSING)
    return values.apply(lambda row: tuple(str(v) for v in row), axis=1)


def check_metrics(frame: pd.DataFrame, options: TableOptions) -> None:
    """Rejects metric names that no selected run has, naming the ones that exist."""
    known = set(list_metrics(frame)) | set(DEFAULT_METRICS)
    for parameter, names in (("metrics", options.metrics), ("sort_by", [options.sort_metric])):
        for name in names:
            if name not in known:
                raise ValueError(
                    f"{parameter}: no selected run has the metric {name!r}; valid values are "
                    f"{', '.join(sorted(known))}."
                )
    if options.sort_metric not in options.metrics:
        raise ValueError(
            f"sort_by: {options.sort_metric!r} is not a metric column; valid values are "
            f"{', '.join(options.metrics)}."
        )


def sort_and_cut(table: pd.DataFrame, column: str, options: TableOptions) -> pd.DataFrame:
    """Sorts by one column (missing values last) and keeps the top k rows."""
    table = table.sort_values(
        column, ascending=options.ascending, na_position="last", kind="stable"
    )
    if options.top_k:
        table = table.head(options.top_k)
    return table.reset_index(drop=True)


def build_run_table(
    frame: pd.DataFrame, options: TableOptions, params: Sequence[str], show: Sequence[str]
) -> pd.DataFrame:
    """Builds the one-row-per-run table: identity columns, differing params, metrics."""
    table = frame[["run_name", "run_id", *show, "arch"]].copy()
    for name in params:
        table[name] = frame[f"params.{name}"].astype(object)
    for name in options.metrics:
        table[name] = metric_values(frame, name)
    return sort_and_cut(table, options.sort_metric, options)


def build_group_table(frame: pd.DataFrame, options: TableOptions) -> pd.DataFrame:
    """Builds the one-row-per-group table: keys, n, and each metric's mean and std.

    The std is the sample standard deviation (ddof=1), NaN for a group of one; means and
    stds skip runs that lack the metric, while n counts every run of the group.
    """
    keys = list(options.group_by)
    labels = group_labels(frame, keys)
    metrics = pd.DataFrame({name: metric_values(frame, name) for name in options.metrics})
    metrics["_group"] = labels.to_numpy()
    grouped = metrics.groupby("_group", sort=True)
    table = pd.DataFrame(grouped.size().rename("n"))
    for name in options.metrics:
        table[f"{name}_mean"] = grouped[name].mean()
        table[f"{name}_std"] = grouped[name].std(ddof=1)
    table = table.reset_index()
    for position, key in enumerate(keys):
        table.insert(position, key, table["_group"].map(lambda group, i=position: group[i]))
    table = table.drop(columns="_group")
    return sort_and_cut(table, f"{options.sort_metric}_mean", options)


def compare_best_groups(frame: pd.DataFrame, keys: Sequence[str]) -> str:
    """Says in words whether the two groups with the best mean test accuracy differ.

    It uses Welch's t-test (scipy.stats.ttest_ind with equal_var=False) on the runs' test
    accuracies, at the 5% level; a group needs two runs or more to be tested. When one of
    the best two is a single run (a baseline, say), the best two groups with repeats are
    compared as well, so the sentence still answers the question for the repeated configs.
    """
    values = metric_values(frame, SIGNIFICANCE_METRIC)
    samples: dict[tuple[str, ...], np.ndarray] = {}
    for label, group in values.groupby(group_labels(frame, keys), sort=False):
        present = group.dropna().to_numpy()
        if present.size:
            samples[label] = present
    if len(samples) < 2:
        return (
            f"Significance: {'only one group has' if samples else 'no group has'} "
            f"{SIGNIFICANCE_METRIC}, so there is nothing to compare."
        )
    ranked = sorted(samples, key=lambda label: -samples[label].mean())
    first, second = ranked[0], ranked[1]
    text = f"Best two groups by mean {SIGNIFICANCE_METRIC}: " + compare_two(
        keys, first, samples[first], second, samples[second]
    )
    if min(samples[first].size, samples[second].size) >= 2:
        return text
    repeated = [label for label in ranked if samples[label].size >= 2]
    if len(repeated) >= 2 and repeated[:2] != [first, second]:
        best, runner_up = repeated[0], repeated[1]
        text += " Best two groups with repeats: " + compare_two(
            keys, best, samples[best], runner_up, samples[runner_up]
        )
    return text


def compare_two(
    keys: Sequence[str],
    first: tuple[str, ...],
    a: np.ndarray,
    second: tuple[str, ...],
    b: np.ndarray,
) -> str:
    """Says how far group `first` leads `second` and whether Welch's t-test finds it real."""
    from scipy import stats

    def describe(label: tuple[str, ...], sample: np.ndarray) -> str:
        spread = f" ± {sample.std(ddof=1):.4f}" if sample.size > 1 else ""
        return f"{format_label(keys, label)} ({sample.mean():.4f}{spread}, n={sample.size})"

    lead = f"{describe(first, a)} ahead of {describe(second, b)} by {a.mean() - b.mean():.4f}."
    if min(a.size, b.size) < 2:
        small = format_label(keys, first if a.size < 2 else second)
        return (
            f"{lead} Not tested: {small} has a single run; repeat it under several seeds "
            "(rnn-tracking train --seeds 5, or -P seeds=5) to test the difference."
        )
    test = stats.ttest_ind(a, b, equal_var=False)
    if not np.isfinite(test.pvalue):
        return f"{lead} Welch's t-test is undefined here: neither group varies across runs."
    level = f"{SIGNIFICANCE_LEVEL:.0%}"
    if test.pvalue < SIGNIFICANCE_LEVEL:
        verdict = f"the difference is significant at the {level} level."
    else:
        verdict = (
            f"the difference is not significant at the {level} level; it is within the "
            "run-to-run (seed) spread."
        )
    return f"{lead} Welch's t-test: t = {test.statistic:.2f}, p = {test.pvalue:.3g}; {verdict}"


def format_label(keys: Sequence[str], label: Sequence[str]) -> str:
    """Names a group for people: `lstm, layers=2, dropout=0.3`; missing keys are left out."""
    parts = [
        value if key == "arch" else f"{key}={value}"
        for key, value in zip(keys, label, strict=True)
        if value != MISSING
    ]
    return ", ".join(parts) or MISSING


def build_report(
    selection: Selection, options: TableOptions, client: MlflowClient | None = None
) -> Report:
    """Selects the runs and builds the table and the comparison (no plots, no files).

    Raises NoRunsError when nothing matches, and ValueError (one line, naming the option)
    for an unknown experiment, filter, metric or group key.
    """
    client = client or MlflowClient()
    runs = select_runs(selection, client)
    experiments = {
        experiment_id: name
        for name, experiment_id in resolve_experiment_ids(
            client, selection.experiment_names
        ).items()
    }
    frame = runs_to_frame(runs, experiments)
    check_metrics(frame, options)
    params = tuple(differing_params(frame))
    if options.group_by:
        table = build_group_table(frame, options)
        comparison = compare_best_groups(frame, options.group_by)
    else:
        # The experiment is shown when several are compared, the status when runs other
        # than finished ones were asked for: that is how those runs are marked.
        show = ["experiment"] if frame["experiment"].nunique() > 1 else []
        if selection.statuses != ("FINISHED",):
            show.append("status")
        table = build_run_table(frame, options, params, show)
        comparison = None
    return Report(selection, options, frame, table, params, comparison)


# --- Rendering --------------------------------------------------------------------------


def format_number(name: str, value: float, whole: bool = True) -> str:
    """Spells one metric value: integers with thousands separators, seconds with 1 decimal,
    accuracies and other metrics with 4; missing values as MISSING.

    With `whole` False (group means and stds), an integer metric keeps 1 decimal unless the
    value is whole: `8,809 ± 0`, `5.3 ± 1.2`.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if name in INTEGER_METRICS and (whole or float(value).is_integer()):
        return f"{value:,.0f}"
    if name in INTEGER_METRICS or name.endswith("seconds") or name == "seconds_per_epoch":
        return f"{value:,.1f}"
    return f"{value:.4f}"


def display_table(report: Report) -> pd.DataFrame:
    """Returns the table as the strings people read: `0.8123 ± 0.0040` in groups."""
    table = report.table
    shown = pd.DataFrame(index=table.index)
    metrics = report.options.metrics
    for column in table.columns:
        if report.grouped and column.endswith(("_mean", "_std")):
            continue
        if column in metrics and not report.grouped:
            shown[column] = [format_number(column, v) for v in table[column]]
        else:
            shown[column] = [MISSING if pd.isna(v) or v == "" else str(v) for v in table[column]]
    if report.grouped:
        for name in metrics:
            means, stds = table[f"{name}_mean"], table[f"{name}_std"]
            shown[name] = [
                format_number(name, m, whole=False)
                + ("" if pd.isna(s) or pd.isna(m) else f" ± {format_number(name, s, whole=False)}")
                for m, s in zip(means, stds, strict=True)
            ]
    return shown.reset_index(drop=True)


def numeric_columns(report: Report) -> set[str]:
    """Returns the table's columns that hold numbers (right-aligned)."""
    if report.grouped:
        return {"n", *report.options.metrics}
    return set(report.options.metrics)


def column_alignment(report: Report, columns: Sequence[str]) -> list[str]:
    numeric = numeric_columns(report)
    return ["right" if column in numeric else "left" for column in columns]


def render_terminal(report: Report) -> str:
    """Returns the aligned terminal table with a header line and the comparison."""
    from tabulate import tabulate

    shown = display_table(report)
    table = tabulate(
        shown.values.tolist(),
        headers=list(shown.columns),
        tablefmt="simple",
        colalign=column_alignment(report, shown.columns),
        disable_numparse=True,
    )
    lines = [f"{len(report.runs)} runs ({report.selection.describe()})", "", table]
    if report.comparison:
        lines += ["", report.comparison]
    return "\n".join(lines)


def escape_markdown(text: str) -> str:
    """Escapes the characters that would break a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    """Returns the table as a GitHub Markdown table, with the comparison below it."""
    shown = display_table(report).map(escape_markdown)
    shown.columns = [escape_markdown(column) for column in shown.columns]
    text = shown.to_markdown(
        index=False, colalign=column_alignment(report, shown.columns), disable_numparse=True
    )
    if report.comparison:
        text += "\n\n" + escape_markdown(report.comparison)
    return text + "\n"


def render_csv(report: Report) -> str:
    """Returns the numeric table as CSV: full precision, group means and stds apart."""
    return report.table.to_csv(index=False)


def render_html(report: Report, plots: dict[str, bytes]) -> str:
    """Returns one self-contained HTML page: the table, the comparison and the plots.

    Every value, header and caption goes through html.escape, so a run named
    `<script>...</script>` is shown as text. The page is also well-formed XML.
    """
    shown = display_table(report)
    numeric = numeric_columns(report)
    e = html.escape
    head = "".join(
        f'<th class="{"num" if column in numeric else "text"}">{e(str(column))}</th>'
        for column in shown.columns
    )
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if column in numeric else "text"}">{e(str(value))}</td>'
            for column, value in zip(shown.columns, row, strict=True)
        )
        + "</tr>"
        for row in shown.itertuples(index=False)
    )
    figures = "\n".join(
        f'<figure><img alt="{e(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}" /><figcaption>{e(name)}</figcaption></figure>'
        for name, png in plots.items()
    )
    comparison = f'<p class="comparison">{e(report.comparison)}</p>' if report.comparison else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<title>rnn-tracking report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
figure {{ display: inline-block; margin: 1em; }}
img {{ max-width: 48em; }}
</style>
</head>
<body>
<h1>Run comparison</h1>
<p class="selection">{e(f"{len(report.runs)} runs: {report.selection.describe()}.")} Made {e(report.created)}.</p>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
{comparison}
<h2>Plots</h2>
{figures}
</body>
</html>
"""


# --- Plots ------------------------------------------------------------------------------


def pareto_front(costs: Sequence[float], scores: Sequence[float]) -> np.ndarray:
    """Returns a boolean mask of the points no other point beats: cheaper and no worse.

    A point is on the front when every point at most as costly scores lower. Points with
    a missing cost or score are never on it.
    """
    costs, scores = np.asarray(costs, dtype=float), np.asarray(scores, dtype=float)
    mask = np.zeros(costs.shape, dtype=bool)
    valid = np.flatnonzero(np.isfinite(costs) & np.isfinite(scores))
    best = -np.inf
    for index in valid[np.lexsort((-scores[valid], costs[valid]))]:
        if scores[index] > best:
            mask[index] = True
            best = scores[index]
    return mask


def figure_to_png(figure) -> bytes:
    """Renders a Matplotlib figure to PNG bytes and closes it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def plot_groups(report: Report) -> tuple[tuple[str, ...], pd.Series]:
    """Returns the keys the plots colour by and each shown run's group label.

    They are the table's groups; an ungrouped table is coloured by `arch`.
    """
    keys = report.options.group_by or ("arch",)
    runs = report.shown_runs()
    return keys, group_labels(runs, keys).map(lambda label: format_label(keys, label))


def plot_learning_curves(report: Report, client: MlflowClient) -> bytes:
    """Overlays validation accuracy per epoch of the shown runs, one colour per group.

    Only these runs' histories are fetched, at most `max_curves` of them, best first.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    runs = report.shown_runs()
    _, labels = plot_groups(report)
    order = (
        metric_values(runs, report.options.sort_metric)
        .sort_values(ascending=report.options.ascending, na_position="last")
        .index[: report.options.max_curves]
    )
    colours = colour_map(labels)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    drawn: set[str] = set()
    for index in order:
        history = client.get_metric_history(runs.at[index, "run_id"], CURVE_METRIC)
        if not history:
            continue
        points = sorted((metric.step, metric.value) for metric in history)
        label = labels[index]
        axis.plot(
            [step for step, _ in points],
            [value for _, value in points],
            color=colours[label],
            marker="." if len(points) < 30 else None,
            alpha=0.8,
            label=None if label in drawn else label,
        )
        drawn.add(label)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel(CURVE_METRIC)
    axis.set_title(f"{CURVE_METRIC} per epoch ({len(order)} runs)")
    if drawn:
        axis.legend(fontsize="small")
    return figure_to_png(figure)


def colour_map(labels: pd.Series) -> dict[str, object]:
    """Gives each group label its own colour, in order of first appearance."""
    import matplotlib

    palette = matplotlib.colormaps["tab10"]
    unique = list(dict.fromkeys(labels))
    return {label: palette(index % 10) for index, label in enumerate(unique)}


def plot_group_accuracy(report: Report) -> bytes:
    """Bars of mean test accuracy per group, with error bars of one std over the runs."""
    import matplotlib.pyplot as plt

    runs = report.shown_runs()
    keys, labels = plot_groups(report)
    values = metric_values(runs, SIGNIFICANCE_METRIC)
    stats = values.groupby(labels.to_numpy()).agg(["mean", "std", "count"]).dropna(subset=["mean"])
    stats = stats.sort_values("mean", ascending=False)
    figure, axis = plt.subplots(figsize=(max(5, 1.3 * len(stats) + 2), 4.5))
    positions = np.arange(len(stats))
    axis.bar(positions, stats["mean"], yerr=stats["std"].fillna(0), capsize=6, color="#4c72b0")
    tops = stats["mean"] + stats["std"].fillna(0)
    for position, (mean, top, count) in enumerate(
        zip(stats["mean"], tops, stats["count"], strict=True)
    ):
        axis.annotate(
            f"{mean:.4f}\nn={count}",
            (position, top),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            va="bottom",
            fontsize="small",
        )
    axis.set_xticks(positions, stats.index, rotation=20, ha="right")
    if len(stats):
        low = (stats["mean"] - stats["std"].fillna(0)).min()
        axis.set_ylim(max(0.0, low - 0.05), min(1.05, tops.max() + 0.06))
    axis.set_ylabel(f"{SIGNIFICANCE_METRIC} (mean ± std)")
    axis.set_title(f"{SIGNIFICANCE_METRIC} by {', '.join(keys)}")
    return figure_to_png(figure)


def plot_pareto(report: Report, cost: str) -> bytes:
    """Test accuracy against a cost (train_seconds or param_count), Pareto front marked.

    Grouped reports plot each group's mean with std error bars; others plot each run,
    coloured by `arch`. Points are named by group or run name.
    """
    import matplotlib.pyplot as plt

    runs = report.shown_runs()
    _, labels = plot_groups(report)
    points = pd.DataFrame(
        {
            "cost": metric_values(runs, cost).to_numpy(),
            "score": metric_values(runs, SIGNIFICANCE_METRIC).to_numpy(),
            "group": labels.to_numpy(),
            "label": runs["run_name"].to_numpy(),
            "cost_std": np.nan,
            "score_std": np.nan,
        }
    )
    if report.grouped:
        grouped = points.groupby("group", sort=False)[["cost", "score"]]
        points = grouped.mean().join(grouped.std(ddof=1), rsuffix="_std").reset_index()
        points["label"] = points["group"]
    points = points.dropna(subset=["cost", "score"]).reset_index(drop=True)
    front = pareto_front(points["cost"], points["score"])
    colours = colour_map(labels)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    drawn: set[str] = set()
    for _, point in points.iterrows():
        axis.errorbar(
            point["cost"],
            point["score"],
            xerr=None if pd.isna(point["cost_std"]) else point["cost_std"],
            yerr=None if pd.isna(point["score_std"]) else point["score_std"],
            fmt="o",
            color=colours[point["group"]],
            alpha=0.8,
            capsize=3,
            label=None if point["group"] in drawn else point["group"],
        )
        drawn.add(point["group"])
    if front.any():
        edge = points[front].sort_values("cost")
        axis.step(
            edge["cost"],
            edge["score"],
            where="post",
            color="black",
            linewidth=1,
            label="Pareto front",
        )
        axis.scatter(edge["cost"], edge["score"], s=140, facecolors="none", edgecolors="black")
        for _, point in edge.iterrows():
            axis.annotate(
                point["label"],
                (point["cost"], point["score"]),
                textcoords="offset points",
                xytext=(6, -10),
                fontsize="small",
            )
    if len(points):
        axis.legend(fontsize="small", loc="best")
    positive = points["cost"][points["cost"] > 0]
    if len(positive) and positive.max() / positive.min() > 20:
        axis.set_xscale("log")
    axis.set_xlabel(cost)
    axis.set_ylabel(SIGNIFICANCE_METRIC)
    axis.set_title(f"{SIGNIFICANCE_METRIC} against {cost}")
    return figure_to_png(figure)


def make_plots(report: Report, client: MlflowClient | None = None) -> dict[str, bytes]:
    """Draws the report's four plots and returns {file name: PNG bytes}."""
    import matplotlib

    matplotlib.use("Agg")
    client = client or MlflowClient()
    return dict(
        zip(
            PLOT_NAMES,
            (
                plot_learning_curves(report, client),
                plot_group_accuracy(report),
                plot_pareto(report, "train_seconds"),
                plot_pareto(report, "param_count"),
            ),
            strict=True,
        )
    )


# --- Outputs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outputs:
    """Where the report goes besides the terminal; None means not written.

    `output_dir` writes all of them (report.md, report.csv, report.html, plots/) unless a
    path is given for one. `log_to_mlflow` logs them as the artifacts of a `report` run.
    """

    markdown: Path | None = None
    csv: Path | None = None
    html: Path | None = None
    plots_dir: Path | None = None
    output_dir: Path | None = None
    log_to_mlflow: bool = False

    def resolved(self, scratch: Path | None) -> Outputs:
        """Fills the paths left empty from output_dir, or from scratch when logging."""
        base = self.output_dir or (scratch if self.log_to_mlflow else None)
        if base is None:
            return self
        return Outputs(
            markdown=self.markdown or base / "report.md",
            csv=self.csv or base / "report.csv",
            html=self.html or base / "report.html",
            plots_dir=self.plots_dir or base / "plots",
            output_dir=base,
            log_to_mlflow=self.log_to_mlflow,
        )

    @property
    def needs_plots(self) -> bool:
        return self.html is not None or self.plots_dir is not None


def write_text(path: Path, text: str) -> Path:
    """Writes a file through a temporary sibling and a rename, so it is never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def write_outputs(
    report: Report, outputs: Outputs, client: MlflowClient | None = None
) -> list[Path]:
    """Writes the requested files and returns their paths (plots only when needed)."""
    written = []
    plots = make_plots(report, client) if outputs.needs_plots else {}
    if outputs.plots_dir is not None:
        outputs.plots_dir.mkdir(parents=True, exist_ok=True)
        for name, png in plots.items():
            (outputs.plots_dir / name).write_bytes(png)
            written.append(outputs.plots_dir / name)
    if outputs.markdown is not None:
        written.append(write_text(outputs.markdown, render_markdown(report)))
    if outputs.csv is not None:
        written.append(write_text(outputs.csv, render_csv(report)))
    if outputs.html is not None:
        written.append(write_text(outputs.html, render_html(report, plots)))
    return written


def log_report(report: Report, files: Sequence[Path], experiment_name: str | None) -> str:
    """Logs the written files as the artifacts of a `report` run and returns its id.

    Inside `mlflow run -e report` the run that `mlflow run` made is used; otherwise a new
    run named `report` opens in `experiment_name`. It is tagged so that no later report
    shows it as a row.
    """
    experiment_id = None
    if experiment_name and not os.environ.get("MLFLOW_RUN_ID"):
        experiment = mlflow.get_experiment_by_name(experiment_name)
        experiment_id = experiment.experiment_id if experiment else None
    with mlflow.start_run(run_name=REPORT_KIND, experiment_id=experiment_id) as run:
        mlflow.set_tags({REPORT_KIND_TAG: REPORT_KIND})
        mlflow.log_dict(
            {
                "selection": report.selection.describe(),
                "group_by": list(report.options.group_by),
                "metrics": list(report.options.metrics),
                "sort_by": report.options.sort_metric,
                "top_k": report.options.top_k,
                "run_ids": report.runs["run_id"].tolist(),
                "comparison": report.comparison,
            },
            "report.json",
        )
        mlflow.log_metric("runs", len(report.runs))
        for path in files:
            folder = "plots" if path.suffix == ".png" else None
            mlflow.log_artifact(str(path), artifact_path=folder)
        return run.info.run_id


def summarize_outputs(files: Sequence[Path]) -> str:
    """Returns one line listing the files written."""
    return "wrote " + ", ".join(str(path) for path in files) if files else ""
