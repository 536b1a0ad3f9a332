"""Opening a study for a session: its options checked, its data, stores, study and parent run.

`open_study` does everything a worker needs before its first trial, and refuses bad input
(data that cannot be read, a storage that cannot be opened, a study begun with another
space, a warm start that fits nothing) before any run or study is created.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna

from rnn_tracking import runs
from rnn_tracking.sweep import trials as trial_room
from rnn_tracking.sweep.sampling import describe_pruner, make_pruner, make_sampler
from rnn_tracking.sweep.space import SearchSpace
from rnn_tracking.sweep.storage import (
    GRACE_HEARTBEATS,
    StaleTrialHandler,
    default_storage,
    open_storage,
    redact_storage,
)
from rnn_tracking.sweep.study import attach_study
from rnn_tracking.sweep.trials import SplitsCache
from rnn_tracking.sweep.warm_start import collect_configs, enqueue_configs


@dataclass(frozen=True)
class OpenedStudy:
    """A study ready for trials: its name, storage, the study, its parent run, the data cache."""

    name: str
    location: str
    study: optuna.Study
    parent_run_id: str
    splits: SplitsCache


def check_sweep_options(n_trials: Any, timeout: Any, heartbeat_interval: Any) -> None:
    """Raises ValueError naming the first sweep option whose value cannot run."""
    if not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials: got {n_trials!r}; valid values are integers >= 1")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout: got {timeout!r}; valid values are seconds > 0 (or 0 for none)")
    if not isinstance(heartbeat_interval, int) or heartbeat_interval < 1:
        raise ValueError(
            f"heartbeat_interval: got {heartbeat_interval!r}; valid values are integers >= 1"
        )


def open_study(
    space: SearchSpace,
    *,
    study_name: str | None,
    storage: str | None,
    experiment_name: str | None,
    heartbeat_interval: int,
    echo: Callable[[str], None],
    warm_start: tuple[str, int] | None = None,
) -> OpenedStudy:
    """Checks the data, prepares the stores and loads or creates the study and its parent.

    The parent run is active in this process afterwards. Raises ValueError, before any run
    or study is created, for data that cannot be read, a storage that cannot be opened, or
    a study begun with another space, or a warm start that fits nothing (`warm_start`).
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trial_room.quiet_failed_trials()
    name = study_name or space.study_name
    splits = SplitsCache()
    # Load (and check) the data before anything is created. Trials of a space that fixes
    # the encoding reuse it; a space that tunes the encoding is checked at its fixed
    # settings, and each trial then loads its own encoding (cached on disk). A space that
    # tunes the source itself has no one source to check: each trial checks its own.
    if "data" not in {spec.name for spec in space.params}:
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
    # Read before any run or experiment exists, so that a bad warm start leaves nothing.
    configs = collect_configs(space, backend, name, warm_start, echo)
    runs.select_experiment(experiment_name)
    # The sampler and the pruner of this start, built once: the tags spell them, and the
    # study, loaded or created, uses them.
    sampler, pruner = make_sampler(space), make_pruner(space)
    parent_tags = {
        runs.STUDY_TAG: name,
        "optuna_storage": redact_storage(location),
        "optuna_sampler": str(sampler),
        "optuna_pruner": describe_pruner(space, pruner),
        "optuna_metric": ",".join(space.objectives or (space.metric,)),
        "optuna_direction": ",".join(space.directions),
        "sweep_space": space.path.name,
    }
    if space.description:
        parent_tags["mlflow.note.content"] = space.description
    study, parent_run_id = attach_study(space, name, backend, (sampler, pruner), parent_tags, echo)
    enqueue_configs(study, configs, echo)
    return OpenedStudy(name, location, study, parent_run_id, splits)
