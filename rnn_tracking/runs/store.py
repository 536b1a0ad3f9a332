"""The tracking store: prepared once per process under an inter-process lock, before any run
touches it, and SQLite's transient "database is locked" retried with a bounded backoff."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import mlflow
from mlflow.tracking import MlflowClient

# Beside `mlflow.db`: the lock that serialises its creation and migration between processes.
# (Not `<db>.lock`: Optuna's journal uses `<file>.lock` for its own lock beside its file.)
STORE_LOCK_SUFFIX = ".init.lock"
# Bounded backoff for SQLite's transient "database is locked": 0.2, 0.4, ... 3.2 s, about
# 6 s in all, beyond SQLite's own 5 s busy wait on each try.
LOCKED_ATTEMPTS = 5
LOCKED_FIRST_DELAY_SECONDS = 0.2
# The tracking URIs this process has prepared already.
_prepared_uris: set[str] = set()

Result = TypeVar("Result")


def sqlite_database_path(uri: str) -> Path | None:
    """Returns the file of a `sqlite:///...` tracking URI, or None for any other store."""
    if not uri.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    if not database or database == ":memory:":
        return None
    return Path(database).resolve()


def is_database_locked(error: BaseException) -> bool:
    """Tells SQLite's transient lock contention from a real error."""
    from sqlalchemy import exc

    if isinstance(error, exc.OperationalError):
        error = error.orig or error
    return isinstance(error, sqlite3.OperationalError) and "database is locked" in str(error)


def retry_when_locked(
    action: Callable[[], Result],
    attempts: int = LOCKED_ATTEMPTS,
    first_delay: float = LOCKED_FIRST_DELAY_SECONDS,
) -> Result:
    """Runs `action`, retrying with doubling delays while SQLite says "database is locked".

    Any other error, and the last locked one, is raised as it is.
    """
    from mlflow.exceptions import MlflowException

    for attempt in range(attempts):
        try:
            return action()
        except Exception as error:
            cause = error.__cause__ if isinstance(error, MlflowException) else error
            if attempt == attempts - 1 or not is_database_locked(cause or error):
                raise
            time.sleep(first_delay * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises.


def prepare_tracking_store() -> str:
    """Creates and migrates the tracking store once, before this process uses it; returns its URI.

    MLflow creates and migrates a new SQLite database (tracking and model-registry tables) on
    its first use in each process. Processes that start together on a fresh `mlflow.db` run
    that migration at once and break it, sometimes for good (`_alembic_tmp_*` tables left
    behind). Here the first use happens under an exclusive lock on `<db>.init.lock`, so one
    process creates the tables and the others find them made. MLflow then keeps the opened
    store for the process. Other stores (a server, PostgreSQL) are only checked to answer.
    """
    uri = mlflow.get_tracking_uri()
    if uri in _prepared_uris:
        return uri

    def open_store() -> None:
        client = MlflowClient(uri)
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)

    path = sqlite_database_path(uri)
    if path is None:
        retry_when_locked(open_store)
    else:
        from filelock import FileLock

        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}{STORE_LOCK_SUFFIX}"):
            retry_when_locked(open_store)
    _prepared_uris.add(uri)
    return uri
