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

    .venv/bin/python bench/train_speed.py --epochs 4 --models lstm          # ~1.5 min
    .venv/bin/python bench/train_speed.py --repeats 2 --out docs/speed-run.md  # ~25 min
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "aclImdb_labeled.tar.gz"
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
}
SEED = 42


# ---------------------------------------------------------------------------------------
# Children: each runs in a fresh interpreter and writes one JSON object to --child-out.
# ---------------------------------------------------------------------------------------


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
        _, splits = load_data(args.data, {})
        return {
            "seconds": time.perf_counter() - imported,
            "import_seconds": imported - started,
            "rows": [len(splits.x_train), len(splits.x_val), len(splits.x_test)],
        }
    settings = dict(MODELS[args.model]["config"], epochs=args.epochs)
    if args.child != "tutorial":
        settings.update(parse_settings(args.set))
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


# ---------------------------------------------------------------------------------------
# Parent: runs the children interleaved and writes the table.
# ---------------------------------------------------------------------------------------


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """Parses `--set name=value` pairs (platform config fields, e.g. jit_compile=false)."""
    settings = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--set: got {pair!r}; valid values look like jit_compile=false")
        settings[name] = value
    return settings


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
        "total": statistics.median(run["total_seconds"] for run in runs),
        "peak_mb": max(run["peak_mb"] for run in runs),
        "val_accuracy": statistics.mean(run["val_accuracy"][-1] for run in runs),
        "epochs": [round(s, 2) for run in runs for s in run["epoch_seconds"]],
        "logging": statistics.median(s for run in runs for s in run.get("logging", [0.0])),
    }


def describe_machine() -> str:
    """One line naming the CPU, the cores, the load and the library versions."""
    import importlib.metadata as metadata

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("tensorflow", "keras", "mlflow")
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, load average {load}; {versions}"


def format_report(args, results, loads, started_machine, ended_machine, seconds) -> str:
    """Renders the Markdown report: speed table, tracking overhead, data load."""
    lines = [
        f"Command: `python bench/train_speed.py {' '.join(args.argv)}`",
        "",
        f"Machine at start: {started_machine}.",
        f"Load average at end: {ended_machine}. Benchmark wall time: {seconds / 60:.1f} min.",
        "",
        f"Seconds per epoch: median over epochs {args.warmup + 1}..{args.epochs} of "
        f"{args.repeats} repeat(s), each side in its own subprocess, interleaved. "
        "Samples/s counts training reviews; each epoch also validates. Speed-up = tutorial "
        "s/epoch / platform s/epoch. Warm-up = the first epochs left out of the median, "
        "summed: graph building and XLA compiling happen there.",
        "",
        "| model | tutorial s/epoch | platform s/epoch | speed-up | tutorial samples/s "
        "| platform samples/s | warm-up s (tut / plat) | run total s (tut / plat) "
        "| peak MiB (tut / plat) | final val_accuracy (tut / plat) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, sides in results.items():
        tut, plat = sides.get("tutorial"), sides.get("platform")
        if not (tut and plat):
            continue
        lines.append(
            f"| {MODELS[model]['title']} | {tut['per_epoch']:.2f} | {plat['per_epoch']:.2f} "
            f"| **{tut['per_epoch'] / plat['per_epoch']:.2f}x** | {tut['samples']:,.0f} "
            f"| {plat['samples']:,.0f} | {tut['warmup']:.1f} / {plat['warmup']:.1f} "
            f"| {tut['total']:.1f} / {plat['total']:.1f} "
            f"| {tut['peak_mb']:,.0f} / {plat['peak_mb']:,.0f} "
            f"| {tut['val_accuracy']:.4f} / {plat['val_accuracy']:.4f} |"
        )
    lines += [
        "",
        "Tracking overhead (target: at most 3% per epoch). Measured two ways: the time the "
        "training thread spends in the per-epoch MLflow logger (median per epoch, as a share "
        "of the tracked epoch), and the tracked epoch median against the same training "
        "with tracking off (noisy on a shared machine). The run total adds the one-off "
        "logging of datasets, model, plots and checkpoint.",
        "",
        "| model | logger s/epoch | logger share | tracking off s/epoch | tracking on s/epoch "
        "| on / off | run total s (off / on) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model, sides in results.items():
        off, on = sides.get("untracked"), sides.get("platform")
        if not (off and on):
            continue
        overhead = (on["per_epoch"] / off["per_epoch"] - 1) * 100
        share = on["logging"] / on["per_epoch"] * 100
        lines.append(
            f"| {MODELS[model]['title']} | {on['logging']:.4f} | {share:.2f}% "
            f"| {off['per_epoch']:.2f} | {on['per_epoch']:.2f} | {overhead:+.1f}% "
            f"| {off['total']:.1f} / {on['total']:.1f} |"
        )
    if loads:
        first, cached = loads
        lines += [
            "",
            f"Data load of `{args.data_label}` ({' / '.join(f'{n:,}' for n in first['rows'])} "
            "train / val / test reviews), `load_splits` in a fresh process "
            "(target for the cached load: under 1 s):",
            "",
            "| load | seconds |",
            "|---|---:|",
            f"| first (empty cache: read, tokenize, encode, write cache) | {first['seconds']:.2f} |",
            f"| cached | {cached['seconds']:.2f} |",
            f"| (importing rnn_tracking.data before the cached load) "
            f"| {cached['import_seconds']:.2f} |",
        ]
    lines += ["", "Epoch seconds as measured, all repeats in order:", ""]
    for model, sides in results.items():
        for side, summary in sides.items():
            lines.append(f"- {model} {side}: {summary['epochs']}")
    return "\n".join(lines) + "\n"


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
                for side in args.sides:
                    run = spawn(side, args, env, model)
                    raw.setdefault(model, {}).setdefault(side, []).append(run)
                    shown = [round(s, 2) for s in run["epoch_seconds"]]
                    print(f"repeat {repeat + 1} {model} {side}: {shown}", file=sys.stderr)
    results = {
        model: {side: summarize(runs, args.warmup) for side, runs in sides.items()}
        for model, sides in raw.items()
    }
    ended = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return format_report(
        args, results, loads, started_machine, ended, time.perf_counter() - started
    )


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
    parser.add_argument("--skip-load", action="store_true", help="Skip the data-load timing.")
    parser.add_argument("--out", type=Path, help="Also write the Markdown report here.")
    parser.add_argument("--child", choices=("load", *SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=tuple(MODELS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = argv
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    for name, values, valid in (("models", args.models, MODELS), ("sides", args.sides, SIDES)):
        unknown = [v for v in values if v not in valid]
        if unknown:
            parser.error(f"--{name}: got {unknown[0]!r}; valid values are {', '.join(valid)}")
    if args.epochs <= args.warmup:
        parser.error(f"--epochs: got {args.epochs}; valid values exceed --warmup ({args.warmup})")
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
