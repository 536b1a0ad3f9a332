"""Hyperparameter studies: an Optuna study whose trials are nested MLflow runs.

`run_sweep` runs (or continues) the study that a space file describes (`rnn_tracking.space`).
A study is one MLflow parent run; each trial trains through `tracking.track_training` in a
nested run, reports its validation metric every epoch so the pruner can stop it, and is
linked both ways: the trial holds its run's id (user attribute `mlflow_run_id`) and the run
holds the trial's number (tag `trial_number`).

Trials live in an Optuna storage, separate from MLflow's store: by default a journal file
beside the SQLite tracking database, which several processes on one machine can share; or
any database URL (PostgreSQL, MySQL) that workers on several machines share. `n_trials` is
the study's total: a second sweep of the same study continues it up to that total. A
worker records a heartbeat while it trains; a trial whose heartbeat stops (its worker was
killed) is failed and queued again, and so is a trial interrupted with Ctrl-C, so neither
counts toward the total.

This is the only module that imports optuna; its MLflow calls go through `tracking`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import keras
import numpy as np
import optuna
from optuna.storages import (
    JournalStorage,
    RDBStorage,
    RetryHeartbeatStaleTrialCallback,
    fail_stale_trials,
)

# Optuna exports no public base class for storages with heartbeats; the journal storage
# gains them by implementing this interface, which RDBStorage implements too.
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from rnn_tracking import runs, tracking
from rnn_tracking.config import TrainConfig, describe_run, format_value
from rnn_tracking.data import Splits, load_splits
from rnn_tracking.space import SPLIT_FIELDS, SearchSpace, read_space, space_error

# The options of a sweep, with their defaults (the CLI and MLproject use these).
DEFAULT_N_TRIALS = 30
DEFAULT_HEARTBEAT_INTERVAL = 10
# A trial is stale once its worker has missed this many heartbeats in a row.
GRACE_HEARTBEATS = 3
# A trial whose worker keeps dying is retried this many times, then counted as failed.
MAX_RETRIES = 2
DEFAULT_JOURNAL_NAME = "optuna.journal"
# How long a worker that joins a new study waits for its creator to name the parent run.
PARENT_WAIT_SECONDS = 30.0

# Names on the Optuna side (user attributes) and on the MLflow side (tags).
RUN_ATTR = "mlflow_run_id"
PARENT_ATTR = "mlflow_parent_run_id"
SPACE_ATTR = "space"
HEARTBEAT_ATTR = "heartbeat"
TRIAL_TAG = "trial_number"
STATE_TAG = "trial_state"
PRUNED_TAG = "pruned_at_epoch"
RETRY_TAG = "retry_of_trial"
STUDY_TAG = "optuna_study"
WORKER_TAG = "optuna_worker"
STATE_NAMES = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
}


def load_space(
    path: str | Path, *, data: str | None = None, seed: int | None = None
) -> SearchSpace:
    """Reads and validates a space file in full (see `rnn_tracking.space.read_space`).

    Optuna checks the sampler's and the pruner's option values here, so a bad value fails
    with the file and the key before anything starts.
    """
    space = read_space(path, data=data, seed=seed)
    for key, build in (("sampler", make_sampler), ("pruner", make_pruner)):
        try:
            build(space)
        except (TypeError, ValueError) as error:
            raise space_error(space.path, key, str(error)) from None
    return space


# --- Sampler, pruner and storage ---------------------------------------------------------


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """Runs a sampler seeded afresh for each trial, from (the study's seed, the trial number).

    A sampler seeded once per process repeats its random draws in every process: two workers
    started together, or a study resumed later, would propose the same first trials again.
    Trial numbers are unique within a study, so seeding from them keeps a one-worker study
    reproducible and gives every trial its own draws.
    """

    def __init__(self, make: Callable[[int], optuna.samplers.BaseSampler], seed: int) -> None:
        self._make = make
        self._seed = seed
        self._sampler = make(seed)

    def __str__(self) -> str:
        return f"{type(self._sampler).__name__}(seed={self._seed}, reseeded per trial)"

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        state = np.random.SeedSequence([self._seed, trial.number]).generate_state(1)[0]
        self._sampler = self._make(int(state))
        self._sampler.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict:
        return self._sampler.infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, search_space: dict) -> dict:
        return self._sampler.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: Any
    ) -> Any:
        return self._sampler.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._sampler.reseed_rng()


def make_sampler(space: SearchSpace) -> TrialSeededSampler:
    """Builds the space's sampler (TPE by default), seeded per trial from its seed."""
    name, options = space.sampler
    options = dict(options)
    seed = int(options.pop("seed"))
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed: got {seed}; valid values are integers in [0, 2**32)")
    kind = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler}[name]

    def make(trial_seed: int) -> optuna.samplers.BaseSampler:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return kind(seed=trial_seed, **options)

    return TrialSeededSampler(make, seed)


