"""What every run records besides its metrics: its params once, and its test predictions.

Shared by training and the baseline, which needs no Keras: it lives apart from `tracking`
(which imports Keras for its callbacks), so that `rnn-tracking baseline` imports neither
TensorFlow nor JAX.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

from rnn_tracking import runs
from rnn_tracking.config import TrainConfig, parse_value
from rnn_tracking.predictions import (
    PREDICTIONS_ARTIFACT,
    digest_test_split,
    make_test_predictions,
    save_test_predictions,
)


def log_params_once(run_id: str, params: dict[str, str]) -> None:
    """Logs params not yet on the run; checks the ones already there mean the same value.

    `mlflow run` logs every `-P` value as the user spelled it (`1e-4`) before our code starts,
    and MLflow refuses to change a param. So a param already logged is kept when it parses to
    the same value, and a different value is an error rather than a silent mismatch.
    """
    existing = MlflowClient().get_run(run_id).data.params
    for name, value in params.items():
        if name in existing and parse_value(name, existing[name]) != parse_value(name, value):
            raise ValueError(
                f"{name}: the run already records {existing[name]!r}, but the config says "
                f"{value!r}; valid values are the one the run was started with."
            )
    missing = {name: value for name, value in params.items() if name not in existing}
    if missing:
        mlflow.log_params(missing)


def log_test_predictions(
    config: TrainConfig,
    data_digest: str,
    classes: Sequence[str],
    labels: np.ndarray,
    probabilities: np.ndarray,
) -> str:
    """Logs `test_predictions.npz` and the `test_digest` tag of the active run; returns the digest.

    `labels` (n,) and `probabilities` ((n,) or (n, K)) are in test-split order. Training and
    baseline runs both log them, so the promotion gate can pair any two on the same reviews.
    """
    digest = digest_test_split(data_digest, config.max_reviews, config.seed, classes, labels)
    predictions = make_test_predictions(labels, probabilities)
    with tempfile.TemporaryDirectory() as scratch:
        mlflow.log_artifact(
            str(save_test_predictions(predictions, Path(scratch) / PREDICTIONS_ARTIFACT))
        )
    mlflow.set_tag(runs.TEST_DIGEST_TAG, digest)
    return digest


def describe_run(config: TrainConfig) -> str:
    """Returns a readable run name such as `lstm-2x8-drop0.3` or `bigru-1x16`.

    Rates keep two significant digits (`drop0.23`, not `drop0.231276`): a sweep samples
    them from a continuous range, and the exact value is in the run's params.
    """
    name = f"{'bi' if config.bidirectional else ''}{config.arch}-{config.layers}x{config.units}"
    if config.dropout:
        name += f"-drop{config.dropout:.2g}"
    if config.recurrent_dropout:
        name += f"-rdrop{config.recurrent_dropout:.2g}"
    return name
