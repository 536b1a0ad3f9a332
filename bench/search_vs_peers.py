"""This platform's sweep against Keras Tuner's Hyperband and plain Optuna, on the same clock.

One command runs three searches over the same space file, on the same data and splits, one
after the other, each with the same wall-clock budget (`--minutes` per side):

- `platform`: `rnn-tracking sweep --space ... --n_trials 10000 --timeout <budget>` as a
  subprocess, with its own MLflow store and Optuna journal in a temporary folder: the
  space's sampler and pruner, MLflow tracking of every trial, a model logged per trial. The
  anytime curve comes from the journal (each trial's `datetime_complete` and value); the
  best trial's test accuracy is its MLflow run's `test_accuracy`, which the platform
  measured once on the restored best weights.
- `keras_tuner`: `keras_tuner.Hyperband` over the same space (`max_epochs` = the space's
  epochs, objective val_accuracy, EarlyStopping(val_loss, patience) as in Keras Tuner's
  own tutorial), building each model with `rnn_tracking.train.compile_model`, so the
  models are the platform's. The budget is enforced in `pre_create_trial`, Keras Tuner's
  hook before each new trial: past the deadline it caps the oracle's `max_trials` at the
  trials so far, and `create_trial` then answers STOPPED. The best trial's model (its best
  epoch's checkpoint) is evaluated once on test.
- `optuna`: plain Optuna as its keras example writes it: TPE (seeded) and MedianPruner
  (defaults), an objective that fits with EarlyStopping(val_loss, patience,
  restore_best_weights) and a pruning callback reporting val_accuracy each epoch (what
  optuna-integration's TFKerasPruningCallback does), returns the validation accuracy, and
  `study.optimize(objective, timeout=<budget>)`. The best trial's model is kept (saved
  when a trial beats the best so far) and evaluated once on test: no retraining.

`--sides platform:<pruner>` (median, hyperband, successive_halving, none) runs the
platform's side again with that pruner in place of the space's, everything else equal, so
pruners are compared on the same clock in one run (docs/sweeps.md has the results):

    PYTHONPATH=$PWD .venv/bin/python bench/search_vs_peers.py --minutes 15 \
        --sides platform:median,platform:hyperband,platform:successive_halving \
        --out docs/pruners.md

All sides share one rule: no trial starts after the budget; the trial running at the
deadline finishes (its end is on the curve, after the budget). Each side's objective is
its tool's own: the platform and plain Optuna score a trial by its validation accuracy at
the epoch of lowest val_loss (the restored best weights); Keras Tuner by the highest
val_accuracy of any epoch, which flatters it a little. Test accuracy, measured once per
side on its best trial, is the fair comparison. The platform's clock includes its start
(Python and TensorFlow imports, reading the encoded data from the cache) and MLflow's
logging; the peers' splits are loaded before their clocks start.

It prints a table per side (best validation and test accuracy, trials finished and
pruned, the best validation accuracy so far at 5, 10, ... minutes), the TF-IDF + logistic
regression baseline (`rnn_tracking.baseline`, at the space's num_words and maxlen, or on
the full text when the space tunes them) on the same splits, and how long the platform took
to reach each peer's best. It writes the Markdown to --out, the numbers beside it as .json,
and the anytime curves as a PNG in img/ beside it.

Smoke run (2,000 reviews, 1.5 minutes per side, at most 2 epochs per trial; ~6 minutes):

    PYTHONPATH=$PWD .venv/bin/python bench/search_vs_peers.py --short

The full run (1.5 hours on 2 CPU cores; all 25,000 + 25,000 reviews):

    PYTHONPATH=$PWD .venv/bin/python bench/search_vs_peers.py --space sweeps/small-budget.yaml --minutes 30

Keras Tuner comes with the `bench` extra: `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = os.environ.get("RNN_TRACKING_DATA") or str(
    ROOT.parent / "shared" / "data" / "aclImdb_labeled.tar.gz"
)
DEFAULT_SPACE = ROOT / "sweeps" / "small-budget.yaml"
DEFAULT_OUT = ROOT / "docs" / "search_vs_peers.md"
SIDES = ("platform", "keras_tuner", "optuna")
SIDE_NAMES = {
    "platform": "rnn-tracking sweep",
    "keras_tuner": "Keras Tuner Hyperband",
    "optuna": "plain Optuna (TPE + median)",
}
# --short: a smoke run that shows the bench works, not which side wins.
SHORT_REVIEWS = 2000
SHORT_MINUTES = 1.5
SHORT_EPOCHS = 2
DEFAULT_MINUTES = 30.0
# The platform's sweep runs 10,000 trials at most: the clock, not the count, ends it.
PLATFORM_TRIALS = 10000
# Keras Tuner's Hyperband ends after this many sweeps over its brackets: the clock ends it first.
HYPERBAND_ITERATIONS = 1000
HYPERBAND_FACTOR = 3
# How long a side may run past its budget (the trial running at the deadline) before it is
# stopped as hung.
GRACE_SECONDS = 1800
# `--sides platform:<pruner>` runs the platform's sweep with another pruner, so pruners can be
# compared at equal wall time in one run. The space's own pruner keeps the space's options;
# the others get these. min_resource 2 matches the shipped spaces' n_warmup_steps: 2 (large
# models start slowly, so no verdict after epoch 1); reduction_factor 3 is Optuna's default.
PRUNER_SIDE_OPTIONS: dict[str, dict[str, Any]] = {
    "median": {"n_startup_trials": 5, "n_warmup_steps": 2},
    "hyperband": {"min_resource": 2, "reduction_factor": 3},
    "successive_halving": {"min_resource": 2, "reduction_factor": 3},
    "none": {},
}
# The fields whose values change the arrays a trial trains on.
ENCODING_FIELDS = ("padding", "truncating")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--space",
        default=str(DEFAULT_SPACE),
        help="Space file (default: sweeps/small-budget.yaml).",
    )
    parser.add_argument(
        "--data",
        default=DEFAULT_DATA,
        help="Data source (default: $RNN_TRACKING_DATA, else ../shared/data's aclImdb tar).",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help=f"Wall-clock budget per side (default: {DEFAULT_MINUTES:g}; --short: {SHORT_MINUTES:g}).",
    )
    parser.add_argument(
        "--max-reviews",
        type=int,
        default=None,
        help=f"Reviews per split, 0 for all (default: 0; --short: {SHORT_REVIEWS}).",
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help=f"Smoke run: {SHORT_REVIEWS} reviews, {SHORT_MINUTES:g} minutes per side, at most "
        f"{SHORT_EPOCHS} epochs per trial (explicit --minutes/--max-reviews win).",
    )
    parser.add_argument(
        "--sides",
        default=",".join(SIDES),
        help=f"Comma-separated sides to run, in order (default: {','.join(SIDES)}); "
        f"platform:<pruner> runs the platform with another pruner "
        f"({', '.join(PRUNER_SIDE_OPTIONS)}), to compare pruners on the same clock.",
    )
    parser.add_argument(
        "--workdir",
        default="",
        help="Folder for the sides' stores, journals and checkpoints (default: a temporary one).",
    )
    parser.add_argument(
        "--out",
        default="",
        help="Markdown report; the .json goes beside it and the PNG into img/ beside it "
        "(default: docs/search_vs_peers.md; --short: the --workdir, else "
        "$TMPDIR/search_vs_peers-short).",
    )
    args = parser.parse_args(argv)
    sides = [side.strip() for side in args.sides.split(",") if side.strip()]
    bad = [side for side in sides if side not in SIDES and pruner_of(side) is None]
    if bad or not sides or len(set(sides)) != len(sides):
        parser.error(
            f"--sides: got {args.sides!r}; valid values are {', '.join(SIDES)} and "
            f"{', '.join(f'platform:{name}' for name in PRUNER_SIDE_OPTIONS)}, each once"
        )
    args.sides = sides
    if args.minutes is None:
        args.minutes = SHORT_MINUTES if args.short else DEFAULT_MINUTES
    if args.max_reviews is None:
        args.max_reviews = SHORT_REVIEWS if args.short else 0
    if args.minutes <= 0:
        parser.error(f"--minutes: got {args.minutes!r}; valid values are numbers > 0")
    if args.max_reviews < 0:
        parser.error(f"--max-reviews: got {args.max_reviews!r}; valid values are integers >= 0")
    return args


def pruner_of(side: str) -> str | None:
    """The pruner a `platform:<pruner>` side names, or None for any other side."""
    kind, _, pruner = side.partition(":")
    return pruner if kind == "platform" and pruner in PRUNER_SIDE_OPTIONS else None


def side_label(side: str) -> str:
    """The side's name in the table and the plot: `rnn-tracking sweep (hyperband pruner)`."""
    pruner = pruner_of(side)
    if pruner is not None:
        return f"{SIDE_NAMES['platform']} ({pruner} pruner)"
    return SIDE_NAMES[side]


