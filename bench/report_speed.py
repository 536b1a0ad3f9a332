"""How fast is a report over 1,000 runs in a SQLite tracking store? Target: the table, without
plots, in under 3 seconds.

    .venv/bin/python bench/report_speed.py [--runs 1000] [--repeats 3]

It fills a temporary SQLite store through MLflow's public API (one `log_batch` per run, with
every config field as a param, the summary metrics and 10 epochs of per-epoch metrics, as a
training run logs them), then times, side by side in one process:

- `build_report` + `render_terminal`: the per-run table (what `rnn-tracking report` prints);
- the same grouped by arch, with the Welch's t-test;
- the whole command in a fresh interpreter (`rnn-tracking report`), imports included.

Each timing is the best of `--repeats`; the ratios are to the 3-second target.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS = 3.0
EXPERIMENT = "bench-report"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from mlflow.tracking import MlflowClient

    from rnn_tracking import report

    with tempfile.TemporaryDirectory() as scratch:
        uri = f"sqlite:///{Path(scratch) / 'mlflow.db'}"
        client = MlflowClient(tracking_uri=uri)
        started = time.perf_counter()
        fill_store(client, args.runs)
        fill_seconds = time.perf_counter() - started

        selection = report.Selection(experiment_names=(EXPERIMENT,))

        def table() -> None:
            report.render_terminal(report.build_report(selection, report.TableOptions(), client))

        def grouped() -> None:
            options = report.TableOptions(group_by=("arch",))
            report.render_terminal(report.build_report(selection, options, client))

        env = dict(os.environ, MLFLOW_TRACKING_URI=uri)
        command = [sys.executable, "-m", "rnn_tracking", "report", "--experiment-name", EXPERIMENT]

        def cli() -> None:
            subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)

        rows = [
            ("per-run table (build_report + render_terminal)", best_time(table, args.repeats)),
            ("grouped by arch, with Welch's t-test", best_time(grouped, args.repeats)),
            ("whole CLI in a fresh interpreter", best_time(cli, args.repeats)),
        ]
    print(f"store: {args.runs} runs filled in {fill_seconds:.1f} s (not part of the target)")
    print(f"{'what':50s} {'seconds':>8s} {'/ target':>9s}")
    for name, seconds in rows:
        print(f"{name:50s} {seconds:8.2f} {seconds / TARGET_SECONDS:9.2f}")
    verdict = "met" if rows[0][1] < TARGET_SECONDS else "MISSED"
    print(f"target (< {TARGET_SECONDS:.0f} s for the table without plots): {verdict}")


if __name__ == "__main__":
    main()
