"""A sweep trial's fixed cost, part by part: what a trial pays before and after its epochs.

A sweep worker is one process that runs trial after trial. This bench runs, in fresh
subprocesses, what a worker does for each trial (`sweep.trials.TrialRunner` through
`tracking.track_training`) with a stopwatch on each part, at the tutorial's budget
(num_words 500, maxlen 100, LSTM(8)) on a sample of the reviews, per Keras backend:

- `imports`: TensorFlow, Keras, MLflow and Optuna (once per worker, not per trial);
- `data`: the encoded splits from the disk cache (once per worker: `SplitsCache` keeps them);
- `run setup`: opening the trial's MLflow run, its params, config and datasets;
- `build`: building and compiling the Keras model;
- `warm-up`: the first epoch's seconds above a later epoch's (tracing and XLA compiling);
- `epochs`: the trial's epochs at the later epochs' speed (the useful work);
- `log models`: the Keras model and the served text model, for a trial that completes;
- `log rest`: the summary metrics, model summary and learning curves.

Each side is one worker process running two trials with different units (8, then 16), so
the second trial shows what every trial after the first pays in a warm worker. The sides:

- `xla`: jit_compile on (the default);
- `eager graph`: jit_compile off;
- `xla + cache (cold)` and `xla + cache (warm)`: jit_compile on with TensorFlow's persistent
  XLA cache (TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=...), first in an empty cache
  directory, then in a second process that finds the same programs there.

Every side runs once per backend of --backends (default tensorflow,jax), the sides with
TensorFlow's XLA cache on TensorFlow only.

    .venv/bin/python bench/trial_cost.py --backends tensorflow,jax      # ~10 min on 2 CPU cores
    .venv/bin/python bench/trial_cost.py --max-reviews 300 --epochs 2 --sides xla \
        --backends tensorflow,jax                                      # a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "aclImdb_labeled.tar.gz"
PARTS = ("run setup", "build", "warm-up", "log models", "log rest")
SIDES = {
    "xla": {"jit_compile": True, "cache": False},
    "eager graph": {"jit_compile": False, "cache": False},
    "xla + cache (cold)": {"jit_compile": True, "cache": True},
    "xla + cache (warm)": {"jit_compile": True, "cache": True},
}
XLA_CACHE_FLAGS = (
    "--tf_xla_persistent_cache_directory={directory} --tf_xla_disable_strict_signature_checks=true"
)


def run_child(arguments: argparse.Namespace) -> None:
    """Runs two trials in this process and writes each part's seconds as JSON to --child-out."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import mlflow

    from rnn_tracking import tracking
    from rnn_tracking.config import TrainConfig
    from rnn_tracking.data import load_splits
    from rnn_tracking.serving import log_text_model
    from rnn_tracking.train import compile_model, count_batches, train_model

    imports = time.perf_counter() - STARTED
    base = TrainConfig(
        data=arguments.data,
        max_reviews=arguments.max_reviews,
        epochs=arguments.epochs,
        patience=arguments.epochs,
        jit_compile=arguments.jit_compile,
        backend=arguments.backend,
    )
    started = time.perf_counter()
    splits = load_splits(base)
    data_seconds = time.perf_counter() - started
    mlflow.set_tracking_uri(f"sqlite:///{arguments.store}/mlflow.db")
    trials = []
    for units in (8, 16):
        config = TrainConfig(**{**base.__dict__, "units": units})
        parts: dict[str, float] = {}
        clock = time.perf_counter()
        with tracking.start_tracked_run(config, run_name=f"units-{units}"):
            tracking.log_resolved_config(config)
            tracking.log_datasets(splits)
            parts["run setup"] = time.perf_counter() - clock
            clock = time.perf_counter()
            model = compile_model(config, steps_per_epoch=count_batches(splits, config))
            parts["build"] = time.perf_counter() - clock
            with tempfile.TemporaryDirectory() as scratch:
                result = train_model(config, splits, Path(scratch) / "best.keras", model=model)
            epoch_seconds = result.history["epoch_seconds"]
            later = sorted(epoch_seconds[1:])[len(epoch_seconds[1:]) // 2]
            parts["warm-up"] = max(0.0, epoch_seconds[0] - later)
            parts["epochs"] = later * len(epoch_seconds)
            parts["fit and test"] = result.train_seconds
            clock = time.perf_counter()
            tracking.log_keras_model(result.model, splits.x_test[:2])
            log_text_model(config, splits.vocabulary, result.model)
            parts["log models"] = time.perf_counter() - clock
            clock = time.perf_counter()
            mlflow.log_metrics(result.summary_metrics())
            mlflow.log_text(tracking.summarize_model(result.model), "model_summary.txt")
            with tempfile.TemporaryDirectory() as scratch:
                tracking.log_learning_curves(result.history, Path(scratch))
            parts["log rest"] = time.perf_counter() - clock
        trials.append({"units": units, **parts})
    Path(arguments.child_out).write_text(
        json.dumps({"imports": imports, "data": data_seconds, "trials": trials})
    )


def run_side(
    name: str, backend: str, arguments: argparse.Namespace, store: Path, cache: Path
) -> dict:
    """Runs one side on `backend` in a fresh interpreter and returns its JSON."""
    side = SIDES[name]
    out = store / f"{backend}_{name.replace(' ', '_')}.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), KERAS_BACKEND=backend)
    if side["cache"]:
        env["TF_XLA_FLAGS"] = XLA_CACHE_FLAGS.format(directory=cache)
    command = [
        sys.executable,
        __file__,
        "--child-out",
        str(out),
        "--store",
        str(store),
        "--data",
        arguments.data,
        "--max-reviews",
        str(arguments.max_reviews),
        "--epochs",
        str(arguments.epochs),
        "--jit-compile" if side["jit_compile"] else "--no-jit-compile",
        "--backend",
        backend,
    ]
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    return json.loads(out.read_text())


def format_table(results: dict[str, dict], epochs: int) -> str:
    """Returns a Markdown table: one row per side and trial, each part's seconds."""
    header = ["side", "trial", *PARTS, "fixed", f"{epochs} epochs", "fixed share"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 2 + "---:|" * (len(header) - 2)]
    for name, result in results.items():
        for number, trial in enumerate(result["trials"]):
            fixed = sum(trial[part] for part in PARTS)
            share = fixed / (fixed + trial["epochs"])
            cells = [name, f"{number + 1} (units={trial['units']})"]
            cells += [f"{trial[part]:.1f}" for part in PARTS]
            cells += [f"{fixed:.1f}", f"{trial['epochs']:.1f}", f"{share:.0%}"]
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Once per worker: "
        + "; ".join(
            f"{name}: imports {result['imports']:.1f} s, data {result['data']:.1f} s"
            for name, result in results.items()
        )
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("RNN_TRACKING_DATA", str(DEFAULT_DATA)))
    parser.add_argument("--max-reviews", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sides", default=",".join(SIDES))
    parser.add_argument(
        "--backends", default="tensorflow,jax", help="Keras backends, comma-separated"
    )
    parser.add_argument("--backend", default="tensorflow", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="also write the table to this Markdown file")
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=True)
    arguments = parser.parse_args()
    if arguments.child_out:
        run_child(arguments)
        return
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        store, cache = Path(scratch) / "store", Path(scratch) / "xla-cache"
        store.mkdir()
        cache.mkdir()
        for backend in arguments.backends.split(","):
            for name in arguments.sides.split(","):
                if SIDES[name]["cache"] and backend != "tensorflow":
                    continue  # TF_XLA_FLAGS sets TensorFlow's XLA cache only.
                results[f"{backend}: {name}"] = run_side(name, backend, arguments, store, cache)
                print(f"{backend}: {name}: done", flush=True)
    table = format_table(results, arguments.epochs)
    print(table)
    if arguments.out:
        Path(arguments.out).write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
