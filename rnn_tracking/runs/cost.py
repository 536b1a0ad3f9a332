"""What a run cost: MLflow's system metrics while it is open, and its cost summaries.

Runs that train or evaluate record MLflow's system metrics (CPU, memory, disk, network; GPU
with pynvml) and, on success, `cpu_seconds` and `peak_rss_mb` (and `gpu_peak_memory_mb` on a
GPU), so the report can set accuracy against what it cost rather than against wall time on
a shared machine. The CLI turns them off on request (`--system-metrics false`).
"""

from __future__ import annotations

import logging
import resource
import sys

import mlflow

# One sample every 10 s costs a few milliseconds of psutil calls, far under 1% of an epoch
# (tens of seconds on the full data).
SYSTEM_METRICS_INTERVAL_SECONDS = 10
_system_metrics_enabled = True


def quiet_system_metrics_monitor() -> None:
    """Keeps MLflow's monitor from printing four INFO lines per run (started, GPU skipped,
    stopping, terminated): the run's metrics say it ran, and the CLI's output stays one line
    per event the user asked about."""
    logging.getLogger("mlflow.system_metrics").setLevel(logging.WARNING)


def record_system_metrics(enabled: bool) -> None:
    """Turns system metrics and the cost summaries of the runs this process opens on or off."""
    global _system_metrics_enabled
    _system_metrics_enabled = enabled


def system_metrics_enabled() -> bool:
    """Whether runs that ask for system metrics get them (the CLI may have turned them off)."""
    return _system_metrics_enabled


def measure_process_cost() -> dict[str, float]:
    """Returns this process's CPU seconds (user + system, children included) so far and its
    peak resident memory in MB (Linux reports ru_maxrss in KB, macOS in bytes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    scale = 1 / 2**20 if sys.platform == "darwin" else 1 / 2**10
    return {"cpu_seconds": cpu, "peak_rss_mb": max(own.ru_maxrss, children.ru_maxrss) * scale}


def measure_gpu_peak_mb() -> float | None:
    """Returns the peak memory on the first GPU in MB, or None without a GPU.

    Asks only a backend this process already imported (this module imports none): JAX's
    device memory statistics, or TensorFlow's memory info.
    """
    jax = sys.modules.get("jax")
    if jax is not None:
        try:
            devices = [d for d in jax.devices() if d.platform == "gpu"]
            stats = devices[0].memory_stats() if devices else None
            return stats["peak_bytes_in_use"] / 2**20 if stats else None
        except (AttributeError, KeyError, IndexError, RuntimeError):
            return None
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    try:
        if not tf.config.list_logical_devices("GPU"):
            return None
        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    except (AttributeError, ValueError, RuntimeError):
        return None


def log_run_cost(started_cpu_seconds: float) -> None:
    """Logs the active run's `cpu_seconds` (since it opened), `peak_rss_mb` and, on a GPU,
    `gpu_peak_memory_mb`: the cost summaries the report can show beside the accuracy."""
    cost = measure_process_cost()
    cost["cpu_seconds"] -= started_cpu_seconds
    gpu = measure_gpu_peak_mb()
    if gpu is not None:
        cost["gpu_peak_memory_mb"] = gpu
    mlflow.log_metrics(cost)
