"""Every command's options: one documented default each, one spelling convention on argv."""

import dataclasses
import re
from pathlib import Path

import pytest
from helpers import print_in_fresh_python

from rnn_tracking import baseline
from rnn_tracking.cli import COMMANDS, build_parser, main
from rnn_tracking.options import (
    BaselineOptions,
    EvaluateOptions,
    ReportOptions,
    SweepOptions,
    options_from_mapping,
)

ROOT = Path(__file__).resolve().parents[2]
OPTION_CLASSES = [command.options for command in COMMANDS if command.options is not None]


@pytest.mark.parametrize("options", OPTION_CLASSES, ids=lambda options: options.__name__)
def test_every_option_documents_its_reason_and_is_frozen(options):
    for spec in dataclasses.fields(options):
        assert len(spec.metadata["help"]) > 20, spec.name
    assert options.__dataclass_params__.frozen


def read_doc(name):
    """Returns docs/NAME with its lines joined, so that a value wrapped across lines reads whole."""
    return " ".join((ROOT / "docs" / name).read_text(encoding="utf-8").split())


def documented_sweep_defaults():
    """Returns {option: default} from the option table of docs/sweeps.md."""
    rows = {}
    for line in (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`\w+`", cells[0]):
            rows[cells[0].strip("`")] = cells[2]
    return rows


@pytest.mark.parametrize("name", ["n_trials", "timeout", "heartbeat_interval", "workers"])
def test_sweep_guide_states_each_sweep_default(name):
    assert documented_sweep_defaults()[name] == str(getattr(SweepOptions, name))


def test_report_guide_states_the_default_metrics_and_curve_limit():
    text = read_doc("report.md")
    [metrics] = re.findall(r"\(`--metrics`, default `([^`]+)`\)", text)
    assert tuple(metrics.replace(" ", "").split(",")) == ReportOptions.metrics
    assert f"at most `--max-curves` ({ReportOptions.max_curves})" in text


def test_serving_guide_states_the_default_number_of_wrong_reviews():
    text = read_doc("serving.md")
    assert f"`--wrong-reviews` (default {EvaluateOptions.wrong_reviews})" in text


def test_baseline_runs_every_budget_by_default_as_its_guide_says():
    assert baseline.parse_budgets(BaselineOptions.budgets) == baseline.BUDGETS
    text = read_doc("report.md")
    assert f"(`--budgets {BaselineOptions.budgets}`, the default runs both" in text


def test_empty_values_mean_the_default_and_counts_accept_mlflow_floats():
    options = options_from_mapping(SweepOptions, {"space": "a.yaml", "seed": "", "n_trials": "5.0"})
    assert (options.seed, options.n_trials, options.timeout) == (None, 5, 0)
    listed = options_from_mapping(ReportOptions, {"experiment_name": ["a, b", "c"], "metrics": ""})
    assert listed.experiment_name == ("a", "b", "c")
    assert listed.metrics == ReportOptions.metrics


@pytest.mark.parametrize(
    ("argv", "name", "value"),
    [
        (["train", "--learning-rate", "1e-3"], "learning_rate", "1e-3"),
        (["train", "--learning_rate", "1e-3"], "learning_rate", "1e-3"),
        (["sweep", "--space", "s.yaml", "--n-trials", "4"], "n_trials", "4"),
        (["sweep", "--space", "s.yaml", "--n_trials", "4"], "n_trials", "4"),
        (["report", "--top_k", "3"], "top_k", "3"),
        (["evaluate", "--model_uri", "m", "--wrong_reviews", "3"], "wrong_reviews", "3"),
    ],
)
def test_multi_word_options_take_hyphens_and_the_mlflow_param_spelling(argv, name, value):
    assert getattr(build_parser().parse_args(argv), name) == value


@pytest.mark.parametrize("command", [command.name for command in COMMANDS])
def test_help_shows_the_hyphenated_spelling_only(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "--experiment-name" in text or command == "predict"
    assert "--experiment_name" not in text and "--n_trials" not in text


def test_abbreviated_options_are_unknown_parameters(capsys):
    assert main(["train", "--learning", "1e-3"]) == 2
    assert "unknown parameter 'learning'; valid parameters are arch, units" in (
        capsys.readouterr().err
    )


def test_unknown_sweep_option_names_the_sweep_options(capsys):
    assert main(["sweep", "--space", "s.yaml", "--units", "8"]) == 2
    err = capsys.readouterr().err
    assert "valid parameters are space, n_trials, timeout" in err and "arch" not in err


def test_every_parser_refuses_abbreviations():
    parser = build_parser()
    subparsers = parser._subparsers._group_actions[0].choices
    assert parser.allow_abbrev is False
    assert all(sub.allow_abbrev is False for sub in subparsers.values())


@pytest.mark.slow
def test_help_imports_neither_tensorflow_nor_mlflow():
    code = (
        "import sys\nfrom rnn_tracking.cli import main\ntry:\n    main(['train', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('tensorflow', 'mlflow', 'optuna') if m in sys.modules))"
    )
    assert print_in_fresh_python(code) == "[]"
