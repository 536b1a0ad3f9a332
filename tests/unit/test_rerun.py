"""Reruns: reading a run's config back, refusing other data, judging metric by metric."""

import dataclasses

import pytest
from helpers import TOY, make_toy_splits
from mlflow.tracking import MlflowClient

from rnn_tracking import rerun
from rnn_tracking.config import TrainConfig, config_to_params
from rnn_tracking.runs import COMMAND_LINE_TAG, REPRODUCE_TAG, record_command_line
from rnn_tracking.tracking import track_training


def test_exact_comparison_judges_every_metric_to_rounding():
    original = {"test_accuracy": 0.75, "best_val_loss": 0.5, "best_epoch": 3, "param_count": 9}
    same = rerun.compare_results(original, dict(original), deterministic=True)
    assert rerun.reproduces(same)
    moved = rerun.compare_results(original, {**original, "test_accuracy": 0.7501}, True)
    assert not rerun.reproduces(moved)
    assert [c.name for c in moved if c.matches is False] == ["test_accuracy"]


def test_noisy_comparison_allows_noise_and_does_not_judge_epochs():
    original = {"test_accuracy": 0.80, "best_epoch": 10, "param_count": 9}
    noisy = {"test_accuracy": 0.81, "best_epoch": 14, "param_count": 9}
    comparisons = rerun.compare_results(original, noisy, deterministic=False)
    assert rerun.reproduces(comparisons)
    assert {c.name: c.matches for c in comparisons}["best_epoch"] is None
    far = rerun.compare_results(original, {**noisy, "test_accuracy": 0.70}, False)
    assert not rerun.reproduces(far)
    assert "did NOT reproduce within noise" in rerun.describe_comparisons(far, False)


def test_only_dropout_free_configs_must_match_exactly():
    assert rerun.is_deterministic(TrainConfig())
    assert not rerun.is_deterministic(TrainConfig(dropout=0.3))
    assert not rerun.is_deterministic(TrainConfig(recurrent_dropout=0.1))


@pytest.mark.slow
def test_a_run_gives_back_its_config_and_records_how_to_reproduce_it(tracking_uri):
    record_command_line("rnn-tracking train --units 2")
    try:
        run_id, _ = track_training(TOY, make_toy_splits())
    finally:
        record_command_line("")
    run = rerun.read_training_run(run_id)
    assert rerun.config_of_run(run) == dataclasses.replace(TOY, data="keras")
    assert config_to_params(rerun.config_of_run(run, data=TOY.data)) == config_to_params(TOY)
    assert run.data.tags[REPRODUCE_TAG] == f"rnn-tracking rerun {run_id}"
    assert run.data.tags[COMMAND_LINE_TAG] == "rnn-tracking train --units 2"


@pytest.mark.slow
def test_other_data_is_refused_naming_both_digests(tracking_uri):
    run_id, _ = track_training(TOY, make_toy_splits())
    run = rerun.read_training_run(run_id)
    rerun.check_same_data(run, "ab" * 32, "toy.csv")
    with pytest.raises(ValueError, match=r"^data: other.csv has content digest cdcdcdcdcdcd"):
        rerun.check_same_data(run, "cd" * 32, "other.csv")


@pytest.mark.slow
def test_an_unknown_run_is_refused_naming_run_id(tracking_uri):
    with pytest.raises(ValueError, match=r"^run_id: 'nope' is not a training run"):
        rerun.read_training_run("nope", MlflowClient())