def make_pruner(space: SearchSpace) -> optuna.pruners.BasePruner:
    """Builds the space's pruner (median by default). Steps are 1-based epochs.

    Hyperband's largest budget defaults to the trials' `epochs`, which the space fixes.
    """
    name, options = space.pruner
    if name == "median":
        return optuna.pruners.MedianPruner(**options)
    if name == "hyperband":
        options = {"max_resource": space.base_config.epochs, **options}
        return optuna.pruners.HyperbandPruner(**options)
    if name == "threshold":
        return optuna.pruners.ThresholdPruner(**options)
    return optuna.pruners.NopPruner()


def describe_pruner(space: SearchSpace) -> str:
    """Spells the pruner and its options for the parent run's tag (`MedianPruner(...)`)."""
    pruner = make_pruner(space)
    options = ", ".join(f"{key}={value}" for key, value in space.pruner[1].items())
    return f"{type(pruner).__name__}({options})"


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
            tracking.fail_orphaned_run(run_id, error)
            tracking.set_run_tags(run_id, {STATE_TAG: "failed"})
        self.echo(
            f"trial {trial.number}: its worker stopped (no heartbeat for {self.grace_period} s); failed and queued again"
        )


def default_storage() -> str:
    """Returns the default Optuna storage: `optuna.journal` beside the tracking database."""
    return str(tracking.tracking_store_directory() / DEFAULT_JOURNAL_NAME)


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


# --- Trials -------------------------------------------------------------------------------