# --- The space, the data ------------------------------------------------------------------


def write_bench_space(args: argparse.Namespace, folder: Path) -> Path:
    """Copies the space file with this run's max_reviews (and --short's epoch cap) fixed.

    Every side reads this one file, so they search the same space on the same rows.
    """
    raw = yaml.safe_load(Path(args.space).read_text(encoding="utf-8"))
    fixed = dict(raw.get("fixed") or {})
    fixed["max_reviews"] = args.max_reviews
    if args.short:
        fixed["epochs"] = min(int(fixed.get("epochs", 100)), SHORT_EPOCHS)
    raw["fixed"] = fixed
    path = folder / Path(args.space).name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def write_pruner_space(space_path: Path, pruner: str, folder: Path) -> Path:
    """Copies the bench's space file with `pruner` in place of its own, for a platform side.

    A pruner the space already names keeps the space's options; another gets
    `PRUNER_SIDE_OPTIONS`. Everything else (sampler and seed, params, fixed) stays the same.
    """
    raw = yaml.safe_load(space_path.read_text(encoding="utf-8"))
    own = dict(raw.get("pruner") or {})
    if own.get("name") == pruner:
        raw["pruner"] = own
    else:
        raw["pruner"] = {"name": pruner, **PRUNER_SIDE_OPTIONS[pruner]}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / space_path.name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


