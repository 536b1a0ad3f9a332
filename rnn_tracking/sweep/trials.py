"""One trial: its data, its nested training run, its per-epoch reports, and the tally.

Each trial trains through `tracking.track_training` in a nested run, reports its
validation metric every epoch so the pruner can stop it, and is linked both ways: the
trial holds its run's id (user attribute `mlflow_run_id`) and the run holds the trial's
number (tag `trial_number`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import socket
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import optuna
from optuna.trial import FrozenTrial, TrialState

from rnn_tracking import runs, tracking
from rnn_tracking.config import TrainConfig
from rnn_tracking.data import Splits, load_splits
from rnn_tracking.run_records import describe_run
from rnn_tracking.sweep import parent_run
from rnn_tracking.sweep.space import SPLIT_FIELDS, SearchSpace
from rnn_tracking.sweep.storage import RUN_ATTR, make_retry_callback

# XLA (`jit_compile`) compiles each trial's model once, for 10-35 s on 2 CPU cores, and then
# saves about 0.02-0.04 s per batch of 64 reviews against Keras's plain graph (measured by
# bench/trial_cost.py, docs/sweeps.md): it pays for a trial of about 1,000 batches or more.
JIT_BREAK_EVEN_BATCHES = 1000


def choose_jit_compile(space: SearchSpace, config: TrainConfig, train_size: int) -> TrainConfig:
    """Turns XLA on only for trials long enough to pay for its compile, unless the space says.

    A trial's length is its `epochs` (an upper bound: pruning and early stopping end many
    trials sooner) times its batches per epoch. A space that fixes or tunes `jit_compile`
    keeps its own value. Either way the trial's run logs the value it trained with.

    Only TensorFlow has a compiled graph without XLA to fall back on: on JAX (and PyTorch)
    `jit_compile=false` runs the training step op by op, and JAX lowers each recurrent
    `scan` again on every call (3 epochs of LSTM(8) on 4,000 reviews: 72-93 s against
    0.2-0.4 s compiled, `bench/trial_cost.py --backends jax`). There the config's own value
    stands, the compiled step by default.
    """
    if "jit_compile" in space.fixed or any(spec.name == "jit_compile" for spec in space.params):
        return config
    if config.backend != "tensorflow":
        return config
    batches = config.epochs * max(1, -(-train_size // config.batch_size))
    return dataclasses.replace(config, jit_compile=batches >= JIT_BREAK_EVEN_BATCHES)


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
    run KILLED. A multi-objective trial (`prunable=False`) reports nothing: Optuna cannot
    prune it, and refuses its reports.
    """

    def __init__(self, trial: optuna.Trial, metric: str, prunable: bool = True) -> None:
        super().__init__()
        self.trial = trial
        self.metric = metric
        self.prunable = prunable
        self.run_id: str | None = None
        self.pruned_at_epoch: int | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        # The run is open by now; storing its id at once keeps the link even if the worker
        # dies mid-trial, so the run can be ended when the trial is found stale.
        self.run_id = parent_run.active_run_id()
        if self.run_id:
            self.trial.set_user_attr(RUN_ATTR, self.run_id)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.metric)
        if not self.prunable or value is None or not math.isfinite(float(value)):
            return
        step = epoch + 1
        self.trial.report(float(value), step=step)
        if self.trial.should_prune():
            self.pruned_at_epoch = step
            raise optuna.TrialPruned(
                f"pruned at epoch {step} with {self.metric} {float(value):.4f}"
            )


class TrialsFailed(RuntimeError):
    """Every trial a sweep session ran failed: none completed or was pruned."""


class QuietFailedTrials(logging.Filter):
    """Drops Optuna's own report of a failed trial (a warning with the whole traceback).

    The sweep already prints one line per failed trial with its error, and logs the
    traceback on the trial's run (`error_traceback.txt`), so Optuna's copy only buries it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Trial ") and " failed with " in message)


def quiet_failed_trials() -> None:
    """Installs `QuietFailedTrials` on Optuna's log handlers, once."""
    for handler in logging.getLogger("optuna").handlers:
        if not any(isinstance(each, QuietFailedTrials) for each in handler.filters):
            handler.addFilter(QuietFailedTrials())


def describe_all_failed(states: Sequence[TrialState], errors: dict[int, str]) -> str | None:
    """Says, in one line, that every trial a session ran (`states`) failed; else None.

    `errors` holds each failed trial's one-line error, by trial number.
    """
    if not states or any(state != TrialState.FAIL for state in states):
        return None
    first = next(iter(errors.values()), "see the trial runs' error tags")
    if len(first) > 200:
        first = first[:200] + "..."
    return (
        f"all {len(states)} trials of this session failed, none complete or pruned "
        f"(the first: {first}); tracebacks in each trial run's error_traceback.txt"
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

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        try:
            return self.run_trial(trial)
        except KeyboardInterrupt:
            frozen = find_trial(trial.study, trial.number)
            make_retry_callback(None)(trial.study, frozen)
            raise

    def run_trial(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        """Trains the trial's config; returns its objective value, or one per objective."""
        keras.backend.clear_session()
        sampled = {spec.name: spec.suggest(trial) for spec in self.space.params}
        config = self.space.config_for(sampled)
        tags = {
            runs.TRIAL_TAG: str(trial.number),
            runs.STUDY_TAG: self.study_name,
            runs.WORKER_TAG: self.worker,
        }
        retry_of = find_trial(trial.study, trial.number).system_attrs.get("failed_trial")
        if retry_of is not None:
            tags[runs.RETRY_TAG] = str(retry_of)
        run_name = f"trial-{trial.number}-{describe_run(config)}"
        reporter = TrialReporter(trial, self.space.metric, prunable=not self.space.multi_objective)
        try:
            splits = self.splits.get(config)
        except Exception as error:
            self.errors[trial.number] = runs.describe_error(error)
            record_failed_run(config, run_name, tags, error)
            self.finish(trial, reporter, "failed", error=error)
            raise
        config = choose_jit_compile(self.space, config, len(splits.y_train))
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
            self.finish(trial, reporter, "pruned", {runs.PRUNED_TAG: str(reporter.pruned_at_epoch)})
            raise
        except BaseException as error:
            self.errors[trial.number] = runs.describe_error(error)
            self.finish(trial, reporter, "failed", error=error)
            raise
        reporter.run_id = run_id
        summary = result.summary_metrics()
        values = tuple(float(summary[name]) for name in self.space.objective_names)
        for name, value in zip(self.space.objective_names, values, strict=True):
            if not math.isfinite(value):
                self.errors[trial.number] = f"{name} is {value}"
                self.finish(trial, reporter, "failed")
                raise ValueError(f"{name} is {value}; a trial needs a finite value")
        self.finish(trial, reporter, "complete")
        return values if self.space.multi_objective else values[0]

    def finish(
        self,
        trial: optuna.Trial,
        reporter: TrialReporter,
        state: str,
        tags: dict | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Links the trial and its run both ways and tags the run with the trial's state;
        logs the traceback of the `error` that failed it, if any."""
        run_id = reporter.run_id or parent_run.find_child_run(
            self.parent_run_id, runs.TRIAL_TAG, str(trial.number)
        )
        if run_id is None:
            return
        trial.set_user_attr(RUN_ATTR, run_id)
        parent_run.set_run_tags(run_id, {runs.TRIAL_STATE_TAG: state, **(tags or {})})
        if error is not None:
            parent_run.log_error_traceback(run_id, error)


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
