"""The shipped space files, and bench/peers' translation of them (no training)."""

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest

from rnn_tracking import sweep
from rnn_tracking.config import TrainConfig
from rnn_tracking.model import build_model

ROOT = Path(__file__).resolve().parents[2]
SPACES = ("small-budget", "unconstrained")


def load_bench():
    """Imports the bench's rooms (bench/peers) and returns them as one namespace."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    rooms = [
        importlib.import_module(f"bench.peers.{name}")
        for name in ("settings", "curves", "render", "side_optuna", "side_keras_tuner")
    ]
    return SimpleNamespace(**{k: v for room in rooms for k, v in vars(room).items()})


def corners(space):
    """Configs at each range's ends and each choice, the rest at their first value."""
    first = {
        spec.name: spec.choices[0] if spec.type == "categorical" else spec.low
        for spec in space.params
    }
    for spec in space.params:
        values = spec.choices if spec.type == "categorical" else (spec.low, spec.high)
        for value in values:
            yield space.config_for({**first, spec.name: value})


@pytest.mark.parametrize("name", SPACES)
def test_space_file_loads_and_every_corner_is_a_valid_config(name):
    space = sweep.load_space(ROOT / "sweeps" / f"{name}.yaml")
    assert space.study_name == name
    assert space.metric == "val_accuracy"
    configs = list(corners(space))
    assert all(isinstance(config, TrainConfig) for config in configs)
    assert {config.optimizer for config in configs} == {"adam", "rmsprop"}
    assert {config.pooling for config in configs} == {"last", "max", "mean", "max_mean"}


def test_small_budget_fixes_the_tutorials_budget_and_unconstrained_opens_it():
    small = sweep.load_space(ROOT / "sweeps" / "small-budget.yaml")
    assert (small.fixed["num_words"], small.fixed["maxlen"]) == (500, 100)
    # Which end of a long review to keep is recipe, not budget: the words stay 500 and 100.
    assert {spec.name for spec in small.params} & {"num_words", "maxlen"} == set()
    assert "truncating" in {spec.name for spec in small.params}
    unconstrained = sweep.load_space(ROOT / "sweeps" / "unconstrained.yaml")
    assert {"num_words", "maxlen"} <= {spec.name for spec in unconstrained.params}
    assert unconstrained.tunes_data


def test_the_largest_small_budget_model_builds():
    space = sweep.load_space(ROOT / "sweeps" / "small-budget.yaml")
    largest = {
        spec.name: spec.choices[-1] if spec.type == "categorical" else spec.high
        for spec in space.params
    }
    model = build_model(space.config_for(largest))
    assert model.output_shape == (None, 1)


@pytest.mark.parametrize("name", SPACES)
def test_optuna_translation_samples_inside_the_space(name):
    bench = load_bench()
    space = sweep.load_space(ROOT / "sweeps" / f"{name}.yaml")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        config = space.config_for(
            {spec.name: bench.suggest_optuna(trial, spec) for spec in space.params}
        )
        check_inside(space, config)
        study.tell(trial, 0.5)


@pytest.mark.parametrize("name", SPACES)
def test_keras_tuner_translation_samples_inside_the_space(name):
    kt = pytest.importorskip("keras_tuner")
    bench = load_bench()
    space = sweep.load_space(ROOT / "sweeps" / f"{name}.yaml")
    hp = kt.HyperParameters()
    for spec in space.params:
        bench.declare_keras_tuner(hp, spec)
    oracle = kt.oracles.RandomSearchOracle(objective="val_accuracy", seed=0)
    oracle.hyperparameters = hp
    for index in range(20):
        values = oracle.populate_space(str(index))["values"]
        config = space.config_for({spec.name: values[spec.name] for spec in space.params})
        check_inside(space, config)


def check_inside(space, config):
    for spec in space.params:
        value = getattr(config, spec.name)
        if spec.type == "categorical":
            assert value in spec.choices, spec.name
        else:
            assert spec.low <= value <= spec.high, spec.name


def test_bench_space_copy_fixes_max_reviews_and_caps_epochs_in_short_mode(tmp_path):
    bench = load_bench()
    args = bench.parse_args(["--short", "--space", str(ROOT / "sweeps" / "small-budget.yaml")])
    assert (args.minutes, args.max_reviews) == (bench.SHORT_MINUTES, bench.SHORT_REVIEWS)
    path = bench.write_bench_space(args, tmp_path)
    space = sweep.load_space(path)
    assert space.fixed["max_reviews"] == bench.SHORT_REVIEWS
    assert space.fixed["epochs"] == bench.SHORT_EPOCHS
    # The shipped space's warm start is dropped: every side starts cold.
    assert sweep.load_space(ROOT / "sweeps" / "small-budget.yaml").enqueue
    assert space.enqueue == ()
    full = bench.parse_args(["--minutes", "20", "--max-reviews", "0"])
    assert full.sides == list(bench.SIDES)


