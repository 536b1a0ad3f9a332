"""Training speed: the tutorial's plain Keras code against the platform, side by side.

One command times, on the same data, the same machine and in one run:

- `tutorial`: the Keras IMDB tutorial's own code (Sequential, Embedding(500, 16), the
  recurrent layer, Dense(1, sigmoid), RMSprop(1e-4), batch 64, ModelCheckpoint and
  EarlyStopping), fed the platform's encoded arrays so the data are the same;
- `platform`: the platform's `rnn-tracking train` path, `tracking.track_training`, with
  MLflow tracking on (a temporary SQLite store);
- `untracked`: the same platform training with tracking off (`train.train_model`), for the
  tracking overhead.

Every training runs in its own subprocess, so peak memory (ru_maxrss) is per side, and the
sides run interleaved (tutorial, platform, untracked, tutorial, ...) so that load from
other processes hits them alike. Seconds per epoch are the median over the epochs after
the warm-up ones, measured from one epoch's start to the next's, so they include
validation, checkpointing and per-epoch logging. It also times the first (empty cache)
and the cached load of the full dataset. It prints a Markdown table and writes it to
--out.

The tutorial side is always TensorFlow's plain Keras code (a TensorFlow tutorial); the
platform sides run once per backend of --backends, interleaved with it.

    .venv/bin/python bench/train_speed.py --epochs 3 --models lstm --max-reviews 1000 \
        --skip-load --backends tensorflow,jax                              # a smoke test
    .venv/bin/python bench/train_speed.py --backends tensorflow,jax --repeats 2 \
        --out docs/speed-run.md                                            # ~1 h
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, Python puts bench/ on the path, not the project folder the rooms are in.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.speed.children import MODELS, SIDES, run_child  # noqa: E402
from bench.speed.render import describe_machine, format_report  # noqa: E402
from rnn_tracking.backend import INSTALL_HINTS, is_installed  # noqa: E402
from rnn_tracking.config import BACKENDS  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "aclImdb_labeled.tar.gz"


def spawn(kind: str, args: argparse.Namespace, env: dict, model: str = "") -> dict:
    """Runs one child measurement in a fresh interpreter and returns its JSON result."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            kind,
            "--child-out",
            str(out),
            "--data",
            args.data,
            "--epochs",
            str(args.epochs),
            "--max-reviews",
            str(args.max_reviews),
            "--backend",
            env["KERAS_BACKEND"],
        ]
        command += ["--model", model] if model else []
        for pair in args.set:
            command += ["--set", pair]
        completed = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if completed.returncode != 0:
            raise SystemExit(f"{kind} {model} failed:\n{completed.stderr[-3000:]}")
        return json.loads(out.read_text())


def median_after_warmup(runs: list[dict], warmup: int) -> float:
    """Median seconds per epoch over every repeat's epochs after the first `warmup`."""
    seconds = [s for run in runs for s in run["epoch_seconds"][warmup:]]
    if not seconds:
        raise SystemExit(f"--epochs must exceed --warmup ({warmup}) to time any epoch")
    return statistics.median(seconds)


def summarize(runs: list[dict], warmup: int) -> dict:
    """Reduces one side's repeats to the table's numbers."""
    per_epoch = median_after_warmup(runs, warmup)
    return {
        "per_epoch": per_epoch,
        "samples": runs[0]["train_rows"] / per_epoch,
        "warmup": statistics.median(sum(run["epoch_seconds"][:warmup]) for run in runs),
        "first": statistics.median(run["epoch_seconds"][0] for run in runs),
        "total": statistics.median(run["total_seconds"] for run in runs),
        "peak_mb": max(run["peak_mb"] for run in runs),
        "val_accuracy": statistics.mean(run["val_accuracy"][-1] for run in runs),
        "epochs": [round(s, 2) for run in runs for s in run["epoch_seconds"]],
        "logging": statistics.median(s for run in runs for s in run.get("logging", [0.0])),
    }


