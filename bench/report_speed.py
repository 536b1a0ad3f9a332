"""How fast is a report over 1,000 and 10,000 runs in a SQLite tracking store? Targets: the whole
`rnn-tracking report` in a fresh interpreter, imports included, in under 3 s over 1,000 runs
and under 15 s over 10,000 (issue 21).

    .venv/bin/python bench/report_speed.py [--runs 1000,10000] [--repeats 3]
        [--baseline-tree PATH] [--store-dir DIR]

For each size it fills a SQLite store through MLflow's public API (one `log_batch` per run,
with every config field as a param, the summary metrics and 10 epochs of per-epoch metrics,
as a training run logs them; `--store-dir` keeps the stores and reuses them, since 10,000
runs take minutes to fill), then times:

- the whole command in a fresh interpreter (`python -m rnn_tracking report`), imports
  included: the targets. With `--baseline-tree PATH` (a checkout of older code, e.g.
  `git worktree add /tmp/report-old <commit>`), the same command with PYTHONPATH=PATH is
  timed too, interleaved with this tree's, and the ratio printed: both on the same store,
  the same machine and the same load;
- in this process, `build_report` + `render_terminal` (the per-run table), and the same
  grouped by arch with Welch's t-test.

Each timing is the best of `--repeats`; the CPU seconds of the fresh interpreters are shown
beside their wall time, since on a loaded machine the wall time also counts waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Issue 21's targets for the whole command in a fresh interpreter, by number of runs.
TARGET_SECONDS = {1000: 3.0, 10000: 15.0}
EXPERIMENT = "bench-report"
# This checkout, whose code the fresh interpreters import unless --baseline-tree says otherwise.
TREE = Path(__file__).resolve().parents[1]


def fill_store(client, runs: int) -> None:
    """Logs `runs` finished runs of three architectures with realistic params and metrics."""
    from mlflow.entities import Metric, Param, RunTag

    from rnn_tracking.config import TrainConfig, config_to_params

    rng = np.random.default_rng(0)
    experiment_id = client.create_experiment(EXPERIMENT)
    archs = ("lstm", "gru", "simplernn")
    for index in range(runs):
        arch = archs[index % 3]
        config = TrainConfig(arch=arch, units=int(rng.choice([8, 16, 32])), seed=index)
        accuracy = float(rng.normal(0.8 if arch != "simplernn" else 0.7, 0.02))
        epochs = 10
        summary = {
            "best_epoch": 7,
            "best_val_loss": 0.45,
            "best_val_accuracy": accuracy + 0.01,
            "test_loss": 0.46,
            "test_accuracy": accuracy,
            "train_seconds": float(rng.uniform(50, 150)),
            "param_count": 8809,
            "epochs_run": epochs,
        }
        metrics = [Metric(k, float(v), 0, 0) for k, v in summary.items()]
        for step in range(1, epochs + 1):
            for name in ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds"):
                metrics.append(Metric(name, float(rng.uniform(0.3, 0.9)), 0, step))
        run = client.create_run(experiment_id, run_name=f"{arch}-{index}")
        client.log_batch(
            run.info.run_id,
            metrics=metrics,
            params=[Param(k, v) for k, v in config_to_params(config).items()],
            tags=[RunTag("arch", arch), RunTag("data_source", "aclImdb.tar.gz")],
        )
        client.set_terminated(run.info.run_id)


def best_time(function, repeats: int) -> float:
    """Returns the fastest of `repeats` wall times of `function()`."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def time_command(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Runs a command to the end and returns its wall seconds and its CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def time_cli(uri: str, trees: dict[str, Path], repeats: int) -> dict[str, tuple[float, float]]:
    """Times `rnn-tracking report` in fresh interpreters, one per tree and repeat, the trees
    taking turns so that a change of load falls on all alike; returns each tree's best
    (wall, CPU) seconds."""
    command = [sys.executable, "-m", "rnn_tracking", "report", "--experiment-name", EXPERIMENT]
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeats):
        for name, tree in trees.items():
            env = dict(os.environ, MLFLOW_TRACKING_URI=uri, PYTHONPATH=str(tree))
            # `python -m` puts the working directory first on sys.path, so each tree's
            # interpreter starts in that tree: otherwise every one would import this tree.
            wall, cpu = time_command(command, env, tree)
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)
    return best


