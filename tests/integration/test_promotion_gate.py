"""The promotion gate on real MLflow runs in a temporary SQLite store.

The runs are made directly through MLflow (a trivial text model, logged test predictions,
the tags a training logs), which is much cheaper than training and exercises the same
registry, artifact and search calls the gate makes on trained runs.
"""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from rnn_tracking import serving
from rnn_tracking.cli import main
from rnn_tracking.predictions import (
    PREDICTIONS_ARTIFACT,
    make_test_predictions,
    save_test_predictions,
)

pytestmark = pytest.mark.integration

NAME = "gated"
EXPERIMENT = "gate"
REVIEWS = 40
LABELS = np.tile([0, 1], REVIEWS // 2)


class ConstantModel(mlflow.pyfunc.PythonModel):
    """A stand-in text model: the gate never calls it."""

    def predict(self, context, model_input, params=None):
        return [0] * len(model_input)


def log_run(tmp_path, *, right: int, val_accuracy: float, digest: str, baseline=False) -> str:
    """Logs a finished run whose first `right` test reviews are predicted right."""
    probabilities = np.where(np.arange(REVIEWS) < right, LABELS, 1 - LABELS).astype(float)
    tags = {"test_digest": digest, "arch": "tfidf_logreg" if baseline else "lstm"}
    with mlflow.start_run(tags=tags) as run:
        mlflow.log_metrics({"best_val_accuracy": val_accuracy, "test_accuracy": right / REVIEWS})
        folder = tmp_path / run.info.run_id
        folder.mkdir()
        path = folder / PREDICTIONS_ARTIFACT
        save_test_predictions(make_test_predictions(LABELS, probabilities), path)
        mlflow.log_artifact(str(path))
        if not baseline:
            mlflow.pyfunc.log_model(name=serving.TEXT_MODEL_NAME, python_model=ConstantModel())
    return run.info.run_id


def champion_version() -> str:
    return str(MlflowClient().get_model_version_by_alias(NAME, "champion").version)


@pytest.fixture
def gate_store(tracking_uri, tmp_path):
    mlflow.set_experiment(EXPERIMENT)
    log_run(tmp_path, right=20, val_accuracy=0.0, digest="d1", baseline=True)
    first = log_run(tmp_path, right=24, val_accuracy=0.6, digest="d1")
    argv = ["promote", "--name", NAME, "--experiment-name", EXPERIMENT]
    assert main(argv) == 0
    return tmp_path, first, argv


def test_first_promotion_passes_the_baseline_rule_and_is_tagged(gate_store):
    _, first, _ = gate_store
    version = MlflowClient().get_model_version(NAME, champion_version())
    assert version.run_id == first
    assert version.tags["gate"] == "passed" and version.tags["gate_baseline_test_accuracy"]


def test_worse_challenger_is_refused_and_the_alias_stays(gate_store, capsys):
    tmp_path, _, argv = gate_store
    log_run(tmp_path, right=22, val_accuracy=0.9, digest="d1")
    capsys.readouterr()
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "refused: alpha:" in captured.err
    assert "discordant b" in captured.out
    assert champion_version() == "1"
    assert len(MlflowClient().search_model_versions(f"name = '{NAME}'")) == 1


def test_significantly_better_challenger_is_promoted_with_the_decision_as_tags(gate_store):
    tmp_path, _, argv = gate_store
    better = log_run(tmp_path, right=40, val_accuracy=0.9, digest="d1")
    assert main(argv) == 0
    version = MlflowClient().get_model_version(NAME, champion_version())
    assert version.run_id == better
    assert (version.tags["gate_discordant_b"], version.tags["gate_discordant_c"]) == ("16", "0")
    assert float(version.tags["gate_p_value"]) < 0.05


def test_challenger_on_other_test_reviews_is_refused_naming_both_digests(gate_store, capsys):
    tmp_path, _, argv = gate_store
    log_run(tmp_path, right=40, val_accuracy=0.9, digest="d2")
    capsys.readouterr()
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert "tested on d2 but champion v1 on d1" in error
    assert champion_version() == "1"


def test_force_promotes_without_the_gate_and_is_tagged(gate_store):
    tmp_path, _, argv = gate_store
    worse = log_run(tmp_path, right=10, val_accuracy=0.9, digest="d2")
    assert main([*argv, "--force"]) == 0
    version = MlflowClient().get_model_version(NAME, champion_version())
    assert version.run_id == worse and version.tags["gate"] == "forced"