class SplitsCache:
    """Loads each distinct data encoding once per worker and keeps the last few in memory."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self.entries: OrderedDict[tuple, Splits] = OrderedDict()

    def get(self, config: TrainConfig) -> Splits:
        key = tuple(getattr(config, name) for name in SPLIT_FIELDS)
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        splits = load_splits(config)
        self.entries[key] = splits
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return splits


class TrialReporter(keras.callbacks.Callback):
    """Links a trial to its run, reports the study's metric each epoch and prunes.

    The step of each report is the 1-based epoch, as in the run's metric history. When the
    pruner says so, it records the epoch and raises `optuna.TrialPruned`, which ends the
    run KILLED.
    """

    def __init__(self, trial: optuna.Trial, metric: str) -> None:
        super().__init__()
        self.trial = trial
        self.metric = metric
        self.run_id: str | None = None
        self.pruned_at_epoch: int | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        # The run is open by now; storing its id at once keeps the link even if the worker
        # dies mid-trial, so the run can be ended when the trial is found stale.
        self.run_id = tracking.active_run_id()
        if self.run_id:
            self.trial.set_user_attr(RUN_ATTR, self.run_id)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.metric)
        if value is None or not math.isfinite(float(value)):
            return
        step = epoch + 1
        self.trial.report(float(value), step=step)
        if self.trial.should_prune():
            self.pruned_at_epoch = step
            raise optuna.TrialPruned(
                f"pruned at epoch {step} with {self.metric} {float(value):.4f}"
            )


class TrialRunner:
    """The objective: trains one trial's config in a nested run and returns its value.

    Every trial, whatever its end, has a run tagged with its number and state, and the run's
    id is stored on the trial. A trial interrupted with Ctrl-C is queued again.
    """

    def __init__(
        self,
        space: SearchSpace,
        splits: SplitsCache,
        parent_run_id: str,
        study_name: str,
        verbose: int,
    ) -> None:
        self.space = space
        self.splits = splits
        self.parent_run_id = parent_run_id
        self.study_name = study_name
        self.verbose = verbose
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.errors: dict[int, str] = {}

    def __call__(self, trial: optuna.Trial) -> float:
        try:
            return self.run_trial(trial)
        except KeyboardInterrupt:
            frozen = find_trial(trial.study, trial.number)
            make_retry_callback(None)(trial.study, frozen)
            raise

    def run_trial(self, trial: optuna.Trial) -> float:
        keras.backend.clear_session()
        sampled = {spec.name: spec.suggest(trial) for spec in self.space.params}
        config = self.space.config_for(sampled)
        tags = {TRIAL_TAG: str(trial.number), STUDY_TAG: self.study_name, WORKER_TAG: self.worker}
        retry_of = find_trial(trial.study, trial.number).system_attrs.get("failed_trial")
        if retry_of is not None:
            tags[RETRY_TAG] = str(retry_of)
        run_name = f"trial-{trial.number}-{describe_run(config)}"
        reporter = TrialReporter(trial, self.space.metric)
        try:
            splits = self.splits.get(config)
        except Exception as error:
            self.errors[trial.number] = f"{type(error).__name__}: {error}"
            record_failed_run(config, run_name, tags, error)
            self.finish(trial, reporter, "failed")
            raise
        try:
            run_id, result = tracking.track_training(
                config,
                splits,
                run_name=run_name,
                nested=True,
                tags=tags,
                extra_callbacks=[reporter],
                killed_exceptions=(optuna.TrialPruned,),
                verbose=self.verbose,
            )
        except optuna.TrialPruned:
            self.finish(trial, reporter, "pruned", {PRUNED_TAG: str(reporter.pruned_at_epoch)})
            raise
        except BaseException as error:
            self.errors[trial.number] = f"{type(error).__name__}: {error}"
            self.finish(trial, reporter, "failed")
            raise
        reporter.run_id = run_id
        value = float(result.summary_metrics()[self.space.objective_name])
        if not math.isfinite(value):
            self.errors[trial.number] = f"{self.space.objective_name} is {value}"
            self.finish(trial, reporter, "failed")
            raise ValueError(
                f"{self.space.objective_name} is {value}; a trial needs a finite value"
            )
        self.finish(trial, reporter, "complete")
        return value

    def finish(
        self, trial: optuna.Trial, reporter: TrialReporter, state: str, tags: dict | None = None
    ) -> None:
        """Links the trial and its run both ways and tags the run with the trial's state."""
        run_id = reporter.run_id or tracking.find_child_run(
            self.parent_run_id, TRIAL_TAG, str(trial.number)
        )
        if run_id is None:
            return
        trial.set_user_attr(RUN_ATTR, run_id)
        tracking.set_run_tags(run_id, {STATE_TAG: state, **(tags or {})})


def record_failed_run(
    config: TrainConfig, run_name: str, tags: dict[str, str], error: Exception
) -> None:
    """Opens the trial's run only to end it FAILED with `error`, when no training could start."""
    try:
        with tracking.start_tracked_run(config, run_name=run_name, nested=True, tags=tags):
            raise error
    except Exception as raised:
        if raised is not error:
            raise


def find_trial(study: optuna.Study, number: int) -> FrozenTrial:
    """Returns the stored trial with this number."""
    return next(trial for trial in study.get_trials(deepcopy=False) if trial.number == number)


@dataclass(frozen=True)
class Tally:
    """The study's trials by state. `done` counts toward `n_trials`.

    A trial failed because its worker died or was interrupted has been queued again, so it
    is not done: its retry is. Every other finished trial is done.
    """

    complete: int
    pruned: int
    failed: int
    retried: int
    running: int
    waiting: int

    @property
    def done(self) -> int:
        return self.complete + self.pruned + self.failed - self.retried


