"""One worker's session of a study: the loop, its progress lines, and `run_sweep`.

`n_trials` is the study's total: a second sweep of the same study continues it up to that
total. A trial whose worker died, or that was interrupted with Ctrl-C, is queued again and
does not count toward the total.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import optuna
from optuna.storages import fail_stale_trials
from optuna.trial import FrozenTrial, TrialState

from rnn_tracking import runs
from rnn_tracking.config import format_value
from rnn_tracking.options import SweepOptions
from rnn_tracking.sweep import parent_run
from rnn_tracking.sweep import trials as trial_room

# Opening a study is `opening`'s; `OpenedStudy` is still importable from here.
from rnn_tracking.sweep.opening import OpenedStudy as OpenedStudy
from rnn_tracking.sweep.opening import check_sweep_options, open_study
from rnn_tracking.sweep.space import SearchSpace
from rnn_tracking.sweep.storage import (
    redact_storage,
)
from rnn_tracking.sweep.study import (
    StudyProgress,
    param_importances,
    read_progress,
    study_figures,
)
from rnn_tracking.sweep.trials import Tally, TrialRunner, tally_trials

# The options of a sweep, with their defaults (the CLI and MLproject use these).
DEFAULT_N_TRIALS = SweepOptions.n_trials
DEFAULT_HEARTBEAT_INTERVAL = SweepOptions.heartbeat_interval
STATE_NAMES = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
}


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
    # A multi-objective study's Pareto front (it has no single best trial).
    pareto_trials: tuple[FrozenTrial, ...] = ()
    # With `--workers N`: how each worker that failed ended (`worker w2 exited with ...`).
    failed_workers: tuple[str, ...] = ()


def format_elapsed(seconds: float) -> str:
    """Spells a duration as H:MM:SS."""
    return str(timedelta(seconds=int(seconds)))


def describe_params(params: dict[str, Any]) -> str:
    """Spells sampled values compactly: `units=16 dropout=0.213 learning_rate=0.00312`."""
    return " ".join(
        f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in params.items()
    )


def describe_objectives(space: SearchSpace) -> str:
    """Spells what a study optimizes: `val_accuracy (maximize)`, or each objective so."""
    names = space.objectives or (space.metric,)
    text = ", ".join(f"{name} ({d})" for name, d in zip(names, space.directions, strict=True))
    return text + (" (no pruning: multi-objective)" if space.objectives else "")


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
        # The state of each trial this session ran, in order.
        self.states: list[TrialState] = []

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
        """Reads the study once, prints the progress line and updates the parent run's counts
        and table."""
        self.states.append(trial.state)
        progress = read_progress(study, self.space)
        state = STATE_NAMES.get(trial.state, trial.state.name.lower())
        if trial.state == TrialState.COMPLETE and self.space.multi_objective:
            what = "complete, values " + ", ".join(f"{value:.4g}" for value in trial.values)
        elif trial.state == TrialState.COMPLETE:
            what = f"complete, value {trial.value:.4f}"
        elif trial.state == TrialState.PRUNED:
            what = f"pruned at epoch {max(trial.intermediate_values, default=0)}"
        else:
            what = f"{state}: {self.runner.errors.get(trial.number, 'see the log above')}"
        best = progress.best
        best_text = (
            f"best {best.value:.4f} (trial {best.number})" if best else "no complete trial yet"
        )
        if self.space.multi_objective:
            best_text = f"Pareto front: {len(progress.pareto)} trial(s)"
        self.echo(
            f"[{progress.tally.done}/{self.n_trials}] trial {trial.number} {what} | {best_text} | "
            f"{describe_params(trial.params)} | elapsed {format_elapsed(time.monotonic() - self.started)}"
        )
        self.log_progress(progress)

    def log_progress(self, progress: StudyProgress) -> None:
        """Logs the counts, the best value and the trials table on the parent run."""
        tally, best = progress.tally, progress.best
        metrics = {
            "complete_trials": tally.complete,
            "pruned_trials": tally.pruned,
            "failed_trials": tally.failed,
            "retried_trials": tally.retried,
        }
        if best is not None:
            metrics |= {"best_value": float(best.value), "best_trial": best.number}
        if self.space.multi_objective:
            metrics["pareto_trials"] = len(progress.pareto)
        parent_run.log_study_metrics(self.parent_run_id, metrics, step=tally.done)
        parent_run.log_study_table(self.parent_run_id, progress.table)

    def log_importances(self, tally: Tally) -> None:
        """Logs the parameter importances as numbers on the parent, once there are any."""
        try:
            importances = param_importances(self.study, self.space)
        except Exception as error:
            self.echo(f"importances skipped ({runs.describe_error(error)})")
            return
        parent_run.log_study_importances(self.parent_run_id, importances, step=tally.done)

    def finish(
        self, status: str, log_best: bool, error: BaseException | None = None
    ) -> StudyProgress:
        """Logs the summary, artifacts and (once final) the best params; ends the parent.

        The parent ends with `status` (and `error`, if any) by the one status policy, but
        stays RUNNING while other workers still run trials of the study.
        """
        # Failing stale trials first queues them again, so the counts read after are final.
        self.current_tally()
        progress = read_progress(self.study, self.space)
        tally, best = progress.tally, progress.best
        self.log_progress(progress)
        self.log_importances(tally)
        figures, skipped = study_figures(self.study, self.space.objectives)
        parent_run.log_study_artifacts(self.parent_run_id, self.space.path, figures)
        import matplotlib.pyplot as plt

        for figure in figures.values():
            plt.close(figure)
        if skipped:
            self.echo("plots skipped: " + "; ".join(skipped))
        if log_best and best is not None:
            params = {f"best_{name}": format_value(value) for name, value in best.params.items()}
            if not parent_run.log_best_params(self.parent_run_id, params):
                self.echo(
                    f"the parent run keeps the best_ params it logged first (MLflow params "
                    f"never change); the best trial is now {best.number}: see the metric "
                    "best_trial and trials.csv"
                )
        parent_run.end_study_parent(status, error, still_running=tally.running > 0)
        return progress


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
    warm_start: tuple[str, int] | None = None,
) -> SweepOutcome:
    """Runs (or continues) a study until it holds `n_trials` done trials; see the module doc.

    Raises ValueError, before any run or study is created, for bad options, data that
    cannot be read, a storage that cannot be opened, or a study begun with another space.
    KeyboardInterrupt ends the current trial's run KILLED, queues the trial again and ends
    the parent KILLED.
    """
    check_sweep_options(n_trials, timeout, heartbeat_interval)
    opened = open_study(
        space,
        study_name=study_name,
        storage=storage,
        experiment_name=experiment_name,
        heartbeat_interval=heartbeat_interval,
        echo=echo,
        warm_start=warm_start,
    )
    name, location, study, parent_run_id = (
        opened.name,
        opened.location,
        opened.study,
        opened.parent_run_id,
    )
    runner = TrialRunner(space, opened.splits, parent_run_id, name, verbose)
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
        f"optimizing {describe_objectives(space)} over {', '.join(spec.name for spec in space.params)}"
    )
    if verbose == 0:
        # Logging a model per trial retraces `predict` each time, and TensorFlow warns about
        # it once per trial; the warning says nothing about the study.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        stopped_by = sweep.run()
    except KeyboardInterrupt as error:
        sweep.finish(runs.KILLED, log_best=False, error=error)
        raise
    except BaseException as error:
        sweep.finish(runs.FAILED, log_best=False, error=error)
        raise
    all_failed = trial_room.describe_all_failed(sweep.states, runner.errors)
    if all_failed is not None:
        error = trial_room.TrialsFailed(f"{all_failed}; parent run {parent_run_id} ended FAILED")
        sweep.finish(runs.FAILED, log_best=False, error=error)
        raise error
    # The best_ params are final only when the study holds all its trials.
    progress = sweep.finish(runs.FINISHED, log_best=stopped_by == "n_trials")
    return SweepOutcome(
        study_name=name,
        storage=redact_storage(location),
        parent_run_id=parent_run_id,
        tally=progress.tally,
        n_trials=n_trials,
        best_trial=progress.best,
        stopped_by=stopped_by,
        pareto_trials=progress.pareto,
    )
