"""The Markdown report of bench/train_speed.py: the speed table, the tracking overhead, the
data load, and the machine it ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from bench.speed.children import MODELS


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
        f"{name} {metadata.version(name)}"
        for name in ("tensorflow", "jax", "jaxlib", "keras", "mlflow")
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, load average {load}; {versions}"


def format_speed_row(model: str, key: str, tut: dict | None, plat: dict) -> str:
    """One row of the speed table: `model` on the backend of `key` ('platform@jax') against
    the tutorial's TensorFlow code (`tut`, None for a model the tutorial has no code for)."""

    def pair(name: str, style: str) -> str:
        return f"{tut[name]:{style}} / {plat[name]:{style}}" if tut else f"- / {plat[name]:{style}}"

    tutorial = f"{tut['per_epoch']:.2f}" if tut else "-"
    speedup = f"**{tut['per_epoch'] / plat['per_epoch']:.2f}x**" if tut else "-"
    return (
        f"| {MODELS[model]['title']} | {key.split('@')[1]} | {tutorial} "
        f"| {plat['per_epoch']:.2f} | {speedup} | {pair('first', '.1f')} "
        f"| {pair('total', '.1f')} | {pair('peak_mb', ',.0f')} | {pair('val_accuracy', '.4f')} |"
    )


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
        "Each epoch also validates. Speed-up = tutorial s/epoch / platform s/epoch. The "
        "tutorial side is TensorFlow's plain Keras code; the platform runs on the backend "
        "named. First epoch: graph building and compiling happen there. Peak RSS: ru_maxrss "
        "of the side's process.",
        "",
        "| model | backend | tutorial s/epoch (TF) | platform s/epoch | speed-up "
        "| first epoch s (tut / plat) | run total s (tut / plat) | peak RSS MiB (tut / plat) "
        "| final val_accuracy (tut / plat) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, sides in results.items():
        for key, plat in sides.items():
            if key.startswith("platform@"):
                lines.append(format_speed_row(model, key, sides.get("tutorial"), plat))
    lines += [
        "",
        "Tracking overhead (target: at most 3% per epoch). Measured two ways: the time the "
        "training thread spends in the per-epoch MLflow logger (median per epoch, as a share "
        "of the tracked epoch), and the tracked epoch median against the same training "
        "with tracking off (noisy on a shared machine). The run total adds the one-off "
        "logging of datasets, model, plots and checkpoint.",
        "",
        "| model | backend | logger s/epoch | logger share | tracking off s/epoch | tracking on s/epoch "
        "| on / off | run total s (off / on) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    pairs = [
        (model, key, on, sides.get(key.replace("platform@", "untracked@")))
        for model, sides in results.items()
        for key, on in sides.items()
        if key.startswith("platform@")
    ]
    for model, key, on, off in pairs:
        if not off:
            continue
        overhead = (on["per_epoch"] / off["per_epoch"] - 1) * 100
        share = on["logging"] / on["per_epoch"] * 100
        lines.append(
            f"| {MODELS[model]['title']} | {key.split('@')[1]} | {on['logging']:.4f} | {share:.2f}% "
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
