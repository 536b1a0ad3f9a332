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