class DataCache:
    """The splits of each encoding, loaded once; a space that fixes the encoding has one."""

    def __init__(self, split_fields: tuple[str, ...]) -> None:
        self.fields = tuple(dict.fromkeys((*split_fields, *ENCODING_FIELDS)))
        self.entries: dict[tuple, Any] = {}

    def get(self, config: Any) -> Any:
        from rnn_tracking.data import load_splits

        key = tuple(getattr(config, name) for name in self.fields)
        if key not in self.entries:
            self.entries[key] = load_splits(config)
        return self.entries[key]


def recipe_callbacks(config: Any) -> list:
    """The platform's training callbacks that decide the result, without its checkpoint:
    EarlyStopping on val_loss (best weights restored), and ReduceLROnPlateau when asked."""
    import keras

    from rnn_tracking import train

    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor=train.SELECTION_METRIC, patience=config.patience, restore_best_weights=True
        )
    ]
    if config.lr_schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=train.SELECTION_METRIC,
                factor=train.PLATEAU_FACTOR,
                patience=train.PLATEAU_PATIENCE,
            )
        )
    return callbacks


def compile_trial_model(config: Any, splits: Any) -> Any:
    """The platform's model and optimizer for `config`, compiled as its training compiles them."""
    from rnn_tracking.train import compile_model, count_batches

    return compile_model(config, steps_per_epoch=count_batches(splits, config))


def side_result(
    ends: list[tuple[float, float | None, str]],
    *,
    wall_seconds: float,
    best_value: float | None,
    best_test_accuracy: float | None,
    best_params: dict[str, Any],
    pruned: int | None,
    failed: int,
    notes: str,
) -> dict[str, Any]:
    """One side's numbers: `ends` holds (seconds since the side began, value, state) per trial."""
    ends = sorted(ends)
    curve, best = [], None
    for seconds, value, _ in ends:
        if value is not None and math.isfinite(value) and (best is None or value > best):
            best = value
            curve.append([round(seconds, 2), value])
    return {
        "best_val_accuracy": best_value,
        "best_test_accuracy": best_test_accuracy,
        "best_params": {name: plain(value) for name, value in best_params.items()},
        "trials_finished": sum(state in ("COMPLETE", "PRUNED") for _, _, state in ends),
        "trials_pruned": pruned,
        "trials_failed": failed,
        "wall_seconds": round(wall_seconds, 1),
        "trial_ends": [[round(s, 2), v, state] for s, v, state in ends],
        "curve": curve,
        "notes": notes,
    }


