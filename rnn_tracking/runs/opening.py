"""Opening and ending runs by one status policy (`open_run`): FINISHED, KILLED on Ctrl-C or
SIGTERM, FAILED with an `error` tag; and choosing the experiment new runs open in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import mlflow

from rnn_tracking.runs.cost import (
    SYSTEM_METRICS_INTERVAL_SECONDS,
    log_run_cost,
    measure_process_cost,
    quiet_system_metrics_monitor,
    system_metrics_enabled,
)
from rnn_tracking.runs.launcher import launcher_run_id
from rnn_tracking.runs.store import prepare_tracking_store
from rnn_tracking.runs.vocabulary import COMMAND_LINE_TAG, ERROR_TAG, FAILED, FINISHED, KILLED

# The command line of this process, as the CLI gave it; every run opened records it.
_command_line: str | None = None
# The runs this process ended KILLED, so an interruption can say which.
_killed_run_ids: list[str] = []


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
    system_metrics: bool = False,
) -> Iterator[mlflow.ActiveRun]:
    """Opens a run (or resumes `run_id`, or the one `mlflow run` made) and ends it by one policy.

    `system_metrics` (for runs that train or evaluate) records MLflow's system metrics while
    the run is open and its cost summaries on success (`cost.log_run_cost`), unless the CLI
    turned them off (`cost.record_system_metrics`).

    FINISHED on success; KILLED on Ctrl-C, SIGTERM (raised as KeyboardInterrupt by the CLI)
    or any of `killed_exceptions`; FAILED on any other error. Both of the latter record the
    error in the `error` tag and re-raise it. Async-logged metrics are flushed first. A new
    run opens in `experiment_id` if given, else in the active experiment.
    """
    prepare_tracking_store()
    if _command_line:
        tags = {COMMAND_LINE_TAG: _command_line, **(tags or {})}
    system_metrics = system_metrics and system_metrics_enabled()
    if system_metrics:
        quiet_system_metrics_monitor()
        mlflow.set_system_metrics_sampling_interval(SYSTEM_METRICS_INTERVAL_SECONDS)
        started_cpu_seconds = measure_process_cost()["cpu_seconds"]
    run = mlflow.start_run(
        run_id=run_id,
        experiment_id=experiment_id,
        run_name=run_name,
        nested=nested,
        tags=tags,
        log_system_metrics=True if system_metrics else None,
    )
    try:
        yield run
        if system_metrics:
            log_run_cost(started_cpu_seconds)
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
