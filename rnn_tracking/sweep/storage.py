"""Where the trials live: a journal file or a database, both with heartbeats.

By default a journal file beside the SQLite tracking database, which several processes on
one machine can share; or any database URL (PostgreSQL, MySQL) that workers on several
machines share. A worker records a heartbeat while it trains; a trial whose heartbeat
stops (its worker was killed) is failed and queued again, and its orphaned run ended.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.storages import (
    JournalStorage,
    RDBStorage,
    RetryHeartbeatStaleTrialCallback,
)

# Optuna exports no public base class for storages with heartbeats; the journal storage
# gains them by implementing this interface, which RDBStorage implements too.
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from rnn_tracking import runs
from rnn_tracking.sweep import parent_run

# A trial is stale once its worker has missed this many heartbeats in a row.
GRACE_HEARTBEATS = 3
# A trial whose worker keeps dying is retried this many times, then counted as failed.
MAX_RETRIES = 2
DEFAULT_JOURNAL_NAME = "optuna.journal"

# Names on the Optuna side (user attributes); the MLflow side's tags are in `runs`.
RUN_ATTR = "mlflow_run_id"
HEARTBEAT_ATTR = "heartbeat"


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """Optuna's journal file storage with the heartbeats that its RDB storage has.

    While a trial runs, Optuna's heartbeat thread stamps it every `heartbeat_interval`
    seconds (a system attribute). Before each trial, every worker fails the RUNNING trials
    whose stamp is older than `grace_period` and hands them to the stale-trial callback,
    exactly as Optuna does for database storages.
    """

    def __init__(
        self,
        path: Path,
        *,
        heartbeat_interval: int,
        grace_period: int,
        stale_trial_callback: Callable[[optuna.Study, FrozenTrial], None],
    ) -> None:
        super().__init__(JournalFileBackend(str(path)))
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.stale_trial_callback = stale_trial_callback

    def record_heartbeat(self, trial_id: int) -> None:
        # Another worker may have failed this trial as stale already: nothing to stamp then.
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            stamp = trial.system_attrs.get(HEARTBEAT_ATTR)
            if stamp is not None and now - float(stamp) > self.grace_period:
                stale.append(self.get_trial_id_from_study_id_trial_number(study_id, trial.number))
        return stale

    def get_heartbeat_interval(self) -> int | None:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Callable[[optuna.Study, FrozenTrial], None]:
        return self.stale_trial_callback


def make_retry_callback(max_retry: int | None) -> RetryHeartbeatStaleTrialCallback:
    """Returns Optuna's callback that queues a copy of a failed trial (experimental there)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback(max_retry=max_retry)


class StaleTrialHandler:
    """Queues a stale trial (its worker died) again, and ends its orphaned MLflow run FAILED."""

    def __init__(self, grace_period: int, echo: Callable[[str], None]) -> None:
        self.grace_period = grace_period
        self.echo = echo
        self.retry = make_retry_callback(MAX_RETRIES)

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.retry(study, trial)
        error = (
            f"WorkerLost: no heartbeat for over {self.grace_period} s; the trial was queued again"
        )
        run_id = trial.user_attrs.get(RUN_ATTR)
        if run_id:
            parent_run.fail_orphaned_run(run_id, error)
            parent_run.set_run_tags(run_id, {runs.TRIAL_STATE_TAG: "failed"})
        self.echo(
            f"trial {trial.number}: its worker stopped (no heartbeat for {self.grace_period} s); failed and queued again"
        )


def default_storage() -> str:
    """Returns the default Optuna storage: `optuna.journal` beside the tracking database."""
    return str(parent_run.tracking_store_directory() / DEFAULT_JOURNAL_NAME)


def is_database_url(storage: str) -> bool:
    """Tells a database URL (`postgresql://...`, `sqlite:///...`) from a journal file path."""
    return "://" in storage


def redact_storage(storage: str) -> str:
    """Returns the storage as shown in tags and logs: a database URL loses its password."""
    if not is_database_url(storage):
        return str(Path(storage).resolve())
    from sqlalchemy.engine import make_url

    try:
        return make_url(storage).render_as_string(hide_password=True)
    except Exception:
        return storage.split("://", 1)[0] + "://..."


def open_storage(
    storage: str,
    *,
    heartbeat_interval: int,
    stale_trial_callback: Callable[[optuna.Study, FrozenTrial], None],
) -> optuna.storages.BaseStorage:
    """Opens a journal file (a path) or a database (a URL), both with heartbeats.

    Raises ValueError naming the storage when it cannot be opened.
    """
    grace_period = GRACE_HEARTBEATS * heartbeat_interval
    try:
        if not is_database_url(storage):
            path = Path(storage)
            path.parent.mkdir(parents=True, exist_ok=True)
            return HeartbeatJournalStorage(
                path,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                stale_trial_callback=stale_trial_callback,
            )
        return open_database(storage, heartbeat_interval, grace_period, stale_trial_callback)
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"storage: cannot open {redact_storage(storage)} ({reason}); valid values are a "
            "journal file path or a database URL such as postgresql://user:password@host/db"
        ) from None


def open_database(
    url: str,
    heartbeat_interval: int,
    grace_period: int,
    stale_trial_callback: Callable[[optuna.Study, FrozenTrial], None],
    attempts: int = 5,
) -> RDBStorage:
    """Opens Optuna's database storage, retrying while another worker creates its tables.

    Workers that start together on an empty database all create Optuna's tables; all but
    one fail ("already exists", a duplicate key). A moment later the tables are there.
    """
    from sqlalchemy import exc

    def connect() -> RDBStorage:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                url,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                heartbeat_stale_trial_callback=stale_trial_callback,
            )

    for attempt in range(attempts - 1):
        try:
            return connect()
        except exc.SQLAlchemyError as error:
            racing = isinstance(error, (exc.IntegrityError, exc.ProgrammingError))
            if not (racing or "already exists" in str(error)):
                raise
            time.sleep(1.0 + attempt)
    return connect()