def best_optuna_trial(study: Any, side: str, log: Path | None = None) -> Any:
    """The study's best trial; a RuntimeError naming the side when no trial completed."""
    try:
        return study.best_trial
    except ValueError:
        states = [trial.state.name for trial in study.trials]
        where = f"; see {log}" if log else ""
        raise RuntimeError(f"{side}: no trial completed (states: {states}){where}") from None


def plain(value: Any) -> Any:
    """NumPy scalars and the like as JSON values."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    try:
        return value.item()
    except AttributeError:
        return str(value)


# --- Side 1: this platform ----------------------------------------------------------------


def run_platform(space_path: Path, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Runs `rnn-tracking sweep` for the budget in its own store; reads journal and MLflow."""
    import optuna
    from mlflow.tracking import MlflowClient
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from rnn_tracking.sweep.space import read_space

    space = read_space(space_path, data=args.data)
    folder.mkdir(parents=True, exist_ok=True)
    journal = folder / "optuna.journal"
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    env = dict(os.environ)
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
        env.pop(name, None)
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    budget = args.minutes * 60
    command = [
        sys.executable,
        "-m",
        "rnn_tracking",
        "sweep",
        "--space",
        str(space_path),
        "--n_trials",
        str(PLATFORM_TRIALS),
        "--timeout",
        str(max(1, math.ceil(budget))),
        "--data",
        args.data,
        "--storage",
        str(journal),
        "--experiment-name",
        "search-vs-peers",
    ]
    log = folder / "sweep.log"
    print("$", " ".join(command), flush=True)
    began = datetime.now()
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        finished = subprocess.run(
            command,
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=budget + GRACE_SECONDS,
        )
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"rnn-tracking sweep exited {finished.returncode}:\n{tail}")
    storage = JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.load_study(study_name=space.study_name, storage=storage)
    ends = [
        (
            (trial.datetime_complete - began).total_seconds(),
            trial.value if trial.state == optuna.trial.TrialState.COMPLETE else None,
            trial.state.name,
        )
        for trial in study.trials
        if trial.datetime_complete is not None
    ]
    best = best_optuna_trial(study, "platform", folder / "sweep.log")
    run = MlflowClient(tracking_uri=tracking_uri).get_run(best.user_attrs["mlflow_run_id"])
    states = [trial.state.name for trial in study.trials]
    return side_result(
        ends,
        wall_seconds=wall,
        best_value=best.value,
        best_test_accuracy=run.data.metrics["test_accuracy"],
        best_params=best.params,
        pruned=states.count("PRUNED"),
        failed=states.count("FAIL"),
        notes=f"sampler {space.sampler[0]} {space.sampler[1]}, pruner {space.pruner[0]} "
        f"{space.pruner[1]}; MLflow run per trial",
    )


# --- Side 2: Keras Tuner ------------------------------------------------------------------


def declare_keras_tuner(hp: Any, spec: Any) -> Any:
    """Declares one space parameter in Keras Tuner's terms; returns its value."""
    if spec.type == "categorical":
        return hp.Choice(spec.name, list(spec.choices))
    sampling = "log" if spec.log else "linear"
    if spec.type == "int":
        step = int(spec.step) if spec.step else None
        return hp.Int(spec.name, int(spec.low), int(spec.high), step=step, sampling=sampling)
    return hp.Float(spec.name, float(spec.low), float(spec.high), step=spec.step, sampling=sampling)