def tally_trials(trials: Sequence[FrozenTrial]) -> Tally:
    """Counts the trials of a study by state (see `Tally`)."""
    retried = {number for trial in trials for number in trial.system_attrs.get("retry_history", [])}
    states = [trial.state for trial in trials]
    failed_retried = sum(
        1 for trial in trials if trial.state == TrialState.FAIL and trial.number in retried
    )
    return Tally(
        complete=states.count(TrialState.COMPLETE),
        pruned=states.count(TrialState.PRUNED),
        failed=states.count(TrialState.FAIL),
        retried=failed_retried,
        running=states.count(TrialState.RUNNING),
        waiting=states.count(TrialState.WAITING),
    )


# --- The study ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep session leaves: the study's counts and its best trial so far."""

    study_name: str
    storage: str
    parent_run_id: str
    tally: Tally
    n_trials: int
    best_trial: FrozenTrial | None
    stopped_by: str


def load_study_if_exists(
    name: str, storage: optuna.storages.BaseStorage, space: SearchSpace
) -> optuna.Study | None:
    """Loads the study called `name`, or returns None when the storage has none."""
    try:
        return optuna.load_study(
            study_name=name, storage=storage, sampler=make_sampler(space), pruner=make_pruner(space)
        )
    except KeyError:
        return None


def check_same_space(study: optuna.Study, space: SearchSpace) -> None:
    """Raises ValueError when a study was begun with other params, fixed settings or metric."""
    recorded = study.user_attrs.get(SPACE_ATTR)
    if recorded is None:
        return
    current = json.loads(json.dumps(space.describe()))
    if recorded == current:
        return
    difference = next(
        (
            f"{section}.{key}"
            for section in ("params", "fixed")
            for key in sorted(set(recorded.get(section, {})) | set(current[section]))
            if recorded.get(section, {}).get(key) != current[section].get(key)
        ),
        "metric",
    )
    raise ValueError(
        f"study_name: study {study.study_name!r} was begun with a different {difference} "
        f"than {space.path} now has; valid values are a new study_name, or the space the "
        "study began with"
    )


def wait_for_parent(study: optuna.Study) -> str | None:
    """Returns the study's parent run id, waiting briefly for a creator that is naming it."""
    deadline = time.monotonic() + PARENT_WAIT_SECONDS
    while True:
        parent = study.user_attrs.get(PARENT_ATTR)
        if parent or time.monotonic() > deadline:
            return parent
        time.sleep(0.5)


def attach_study(
    space: SearchSpace,
    name: str,
    storage: optuna.storages.BaseStorage,
    parent_tags: dict[str, str],
    echo: Callable[[str], None],
) -> tuple[optuna.Study, str]:
    """Loads or creates the study and makes its one parent run active; returns both.

    Two workers may start a new study at once. Each makes a candidate parent run, then asks
    the storage to create the study: the storage lets exactly one succeed (study names are
    unique there), and that worker records its candidate as the study's parent. The other
    drops its candidate and waits for the recorded parent. A worker that joins an existing
    study reuses its parent. Under `mlflow run`, the run it made is the candidate; when it
    cannot be the parent, it is kept nested under the parent as a session run.
    """
    study = load_study_if_exists(name, storage, space)
    if study is not None:
        check_same_space(study, space)
    launcher = runs.take_launcher_run_id()
    candidate = None
    try:
        if study is None:
            candidate = tracking.start_study_parent(name, parent_tags, launcher)
            try:
                study = optuna.create_study(
                    study_name=name,
                    storage=storage,
                    direction=space.direction,
                    sampler=make_sampler(space),
                    pruner=make_pruner(space),
                )
            except optuna.exceptions.DuplicatedStudyError:
                study = load_study_if_exists(name, storage, space)
                parent = wait_for_parent(study)
                if launcher is None:
                    tracking.discard_run(candidate, superseded_by=parent or "")
                    candidate = None
                elif parent is not None:
                    tracking.keep_as_session(launcher, parent, name)
                    launcher = candidate = None
            else:
                study.set_user_attr(SPACE_ATTR, space.describe())
                study.set_user_attr(PARENT_ATTR, candidate)
                echo(f"study {name!r}: new; parent run {candidate}")
                return study, candidate
        else:
            parent = wait_for_parent(study)
        if parent is None:
            raise ValueError(
                f"study_name: study {name!r} has no parent run recorded; valid values are a "
                "study begun by `rnn-tracking sweep`, or a new study_name"
            )
        check_same_space(study, space)
        if launcher:
            tracking.keep_as_session(launcher, parent, name)
            echo(f"the run that `mlflow run` made ({launcher}) is a session under the parent")
            launcher = None
        tracking.resume_study_parent(parent)
        tracking.set_run_tags(parent, parent_tags)
        return study, parent
    except BaseException as error:
        # Nothing is left RUNNING: neither `mlflow run`'s run nor a candidate parent.
        for run_id in {launcher, candidate} - {None}:
            if tracking.active_run_id() == run_id:
                tracking.set_run_tags(run_id, {"error": f"{type(error).__name__}: {error}"})
                tracking.end_study_parent("FAILED")
            else:
                tracking.fail_orphaned_run(run_id, f"{type(error).__name__}: {error}")
        raise


