"""The run `mlflow run` makes for this process: finding it, ending it when our code never
opens it, and keeping its status against MLflow's overwrite on Ctrl-C."""

from __future__ import annotations

import os
import sqlite3
import time

import mlflow
from mlflow.tracking import MlflowClient

from rnn_tracking.runs.status_guard import install_killed_guard
from rnn_tracking.runs.store import retry_when_locked, sqlite_database_path
from rnn_tracking.runs.vocabulary import FAILED, LAUNCHER_RUN_ENV_VAR, RUNNING


def launcher_run_id() -> str | None:
    """Returns the id of the run `mlflow run` made for this process, or None outside it."""
    return os.environ.get(LAUNCHER_RUN_ENV_VAR) or None


def take_launcher_run_id() -> str | None:
    """Returns the run `mlflow run` made for this process (or None) and forgets it.

    MLflow resumes $MLFLOW_RUN_ID on the next `start_run()` of the process. A sweep decides
    itself what that run becomes (the study's parent, or nothing when the study already has
    a parent), so the variable must not make the first trial's run resume it.
    """
    return os.environ.pop(LAUNCHER_RUN_ENV_VAR, None) or None


def end_launcher_run_failed_if_pending() -> None:
    """Ends FAILED the run `mlflow run` made for us, if our code never got to open it.

    Called when the arguments are rejected before any run is opened, so no run is left
    RUNNING even if the `mlflow run` parent process is killed.
    """
    end_launcher_run_if_pending(FAILED)


def end_launcher_run_if_pending(status: str) -> str | None:
    """Ends the run `mlflow run` made for us with `status` if it is still RUNNING; returns
    its id if it did, else None."""
    run_id = launcher_run_id()
    if not run_id:
        return None
    client = MlflowClient()
    if client.get_run(run_id).info.status != RUNNING:
        return None
    client.set_terminated(run_id, status=status)
    return run_id


def keep_launcher_status(run_id: str, status: str, seconds: float = 60.0) -> None:
    """Puts `status` back on the run `mlflow run` made, once `mlflow run` has overwritten it.

    On Ctrl-C, `mlflow run` (MLflow 3.17) marks its run FAILED after the training process
    exits, whatever status that process set: `_maybe_set_run_terminated` asks
    `RunStatus.is_terminated` about the status *string*, which it only knows as a number,
    so every run looks unfinished. On a SQLite store a trigger undoes that overwrite in the
    statement that makes it, so the status is settled when `mlflow run` returns (see
    `status_guard`). On any other store, a detached watcher process waits up to `seconds`
    for the overwrite and undoes it; it does nothing if no overwrite comes.
    """
    import subprocess
    import sys

    if guard_killed_status(mlflow.get_tracking_uri()):
        return

    code = (
        "import sys; from rnn_tracking.runs.launcher import restore_status_when_overwritten as r; "
        "r(sys.argv[1], sys.argv[2], float(sys.argv[3]))"
    )
    subprocess.Popen(
        [sys.executable, "-c", code, run_id, status, str(seconds)],
        env={**os.environ, "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri()},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def guard_killed_status(uri: str) -> bool:
    """Installs the KILLED-status trigger in the SQLite store at `uri`; tells if it could."""
    path = sqlite_database_path(uri)
    if path is None or not path.exists():
        return False
    try:
        retry_when_locked(lambda: install_killed_guard(path))
    except sqlite3.Error:
        return False
    return True


def restore_status_when_overwritten(run_id: str, status: str, seconds: float) -> None:
    """Waits up to `seconds` for the run's status to change from `status`, then restores it."""
    client = MlflowClient()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get_run(run_id).info.status not in (status, RUNNING):
            client.set_terminated(run_id, status)
            return
        time.sleep(0.2)
