"""The options of `train` and `rerun`: how a config is trained, not what it computes."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_tracking.config import _knob
from rnn_tracking.options.fields import (
    EXPERIMENT_HELP,
    SYSTEM_METRICS_HELP,
    VERBOSE_HELP,
    VERBOSITIES,
)


@dataclass(frozen=True)
class TrainOptions:
    """How `train` runs a config: not what one model computes, so not config fields."""

    seeds: int = _knob(
        1,
        "Train the config under N seeds (seed, seed+1, ...): a parent run holding one nested "
        "run per seed, so reports can show mean ± std; 1 is a single run.",
        minimum=1,
        metavar="N",
    )
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")
    verbose: int = _knob(
        2, VERBOSE_HELP + " One line per epoch reads well in logs.", choices=VERBOSITIES
    )
    system_metrics: bool = _knob(True, SYSTEM_METRICS_HELP)


@dataclass(frozen=True)
class RerunOptions:
    """The options of `rerun`: train a run again from its params and compare the results."""

    run_id: tuple[str, ...] = _knob(
        (),
        "The run to repeat (its id, as `mlflow ui` shows it).",
        positional=True,
        metavar="RUN_ID",
    )
    data: str | None = _knob(
        None,
        "Another copy of the run's data; unset means the source the run recorded. Its content "
        "digest must match the run's.",
        metavar="SOURCE",
    )
    experiment_name: str | None = _knob(
        None, "MLflow experiment of the new run; unset means the source run's.", metavar="NAME"
    )
    verbose: int = _knob(2, VERBOSE_HELP, choices=VERBOSITIES)
