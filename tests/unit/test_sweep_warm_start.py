"""Warm starts: a space's `enqueue:` configs and `--warm-start STUDY`, at the study level."""

import textwrap
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from rnn_tracking import sweep
from rnn_tracking.cli import build_parser
from rnn_tracking.cli.parser import read_options
from rnn_tracking.options import SweepOptions
from rnn_tracking.sweep.warm_start import collect_configs, enqueue_configs, find_warm_start_configs

ROOT = Path(__file__).resolve().parents[2]

SPACE = """\
study_name: toy
sampler: {name: random, seed: 3}
fixed: {epochs: 2, arch: gru}
params:
  units: {type: int, low: 4, high: 128, log: true}
  learning_rate: {type: float, low: 1e-4, high: 1e-2, log: true}
  pooling: {type: categorical, choices: [last, max]}
"""


def write_space(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, enqueue: str = "") -> sweep.SearchSpace:
    return sweep.load_space(write_space(tmp_path, SPACE + enqueue))


def ask_params(space, study) -> dict:
    """Asks the study for one trial, suggesting every tuned parameter as the objective does."""
    trial = study.ask()
    params = {spec.name: spec.suggest(trial) for spec in space.params}
    study.tell(trial, 0.5)
    return params


def test_enqueued_configs_are_typed_and_tried_first_in_order(tmp_path):
    space = load(
        tmp_path,
        "enqueue:\n"
        "  - {units: 32, learning_rate: 3.2e-3, pooling: max}\n"
        "  - {units: 8, learning_rate: 1e-3, pooling: last}\n",
    )
    # PyYAML reads 3.2e-3 as a string; the entry holds the number it means.
    assert space.enqueue[0] == {"units": 32, "learning_rate": 0.0032, "pooling": "max"}
    study = optuna.create_study(direction="maximize", sampler=sweep.make_sampler(space))
    storage = study._storage
    assert enqueue_configs(study, collect_configs(space, storage, "toy", None, print), print) == 2
    assert ask_params(space, study) == {"units": 32, "learning_rate": 0.0032, "pooling": "max"}
    assert ask_params(space, study) == {"units": 8, "learning_rate": 0.001, "pooling": "last"}


def test_a_partial_entry_fixes_its_keys_and_samples_the_rest(tmp_path):
    space = load(tmp_path, "enqueue:\n  - {pooling: max}\n")
    study = optuna.create_study(direction="maximize", sampler=sweep.make_sampler(space))
    enqueue_configs(study, list(space.enqueue), print)
    params = ask_params(space, study)
    assert params["pooling"] == "max" and 4 <= params["units"] <= 128


def test_enqueuing_again_adds_nothing_the_study_already_holds(tmp_path, capsys):
    space = load(tmp_path, "enqueue:\n  - {units: 32}\n")
    study = optuna.create_study(direction="maximize")
    assert enqueue_configs(study, list(space.enqueue), print) == 1
    ask_params(space, study)
    # A continued study (or a second worker) queues the same file's configs again.
    assert enqueue_configs(study, list(space.enqueue), print) == 0
    assert "queued 0 of 1 warm-start configs to try first (1 already" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("enqueue", "expected"),
    [
        ("enqueue: {units: 8}\n", "enqueue: expected a list of mappings"),
        ("enqueue:\n  - {units: 8}\n  - {epochs: 3}\n", "enqueue[1].epochs: not a tuned parameter"),
        ("enqueue:\n  - {arch: lstm}\n", "enqueue[0].arch: not a tuned parameter"),
        ("enqueue:\n  - {units: 300}\n", "enqueue[0].units: got 300; valid values are 4 to 128"),
        ("enqueue:\n  - {units: 8.5}\n", "enqueue[0].units: got 8.5; valid values are finite"),
        ("enqueue:\n  - {pooling: mean}\n", "enqueue[0].pooling: got 'mean'; valid values are "),
        ("enqueue:\n  - {learning_rate: 1}\n", "enqueue[0].learning_rate: got 1; valid values"),
    ],
)
def test_bad_enqueue_entries_are_refused_in_one_line_naming_the_entry_and_key(
    tmp_path, enqueue, expected
):
    with pytest.raises(ValueError) as caught:
        load(tmp_path, enqueue)
    message = str(caught.value)
    assert "\n" not in message and "space.yaml: " in message
    assert expected in message, message


def test_shipped_spaces_enqueue_their_best_recorded_configs_in_full():
    small = sweep.load_space(ROOT / "sweeps" / "small-budget.yaml")
    # The jax study's best (trial 84), then the TensorFlow study's (trial 14).
    assert [entry["units"] for entry in small.enqueue] == [13, 26]
    # Each recorded best sets every parameter the space tunes.
    for entry in small.enqueue:
        assert set(entry) == {spec.name for spec in small.params}
    unconstrained = sweep.load_space(ROOT / "sweeps" / "unconstrained.yaml")
    (best,) = unconstrained.enqueue
    assert set(best) == {spec.name for spec in unconstrained.params}
    assert (best["num_words"], best["maxlen"]) == (15203, 484)
    assert best["embeddings"] == "vectors/word2vec.txt"


