"""`rnn-tracking train` on a few hundred real reviews, read back from a SQLite store."""

import json

import mlflow
import pytest
from helpers import SUMMARY_METRICS, print_in_fresh_python
from mlflow.tracking import MlflowClient

from rnn_tracking.cli import main
from rnn_tracking.config import FIELDS

pytestmark = pytest.mark.integration

EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds")


def quick_args(data_path, *extra):
    return [
        "train",
        "--data",
        str(data_path),
        "--max_reviews",
        "300",
        "--units",
        "4",
        "--epochs",
        "2",
        "--verbose",
        "0",
        *extra,
    ]


def only_run(experiment_name):
    experiment = mlflow.get_experiment_by_name(experiment_name)
    runs = MlflowClient().search_runs([experiment.experiment_id])
    assert len(runs) == 1
    return runs[0]


def test_train_logs_a_complete_comparable_run(real_data_path, tracking_uri, tmp_path):
    assert (
        main(quick_args(real_data_path, "--experiment-name", "cli", "--learning_rate", "1e-3")) == 0
    )
    run = only_run("cli")
    client = MlflowClient()
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "lstm-1x4"
    assert set(run.data.params) == set(FIELDS)
    assert run.data.params["learning_rate"] == "0.001"
    assert run.data.params["data"] == str(real_data_path)
    epochs_run = int(run.data.metrics["epochs_run"])
    assert epochs_run == 2
    for name in EPOCH_METRICS:
        steps = [metric.step for metric in client.get_metric_history(run.info.run_id, name)]
        assert steps == [1, 2], name
    for name in SUMMARY_METRICS:
        assert name in run.data.metrics, name
    assert run.data.metrics["param_count"] == 500 * 16 + 4 * 4 * (16 + 4 + 1) + 5
    assert 0.0 <= run.data.metrics["test_accuracy"] <= 1.0
    assert run.data.tags["data_source"] == str(real_data_path)
    assert run.data.tags["arch"] == "lstm"
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"checkpoints", "config.json", "learning_curves.png", "model_summary.txt"} <= artifacts
    config = json.loads(mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/config.json"))
    assert config["units"] == 4 and config["resolved_data"] == str(real_data_path)
    contexts = sorted(
        tag.value
        for entry in run.inputs.dataset_inputs
        for tag in entry.tags
        if tag.key == "mlflow.data.context"
    )
    assert contexts == ["test", "train", "validation"]

    # The logged model loads in a fresh process and scores a batch of encoded reviews.
    script = (
        "import mlflow, numpy as np;"
        f"model = mlflow.pyfunc.load_model('runs:/{run.info.run_id}/model');"
        "p = np.asarray(model.predict(np.ones((3, 100), dtype='int32')));"
        "print(p.shape, bool(((p > 0) & (p < 1)).all()))"
    )
    assert print_in_fresh_python(script) == "(3, 1) True"


def test_experiment_comes_from_environment(real_data_path, tracking_uri, monkeypatch):
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-env")
    assert main(quick_args(real_data_path, "--arch", "gru", "--epochs", "1")) == 0
    run = only_run("from-env")
    assert run.info.run_name == "gru-1x4"


def test_data_defaults_to_environment_variable(real_data_path, tracking_uri, monkeypatch):
    monkeypatch.setenv("RNN_TRACKING_DATA", str(real_data_path))
    args = [
        "train",
        "--max_reviews",
        "200",
        "--units",
        "2",
        "--epochs",
        "1",
        "--verbose",
        "0",
        "--experiment-name",
        "env-data",
    ]
    assert main(args) == 0
    run = only_run("env-data")
    assert run.data.params["data"] == "auto"
    assert run.data.tags["data_source"] == str(real_data_path)
