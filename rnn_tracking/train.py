"""Training: compile, fit with the tutorial's callbacks, restore the best weights, test once.

This module knows nothing of MLflow or Optuna. It takes its data and any extra callbacks as
arguments, so a test can call it on toy arrays and the tracking and sweep code can observe
each epoch without this module knowing about them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from rnn_tracking.batching import LengthBuckets, as_fit_input
from rnn_tracking.config import TrainConfig
from rnn_tracking.data import Splits
from rnn_tracking.inference import predict_fixed_batches
from rnn_tracking.metrics import MACRO_F1, MacroF1, macro_f1, predict_classes
from rnn_tracking.model import build_model, build_optimizer

# Model selection follows the tutorial: EarlyStopping and ModelCheckpoint both watch val_loss.
SELECTION_METRIC = "val_loss"
# lr_schedule=plateau: halve the rate after one epoch without a better val_loss.
PLATEAU_FACTOR = 0.5
PLATEAU_PATIENCE = 1
# Two classes: one sigmoid output and binary cross-entropy (the tutorial); K >= 3: a
# softmax and sparse categorical cross-entropy on the class indices.
LOSS = "binary_crossentropy"
MULTICLASS_LOSS = "sparse_categorical_crossentropy"
METRICS = ["accuracy"]


def select_loss(num_classes: int) -> str:
    """Returns the Keras loss for `num_classes` classes."""
    return LOSS if num_classes == 2 else MULTICLASS_LOSS


def build_metrics(num_classes: int) -> list:
    """Returns the metrics of training and testing: accuracy and macro-F1."""
    return [*METRICS, MacroF1(num_classes)]


def count_outputs_classes(model: keras.Model) -> int:
    """Returns the number of classes a classifier predicts: 2 for one sigmoid output."""
    return max(2, int(model.output_shape[-1]))


@dataclass(frozen=True)
class TrainResult:
    """What one training produced, measured on the restored best weights.

    `history` maps each per-epoch metric (`loss`, `accuracy`, `macro_f1`, `val_loss`,
    `val_accuracy`, `val_macro_f1`, `epoch_seconds`) to one value per epoch run.
    `best_epoch` is 1-based.
    """

    model: keras.Model
    history: dict[str, list[float]]
    best_epoch: int
    best_val_loss: float
    best_val_accuracy: float
    test_loss: float
    test_accuracy: float
    train_seconds: float
    param_count: int
    best_val_macro_f1: float = float("nan")
    test_macro_f1: float = float("nan")
    # The restored model's output on each test review, in test-split order: (n,) float32
    # probabilities of class 1 for two classes, (n, K) class probabilities for K >= 3.
    test_probabilities: np.ndarray | None = None

    @property
    def epochs_run(self) -> int:
        return len(self.history.get("loss", []))

    def summary_metrics(self) -> dict[str, float]:
        """Returns the run's summary metrics under the names MLflow and the report use."""
        return {
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
            "best_val_accuracy": self.best_val_accuracy,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
            "train_seconds": self.train_seconds,
            "param_count": self.param_count,
            "epochs_run": self.epochs_run,
            "best_val_macro_f1": self.best_val_macro_f1,
            "test_macro_f1": self.test_macro_f1,
        }