def trials_table(study: optuna.Study, space: SearchSpace) -> str:
    """Returns the trials as CSV: number, state, each param, value, duration, run id, ..."""
    import pandas as pd

    rows = []
    for trial in study.get_trials(deepcopy=False):
        row: dict[str, Any] = {"number": trial.number, "state": trial.state.name.lower()}
        row |= {spec.name: trial.params.get(spec.name) for spec in space.params}
        row["value"] = trial.value if trial.state == TrialState.COMPLETE else None
        row["duration_s"] = round(trial.duration.total_seconds(), 3) if trial.duration else None
        row["run_id"] = trial.user_attrs.get(RUN_ATTR)
        row["epochs"] = len(trial.intermediate_values)
        row["pruned_at_epoch"] = (
            max(trial.intermediate_values)
            if trial.state == TrialState.PRUNED and trial.intermediate_values
            else None
        )
        row["retry_of"] = trial.system_attrs.get("failed_trial")
        rows.append(row)
    table = pd.DataFrame(rows)
    for column in ("epochs", "pruned_at_epoch", "retry_of"):
        table[column] = table[column].astype("Int64")
    return table.to_csv(index=False)


PLOTS = ("optimization_history", "param_importances", "parallel_coordinate", "intermediate_values")


def study_figures(study: optuna.Study) -> tuple[dict[str, Any], list[str]]:
    """Draws Optuna's matplotlib plots; returns the figures and why any were skipped.

    A plot needs enough trials (importances need two complete ones that differ), so a young
    study gets fewer plots; the next session draws them again from the whole study.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as plots

    figures, skipped = {}, []
    for name in PLOTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                axes = getattr(plots, f"plot_{name}")(study)
            except Exception as error:
                skipped.append(f"{name} ({type(error).__name__}: {error})")
                continue
        figure = np.ravel(axes)[0].figure
        if not any(axis.has_data() for axis in figure.axes):
            skipped.append(f"{name} (no data yet)")
            plt.close(figure)
            continue
        figure.set_size_inches(10, 6)
        figure.tight_layout()
        figures[name] = figure
    return figures, skipped


def format_elapsed(seconds: float) -> str:
    """Spells a duration as H:MM:SS."""
    return str(timedelta(seconds=int(seconds)))


def describe_params(params: dict[str, Any]) -> str:
    """Spells sampled values compactly: `units=16 dropout=0.213 learning_rate=0.00312`."""
    return " ".join(
        f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in params.items()
    )


class Sweep:
    """One worker's session of a study: its loop, its progress lines and its parent logging."""

    def __init__(
        self,
        space: SearchSpace,
        study: optuna.Study,
        parent_run_id: str,
        runner: TrialRunner,
        *,
        n_trials: int,
        timeout: float | None,
        heartbeat_interval: int,
        echo: Callable[[str], None],
    ) -> None:
        self.space = space
        self.study = study
        self.parent_run_id = parent_run_id
        self.runner = runner
        self.n_trials = n_trials
        self.timeout = timeout
        self.heartbeat_interval = heartbeat_interval
        self.echo = echo
        self.started = time.monotonic()

    def current_tally(self) -> Tally:
        """Fails stale trials (queuing them again), then counts the study's trials."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            fail_stale_trials(self.study)
        return tally_trials(self.study.get_trials(deepcopy=False))

    def run(self) -> str:
        """Runs trials until the study holds `n_trials` done ones or time runs out.

        Returns why it stopped: `n_trials` or `timeout`. When the trials still missing are
        running in other workers, it waits for them, so that a trial whose worker died is
        retried here rather than left RUNNING.
        """
        waiting_said = False
        while True:
            tally = self.current_tally()
            if tally.done >= self.n_trials:
                return "n_trials"
            if self.timeout is not None and time.monotonic() - self.started >= self.timeout:
                return "timeout"
            if tally.done + tally.running >= self.n_trials:
                if not waiting_said:
                    self.echo(f"waiting for {tally.running} trial(s) running in other workers")
                    waiting_said = True
                time.sleep(self.heartbeat_interval)
                continue
            waiting_said = False
            try:
                self.study.optimize(
                    self.runner,
                    n_trials=1,
                    catch=(Exception,),
                    callbacks=[self.after_trial],
                    gc_after_trial=True,
                )
            except optuna.exceptions.UpdateFinishedTrialError:
                # Another worker took this worker's trial for dead and queued it again.
                self.echo("this worker's trial was failed as stale by another worker; going on")

    def after_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Prints the progress line and updates the parent run's counts and table."""
        tally = tally_trials(study.get_trials(deepcopy=False))
        state = STATE_NAMES.get(trial.state, trial.state.name.lower())
        if trial.state == TrialState.COMPLETE:
            what = f"complete, value {trial.value:.4f}"
        elif trial.state == TrialState.PRUNED:
            what = f"pruned at epoch {max(trial.intermediate_values, default=0)}"
        else:
            what = f"{state}: {self.runner.errors.get(trial.number, 'see the log above')}"
        best = best_trial(study)
        best_text = (
            f"best {best.value:.4f} (trial {best.number})" if best else "no complete trial yet"
        )
        self.echo(
            f"[{tally.done}/{self.n_trials}] trial {trial.number} {what} | {best_text} | "
            f"{describe_params(trial.params)} | elapsed {format_elapsed(time.monotonic() - self.started)}"
        )
        self.log_progress(tally, best)

    def log_progress(self, tally: Tally, best: FrozenTrial | None) -> None:
        """Logs the counts, the best value and the trials table on the parent run."""
        metrics = {
            "complete_trials": tally.complete,
            "pruned_trials": tally.pruned,
            "failed_trials": tally.failed,
            "retried_trials": tally.retried,
        }
        if best is not None:
            metrics |= {"best_value": float(best.value), "best_trial": best.number}
        tracking.log_study_metrics(self.parent_run_id, metrics, step=tally.done)
        tracking.log_study_table(self.parent_run_id, trials_table(self.study, self.space))

    def finish(self, status: str, log_best: bool) -> tuple[Tally, FrozenTrial | None]:
        """Logs the summary, artifacts and (once final) the best params; ends the parent.

        The parent stays RUNNING while other workers still run trials of the study.
        """
        tally = self.current_tally()
        best = best_trial(self.study)
        self.log_progress(tally, best)
        figures, skipped = study_figures(self.study)
        tracking.log_study_artifacts(self.parent_run_id, self.space.path, figures)
        import matplotlib.pyplot as plt

        for figure in figures.values():
            plt.close(figure)
        if skipped:
            self.echo("plots skipped: " + "; ".join(skipped))
        if log_best and best is not None:
            params = {f"best_{name}": format_value(value) for name, value in best.params.items()}
            if not tracking.log_best_params(self.parent_run_id, params):
                self.echo(
                    f"the parent run keeps the best_ params it logged first (MLflow params "
                    f"never change); the best trial is now {best.number}: see the metric "
                    "best_trial and trials.csv"
                )
        tracking.end_study_parent("RUNNING" if tally.running else status)
        return tally, best


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """Returns the study's best complete trial, or None before the first one."""
    try:
        return study.best_trial
    except ValueError:
        return None


