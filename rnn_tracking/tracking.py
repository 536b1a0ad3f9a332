"""MLflow tracking of one training: the only home of training-time `mlflow` calls.

A tracked training is one MLflow run. It logs every config field as a param (once, in one
spelling), the per-epoch metrics with step = epoch (1-based), the summary metrics, the
datasets as inputs, and the artifacts: the best checkpoint, an MLflow model of the best
weights, the model summary, a learning-curve PNG and the resolved config.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import keras
import mlflow
import numpy as np
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from rnn_tracking import runs
from rnn_tracking.backend import describe_backend
from rnn_tracking.config import (
    TrainConfig,
    config_to_params,
    resolve_data_source,
)
from rnn_tracking.data import Splits
from rnn_tracking.embeddings import PreparedEmbeddings, log_embeddings, prepare_embeddings
from rnn_tracking.run_records import describe_run, log_params_once, log_test_predictions
from rnn_tracking.serving import log_text_model
from rnn_tracking.train import TrainingDiverged, TrainResult, train_model

# Kept here for callers of the tracking API; it lives in `runs`.
select_experiment = runs.select_experiment

EPOCH_METRICS = (
    "loss",
    "accuracy",
    "macro_f1",
    "val_loss",
    "val_accuracy",
    "val_macro_f1",
    "epoch_seconds",
)
CHECKPOINT_NAME = "best.keras"
KERAS_MODEL_NAME = "model"


class MlflowEpochLogger(keras.callbacks.Callback):
    """Logs the per-epoch metrics of the active run, with step = epoch (1-based).

    Metrics go out asynchronously, so a slow tracking store never stalls training; the run's
    end flushes them.
    """

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        values = {name: float(logs[name]) for name in EPOCH_METRICS if name in (logs or {})}
        mlflow.log_metrics(values, step=epoch + 1, run_id=self.run_id, synchronous=False)


def check_backend_active(config: TrainConfig) -> None:
    """Raises ValueError when Keras runs on another backend than the config says.

    The CLI applies the config's backend before Keras is imported; a run whose `backend`
    param named another would record a backend it never ran on.
    """
    active = keras.backend.backend()
    if config.backend != active:
        raise ValueError(
            f"backend: the config says {config.backend!r} but Keras runs on {active!r} in "
            f"this process (KERAS_BACKEND); valid values here are {active}."
        )


@contextmanager
def start_tracked_run(
    config: TrainConfig,
    *,
    run_name: str | None = None,
    nested: bool = False,
    tags: dict[str, str] | None = None,
    killed_exceptions: tuple[type[BaseException], ...] = (),
) -> Iterator[mlflow.ActiveRun]:
    """Opens the run (or resumes the one `mlflow run` made) and ends it with the right status.

    The run ends FINISHED on success; KILLED on Ctrl-C, SIGTERM (raised as
    KeyboardInterrupt by the CLI) or any of `killed_exceptions`; FAILED on any other error,
    with the error recorded in the `error` tag. The exception is re-raised.
    """
    check_backend_active(config)
    name = run_name or describe_run(config)
    run_tags = {
        runs.ARCH_TAG: config.arch,
        runs.DATA_SOURCE_TAG: resolve_data_source(config),
        **describe_backend(config.backend),
        **(tags or {}),
    }
    with runs.open_run(
        name,
        nested=nested,
        tags=run_tags,
        killed_exceptions=killed_exceptions,
        system_metrics=True,
    ) as run:
        log_params_once(run.info.run_id, config_to_params(config))
        mlflow.set_tag(runs.REPRODUCE_TAG, f"rnn-tracking rerun {run.info.run_id}")
        yield run


def log_datasets(splits: Splits) -> None:
    """Logs the train, validation and test splits as the run's MLflow inputs.

    Each split's digest is MLflow's digest of its encoded arrays; the source file's own
    content digest goes in the `data_digest` tag.
    """
    source = splits.source if splits.source != "keras" else "keras.datasets.imdb"
    for context, features, targets in (
        ("train", splits.x_train, splits.y_train),
        ("validation", splits.x_val, splits.y_val),
        ("test", splits.x_test, splits.y_test),
    ):
        dataset = mlflow.data.from_numpy(
            features, targets=targets, source=source_for(source), name=splits.name
        )
        mlflow.log_input(dataset, context=context)
    mlflow.set_tag(runs.DATA_DIGEST_TAG, splits.digest)


def source_for(source: str) -> mlflow.data.dataset_source.DatasetSource:
    """Returns an MLflow dataset source for a local path or the Keras download."""
    if source == "keras.datasets.imdb":
        from mlflow.data.http_dataset_source import HTTPDatasetSource

        return HTTPDatasetSource(
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
        )
    from mlflow.data.dataset_source_registry import resolve_dataset_source

    # MLflow registers one local source class per artifact scheme and warns that a plain
    # path matches several of them; they are the same class, so the warning says nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return resolve_dataset_source(str(Path(source).resolve()))


def log_learning_curves(history: dict[str, list[float]], directory: Path) -> None:
    """Logs the tutorial's plot: loss and accuracy per epoch, training against validation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["loss"]) + 1)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "accuracy"), strict=True):
        axis.plot(epochs, history[metric], label=f"training {metric}")
        axis.plot(epochs, history[f"val_{metric}"], label=f"validation {metric}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.legend()
    figure.tight_layout()
    path = directory / "learning_curves.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    mlflow.log_artifact(str(path))


def summarize_model(model: keras.Model) -> str:
    """Returns Keras's model summary as text."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    return "\n".join(lines)


def save_keras_model_into_new_directory(
    path: str, validate_serving_input: bool = True, **kwargs: Any
) -> None:
    """Saves an MLflow Keras model, creating `path` first.

    `mlflow.keras.save_model` writes the input example before it creates the model
    directory, so `mlflow.keras.log_model(..., input_example=...)` fails with
    FileNotFoundError (mlflow/mlflow#16183, open in MLflow 3.17). Creating the directory first
    is the fix proposed there; everything else is MLflow's own code. `Model.log` hands its
    `validate_serving_input` on to the flavor, whose `save_model` takes no such argument.
    """
    os.makedirs(path, exist_ok=True)
    mlflow.keras.save_model(path=path, **kwargs)


KERAS_FLAVOR = SimpleNamespace(
    __name__="mlflow.keras", save_model=save_keras_model_into_new_directory
)


def log_keras_model(model: keras.Model, example: np.ndarray) -> None:
    """Logs the best weights as an MLflow Keras model with a signature and an input example.

    The example is a (2, maxlen) int32 batch of encoded test reviews. Nothing is predicted
    here: the signature's output is (-1, outputs) float32 by the model's shape, and MLflow's
    check of the example (a fresh load and a predict of 2 rows) is off, because on JAX it
    compiled the model again for a shape nothing else uses, seconds per run.
    """
    example = np.asarray(example, dtype=np.int32)
    outputs = np.zeros((len(example), int(model.output_shape[-1])), dtype=np.float32)
    mlflow.models.Model.log(
        artifact_path=None,
        name=KERAS_MODEL_NAME,
        flavor=KERAS_FLAVOR,
        model=model,
        signature=infer_signature(example, outputs),
        input_example=example,
        validate_serving_input=False,
        pip_requirements=runs.list_model_requirements(runs.MODEL_PACKAGES),
    )


def format_class_order(classes: Sequence[str]) -> str:
    """Spells the `class_order` tag: `neg,pos`, or a JSON list when a name holds a comma."""
    if any("," in name or name.startswith("[") for name in classes):
        return json.dumps(list(classes), ensure_ascii=False)
    return ",".join(classes)


def parse_class_order(tag: str) -> tuple[str, ...]:
    """Reads a `class_order` tag in either spelling (older runs have only `neg,pos`)."""
    if tag.startswith("["):
        return tuple(json.loads(tag))
    return tuple(tag.split(","))


def log_classes(splits: Splits) -> None:
    """Records the class order: the `class_order` tag and `classes.json` with counts per split.

    The `classes` param keeps the option as given (`auto` by default); this is what it
    resolved to, the order of the model's outputs.
    """
    mlflow.set_tag(runs.CLASS_ORDER_TAG, format_class_order(splits.classes))
    counts = {
        split: np.bincount(labels, minlength=splits.num_classes).tolist()
        for split, labels in (
            ("train", splits.y_train),
            ("validation", splits.y_val),
            ("test", splits.y_test),
        )
    }
    mlflow.log_dict({"classes": list(splits.classes), "reviews": counts}, runs.CLASSES_ARTIFACT)


def log_training_result(config: TrainConfig, splits: Splits, result: TrainResult) -> None:
    """Logs the summary metrics and the artifacts of a finished training."""
    mlflow.log_metrics(result.summary_metrics())
    if result.test_probabilities is not None:
        log_test_predictions(
            config, splits.digest, splits.classes, splits.y_test, result.test_probabilities
        )
    mlflow.log_text(summarize_model(result.model), "model_summary.txt")
    with tempfile.TemporaryDirectory() as scratch:
        log_learning_curves(result.history, Path(scratch))
    log_keras_model(result.model, splits.x_test[:2])
    # The text-in model (raw review strings in) is what `predict`, `promote` and serving use.
    log_text_model(config, splits.vocabulary, result.model, splits.classes)


def log_checkpoint(checkpoint_path: Path) -> None:
    """Logs the best checkpoint written so far, if training got far enough to write one."""
    if checkpoint_path.exists():
        mlflow.log_artifact(str(checkpoint_path), artifact_path="checkpoints")


def log_resolved_config(config: TrainConfig) -> None:
    """Logs the config as JSON, with the data source that `data='auto'` resolved to."""
    resolved = dataclasses.asdict(config) | {"resolved_data": resolve_data_source(config)}
    mlflow.log_text(json.dumps(resolved, indent=2), "config.json")


def track_training(
    config: TrainConfig,
    splits: Splits,
    *,
    run_name: str | None = None,
    nested: bool = False,
    tags: dict[str, str] | None = None,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    killed_exceptions: tuple[type[BaseException], ...] = (),
    verbose: int = 0,
    embeddings: PreparedEmbeddings | None = None,
) -> tuple[str, TrainResult]:
    """Trains one model inside one MLflow run and returns the run id and the result.

    The best checkpoint is logged however the training ends, so an interrupted or failed run
    still keeps the best model it had. `embeddings` are the pretrained rows the CLI prepared
    (and checked) before; unset, they are prepared here from `config.embeddings`, before the
    run opens.
    """
    embeddings = embeddings or prepare_embeddings(config, splits)
    with start_tracked_run(
        config, run_name=run_name, nested=nested, tags=tags, killed_exceptions=killed_exceptions
    ) as run:
        run_id = run.info.run_id
        log_resolved_config(config)
        log_datasets(splits)
        log_classes(splits)
        if embeddings is not None:
            log_embeddings(embeddings, config)
        with tempfile.TemporaryDirectory() as scratch:
            checkpoint_path = Path(scratch) / CHECKPOINT_NAME
            try:
                result = train_model(
                    config,
                    splits,
                    checkpoint_path,
                    extra_callbacks=[MlflowEpochLogger(run_id), *extra_callbacks],
                    verbose=verbose,
                    embedding_matrix=embeddings.init.matrix if embeddings else None,
                )
            except TrainingDiverged as error:
                # The run ends FAILED (its `error` tag says why); this tag makes it findable.
                mlflow.set_tag(runs.DIVERGED_TAG, str(error.epoch))
                raise
            finally:
                log_checkpoint(checkpoint_path)
        log_training_result(config, splits, result)
    return run_id, result


# --- Seed repeats -------------------------------------------------------------------------

SEED_REPEATS_TAG = runs.SEED_REPEATS_TAG
SEED_REPEAT_OF_TAG = runs.SEED_REPEAT_OF_TAG
SEEDS_PARAM = runs.SEEDS_PARAM


def track_seed_repeats(
    runs: Sequence[tuple[TrainConfig, Splits]], *, verbose: int = 0
) -> tuple[str, list[tuple[str, TrainResult]]]:
    """Trains one config under several seeds: a parent run with one nested run per seed.

    `runs` holds (config, splits) per seed; the configs differ only in `seed`. Each child
    is exactly the run `train --seed s` would make, tagged `seed_repeat_of=<parent id>`.
    The parent (tagged `seed_repeats=N`, param `seeds=N`, the first seed as `seed`) trains
    nothing itself: it logs `<metric>_mean` and `<metric>_std` (ddof=1) of the children's
    summary metrics. Returns the parent's id and each child's (run id, result).
    """
    base = runs[0][0]
    tags = {SEED_REPEATS_TAG: str(len(runs))}
    name = f"{describe_run(base)}-{len(runs)}seeds"
    with start_tracked_run(base, run_name=name, tags=tags) as parent:
        parent_id = parent.info.run_id
        logged = MlflowClient().get_run(parent_id).data.params.get(SEEDS_PARAM)
        if logged is None:
            mlflow.log_param(SEEDS_PARAM, len(runs))
        results = []
        for config, splits in runs:
            keras.backend.clear_session()
            results.append(
                track_training(
                    config,
                    splits,
                    run_name=f"{describe_run(config)}-seed{config.seed}",
                    nested=True,
                    tags={SEED_REPEAT_OF_TAG: parent_id},
                    verbose=verbose,
                )
            )
        mlflow.log_metrics(summarize_repeats([result for _, result in results]))
    return parent_id, results


def summarize_repeats(results: Sequence[TrainResult]) -> dict[str, float]:
    """Returns the mean and sample std (ddof=1) of each summary metric over the repeats."""
    summary = {}
    for name in results[0].summary_metrics():
        values = np.array([result.summary_metrics()[name] for result in results], dtype=float)
        summary[f"{name}_mean"] = float(values.mean())
        summary[f"{name}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return summary
