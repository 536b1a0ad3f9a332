"""Logging a run's params once: shared by training and the baseline, which needs no Keras.

It lives apart from `tracking` (which imports Keras for its callbacks), so that
`rnn-tracking baseline` imports neither TensorFlow nor JAX.
"""

from __future__ import annotations

import mlflow
from mlflow.tracking import MlflowClient

from rnn_tracking.config import parse_value


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