def run_keras_tuner(
    space: Any, data: DataCache, args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    """Runs Keras Tuner's Hyperband over the space until the budget; tests its best model."""
    import keras_tuner as kt

    def config_of(hp: Any) -> Any:
        return space.config_for({spec.name: hp.get(spec.name) for spec in space.params})

    def build(hp: Any) -> Any:
        sampled = {spec.name: declare_keras_tuner(hp, spec) for spec in space.params}
        config = space.config_for(sampled)
        return compile_trial_model(config, data.get(config))

    class BudgetedHyperband(kt.Hyperband):
        """Hyperband that starts no trial after `deadline` and records when each one ends."""

        def __init__(self, *, deadline: float, started: float, **kwargs: Any) -> None:
            self.deadline = deadline
            self.started = started
            self.ends: list[tuple[float, float | None, str]] = []
            super().__init__(**kwargs)

        def pre_create_trial(self) -> None:
            # Oracle.create_trial answers STOPPED once max_trials trials exist.
            if time.perf_counter() >= self.deadline and self.oracle.trials:
                self.oracle.max_trials = len(self.oracle.trials)

        def run_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> Any:
            config = config_of(trial.hyperparameters)
            splits = data.get(config)
            fit_kwargs.update(
                x=splits.x_train,
                y=splits.y_train,
                validation_data=(splits.x_val, splits.y_val),
                batch_size=config.batch_size,
                callbacks=[*fit_kwargs.get("callbacks", []), *recipe_callbacks(config)],
            )
            return super().run_trial(trial, *fit_args, **fit_kwargs)

        def _configure_tensorboard_dir(
            self, callbacks: list, trial: Any, execution: int = 0
        ) -> None:
            # keras-tuner 1.4 imports tensorboard here before every trial, even without a
            # TensorBoard callback, and TensorFlow >= 2.20 no longer installs tensorboard.
            if any(type(callback).__name__ == "TensorBoard" for callback in callbacks):
                super()._configure_tensorboard_dir(callbacks, trial, execution)

        def on_trial_end(self, trial: Any) -> None:
            super().on_trial_end(trial)
            ended = self.oracle.trials[trial.trial_id]
            state = "COMPLETE" if ended.status == "COMPLETED" else "FAIL"
            score = ended.score if state == "COMPLETE" else None
            self.ends.append((time.perf_counter() - self.started, score, state))

    budget = args.minutes * 60
    started = time.perf_counter()
    tuner = BudgetedHyperband(
        deadline=started + budget,
        started=started,
        hypermodel=build,
        objective="val_accuracy",
        max_epochs=space.base_config.epochs,
        factor=HYPERBAND_FACTOR,
        hyperband_iterations=HYPERBAND_ITERATIONS,
        seed=space.base_config.seed,
        directory=str(folder),
        project_name="hyperband",
        overwrite=True,
    )
    tuner.search(epochs=space.base_config.epochs, verbose=0)
    wall = time.perf_counter() - started
    best_trials = tuner.oracle.get_best_trials(1)
    if not best_trials:
        raise RuntimeError(f"keras_tuner: no trial completed; see {folder / 'hyperband'}")
    best_trial = best_trials[0]
    config = config_of(best_trial.hyperparameters)
    splits = data.get(config)
    model = tuner.get_best_models(num_models=1)[0]
    test_accuracy = model.evaluate(
        splits.x_test, splits.y_test, batch_size=config.batch_size, verbose=0, return_dict=True
    )["accuracy"]
    statuses = [trial.status for trial in tuner.oracle.trials.values()]
    return side_result(
        tuner.ends,
        wall_seconds=wall,
        best_value=best_trial.score,
        best_test_accuracy=float(test_accuracy),
        # Read back through the config: Keras Tuner hands booleans back as 0 and 1.
        best_params={spec.name: getattr(config, spec.name) for spec in space.params}
        | {"epochs": best_trial.hyperparameters.values.get("tuner/epochs")},
        pruned=None,
        failed=sum(status in ("FAILED", "INVALID") for status in statuses),
        notes=f"Hyperband(max_epochs={space.base_config.epochs}, factor={HYPERBAND_FACTOR}); a "
        "trial is one bracket round (promoted configs continue from their checkpoint); "
        "objective: best epoch's val_accuracy",
    )


# --- Side 3: plain Optuna -----------------------------------------------------------------


def suggest_optuna(trial: Any, spec: Any) -> Any:
    """Asks the trial for one space parameter, as a user's objective would."""
    if spec.type == "categorical":
        return trial.suggest_categorical(spec.name, list(spec.choices))
    if spec.type == "int":
        step = int(spec.step or 1)
        return trial.suggest_int(spec.name, int(spec.low), int(spec.high), step=step, log=spec.log)
    return trial.suggest_float(spec.name, spec.low, spec.high, step=spec.step, log=spec.log)


def run_optuna(
    space: Any, data: DataCache, args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    """Runs a plain Optuna study (TPE, MedianPruner) with a bare Keras objective."""
    import keras
    import optuna

    class PruningCallback(keras.callbacks.Callback):
        """Reports val_accuracy each epoch and prunes, as TFKerasPruningCallback does."""

        def __init__(self, trial: optuna.Trial, monitor: str) -> None:
            super().__init__()
            self.trial = trial
            self.monitor = monitor

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            value = (logs or {}).get(self.monitor)
            if value is None:
                return
            self.trial.report(float(value), step=epoch)
            if self.trial.should_prune():
                raise optuna.TrialPruned(f"Trial was pruned at epoch {epoch}.")

    best_path = folder / "best.keras"
    folder.mkdir(parents=True, exist_ok=True)
    kept: dict[str, Any] = {}

    def objective(trial: optuna.Trial) -> float:
        keras.backend.clear_session()
        config = space.config_for({spec.name: suggest_optuna(trial, spec) for spec in space.params})
        splits = data.get(config)
        model = compile_trial_model(config, splits)
        model.fit(
            splits.x_train,
            splits.y_train,
            validation_data=(splits.x_val, splits.y_val),
            batch_size=config.batch_size,
            epochs=config.epochs,
            callbacks=[*recipe_callbacks(config), PruningCallback(trial, "val_accuracy")],
            verbose=0,
        )
        accuracy = model.evaluate(
            splits.x_val, splits.y_val, batch_size=config.batch_size, verbose=0, return_dict=True
        )["accuracy"]
        accuracy = float(accuracy)
        if math.isfinite(accuracy) and accuracy > kept.get("value", -1.0):
            model.save(best_path)
            kept.update(value=accuracy, number=trial.number, config=config)
        return accuracy

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # The space's sampler seed, so that both Optuna sides start from the same seed.
    seed = space.sampler[1].get("seed", space.base_config.seed)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(),
    )
    began = datetime.now()
    started = time.perf_counter()
    study.optimize(objective, timeout=args.minutes * 60)
    wall = time.perf_counter() - started
    best = best_optuna_trial(study, "optuna")
    # The model saved for the best value is the best trial's (its first, if values tie).
    config = kept["config"]
    splits = data.get(config)
    model = keras.models.load_model(best_path)
    test_accuracy = model.evaluate(
        splits.x_test, splits.y_test, batch_size=config.batch_size, verbose=0, return_dict=True
    )["accuracy"]
    ends = [
        (
            (trial.datetime_complete - began).total_seconds(),
            trial.value if trial.state == optuna.trial.TrialState.COMPLETE else None,
            trial.state.name,
        )
        for trial in study.trials
        if trial.datetime_complete is not None
    ]
    states = [trial.state.name for trial in study.trials]
    return side_result(
        ends,
        wall_seconds=wall,
        best_value=best.value,
        best_test_accuracy=float(test_accuracy),
        best_params=best.params,
        pruned=states.count("PRUNED"),
        failed=states.count("FAIL"),
        notes=f"TPESampler(seed={seed}), MedianPruner(); kept the best model's weights (trial "
        f"{kept['number']}), no retraining; objective: val_accuracy of the restored weights",
    )


# --- The reference: TF-IDF + logistic regression ------------------------------------------


def run_baseline(space: Any) -> dict[str, Any]:
    """Fits the linear baseline on the same splits: at the space's budget, else on full text."""
    from rnn_tracking.baseline import fit_baseline, load_baseline_data

    tuned = {spec.name for spec in space.params}
    budget = "full" if tuned & {"num_words", "maxlen"} else "neural"
    config = space.base_config
    result = fit_baseline(load_baseline_data(config, budget), seed=config.seed)
    return {
        "budget": budget,
        "num_words": config.num_words if budget == "neural" else None,
        "maxlen": config.maxlen if budget == "neural" else None,
        "best_c": result.best_c,
        "best_val_accuracy": result.best_val_accuracy,
        "test_accuracy": result.test_accuracy,
        "train_seconds": round(result.train_seconds, 1),
    }


# --- The report ---------------------------------------------------------------------------


def marks_minutes(minutes: float) -> list[float]:
    """The times the table reads the curves at: every 5 minutes, or thirds of a short budget."""
    if minutes >= 10:
        marks = [float(m) for m in range(5, int(minutes) + 1, 5)]
    else:
        marks = [round(minutes * share, 2) for share in (1 / 3, 2 / 3)]
    if not marks or marks[-1] < minutes:
        marks.append(round(minutes, 2))
    return marks


def best_at(curve: list[list[float]], seconds: float) -> float | None:
    """The best value of trials that had ended by `seconds`, or None before the first."""
    values = [value for ended, value in curve if ended <= seconds]
    return values[-1] if values else None


def seconds_to_reach(curve: list[list[float]], target: float) -> float | None:
    """When the curve first reached `target`, or None if it never did."""
    for ended, value in curve:
        if value >= target - 1e-12:
            return ended
    return None


def fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(results: dict[str, Any]) -> str:
    """Returns the Markdown report: settings, one row per side, the baseline, the ratios."""
    settings, sides = results["settings"], results["sides"]
    marks = settings["marks_minutes"]
    header = [
        "side",
        "best val_accuracy",
        "its test_accuracy",
        "trials finished (pruned, failed)",
        *[f"best val @ {m:g} min" for m in marks],
        "wall time",
    ]
    lines = [
        f"Command: `{settings['command']}`",
        "",
        f"Machine: {settings['machine']}. Space `{settings['space']}` ({settings['params']} "
        f"parameters; epochs <= {settings['epochs']}); data {settings['train']} train, "
        f"{settings['val']} validation, {settings['test']} test reviews; "
        f"**{settings['minutes']:g} minutes per side**, one side after the other.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for side, numbers in sides.items():
        pruned = "-" if numbers["trials_pruned"] is None else numbers["trials_pruned"]
        row = [
            side_label(side),
            fmt(numbers["best_val_accuracy"]),
            fmt(numbers["best_test_accuracy"]),
            f"{numbers['trials_finished']} ({pruned}, {numbers['trials_failed']})",
            *[fmt(best_at(numbers["curve"], m * 60)) for m in marks],
            f"{numbers['wall_seconds'] / 60:.1f} min",
        ]
        lines.append("| " + " | ".join(row) + " |")
    baseline = results.get("baseline")
    if baseline:
        at = (
            f"num_words={baseline['num_words']}, maxlen={baseline['maxlen']}"
            if baseline["budget"] == "neural"
            else "the full text"
        )
        lines += [
            "",
            f"Reference: TF-IDF + logistic regression at {at}, same splits: validation "
            f"{baseline['best_val_accuracy']:.4f}, **test {baseline['test_accuracy']:.4f}** "
            f"(C={baseline['best_c']:g}, {baseline['train_seconds']:.0f} s).",
        ]
    # The first platform side is the reference: the plain one, or the first pruner's.
    reference = next((side for side in sides if side.partition(":")[0] == "platform"), None)
    platform_side = sides.get(reference) if reference else None
    others = [side for side, numbers in sides.items() if side != reference and numbers["curve"]]
    if platform_side and platform_side["curve"] and others:
        name = "the platform" if reference == "platform" else side_label(reference)
        lines += ["", f"Against {name}:", ""]
        for side in others:
            numbers = sides[side]
            target = numbers["best_val_accuracy"]
            own = seconds_to_reach(numbers["curve"], target)
            ours = seconds_to_reach(platform_side["curve"], target)
            reach = (
                f"{name} reached that side's best ({target:.4f}) after {ours / 60:.1f} min, "
                f"against {own / 60:.1f} min for {side_label(side)} ({ours / own:.2f}x the time)"
                if ours is not None and own
                else f"{name} never reached that side's best ({target:.4f})"
            )
            lines.append(
                f"- {side_label(side)}: best validation accuracy "
                f"{platform_side['best_val_accuracy'] - target:+.4f} and test accuracy "
                f"{platform_side['best_test_accuracy'] - numbers['best_test_accuracy']:+.4f} "
                f"for {name}; {reach}; trials finished "
                f"{platform_side['trials_finished']} against {numbers['trials_finished']}."
            )
    lines += ["", "Best trials:", ""]
    for side, numbers in sides.items():
        params = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in numbers["best_params"].items()
        )
        lines.append(f"- {side_label(side)}: {params}. {numbers['notes']}.")
    if settings.get("image"):
        lines += ["", f"![best validation accuracy so far, per side]({settings['image']})"]
    return "\n".join(lines) + "\n"


def plot_curves(results: dict[str, Any], path: Path) -> None:
    """Writes the anytime curves (best validation accuracy so far against minutes) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for side, numbers in results["sides"].items():
        curve = numbers["curve"]
        if not curve:
            continue
        x = [seconds / 60 for seconds, _ in curve]
        y = [value for _, value in curve]
        end = max(numbers["wall_seconds"] / 60, x[-1])
        axes.step([*x, end], [*y, y[-1]], where="post", label=side_label(side))
        axes.plot(x, y, "o", markersize=3, color=axes.lines[-1].get_color())
    baseline = results.get("baseline")
    if baseline:
        axes.axhline(
            baseline["best_val_accuracy"],
            color="grey",
            linestyle="--",
            label=f"TF-IDF + logistic regression ({baseline['budget']}), validation",
        )
    axes.axvline(results["settings"]["minutes"], color="black", linewidth=0.8, linestyle=":")
    axes.set_xlabel("minutes since the side started")
    axes.set_ylabel("best val_accuracy so far")
    axes.set_title(f"{Path(results['settings']['space']).name}: anytime curves")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The platform's sweep runs in its own folder, so a relative data path must not reach it.
    if Path(args.data).exists():
        args.data = str(Path(args.data).resolve())
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Each trial compiles a new model, and TensorFlow warns about retracing once per trial.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    started = time.perf_counter()
    from rnn_tracking.sweep.space import SPLIT_FIELDS as split_fields
    from rnn_tracking.sweep.space import read_space

    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(args.workdir or scratch).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        space_path = write_bench_space(args, workdir)
        space = read_space(space_path, data=args.data)
        data = DataCache(split_fields)
        # Load (and cache on disk) the fixed encoding once, before any clock starts; the
        # platform's subprocess then reads the same cache.
        splits = data.get(space.base_config)
        print(
            f"data: {len(splits.y_train)} train, {len(splits.y_val)} validation, "
            f"{len(splits.y_test)} test reviews; {args.minutes:g} minutes per side",
            flush=True,
        )
        sides: dict[str, Any] = {}
        for side in args.sides:
            print(f"--- {side}: {side_label(side)}", flush=True)
            pruner = pruner_of(side)
            if side == "platform":
                sides[side] = run_platform(space_path, args, workdir / side)
            elif pruner is not None:
                folder = workdir / f"platform-{pruner}"
                own_space = write_pruner_space(space_path, pruner, folder / "space")
                sides[side] = run_platform(own_space, args, folder)
            elif side == "keras_tuner":
                sides[side] = run_keras_tuner(space, data, args, workdir / side)
            else:
                sides[side] = run_optuna(space, data, args, workdir / side)
            numbers = sides[side]
            print(
                f"{side}: best val_accuracy {fmt(numbers['best_val_accuracy'])}, test "
                f"{fmt(numbers['best_test_accuracy'])}, {numbers['trials_finished']} trials, "
                f"{numbers['wall_seconds']:.0f} s",
                flush=True,
            )
        baseline = run_baseline(space)
        if args.out:
            out = Path(args.out)
        elif args.short:
            folder = args.workdir or Path(tempfile.gettempdir()) / "search_vs_peers-short"
            out = Path(folder) / "search_vs_peers.md"
        else:
            out = DEFAULT_OUT
        image = out.parent / "img" / f"{out.stem}.png"
        results = {
            "settings": {
                "command": " ".join(
                    ["python", "bench/search_vs_peers.py", *(argv or sys.argv[1:])]
                ),
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores",
                "space": str(Path(args.space)),
                "params": len(space.params),
                "epochs": space.base_config.epochs,
                "data": args.data,
                "max_reviews": args.max_reviews,
                "train": len(splits.y_train),
                "val": len(splits.y_val),
                "test": len(splits.y_test),
                "minutes": args.minutes,
                "short": args.short,
                "marks_minutes": marks_minutes(args.minutes),
                "image": f"img/{image.name}",
            },
            "sides": sides,
            "baseline": baseline,
        }
        results["total_seconds"] = round(time.perf_counter() - started, 1)
    report = render(results)
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    out.with_suffix(".json").write_text(
        json.dumps(results, indent=2, default=str), encoding="utf-8"
    )
    plot_curves(results, image)
    print(f"wrote {out}, {out.with_suffix('.json')} and {image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