# --- --warm-start STUDY ----------------------------------------------------------------------

DISTRIBUTIONS = {
    "units": IntDistribution(1, 1000),
    "learning_rate": FloatDistribution(1e-5, 1.0, log=True),
    "pooling": CategoricalDistribution(["last", "max", "mean"]),
    "arch": CategoricalDistribution(["lstm", "gru"]),
}


def add_source_trial(study, value: float, **params) -> None:
    study.add_trial(
        optuna.trial.create_trial(
            params=params,
            distributions={name: DISTRIBUTIONS[name] for name in params},
            value=value,
        )
    )


@pytest.fixture
def source_storage():
    """A storage holding study `source` (maximized) with fitting and misfitting trials."""
    storage = optuna.storages.InMemoryStorage()
    source = optuna.create_study(study_name="source", storage=storage, direction="maximize")
    add_source_trial(source, 0.70, units=16, learning_rate=1e-3, pooling="max")
    add_source_trial(source, 0.95, units=500, learning_rate=1e-3, pooling="max")  # units out
    add_source_trial(source, 0.90, units=64, learning_rate=2e-3, pooling="last", arch="gru")
    add_source_trial(source, 0.85, units=8, learning_rate=5e-3, pooling="max", arch="lstm")
    add_source_trial(source, 0.80, units=32, learning_rate=3e-3, pooling="last")
    optuna.create_study(study_name="toy", storage=storage, direction="maximize")
    return storage


def test_warm_start_takes_the_best_k_configs_that_fit_and_counts_the_rest(tmp_path, source_storage):
    space = load(tmp_path)
    configs, skipped = find_warm_start_configs(source_storage, "source", space, 2, "toy")
    # 0.95 (units 500) and 0.85 (arch lstm, fixed to gru here) do not fit; arch=gru matches
    # the fixed value and is left out.
    assert configs == [
        {"units": 64, "learning_rate": 2e-3, "pooling": "last"},
        {"units": 32, "learning_rate": 3e-3, "pooling": "last"},
    ]
    assert len(skipped) == 2
    assert skipped[0].startswith("trial 1: units got 500; valid values are 4 to 128")
    assert "arch is 'lstm' there but fixed to 'gru' here" in skipped[1]


def test_warm_start_configs_are_tried_first_in_the_new_study(tmp_path, source_storage):
    space = load(tmp_path, "enqueue:\n  - {units: 10}\n")
    configs = collect_configs(space, source_storage, "toy", ("source", 1), print)
    study = optuna.load_study(study_name="toy", storage=source_storage)
    enqueue_configs(study, configs, print)
    # The space's own list first, then the other study's best.
    assert ask_params(space, study)["units"] == 10
    assert ask_params(space, study) == {"units": 64, "learning_rate": 2e-3, "pooling": "last"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("missing", "warm_start: study 'missing' is not in this storage; valid values are the "),
        ("toy", "warm_start: study 'toy' is this study itself"),
    ],
)
def test_warm_start_from_an_unknown_study_or_itself_is_refused(
    tmp_path, source_storage, source, expected
):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(")) as caught:
        find_warm_start_configs(source_storage, source, load(tmp_path), 3, "toy")
    assert "source" in str(caught.value) and "\n" not in str(caught.value)


def test_warm_start_where_nothing_fits_is_refused_naming_the_first_misfit(tmp_path):
    storage = optuna.storages.InMemoryStorage()
    source = optuna.create_study(study_name="wide", storage=storage, direction="maximize")
    add_source_trial(source, 0.9, units=900, learning_rate=1e-3, pooling="max")
    with pytest.raises(ValueError) as caught:
        find_warm_start_configs(storage, "wide", load(tmp_path), 3, "toy")
    message = str(caught.value)
    assert message.startswith("warm_start: none of study 'wide''s 1 complete trials fits")
    assert "trial 0: units got 900" in message and "\n" not in message


def test_warm_start_options_reach_the_sweep_as_study_and_top_k():
    args = build_parser().parse_args(
        ["sweep", "--space", "s.yaml", "--warm-start", "old", "--warm-start-top", "5"]
    )
    options = read_options(args, SweepOptions)
    assert sweep.read_warm_start(options) == ("old", 5)
    assert sweep.read_warm_start(SweepOptions(space="s.yaml")) is None
    assert SweepOptions.warm_start_top == sweep.DEFAULT_WARM_START_TOP
