"""The options of `sweep`: one Optuna study whose trials are nested MLflow runs."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_tracking.config import _knob
from rnn_tracking.options.fields import (
    EXPERIMENT_HELP,
    SYSTEM_METRICS_HELP,
    VERBOSE_HELP,
    VERBOSITIES,
)

WARM_START_HELP = "Try first the best configs of this storage's study STUDY that fit the space."
WARM_START_TOP_HELP = "Configs --warm-start queues: 3 leaves 7 of TPE's 10 start-up trials random."


@dataclass(frozen=True)
class SweepOptions:
    """The options of `sweep`: one Optuna study whose trials are nested MLflow runs."""

    space: str | None = _knob(
        None, "Search-space YAML file, e.g. sweeps/lstm.yaml.", required=True, metavar="FILE"
    )
    n_trials: int = _knob(
        30,
        "The study's total of trials; a continued study runs only those still missing. "
        "30 lets TPE's model guide about 20 trials after its 10 random start-up ones.",
        minimum=1,
        metavar="N",
    )
    timeout: int = _knob(
        0, "Start no trial after this many seconds; 0 means no limit.", metavar="SECONDS"
    )
    study_name: str | None = _knob(
        None, "Study name; unset means the space file's study_name.", metavar="NAME"
    )
    storage: str | None = _knob(
        None,
        "Optuna storage: a journal file, or a database URL such as postgresql://user:pw@host/db; "
        "unset means optuna.journal beside the MLflow database.",
        metavar="URL_OR_FILE",
    )
    seed: int | None = _knob(
        None,
        "Seeds the sampler and every trial's training; unset means the space file's.",
        metavar="N",
    )
    data: str | None = _knob(
        None,
        "Data source, as for train; unset means the space file's, else $RNN_TRACKING_DATA, else keras.",
        metavar="SOURCE",
    )
    heartbeat_interval: int = _knob(
        10,
        "Seconds between a running trial's heartbeats; a trial silent for 3 of them is retried. "
        "10 s finds a dead worker within a minute at a negligible cost to the storage.",
        minimum=1,
        metavar="SECONDS",
    )
    workers: int = _knob(
        1,
        "Local worker processes on this study, sharing its stores: one command uses N cores "
        "and stops them all on Ctrl-C. 1 trains in this process; each worker trains one trial "
        "at a time, so N suits a machine with N cores to spare. More than the usable CPUs is refused "
        "(each worker is a whole TensorFlow process); more than the trials still to run starts "
        "one per trial, with a warning, so the same command keeps continuing a study.",
        minimum=1,
        metavar="N",
    )
    warm_start: str | None = _knob(None, WARM_START_HELP, metavar="STUDY")
    warm_start_top: int = _knob(3, WARM_START_TOP_HELP, minimum=1, metavar="K")
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")
    verbose: int = _knob(
        0,
        VERBOSE_HELP + " Trials train silently: the sweep prints one line per trial instead.",
        choices=VERBOSITIES,
    )
    system_metrics: bool = _knob(True, SYSTEM_METRICS_HELP)
