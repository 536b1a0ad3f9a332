"""The command: `python bench/search_vs_peers.py ...` (or `python -m bench.peers ...`)."""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.peers.baseline import run_baseline
from bench.peers.curves import marks_minutes
from bench.peers.render import fmt, plot_curves, render
from bench.peers.settings import DEFAULT_OUT, parse_args, side_label, write_bench_space
from bench.peers.sides import run_side


def main(argv: list[str] | None = None) -> int:
    """Runs the sides one after the other, then writes the report, its numbers and the PNG."""
    args = parse_args(argv)
    # The platform's sweep runs in its own folder, so a relative data path must not reach it.
    if Path(args.data).exists():
        args.data = str(Path(args.data).resolve())
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Each trial compiles a new model, and TensorFlow warns about retracing once per trial.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    started = time.perf_counter()
    # Every side trains on the space's backend: the platform's subprocess reads it from the
    # space, and the peers run in this process, so Keras must load on it here.
    from rnn_tracking.backend import apply_backend
    from rnn_tracking.sweep.space import read_space

    apply_backend(read_space(args.space, data=args.data).base_config.backend)
    from rnn_tracking.sweep.trials import SplitsCache

    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(args.workdir or scratch).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        space_path = write_bench_space(args, workdir)
        space = read_space(space_path, data=args.data)
        data = SplitsCache()
        # Load (and cache on disk) the fixed encoding once, before any clock starts; the
        # platform's subprocess then reads the same cache.
        splits = data.get(space.base_config)
        print(
            f"data: {len(splits.y_train)} train, {len(splits.y_val)} validation, "
            f"{len(splits.y_test)} test reviews; {args.minutes:g} minutes per side",
            flush=True,
        )
        sides: dict[str, Any] = {}
        for side in args.sides:
            print(f"--- {side}: {side_label(side)}", flush=True)
            sides[side] = run_side(side, space_path, space, data, args, workdir)
            numbers = sides[side]
            print(
                f"{side}: best val_accuracy {fmt(numbers['best_val_accuracy'])}, test "
                f"{fmt(numbers['best_test_accuracy'])}, {numbers['trials_finished']} trials, "
                f"{numbers['wall_seconds']:.0f} s",
                flush=True,
            )
        baseline = run_baseline(space)
        if args.out:
            out = Path(args.out)
        elif args.short:
            folder = args.workdir or Path(tempfile.gettempdir()) / "search_vs_peers-short"
            out = Path(folder) / "search_vs_peers.md"
        else:
            out = DEFAULT_OUT
        image = out.parent / "img" / f"{out.stem}.png"
        results = {
            "settings": {
                "command": " ".join(
                    ["python", "bench/search_vs_peers.py", *(argv or sys.argv[1:])]
                ),
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores",
                "space": str(Path(args.space)),
                "params": len(space.params),
                "epochs": space.base_config.epochs,
                "data": args.data,
                "max_reviews": args.max_reviews,
                "train": len(splits.y_train),
                "val": len(splits.y_val),
                "test": len(splits.y_test),
                "minutes": args.minutes,
                "short": args.short,
                "marks_minutes": marks_minutes(args.minutes),
                "image": f"img/{image.name}",
            },
            "sides": sides,
            "baseline": baseline,
        }
        results["total_seconds"] = round(time.perf_counter() - started, 1)
    report = render(results)
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    out.with_suffix(".json").write_text(
        json.dumps(results, indent=2, default=str), encoding="utf-8"
    )
    plot_curves(results, image)
    print(f"wrote {out}, {out.with_suffix('.json')} and {image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