def open_store(runs: int, store_dir: Path) -> tuple[str, float | None]:
    """Returns the URI of a store holding `runs` runs, filled now unless it was kept, and the
    seconds filling took (None when reused)."""
    from mlflow.tracking import MlflowClient

    path = store_dir / f"report-speed-{runs}.db"
    uri = f"sqlite:///{path}"
    if path.exists():
        return uri, None
    partial = path.with_name(f".{path.name}.filling")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    fill_store(MlflowClient(tracking_uri=f"sqlite:///{partial}"), runs)
    os.replace(partial, path)
    return uri, time.perf_counter() - started


def time_in_process(uri: str, repeats: int) -> list[tuple[str, float]]:
    """Times the per-run table and the grouped one with Welch's t-test in this process."""
    from mlflow.tracking import MlflowClient

    from rnn_tracking import report

    client = MlflowClient(tracking_uri=uri)
    selection = report.Selection(experiment_names=(EXPERIMENT,))

    def table() -> None:
        report.render_terminal(report.build_report(selection, report.TableOptions(), client))

    def grouped() -> None:
        options = report.TableOptions(group_by=("arch",))
        report.render_terminal(report.build_report(selection, options, client))

    return [
        (
            "per-run table in this process (build_report + render_terminal)",
            best_time(table, repeats),
        ),
        ("grouped by arch with Welch's t-test, in this process", best_time(grouped, repeats)),
    ]


def parse_sizes(text: str) -> list[int]:
    """Reads `1000,10000` into run counts."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise SystemExit(f"--runs: got {text!r}; valid values are run counts such as 1000,10000.")
    return sizes


def measure_size(runs: int, store_dir: Path, args: argparse.Namespace) -> None:
    """Fills (or reuses) one store and prints its timings."""
    uri, fill_seconds = open_store(runs, store_dir)
    trees = {"this tree": TREE}
    if args.baseline_tree:
        trees = {"baseline": Path(args.baseline_tree).resolve(), **trees}
    cli = time_cli(uri, trees, args.repeats)
    in_process = time_in_process(uri, args.repeats)
    filled = "reused" if fill_seconds is None else f"filled in {fill_seconds:.0f} s"
    target = TARGET_SECONDS.get(runs)
    print(f"\n{runs} runs (store {filled}; not part of the timings)")
    print(f"{'what':66s} {'wall s':>7s} {'cpu s':>6s} {'/ target':>9s}")
    for name, (wall, cpu) in cli.items():
        ratio = f"{wall / target:9.2f}" if target else f"{'-':>9s}"
        print(f"{'whole CLI in a fresh interpreter, ' + name:66s} {wall:7.2f} {cpu:6.2f} {ratio}")
    for name, seconds in in_process:
        print(f"{name:66s} {seconds:7.2f} {'':>6s} {'':>9s}")
    if "baseline" in cli:
        (old, old_cpu), (new, new_cpu) = cli["baseline"], cli["this tree"]
        print(f"baseline / this tree: {old / new:.2f}x wall, {old_cpu / new_cpu:.2f}x CPU")
    if target:
        verdict = "met" if cli["this tree"][0] < target else "MISSED"
        print(f"target (< {target:.0f} s for the whole CLI over {runs} runs): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="1000,10000", help="run counts, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--baseline-tree", help="a checkout of older code, timed side by side (PYTHONPATH)"
    )
    parser.add_argument("--store-dir", help="keep the filled stores here and reuse them")
    args = parser.parse_args()
    sizes = parse_sizes(args.runs)
    print(
        f"this tree: {TREE}; baseline: {args.baseline_tree or 'none'}; load average: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; best of {args.repeats}"
    )
    if args.store_dir:
        Path(args.store_dir).mkdir(parents=True, exist_ok=True)
        for runs in sizes:
            measure_size(runs, Path(args.store_dir), args)
        return
    with tempfile.TemporaryDirectory() as scratch:
        for runs in sizes:
            measure_size(runs, Path(scratch), args)


if __name__ == "__main__":
    main()
