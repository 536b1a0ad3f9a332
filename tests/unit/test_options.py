"""Every command's options: one documented default each, one spelling convention on argv."""

import dataclasses

import pytest
from helpers import print_in_fresh_python

from rnn_tracking import baseline, report, serving, sweep
from rnn_tracking.cli import COMMANDS, build_parser, main
from rnn_tracking.config import TrainConfig
from rnn_tracking.options import (
    BaselineOptions,
    EvaluateOptions,
    PredictOptions,
    PromoteOptions,
    ReportOptions,
    SweepOptions,
    options_from_mapping,
)

OPTION_CLASSES = [command.options for command in COMMANDS if command.options is not None]


@pytest.mark.parametrize("options", OPTION_CLASSES, ids=lambda options: options.__name__)
def test_every_option_documents_its_reason_and_is_frozen(options):
    for spec in dataclasses.fields(options):
        assert len(spec.metadata["help"]) > 20, spec.name
    assert options.__dataclass_params__.frozen


def test_modules_that_keep_a_default_constant_agree_with_the_metadata():
    assert SweepOptions.n_trials == sweep.DEFAULT_N_TRIALS
    assert SweepOptions.heartbeat_interval == sweep.DEFAULT_HEARTBEAT_INTERVAL
    assert ReportOptions.metrics == report.DEFAULT_METRICS
    assert ReportOptions.max_curves == report.MAX_CURVES
    assert PromoteOptions.metric == serving.DEFAULT_PROMOTION_METRIC
    assert EvaluateOptions.wrong_reviews == serving.DEFAULT_WRONG_REVIEWS
    assert baseline.parse_budgets(BaselineOptions.budgets) == baseline.BUDGETS
    assert PredictOptions.text_column == TrainConfig.text_column


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


def test_help_imports_neither_tensorflow_nor_mlflow():
    code = (
        "import sys\nfrom rnn_tracking.cli import main\ntry:\n    main(['train', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('tensorflow', 'mlflow', 'optuna') if m in sys.modules))"
    )
    assert print_in_fresh_python(code) == "[]"