def run_sweep(
    space: SearchSpace,
    *,
    n_trials: int = DEFAULT_N_TRIALS,
    timeout: float | None = None,
    study_name: str | None = None,
    storage: str | None = None,
    experiment_name: str | None = None,
    verbose: int = 0,
    heartbeat_interval: int = DEFAULT_HEARTBEAT_INTERVAL,
    echo: Callable[[str], None] = print,
) -> SweepOutcome:
    """Runs (or continues) a study until it holds `n_trials` done trials; see the module doc.

    Raises ValueError, before any run or study is created, for bad options, data that
    cannot be read, a storage that cannot be opened, or a study begun with another space.
    KeyboardInterrupt ends the current trial's run KILLED, queues the trial again and ends
    the parent KILLED.
    """
    if not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials: got {n_trials!r}; valid values are integers >= 1")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout: got {timeout!r}; valid values are seconds > 0 (or 0 for none)")
    if not isinstance(heartbeat_interval, int) or heartbeat_interval < 1:
        raise ValueError(
            f"heartbeat_interval: got {heartbeat_interval!r}; valid values are integers >= 1"
        )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = study_name or space.study_name
    splits = SplitsCache()
    if not space.tunes_data:
        # Load (and check) the data before anything is created; trials reuse it.
        started = time.monotonic()
        loaded = splits.get(space.base_config)
        echo(
            f"data {loaded.name}: {len(loaded.y_train)} train, {len(loaded.y_val)} validation, "
            f"{len(loaded.y_test)} test reviews ({time.monotonic() - started:.1f} s)"
        )
    runs.prepare_tracking_store()
    location = storage or default_storage()
    stale = StaleTrialHandler(GRACE_HEARTBEATS * heartbeat_interval, echo)
    backend = open_storage(
        location, heartbeat_interval=heartbeat_interval, stale_trial_callback=stale
    )
    tracking.select_experiment(experiment_name)
    parent_tags = {
        STUDY_TAG: name,
        "optuna_storage": redact_storage(location),
        "optuna_sampler": str(make_sampler(space)),
        "optuna_pruner": describe_pruner(space),
        "optuna_metric": space.metric,
        "optuna_direction": space.direction,
        "sweep_space": space.path.name,
    }
    if space.description:
        parent_tags["mlflow.note.content"] = space.description
    study, parent_run_id = attach_study(space, name, backend, parent_tags, echo)
    runner = TrialRunner(space, splits, parent_run_id, name, verbose)
    sweep = Sweep(
        space,
        study,
        parent_run_id,
        runner,
        n_trials=n_trials,
        timeout=timeout,
        heartbeat_interval=heartbeat_interval,
        echo=echo,
    )
    before = sweep.current_tally()
    echo(
        f"study {name!r} in {redact_storage(location)}: {before.done} of {n_trials} trials done; "
        f"optimizing {space.metric} ({space.direction}) over {', '.join(spec.name for spec in space.params)}"
    )
    if verbose == 0:
        # Logging a model per trial retraces `predict` each time, and TensorFlow warns about
        # it once per trial; the warning says nothing about the study.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        stopped_by = sweep.run()
    except KeyboardInterrupt:
        sweep.finish("KILLED", log_best=False)
        raise
    except BaseException as error:
        tracking.set_run_tags(parent_run_id, {"error": f"{type(error).__name__}: {error}"})
        sweep.finish("FAILED", log_best=False)
        raise
    # The best_ params are final only when the study holds all its trials.
    tally, best = sweep.finish("FINISHED", log_best=stopped_by == "n_trials")
    return SweepOutcome(
        study_name=name,
        storage=redact_storage(location),
        parent_run_id=parent_run_id,
        tally=tally,
        n_trials=n_trials,
        best_trial=best,
        stopped_by=stopped_by,
    )