def test_warm_start_keeps_the_enqueue_list_and_vector_paths_become_absolute(tmp_path):
    bench = load_bench()
    space_file = ROOT / "sweeps" / "unconstrained.yaml"
    args = bench.parse_args(["--space", str(space_file), "--warm-start"])
    space = sweep.load_space(bench.write_bench_space(args, tmp_path))
    vectors = str(Path("vectors/word2vec.txt").resolve())
    shipped = sweep.load_space(space_file).enqueue
    assert shipped != ()
    # The platform's side runs in its own folder: a relative vector file must still resolve,
    # in the choices and in the enqueued configs alike; nothing else in them changes.
    assert space.enqueue == tuple(
        {**entry, "embeddings": vectors} if "embeddings" in entry else entry for entry in shipped
    )
    (choices,) = [spec.choices for spec in space.params if spec.name == "embeddings"]
    assert choices == ("none", vectors)
    raw = {"fixed": {"embeddings": "runs:/abc/vectors/word2vec.txt"}}
    bench.resolve_vector_paths(raw)
    assert raw["fixed"]["embeddings"] == "runs:/abc/vectors/word2vec.txt"


def test_pruner_sides_swap_only_the_pruner_of_the_bench_space(tmp_path):
    bench = load_bench()
    args = bench.parse_args(
        ["--sides", "platform:median,platform:hyperband,platform:successive_halving"]
    )
    assert [bench.pruner_of(side) for side in args.sides] == [
        "median",
        "hyperband",
        "successive_halving",
    ]
    small = ROOT / "sweeps" / "small-budget.yaml"
    own = sweep.load_space(small)
    for pruner in ("median", "hyperband", "successive_halving"):
        space = sweep.load_space(bench.write_pruner_space(small, pruner, tmp_path / pruner))
        name, options = space.pruner
        assert name == pruner
        # The space's own pruner keeps its options; the others get the bench's.
        expected = own.pruner[1] if pruner == own.pruner[0] else bench.PRUNER_SIDE_OPTIONS[pruner]
        assert options == expected
        assert (space.params, space.fixed, space.sampler) == (own.params, own.fixed, own.sampler)
    assert bench.side_label("platform:hyperband") == "rnn-tracking sweep (hyperband pruner)"


@pytest.mark.parametrize("sides", ["platform:bogus", "platform,platform", "tuner:median", ""])
def test_unknown_or_repeated_sides_are_refused_in_one_line(sides, capsys):
    bench = load_bench()
    with pytest.raises(SystemExit) as stopped:
        bench.parse_args(["--sides", sides])
    assert stopped.value.code == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--sides" in message and "platform:hyperband" in message


def test_curve_helpers():
    bench = load_bench()
    numbers = bench.side_result(
        [
            (50.0, None, "PRUNED"),
            (10.0, 0.7, "COMPLETE"),
            (30.0, 0.65, "COMPLETE"),
            (70.0, 0.8, "COMPLETE"),
        ],
        wall_seconds=80,
        best_value=0.8,
        best_test_accuracy=0.79,
        best_params={},
        pruned=1,
        failed=0,
        notes="",
    )
    assert numbers["curve"] == [[10.0, 0.7], [70.0, 0.8]]
    assert numbers["trials_finished"] == 4
    assert bench.best_at(numbers["curve"], 5) is None
    assert bench.best_at(numbers["curve"], 60) == 0.7
    assert bench.seconds_to_reach(numbers["curve"], 0.75) == 70.0
    assert bench.seconds_to_reach(numbers["curve"], 0.9) is None
    assert bench.marks_minutes(30) == [5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
    assert bench.marks_minutes(12) == [5.0, 10.0, 12.0]
    assert bench.marks_minutes(1.5) == [0.5, 1.0, 1.5]


def test_a_report_of_one_side_has_no_comparison_section():
    bench = load_bench()
    numbers = bench.side_result(
        [(60.0, 0.8, "COMPLETE")],
        wall_seconds=90,
        best_value=0.8,
        best_test_accuracy=0.79,
        best_params={"units": 8},
        pruned=0,
        failed=0,
        notes="n",
    )
    settings = {
        "command": "c",
        "machine": "m",
        "space": "s.yaml",
        "params": 1,
        "epochs": 2,
        "train": 8,
        "val": 2,
        "test": 10,
        "minutes": 1.0,
        "marks_minutes": [1.0],
    }
    alone = bench.render({"settings": settings, "sides": {"platform:hyperband": numbers}})
    assert "Against" not in alone
    assert "rnn-tracking sweep (hyperband pruner) | 0.8000 | 0.7900" in alone
    both = bench.render(
        {"settings": settings, "sides": {"platform": numbers, "platform:none": numbers}}
    )
    assert "Against the platform:" in both
    assert "- rnn-tracking sweep (none pruner): best validation accuracy +0.0000" in both
