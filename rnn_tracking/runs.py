"""The MLflow run vocabulary, and the one way to prepare the store and to open and end runs.

Every tag, param and artifact name that more than one module reads or writes lives here,
so a run written by `train` reads the same in `report`, `promote` and a sweep. The store a
process uses is prepared once, under an inter-process lock, before any run touches it
(`prepare_tracking_store`); every run the platform opens ends by one status policy
(`open_run`): FINISHED, KILLED on Ctrl-C or SIGTERM, FAILED with an `error` tag.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import mlflow
from mlflow.entities import Run, RunStatus
from mlflow.tracking import MlflowClient

# --- Vocabulary ---------------------------------------------------------------------------

# Tags of a training run.
ARCH_TAG = "arch"
DATA_SOURCE_TAG = "data_source"
DATA_DIGEST_TAG = "data_digest"
# The class names in model order (`neg,pos`), and the artifact with them and their counts.
CLASS_ORDER_TAG = "class_order"
CLASSES_ARTIFACT = "classes.json"
# Why a run ended other than FINISHED: `<ExceptionType>: <message>`.
ERROR_TAG = "error"
# Set, to the epoch, on a run whose loss became non-finite; such a run ends FAILED.
DIVERGED_TAG = "diverged"
# How to make the run again: the command line that made it, and `rnn-tracking rerun <id>`.
COMMAND_LINE_TAG = "command_line"
REPRODUCE_TAG = "reproduce_command"
# On a rerun: the run it repeats.
RERUN_OF_TAG = "rerun_of"
# MLflow's own tags, spelled once.
PARENT_RUN_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
ENTRY_POINT_TAG = "mlflow.project.entryPoint"
# Seed repeats: a parent run (tag seed_repeats=N, param seeds=N) over one child per seed.
SEED_REPEATS_TAG = "seed_repeats"
SEED_REPEAT_OF_TAG = "seed_repeat_of"
SEEDS_PARAM = "seeds"
# Sweeps: the study's parent run, its trial runs and the session runs `mlflow run` makes.
STUDY_TAG = "optuna_study"
TRIAL_TAG = "trial_number"
TRIAL_STATE_TAG = "trial_state"
PRUNED_TAG = "pruned_at_epoch"
RETRY_TAG = "retry_of_trial"
WORKER_TAG = "optuna_worker"
SESSION_TAG = "sweep_session"
SUPERSEDED_BY_TAG = "superseded_by"
# A report's own run, so that reports never list themselves.
REPORT_KIND_TAG = "rnn_tracking.kind"
REPORT_KIND = "report"

# The run `mlflow run` made for this process, if any.
LAUNCHER_RUN_ENV_VAR = "MLFLOW_RUN_ID"

FINISHED = RunStatus.to_string(RunStatus.FINISHED)
KILLED = RunStatus.to_string(RunStatus.KILLED)
FAILED = RunStatus.to_string(RunStatus.FAILED)
RUNNING = RunStatus.to_string(RunStatus.RUNNING)


# --- The launcher run ---------------------------------------------------------------------


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
        "import sys; from rnn_tracking.runs import restore_status_when_overwritten as r; "
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
    from rnn_tracking.status_guard import install_killed_guard

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


# --- The store ----------------------------------------------------------------------------

# Beside `mlflow.db`: the lock that serialises its creation and migration between processes.
# (Not `<db>.lock`: Optuna's journal uses `<file>.lock` for its own lock beside its file.)
STORE_LOCK_SUFFIX = ".init.lock"
# Bounded backoff for SQLite's transient "database is locked": 0.2, 0.4, ... 3.2 s, about
# 6 s in all, beyond SQLite's own 5 s busy wait on each try.
LOCKED_ATTEMPTS = 5
LOCKED_FIRST_DELAY_SECONDS = 0.2
_prepared_uris: set[str] = set()
# The command line of this process, as the CLI gave it; every run opened records it.
_command_line: str | None = None
# The runs this process ended KILLED, so an interruption can say which.
_killed_run_ids: list[str] = []

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


# --- Opening and ending runs --------------------------------------------------------------


def record_command_line(command_line: str) -> None:
    """Makes every run this process opens record `command_line` (set once, by the CLI)."""
    global _command_line
    _command_line = command_line


def describe_error(error: BaseException) -> str:
    """Spells an exception for the `error` tag: `KeyboardInterrupt`, `ValueError: units: ...`."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@contextmanager