def run_benchmark(args: argparse.Namespace) -> str:
    """Runs every measurement, interleaved, and returns the Markdown report."""
    started = time.perf_counter()
    started_machine = describe_machine()
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
        env["RNN_TRACKING_CACHE"] = str(Path(scratch) / "cache")
        for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
            env.pop(name, None)
        loads = []
        if not args.skip_load:
            for label in ("first load", "cached load"):
                loads.append(spawn("load", args, env))
                print(f"{label}: {loads[-1]['seconds']:.2f} s", file=sys.stderr)
        raw: dict[str, dict[str, list[dict]]] = {}
        for repeat in range(args.repeats):
            for model in args.models:
                for side, backend in list_sides(args, model):
                    run = spawn(side, args, {**env, "KERAS_BACKEND": backend}, model)
                    key = side if side == "tutorial" else f"{side}@{backend}"
                    raw.setdefault(model, {}).setdefault(key, []).append(run)
                    shown = [round(s, 2) for s in run["epoch_seconds"]]
                    print(
                        f"repeat {repeat + 1} {model} {key}: epochs {shown}, run "
                        f"{run['total_seconds']:.1f} s, peak {run['peak_mb']:,.0f} MiB",
                        file=sys.stderr,
                    )
    results = {
        model: {side: summarize(runs, args.warmup) for side, runs in sides.items()}
        for model, sides in raw.items()
    }
    ended = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return format_report(
        args, results, loads, started_machine, ended, time.perf_counter() - started
    )


def list_sides(args: argparse.Namespace, model: str) -> list[tuple[str, str]]:
    """The (side, backend) pairs one repeat of `model` runs, in order: the tutorial on
    TensorFlow (where the model has tutorial code), then each platform side per backend."""
    pairs = []
    for side in args.sides:
        if side == "tutorial":
            if MODELS[model].get("tutorial", True):
                pairs.append((side, "tensorflow"))
        else:
            pairs += [(side, backend) for backend in args.backends]
    return pairs


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="aclImdb tar/dir or CSV.")
    parser.add_argument("--epochs", type=int, default=8, help="Epochs per training (default 8).")
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="Leading epochs left out of the median (default 2: XLA may compile again in the "
        "second epoch).",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="Interleaved repeats of every side (default 1)."
    )
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"Comma-separated, from {', '.join(MODELS)} (default: all).",
    )
    parser.add_argument(
        "--sides",
        default=",".join(SIDES),
        help=f"Comma-separated, from {', '.join(SIDES)} (default: all).",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="A platform config setting for both platform sides, e.g. jit_compile=false.",
    )
    parser.add_argument(
        "--backends",
        default="tensorflow,jax",
        help=f"Comma-separated Keras backends of the platform sides, from {', '.join(BACKENDS)} "
        "(default: tensorflow,jax); the tutorial side is always TensorFlow's plain Keras code.",
    )
    parser.add_argument(
        "--max-reviews",
        type=int,
        default=0,
        help="Use only the first N reviews of each split, on every side (default 0: all).",
    )
    parser.add_argument("--skip-load", action="store_true", help="Skip the data-load timing.")
    parser.add_argument("--out", type=Path, help="Also write the Markdown report here.")
    parser.add_argument("--child", choices=("load", *SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=tuple(MODELS), help=argparse.SUPPRESS)
    parser.add_argument("--backend", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = argv
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    checks = (("models", args.models, MODELS), ("sides", args.sides, SIDES))
    for name, values, valid in (*checks, ("backends", args.backends, BACKENDS)):
        unknown = [v for v in values if v not in valid]
        if unknown:
            parser.error(f"--{name}: got {unknown[0]!r}; valid values are {', '.join(valid)}")
    if args.epochs <= args.warmup:
        parser.error(f"--epochs: got {args.epochs}; valid values exceed --warmup ({args.warmup})")
    missing = [b for b in args.backends if not is_installed(b)]
    if missing and not args.child:
        parser.error(f"--backends: {missing[0]} is not installed; {INSTALL_HINTS[missing[0]]}")
    args.data = str(Path(args.data).resolve())
    args.data_label = os.path.relpath(args.data, ROOT)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        args.child_out.write_text(json.dumps(run_child(args)))
        return 0
    if not Path(args.data).exists():
        raise SystemExit(f"--data: {args.data} does not exist; pass an aclImdb tar/dir or CSV")
    report = run_benchmark(args)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
