"""The guard that keeps a KILLED run KILLED when `mlflow run` later writes FAILED over it.

On Ctrl-C (or SIGTERM) the training process ends its runs KILLED and exits. `mlflow run`
(MLflow 3.17) then marks its run FAILED whatever status is already there:
`_maybe_set_run_terminated` asks `RunStatus.is_terminated` about the status *string*, which
that function only knows as a number, so every run looks unfinished to it. The write comes
after the training process has exited and just before `mlflow run` itself exits, so nothing
the training does afterwards can be ordered before `mlflow run` returns.

On a SQLite store the overwrite is undone in the same statement that makes it: a trigger on
MLflow's `runs` table puts the status and end time back whenever a KILLED run is updated to
FAILED. Nothing else ever moves a run from KILLED to FAILED (a run is ended once; only that
launcher bug writes again), so the trigger changes no other update. It references only the
`runs` table, so MLflow's own migrations (which may copy and rename tables) are unaffected;
one that rebuilds `runs` drops it, and the next interruption installs it again.

Other stores (an MLflow server, PostgreSQL) cannot be reached this way: there a detached
watcher (`runs.keep_launcher_status`) restores the status, and a reader right after
`mlflow run` returns may see FAILED for up to a second (see README, "Stopping a run").
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# The trigger's name in the store's schema, and its text (idempotent).
TRIGGER_NAME = "rnn_tracking_keep_killed"
TRIGGER_SQL = f"""
CREATE TRIGGER IF NOT EXISTS {TRIGGER_NAME}
AFTER UPDATE OF status ON runs FOR EACH ROW
WHEN OLD.status = 'KILLED' AND NEW.status = 'FAILED'
BEGIN
    UPDATE runs SET status = OLD.status, end_time = OLD.end_time
    WHERE run_uuid = NEW.run_uuid;
END
"""
# How long to wait for another writer to release the database (seconds).
BUSY_TIMEOUT_SECONDS = 30.0


def install_killed_guard(database: Path) -> None:
    """Installs, once, the trigger that keeps KILLED runs KILLED in the SQLite store `database`.

    Idempotent: installing it again changes nothing. Raises sqlite3.Error if the database
    cannot be written (the caller then falls back to the watcher).
    """
    connection = sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        with connection:
            connection.execute(TRIGGER_SQL)
    finally:
        connection.close()


def has_killed_guard(database: Path) -> bool:
    """Tells whether the SQLite store `database` has the trigger (for tests and doctors)."""
    connection = sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        row = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", (TRIGGER_NAME,)
        ).fetchone()
    finally:
        connection.close()
    return row is not None