def open_run(
    run_name: str | None = None,
    *,
    run_id: str | None = None,
    experiment_id: str | None = None,
    nested: bool = False,
    tags: dict[str, str] | None = None,
    killed_exceptions: tuple[type[BaseException], ...] = (),
) -> Iterator[mlflow.ActiveRun]:
    """Opens a run (or resumes `run_id`, or the one `mlflow run` made) and ends it by one policy.

    FINISHED on success; KILLED on Ctrl-C, SIGTERM (raised as KeyboardInterrupt by the CLI)
    or any of `killed_exceptions`; FAILED on any other error. Both of the latter record the
    error in the `error` tag and re-raise it. Async-logged metrics are flushed first. A new
    run opens in `experiment_id` if given, else in the active experiment.
    """
    prepare_tracking_store()
    if _command_line:
        tags = {COMMAND_LINE_TAG: _command_line, **(tags or {})}
    run = mlflow.start_run(
        run_id=run_id, experiment_id=experiment_id, run_name=run_name, nested=nested, tags=tags
    )
    try:
        yield run
    except (KeyboardInterrupt, *killed_exceptions) as error:
        end_active_run(KILLED, error)
        raise
    except BaseException as error:
        end_active_run(FAILED, error)
        raise
    else:
        end_active_run(FINISHED)


def end_active_run(status: str, error: BaseException | None = None) -> None:
    """Ends the innermost active run with `status`, tagging `error` first if given."""
    mlflow.flush_async_logging()
    run = mlflow.active_run()
    if error is not None:
        mlflow.set_tag(ERROR_TAG, describe_error(error))
    mlflow.end_run(status)
    if status == KILLED and run is not None:
        _killed_run_ids.append(run.info.run_id)


def killed_run_ids() -> list[str]:
    """Returns the ids of the runs this process ended KILLED, in order."""
    return list(_killed_run_ids)


def select_experiment(experiment_name: str | None) -> None:
    """Makes `experiment_name` (or $MLFLOW_EXPERIMENT_NAME) the active experiment, if given.

    Inside `mlflow run` the run already exists in its experiment, so nothing is changed.
    """
    if launcher_run_id():
        return
    name = experiment_name or os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        prepare_tracking_store()
        mlflow.set_experiment(name)


# --- Requirements of logged models -------------------------------------------------------

# What a logged Keras model (and the text model around it) needs to load; tensorflow-cpu may
# stand in for tensorflow. MLflow adds its own pin itself.
MODEL_PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy")


def list_model_requirements(packages: tuple[str, ...]) -> list[str]:
    """Pins each of `packages` that is installed here (`keras==3.8.0`), skipping the others.

    Naming them spares MLflow's requirement inference, which loads the model again in a
    subprocess and costs several seconds per run. A package may be missing by design:
    `tensorflow-cpu` stands in for `tensorflow` on some installs.
    """
    from importlib.metadata import PackageNotFoundError, version

    requirements = []
    for package in packages:
        try:
            requirements.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return requirements


# --- Finding experiments and runs ---------------------------------------------------------

# Runs read per page of a search; MLflow's SQL store caps a page at 50,000.
SEARCH_PAGE_SIZE = 1000
# MLflow's Default experiment, which every store has.
DEFAULT_EXPERIMENT_ID = "0"


def resolve_experiment_ids(
    names: Sequence[str] = (), client: MlflowClient | None = None
) -> dict[str, str]:
    """Maps experiment names to ids, in order; names may also come comma-separated (`a,b`).

    With no names: $MLFLOW_EXPERIMENT_NAME, else $MLFLOW_EXPERIMENT_ID (which `mlflow run`
    sets), else MLflow's Default experiment. An unknown name is a ValueError that lists the
    experiments that exist.
    """
    client = client or MlflowClient()
    parts = [part.strip() for name in names for part in name.split(",") if part.strip()]
    if not parts:
        environment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if not environment_name:
            experiment_id = os.environ.get("MLFLOW_EXPERIMENT_ID") or DEFAULT_EXPERIMENT_ID
            experiment = client.get_experiment(experiment_id)
            return {experiment.name: experiment.experiment_id}
        parts = [environment_name]
    found = {}
    for name in parts:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            known = [each.name for each in client.search_experiments(max_results=50)]
            raise ValueError(
                f"experiment_name: no experiment named {name!r}; valid values are the "
                f"experiments in the store: {', '.join(repr(k) for k in known) or 'none'}."
            )
        found[experiment.name] = experiment.experiment_id
    return found


def search_runs_paged(
    experiment_ids: Sequence[str],
    filter_string: str = "",
    *,
    order_by: Sequence[str] = ("attributes.start_time ASC",),
    client: MlflowClient | None = None,
    page_size: int = SEARCH_PAGE_SIZE,
) -> Iterator[Run]:
    """Yields every active run that matches the filter, in order, reading page by page.

    A caller that stops early (the first good run) reads no further pages.
    """
    from mlflow.entities import ViewType

    client = client or MlflowClient()
    token = None
    while True:
        page = client.search_runs(
            list(experiment_ids),
            filter_string=filter_string,
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=page_size,
            order_by=list(order_by),
            page_token=token,
        )
        yield from page
        token = page.token
        if not token:
            return
