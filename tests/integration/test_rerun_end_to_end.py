"""`rnn-tracking rerun RUN_ID` on a few hundred real reviews, as a user runs it."""

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from rnn_tracking.cli import EXIT_OK, EXIT_USAGE, main

pytestmark = pytest.mark.integration


def train_once(data_path, *extra):
    """Trains one quick run in experiment 'source' and returns its id."""
    args = ["train", "--data", str(data_path), "--max-reviews", "300", "--units", "4"]
    assert (
        main([*args, "--epochs", "2", "--verbose", "0", "--experiment-name", "source", *extra]) == 0
    )
    experiment = mlflow.get_experiment_by_name("source")
    [run] = MlflowClient().search_runs([experiment.experiment_id], max_results=1)
    return run.info.run_id


def test_rerun_without_dropout_reproduces_every_metric_exactly(
    real_data_path, tracking_uri, capsys
):
    source_id = train_once(real_data_path)
    capsys.readouterr()
    assert main(["rerun", source_id, "--verbose", "0"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "reproduced exactly (no dropout: deterministic)" in out
    assert "DIFFERS" not in out
    client = MlflowClient()
    source = client.get_run(source_id)
    [rerun] = client.search_runs(
        [source.info.experiment_id], filter_string=f"tags.rerun_of = '{source_id}'"
    )
    assert rerun.info.status == "FINISHED"
    assert rerun.data.params == source.data.params
    for name in ("best_val_loss", "test_accuracy", "test_loss", "best_epoch"):
        assert rerun.data.metrics[name] == pytest.approx(source.data.metrics[name], abs=1e-6)
    assert rerun.data.tags["reproduce_command"] == f"rnn-tracking rerun {rerun.info.run_id}"
    assert rerun.data.tags["command_line"] == f"rnn-tracking rerun {source_id} --verbose 0"
    assert source.data.tags["command_line"].startswith("rnn-tracking train --data ")


def test_rerun_on_other_data_is_refused_before_any_run(
    real_data_path, tracking_uri, tiny_aclimdb_tar, capsys
):
    source_id = train_once(real_data_path)
    capsys.readouterr()
    assert main(["rerun", source_id, "--data", str(tiny_aclimdb_tar)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"rnn-tracking: error: data: {tiny_aclimdb_tar} has content digest ")
    assert f"but run {source_id} was trained on data with digest" in err
    experiment = mlflow.get_experiment_by_name("source")
    assert len(MlflowClient().search_runs([experiment.experiment_id])) == 1
