"""One measurement of bench/train_speed.py, in a fresh interpreter: the tutorial's own code,
the platform's training tracked or untracked, or the data load. Each returns one JSON object."""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

SIDES = ("tutorial", "platform", "untracked")
# The tutorial's five models, each with the platform config that builds the same model.
MODELS = {
    "lstm": {"title": "LSTM(8)", "config": {"arch": "lstm"}},
    "lstm_dropout": {"title": "LSTM(8, dropout=0.3)", "config": {"arch": "lstm", "dropout": 0.3}},
    "lstm2": {
        "title": "2 x LSTM(8, dropout=0.3)",
        "config": {"arch": "lstm", "layers": 2, "dropout": 0.3},
    },
    "gru": {"title": "GRU(8)", "config": {"arch": "gru"}},
    "simplernn": {"title": "SimpleRNN(8)", "config": {"arch": "simplernn"}},
    # The best small-budget trial; the tutorial has no code for it, so it has no tutorial side.
    "best_small_budget": {
        "title": "2 x BiLSTM(26), max pooling (best small-budget)",
        "tutorial": False,
        "config": {
            "arch": "lstm",
            "layers": 2,
            "bidirectional": True,
            "units": 26,
            "pooling": "max",
            "embedding_dim": 59,
            "optimizer": "adam",
            "learning_rate": 3.2e-3,
            "weight_decay": 1e-3,
            "lr_schedule": "cosine",
            "batch_size": 32,
        },
    },
}
SEED = 42


def peak_memory_mb() -> float:
    """Returns this process's peak resident memory in MiB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_wall_clock():
    """Returns a callback that records when each epoch starts and when training ends.

    Appended after every other callback, the span from one epoch's start to the next holds
    the whole epoch: training, validation, checkpoint, early stopping and logging.
    """
    import keras

    class WallClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.marks: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.marks.append(time.perf_counter())

        def on_train_end(self, logs=None):
            self.marks.append(time.perf_counter())

        def epoch_seconds(self) -> list[float]:
            return [later - earlier for earlier, later in itertools.pairwise(self.marks)]

    return WallClock()


def load_data(data: str, settings: dict):
    """Returns the platform's splits of the data (read from the cache after the first load)."""
    from rnn_tracking.config import config_from_mapping
    from rnn_tracking.data import load_splits

    config = config_from_mapping({"data": data, "seed": SEED, **settings})
    return config, load_splits(config)


def build_tutorial_model(name: str):
    """The tutorial's model code, as it writes it (Keras 3 spelling)."""
    from keras.layers import GRU, LSTM, Dense, Embedding, SimpleRNN
    from keras.models import Sequential

    model = Sequential()
    model.add(Embedding(500, 16))
    if name == "lstm":
        model.add(LSTM(8))
    elif name == "lstm_dropout":
        model.add(LSTM(8, dropout=0.3))
    elif name == "lstm2":
        model.add(LSTM(8, dropout=0.3, return_sequences=True))
        model.add(LSTM(8, dropout=0.3))
    elif name == "gru":
        model.add(GRU(8))
    elif name == "simplernn":
        model.add(SimpleRNN(8))
    model.add(Dense(1, activation="sigmoid"))
    return model


def train_tutorial(name: str, splits, epochs: int, workdir: Path, clock) -> dict:
    """Trains the tutorial's model with the tutorial's compile, fit and callbacks."""
    import keras
    from keras.callbacks import EarlyStopping, ModelCheckpoint
    from keras.optimizers import RMSprop

    # The tutorial does not seed Keras; the benchmark does, so both sides start alike.
    keras.utils.set_random_seed(SEED)
    model = build_tutorial_model(name)
    model.compile(
        loss="binary_crossentropy", optimizer=RMSprop(learning_rate=1e-4), metrics=["accuracy"]
    )
    es = EarlyStopping(monitor="val_loss", patience=3)
    mc = ModelCheckpoint(str(workdir / "best_model.keras"), monitor="val_loss", save_best_only=True)
    history = model.fit(
        splits.x_train,
        splits.y_train,
        batch_size=64,
        epochs=epochs,
        validation_data=(splits.x_val, splits.y_val),
        callbacks=[es, mc, clock],
        verbose=0,
    )
    return {"val_accuracy": history.history["val_accuracy"]}


def time_epoch_logging(tracking) -> list[float]:
    """Makes tracking's per-epoch logger time its own calls; returns the list they go to.

    The time spent inside the logger is what tracking adds to each epoch on the training
    thread; unlike the difference of two noisy epoch medians, it is measured directly.
    """
    seconds: list[float] = []

    class TimedEpochLogger(tracking.MlflowEpochLogger):
        def on_epoch_end(self, epoch, logs=None):
            started = time.perf_counter()
            super().on_epoch_end(epoch, logs)
            seconds.append(time.perf_counter() - started)

    tracking.MlflowEpochLogger = TimedEpochLogger
    return seconds


def train_platform(config, splits, tracked: bool, workdir: Path, clock) -> dict:
    """Trains as `rnn-tracking train` does: with tracking on, or train_model alone."""
    if tracked:
        import mlflow

        from rnn_tracking import tracking

        mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
        mlflow.set_experiment("train-speed")
        logging_seconds = time_epoch_logging(tracking)
        _, result = tracking.track_training(config, splits, extra_callbacks=[clock])
        return {"val_accuracy": result.history["val_accuracy"], "logging": logging_seconds}
    from rnn_tracking.train import train_model

    result = train_model(config, splits, workdir / "best.keras", extra_callbacks=[clock])
    return {"val_accuracy": result.history["val_accuracy"]}


def run_child(args: argparse.Namespace) -> dict:
    """Runs one measurement in this (fresh) process and returns what it measured."""
    if args.child == "load":
        started = time.perf_counter()
        import rnn_tracking.data  # noqa: F401 - timed apart from the load itself.

        imported = time.perf_counter()
        _, splits = load_data(args.data, {"max_reviews": args.max_reviews})
        return {
            "seconds": time.perf_counter() - imported,
            "import_seconds": imported - started,
            "rows": [len(splits.x_train), len(splits.x_val), len(splits.x_test)],
        }
    settings = dict(MODELS[args.model]["config"], epochs=args.epochs)
    if args.max_reviews:
        settings["max_reviews"] = args.max_reviews
    if args.child != "tutorial":
        # The process runs Keras on $KERAS_BACKEND (the parent sets it); the config agrees.
        settings.update(parse_settings(args.set), backend=args.backend)
    config, splits = load_data(args.data, settings)
    clock = make_wall_clock()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        started = time.perf_counter()
        if args.child == "tutorial":
            measured = train_tutorial(args.model, splits, args.epochs, workdir, clock)
        else:
            measured = train_platform(config, splits, args.child == "platform", workdir, clock)
        total = time.perf_counter() - started
    return {
        **measured,
        "epoch_seconds": clock.epoch_seconds(),
        "total_seconds": total,
        "train_rows": len(splits.x_train),
        "peak_mb": peak_memory_mb(),
    }


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """Parses `--set name=value` pairs (platform config fields, e.g. jit_compile=false)."""
    settings = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--set: got {pair!r}; valid values look like jit_compile=false")
        settings[name] = value
    return settings
