"""Length bucketing against padding every batch to maxlen, at full-text settings, side by side.

Trains the same model twice with `rnn-tracking train`, once with `--bucketing none` (every
batch padded to maxlen, the tutorial's way) and once with `--bucketing length` (each batch
padded to one of at most 4 bucket widths), each in a fresh interpreter with its own MLflow
store, then reads what each run logged: seconds per epoch (train_seconds / epochs_run, so
the compiles of the extra bucket widths are counted), the best epoch's validation accuracy
and the test accuracy on the restored best weights. It prints one table and the ratio.

    .venv/bin/python bench/bucketing_speed.py                   # maxlen 400, 4 epochs, ~10 min
    .venv/bin/python bench/bucketing_speed.py --max-reviews 2000 --epochs 1 --maxlen 200
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = os.environ.get(
    "RNN_TRACKING_DATA", str(ROOT.parent / "shared" / "data" / "aclImdb_labeled.tar.gz")
)
# A one-layer GRU from the unconstrained space's range, at full-text lengths: the setting
# where most steps of most reviews are padding (the median review is ~230 tokens).
MODEL = {
    "arch": "gru",
    "units": "32",
    "embedding_dim": "64",
    "pooling": "max",
    "mask_zero": "true",
    "optimizer": "adam",
    "learning_rate": "0.003",
    "batch_size": "64",
    "seed": "42",
}
SIDES = ("none", "length")
METRICS = ("train_seconds", "epochs_run", "best_epoch", "best_val_accuracy", "test_accuracy")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="Data source (default: %(default)s).")
    parser.add_argument("--maxlen", type=int, default=400, help="Review length (default: 400).")
    parser.add_argument(
        "--num-words", type=int, default=10000, help="Vocabulary size (default: 10000)."
    )
    parser.add_argument("--epochs", type=int, default=4, help="Epochs per side (default: 4).")
    parser.add_argument(
        "--max-reviews", type=int, default=0, help="Reviews per split, 0 for all (default: 0)."
    )
    parser.add_argument("--backend", default="jax", help="Keras backend (default: jax).")
    args = parser.parse_args(argv)
    for name in ("maxlen", "num_words", "epochs"):
        if getattr(args, name) < 1:
            parser.error(
                f"--{name.replace('_', '-')}: got {getattr(args, name)}; valid values are integers >= 1"
            )
    return args


def train_side(bucketing: str, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    """Trains one side in a fresh interpreter with its own store; returns its logged metrics."""
    store = f"sqlite:///{folder / 'mlflow.db'}"
    options = {
        **MODEL,
        "data": args.data,
        "maxlen": str(args.maxlen),
        "num_words": str(args.num_words),
        "epochs": str(args.epochs),
        # Patience above the epochs: both sides run every epoch, so their speeds compare.
        "patience": str(args.epochs + 1),
        "max_reviews": str(args.max_reviews),
        "backend": args.backend,
        "bucketing": bucketing,
        "system_metrics": "false",
    }
    command = [sys.executable, "-m", "rnn_tracking", "train"]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", value]
    env = {**os.environ, "MLFLOW_TRACKING_URI": store, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    subprocess.run(command, cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    from mlflow.tracking import MlflowClient

    (run,) = MlflowClient(tracking_uri=store).search_runs(experiment_ids=["0"])
    numbers = {name: run.data.metrics.get(name, float("nan")) for name in METRICS}
    numbers["wall_seconds"] = wall
    numbers["seconds_per_epoch"] = numbers["train_seconds"] / numbers["epochs_run"]
    return numbers


def format_table(results: dict[str, dict[str, float]], args: argparse.Namespace) -> str:
    """The Markdown table of both sides and the speed-up of `length` over `none`."""
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores; backend {args.backend}; "
        f"maxlen {args.maxlen}, num_words {args.num_words}, {args.epochs} epochs, "
        f"max_reviews {args.max_reviews or 'all'}; model "
        + ", ".join(f"{k}={v}" for k, v in MODEL.items()),
        "",
        "| bucketing | s/epoch (incl. compiles) | best epoch | best val_accuracy | test_accuracy | wall s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for side, n in results.items():
        lines.append(
            f"| {side} | {n['seconds_per_epoch']:.1f} | {n['best_epoch']:.0f} | "
            f"{n['best_val_accuracy']:.4f} | {n['test_accuracy']:.4f} | {n['wall_seconds']:.0f} |"
        )
    ratio = results["none"]["seconds_per_epoch"] / results["length"]["seconds_per_epoch"]
    lines += ["", f"Epochs with bucketing=length are {ratio:.2f}x as fast as with none."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if Path(args.data).exists():
        args.data = str(Path(args.data).resolve())
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for side in SIDES:
            folder = Path(scratch) / side
            folder.mkdir()
            results[side] = train_side(side, args, folder)
            print(f"{side}: {results[side]['seconds_per_epoch']:.1f} s/epoch", flush=True)
    print(format_table(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
