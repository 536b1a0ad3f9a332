"""Keras Tuner's side: `keras_tuner.Hyperband` over the same space, stopped by the clock."""

from __future__ import annotations

import time
from typing import Any

from bench.peers.curves import side_result
from bench.peers.settings import HYPERBAND_FACTOR, HYPERBAND_ITERATIONS
from bench.peers.sides import SideRun, compile_trial_model


def declare_keras_tuner(hp: Any, spec: Any) -> Any:
    """Declares one space parameter in Keras Tuner's terms; returns its value."""
    if spec.type == "categorical":
        return hp.Choice(spec.name, list(spec.choices))
    sampling = "log" if spec.log else "linear"
    if spec.type == "int":
        step = int(spec.step) if spec.step else None
        return hp.Int(spec.name, int(spec.low), int(spec.high), step=step, sampling=sampling)
    return hp.Float(spec.name, float(spec.low), float(spec.high), step=spec.step, sampling=sampling)


def run_keras_tuner(run: SideRun) -> dict[str, Any]:
    """Runs Keras Tuner's Hyperband over the space until the budget; tests its best model."""
    import keras_tuner as kt

    from rnn_tracking.train import build_selection_callbacks

    space, data, args, folder = run.space, run.splits, run.args, run.folder

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
                callbacks=[*fit_kwargs.get("callbacks", []), *build_selection_callbacks(config)],
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
