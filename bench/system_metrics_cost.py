"""What MLflow's system metrics cost a training run, at the platform's sampling interval.

Each sample of MLflow's monitor (a thread beside training) reads CPU, memory, disk and network
through psutil, asks the store whether the run still runs, and queues the values for logging.
This times those steps on a SQLite store like the platform's, in this process, and prints the
CPU seconds per sample and their share of the sampling interval: the share of any epoch's time
that the monitor takes from training, whatever the epoch's length.

    python bench/system_metrics_cost.py --samples 50
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_tracking.runs.cost import SYSTEM_METRICS_INTERVAL_SECONDS  # noqa: E402


def time_samples(samples: int) -> list[float]:
    """Returns the CPU seconds of each of `samples` monitor samples on a fresh SQLite store."""
    import mlflow
    from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor
    from mlflow.tracking import MlflowClient

    folder = Path(tempfile.mkdtemp(prefix="system-metrics-"))
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    with mlflow.start_run() as run:
        monitor = SystemMetricsMonitor(run.info.run_id, sampling_interval=1)
        client = MlflowClient()
        seconds = []
        for _ in range(samples):
            started = time.thread_time()
            monitor.collect_metrics()
            client.get_run(run.info.run_id)
            monitor.publish_metrics(monitor.aggregate_metrics())
            seconds.append(time.thread_time() - started)
        monitor.mlflow_logger.flush()
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Prints the median CPU seconds per sample and its share of the sampling interval."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50, help="samples to time (default 50)")
    arguments = parser.parse_args(argv)
    seconds = time_samples(arguments.samples)
    # The first sample primes psutil's counters and MLflow's store; later ones are steady.
    steady = seconds[1:] or seconds
    median = statistics.median(steady)
    share = median / SYSTEM_METRICS_INTERVAL_SECONDS
    print(f"samples: {len(steady)} (after the first, {seconds[0] * 1000:.1f} ms)")
    print(f"CPU per sample: median {median * 1000:.2f} ms, max {max(steady) * 1000:.2f} ms")
    print(
        f"share of every epoch at one sample per {SYSTEM_METRICS_INTERVAL_SECONDS} s: "
        f"{share:.4%} (target: at most 1%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
