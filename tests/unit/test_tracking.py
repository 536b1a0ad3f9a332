"""MLflow tracking of one training, on toy arrays in a temporary SQLite store."""

import os

import keras
import mlflow
import numpy as np
import pytest
from helpers import SUMMARY_METRICS, TOY, make_toy_splits
from mlflow.tracking import MlflowClient

from rnn_tracking.config import FIELDS, TrainConfig, config_to_params
from rnn_tracking.tracking import log_params_once, track_training

# Every test here trains, starts a fresh interpreter or opens a SQLite store.
pytestmark = pytest.mark.slow


class FailAtEpoch(keras.callbacks.Callback):
    """Raises `error` at the end of 1-based epoch `epoch`, after the checkpoint is written."""

    def __init__(self, epoch, error):
        super().__init__()
        self.epoch, self.error = epoch, error

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise self.error


def test_tracked_run_logs_params_epoch_metrics_summary_and_artifacts(tracking_uri):
    run_id, result = track_training(TOY, make_toy_splits())
    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "lstm-1x2"
    assert run.data.params == config_to_params(TOY)
    history = client.get_metric_history(run_id, "val_accuracy")
    assert [metric.step for metric in history] == [1, 2, 3, 4]
    assert [metric.value for metric in history] == pytest.approx(result.history["val_accuracy"])
    for name in SUMMARY_METRICS:
        assert run.data.metrics[name] == pytest.approx(result.summary_metrics()[name]), name
    artifacts = {item.path for item in client.list_artifacts(run_id)}
    assert {"checkpoints", "config.json", "learning_curves.png", "model_summary.txt"} <= artifacts
    assert run.data.tags["arch"] == "lstm"
    assert run.data.tags["data_digest"] == "ab" * 32
    contexts = {
        tag.value
        for entry in run.inputs.dataset_inputs
        for tag in entry.tags
        if tag.key == "mlflow.data.context"
    }
    assert contexts == {"train", "validation", "test"}


def test_logged_model_predicts_like_the_trained_model(tracking_uri):
    splits = make_toy_splits()
    run_id, result = track_training(TOY, splits)
    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    expected = result.model.predict(splits.x_test, verbose=0)
    np.testing.assert_allclose(np.asarray(loaded.predict(splits.x_test)), expected, rtol=1e-6)


def test_exception_ends_run_failed_with_best_checkpoint_logged(tracking_uri):
    with pytest.raises(RuntimeError, match="boom"):
        track_training(
            TOY, make_toy_splits(), extra_callbacks=[FailAtEpoch(2, RuntimeError("boom"))]
        )
    run = MlflowClient().search_runs([mlflow.get_experiment_by_name("Default").experiment_id])[0]
    assert run.info.status == "FAILED"
    assert run.data.tags["error"] == "RuntimeError: boom"
    checkpoints = [
        item.path for item in MlflowClient().list_artifacts(run.info.run_id, "checkpoints")
    ]
    assert checkpoints == ["checkpoints/best.keras"]


def test_interrupt_ends_run_killed_with_best_checkpoint_logged(tracking_uri):
    with pytest.raises(KeyboardInterrupt):
        track_training(
            TOY, make_toy_splits(), extra_callbacks=[FailAtEpoch(2, KeyboardInterrupt())]
        )
    run = MlflowClient().search_runs([mlflow.get_experiment_by_name("Default").experiment_id])[0]
    assert run.info.status == "KILLED"
    assert MlflowClient().list_artifacts(run.info.run_id, "checkpoints")
    assert len(MlflowClient().get_metric_history(run.info.run_id, "val_loss")) == 2


def test_params_logged_by_mlflow_run_in_another_spelling_are_kept(tracking_uri):
    with mlflow.start_run() as run:
        mlflow.log_params({"learning_rate": "1e-4", "bidirectional": "False"})
        log_params_once(run.info.run_id, config_to_params(TrainConfig()))
    params = MlflowClient().get_run(run.info.run_id).data.params
    assert params["learning_rate"] == "1e-4"
    assert params["bidirectional"] == "False"
    assert set(params) == set(FIELDS)


def test_param_logged_with_a_different_value_is_an_error(tracking_uri):
    with mlflow.start_run() as run:
        mlflow.log_param("units", "16")
        with pytest.raises(ValueError, match="units: the run already records '16'"):
            log_params_once(run.info.run_id, config_to_params(TrainConfig()))


def test_tracking_store_is_the_fixtures_sqlite_file(tracking_uri):
    assert mlflow.get_tracking_uri() == tracking_uri == os.environ["MLFLOW_TRACKING_URI"]


def test_a_diverged_run_ends_failed_with_its_reason_and_no_summary(tracking_uri):
    import dataclasses

    from rnn_tracking.train import TrainingDiverged

    config = dataclasses.replace(
        TOY, optimizer="adam", learning_rate=1e38, batch_size=1, steps_per_execution=1
    )
    with pytest.raises(TrainingDiverged):
        track_training(config, make_toy_splits())
    [run] = MlflowClient().search_runs([mlflow.get_experiment_by_name("Default").experiment_id])
    assert run.info.status == "FAILED"
    assert run.data.tags["error"].startswith("TrainingDiverged: the loss became non-finite")
    assert int(run.data.tags["diverged"]) >= 1
    assert "test_accuracy" not in run.data.metrics


def test_tracked_run_logs_test_predictions_that_give_its_test_accuracy(tracking_uri, tmp_path):
    from rnn_tracking.predictions import PREDICTIONS_ARTIFACT, load_test_predictions

    splits = make_toy_splits()
    run_id, result = track_training(TOY, splits)
    path = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=PREDICTIONS_ARTIFACT, dst_path=str(tmp_path)
    )
    predictions = load_test_predictions(path)
    assert predictions.label.tolist() == splits.y_test.tolist()
    assert predictions.accuracy == pytest.approx(result.test_accuracy)
    metrics = MlflowClient().get_run(run_id).data.metrics
    assert len(MlflowClient().get_run(run_id).data.tags["test_digest"]) == 32
    assert metrics["cpu_seconds"] > 0 and metrics["peak_rss_mb"] > 10


def test_cost_summaries_are_logged_unless_turned_off(tracking_uri):
    from rnn_tracking import runs

    with runs.open_run("costed", system_metrics=True) as costed:
        pass
    runs.record_system_metrics(False)
    try:
        with runs.open_run("plain", system_metrics=True) as plain:
            pass
    finally:
        runs.record_system_metrics(True)
    client = MlflowClient()
    assert {"cpu_seconds", "peak_rss_mb"} <= set(client.get_run(costed.info.run_id).data.metrics)
    assert "cpu_seconds" not in client.get_run(plain.info.run_id).data.metrics
