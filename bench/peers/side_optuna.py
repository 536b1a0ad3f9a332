"""Plain Optuna's side: TPE and MedianPruner with a bare Keras objective, as its example has it."""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from bench.peers.curves import optuna_trial_ends, side_result
from bench.peers.sides import SideRun, best_optuna_trial, compile_trial_model


def suggest_optuna(trial: Any, spec: Any) -> Any:
    """Asks the trial for one space parameter, as a user's objective would."""
    if spec.type == "categorical":
        return trial.suggest_categorical(spec.name, list(spec.choices))
    if spec.type == "int":
        step = int(spec.step or 1)
        return trial.suggest_int(spec.name, int(spec.low), int(spec.high), step=step, log=spec.log)
    return trial.suggest_float(spec.name, spec.low, spec.high, step=spec.step, log=spec.log)


def run_optuna(run: SideRun) -> dict[str, Any]:
    """Runs a plain Optuna study (TPE, MedianPruner) with a bare Keras objective."""
    import keras
    import optuna

    from rnn_tracking.train import build_selection_callbacks

    space, data, args, folder = run.space, run.splits, run.args, run.folder

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
            callbacks=[*build_selection_callbacks(config), PruningCallback(trial, "val_accuracy")],
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
    ends = optuna_trial_ends(study, began)
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