class EpochTimer(keras.callbacks.Callback):
    """Adds `epoch_seconds`, the wall time of each epoch, to the epoch's logs.

    It must come before the callbacks that read the logs (they all receive the same dict).
    """

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._started


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite: the weights are garbage, not a result.

    Raised after the fit stops, so the caller still has the checkpoint of the best epoch
    before the divergence; a tracked run ends FAILED with the reason in its tags.
    """

    def __init__(self, epoch: int, config: TrainConfig) -> None:
        super().__init__(
            f"the loss became non-finite in epoch {epoch} ({config.optimizer}, learning_rate "
            f"{config.learning_rate:g}); valid values are a smaller learning_rate, or another "
            "optimizer"
        )
        self.epoch = epoch


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training at the first non-finite loss and remembers the epoch (1-based).

    Keras' TerminateOnNaN stops as well but records nothing, so a diverged fit would look
    like one that ended early. Batches are checked as Keras reports them (every
    `steps_per_execution`-th), and the epoch's losses once more at its end.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 0
        self.diverged_epoch: int | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.check((logs or {}).get("loss"))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for name in ("loss", "val_loss"):
            self.check((logs or {}).get(name))

    def check(self, loss: float | None) -> None:
        if loss is not None and not np.isfinite(loss) and self.diverged_epoch is None:
            self.diverged_epoch = self.epoch
            self.model.stop_training = True


def compile_model(
    config: TrainConfig,
    steps_per_epoch: int | None = None,
    num_classes: int = 2,
    embedding_matrix: np.ndarray | None = None,
) -> keras.Model:
    """Seeds everything from the config, then builds and compiles the classifier for training.

    `steps_per_epoch` (batches per epoch) sizes the cosine schedule, when there is one;
    `num_classes` picks the output layer and the loss; `embedding_matrix` (pretrained rows,
    num_words x embedding_dim) starts the embedding.

    `jit_compile` and `steps_per_execution` change how fast Keras runs the steps, not what
    they compute (docs/speed.md; tests/unit/test_speed_equivalence.py).
    """
    keras.utils.set_random_seed(config.seed)
    model = build_model(config, num_classes, embedding_matrix)
    model.compile(
        optimizer=build_optimizer(config, steps_per_epoch),
        loss=select_loss(num_classes),
        metrics=build_metrics(num_classes),
        jit_compile=config.jit_compile,
        steps_per_execution=config.steps_per_execution,
    )
    return model


def compile_for_inference(model: keras.Model) -> None:
    """Recompiles a trained model for inference, keeping its optimizer, weights and loss.

    One step per call into the predict function (`predict_fixed_batches` hands it one batch
    at a time), and Keras's `auto` compile, which the saved model records: XLA on JAX (its
    only compiled path; without it every recurrent `scan` is lowered again at each call) and
    a TensorFlow graph without XLA on a CPU. Its metrics are plain accuracy, so the saved
    model loads without this package.
    """
    model.compile(
        optimizer=model.optimizer,
        loss=select_loss(count_outputs_classes(model)),
        metrics=METRICS,
        jit_compile="auto",
        steps_per_execution=1,
    )


def score_test_split(
    model: keras.Model, splits: Splits, batch_size: int
) -> tuple[dict[str, float], np.ndarray]:
    """Returns the test split's loss, accuracy and macro-F1, and the model's outputs (n, 1)
    or (n, K), from predictions made in fixed-size batches (one compiled shape; see
    rnn_tracking.inference). The outputs are the per-review predictions the promotion gate
    pairs between models, so they cost no second pass over the test split.

    The loss is Keras's own (its clipping and float32 arithmetic); accuracy counts a sigmoid
    output above 0.5 as class 1, as Keras's binary accuracy does.
    """
    num_classes = count_outputs_classes(model)
    outputs = predict_fixed_batches(model, splits.x_test, batch_size)
    labels = np.asarray(splits.y_test)
    loss_function = keras.losses.get(select_loss(num_classes))
    truth = labels.reshape(-1, 1) if num_classes == 2 else labels
    loss = float(
        np.mean(keras.ops.convert_to_numpy(loss_function(truth, outputs.astype("float32"))))
    )
    if num_classes == 2:
        predicted = (outputs[:, 0] > 0.5).astype(np.int64)
    else:
        predicted = outputs.argmax(axis=-1)
    scores = {
        "loss": loss,
        "accuracy": float(np.mean(predicted == labels)),
        MACRO_F1: macro_f1(labels, predict_classes(outputs), num_classes),
    }
    return scores, outputs


def build_callbacks(config: TrainConfig, checkpoint_path: Path) -> list[keras.callbacks.Callback]:
    """Returns the tutorial's callbacks (best-only checkpoint, early stopping on val_loss),
    and ReduceLROnPlateau when `lr_schedule=plateau`."""
    return [
        EpochTimer(),
        keras.callbacks.ModelCheckpoint(
            str(checkpoint_path), monitor=SELECTION_METRIC, save_best_only=True
        ),
        *build_selection_callbacks(config),
    ]


def build_selection_callbacks(config: TrainConfig) -> list[keras.callbacks.Callback]:
    """Returns the callbacks that decide a training's result: early stopping on val_loss
    with the best weights restored, then ReduceLROnPlateau when `lr_schedule=plateau`.

    The benchmarks train their peers' models with exactly these (bench/peers).
    """
    schedule = []
    if config.lr_schedule == "plateau":
        # Halve the rate after one epoch without progress: it acts before early stopping
        # (patience 3 by default) ends the run.
        schedule.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=SELECTION_METRIC, factor=PLATEAU_FACTOR, patience=PLATEAU_PATIENCE
            )
        )
    return [
        keras.callbacks.EarlyStopping(
            monitor=SELECTION_METRIC, patience=config.patience, restore_best_weights=True
        ),
        *schedule,
    ]


def select_best_epoch(history: dict[str, list[float]]) -> int:
    """Returns the 0-based epoch with the lowest finite val_loss, the one EarlyStopping keeps."""
    losses = np.asarray(history[SELECTION_METRIC], dtype=float)
    losses = np.where(np.isfinite(losses), losses, np.inf)
    return int(np.argmin(losses))


def count_batches(splits: Splits, config: TrainConfig) -> int:
    """Returns the number of training batches per epoch (the last one may be short)."""
    if config.bucketing == "length":
        return len(make_buckets(splits, config))
    return max(1, -(-len(splits.y_train) // config.batch_size))


def make_buckets(splits: Splits, config: TrainConfig) -> LengthBuckets:
    """Returns the training split in length buckets, seeded from the config (see batching)."""
    return LengthBuckets(
        splits.x_train,
        splits.y_train,
        config.batch_size,
        padding=config.padding,
        seed=config.seed,
        steps_per_execution=config.steps_per_execution,
    )


def train_model(
    config: TrainConfig,
    splits: Splits,
    checkpoint_path: Path,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
    model: keras.Model | None = None,
    embedding_matrix: np.ndarray | None = None,
) -> TrainResult:
    """Fits a model on the training split, selects on validation and evaluates test once.

    The best epoch's model is written to `checkpoint_path` (a `.keras` file) as training goes,
    so an interrupted run still has it. `extra_callbacks` run after the built-in ones and see
    `epoch_seconds` in the logs. Pass `model` to train an already compiled model instead;
    `embedding_matrix` starts the embedding from pretrained rows. With `bucketing=length`
    the training batches come from `LengthBuckets`; validation stays at maxlen.
    """
    model = model or compile_model(
        config,
        steps_per_epoch=count_batches(splits, config),
        num_classes=splits.num_classes,
        embedding_matrix=embedding_matrix,
    )
    if config.bucketing == "length":
        inputs = {"x": as_fit_input(make_buckets(splits, config))}
    else:
        inputs = {"x": splits.x_train, "y": splits.y_train, "batch_size": config.batch_size}
    # The guard comes first, so that a diverged epoch stops before anything else reads it.
    guard = DivergenceGuard()
    callbacks = [guard, *build_callbacks(config, checkpoint_path), *extra_callbacks]
    started = time.perf_counter()
    fit_history = model.fit(
        **inputs,
        validation_data=(splits.x_val, splits.y_val),
        validation_batch_size=config.batch_size,
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    train_seconds = time.perf_counter() - started
    if guard.diverged_epoch is not None:
        raise TrainingDiverged(guard.diverged_epoch, config)
    history = {name: [float(v) for v in values] for name, values in fit_history.history.items()}
    if not history.get(SELECTION_METRIC):
        raise RuntimeError("training ran no complete epoch")
    best = select_best_epoch(history)
    compile_for_inference(model)
    # EarlyStopping has restored the best weights, so this is the one look at the test split.
    tested, probabilities = score_test_split(model, splits, config.batch_size)
    val_macro_f1 = history.get(f"val_{MACRO_F1}")
    return TrainResult(
        model=model,
        history=history,
        best_epoch=best + 1,
        best_val_loss=history["val_loss"][best],
        best_val_accuracy=history["val_accuracy"][best],
        test_loss=float(tested["loss"]),
        test_accuracy=float(tested["accuracy"]),
        train_seconds=train_seconds,
        param_count=int(model.count_params()),
        best_val_macro_f1=float(val_macro_f1[best]) if val_macro_f1 else float("nan"),
        test_macro_f1=float(tested.get(MACRO_F1, float("nan"))),
        test_probabilities=squeeze_probabilities(probabilities),
    )


def squeeze_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Returns float32 probabilities: (n,) for one sigmoid output, else (n, K)."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.ndim == 2 and probabilities.shape[1] == 1:
        return probabilities[:, 0]
    return probabilities
