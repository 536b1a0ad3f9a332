"""The bench's command line, its sides and the space file each side reads."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import yaml

DESCRIPTION = (
    "This platform's sweep against Keras Tuner's Hyperband and plain Optuna, on the same clock."
)
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = os.environ.get("RNN_TRACKING_DATA") or str(
    ROOT.parent / "shared" / "data" / "aclImdb_labeled.tar.gz"
)
DEFAULT_SPACE = ROOT / "sweeps" / "small-budget.yaml"
DEFAULT_OUT = ROOT / "docs" / "search_vs_peers.md"
SIDES = ("platform", "keras_tuner", "optuna")
SIDE_NAMES = {
    "platform": "rnn-tracking sweep",
    "keras_tuner": "Keras Tuner Hyperband",
    "optuna": "plain Optuna (TPE + median)",
}
# --short: a smoke run that shows the bench works, not which side wins.
SHORT_REVIEWS = 2000
SHORT_MINUTES = 1.5
SHORT_EPOCHS = 2
DEFAULT_MINUTES = 30.0
# The platform's sweep runs 10,000 trials at most: the clock, not the count, ends it.
PLATFORM_TRIALS = 10000
# Keras Tuner's Hyperband ends after this many sweeps over its brackets: the clock ends it first.
HYPERBAND_ITERATIONS = 1000
HYPERBAND_FACTOR = 3
# How long a side may run past its budget (the trial running at the deadline) before it is
# stopped as hung.
GRACE_SECONDS = 1800
# `--sides platform:<pruner>` runs the platform's sweep with another pruner, so pruners can be
# compared at equal wall time in one run. The space's own pruner keeps the space's options;
# the others get these. min_resource 2 matches the shipped spaces' n_warmup_steps: 2 (large
# models start slowly, so no verdict after epoch 1); reduction_factor 3 is Optuna's default.
PRUNER_SIDE_OPTIONS: dict[str, dict[str, Any]] = {
    "median": {"n_startup_trials": 5, "n_warmup_steps": 2},
    "hyperband": {"min_resource": 2, "reduction_factor": 3},
    "successive_halving": {"min_resource": 2, "reduction_factor": 3},
    "none": {},
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument(
        "--space",
        default=str(DEFAULT_SPACE),
        help="Space file (default: sweeps/small-budget.yaml).",
    )
    parser.add_argument(
        "--data",
        default=DEFAULT_DATA,
        help="Data source (default: $RNN_TRACKING_DATA, else ../shared/data's aclImdb tar).",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help=f"Wall-clock budget per side (default: {DEFAULT_MINUTES:g}; --short: {SHORT_MINUTES:g}).",
    )
    parser.add_argument(
        "--max-reviews",
        type=int,
        default=None,
        help=f"Reviews per split, 0 for all (default: 0; --short: {SHORT_REVIEWS}).",
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help=f"Smoke run: {SHORT_REVIEWS} reviews, {SHORT_MINUTES:g} minutes per side, at most "
        f"{SHORT_EPOCHS} epochs per trial (explicit --minutes/--max-reviews win).",
    )
    parser.add_argument(
        "--sides",
        default=",".join(SIDES),
        help=f"Comma-separated sides to run, in order (default: {','.join(SIDES)}); "
        f"platform:<pruner> runs the platform with another pruner "
        f"({', '.join(PRUNER_SIDE_OPTIONS)}), to compare pruners on the same clock.",
    )
    parser.add_argument(
        "--warm-start",
        action="store_true",
        help="Keep the space's `enqueue:` list (its warm starts). Off by default: the peers "
        "cannot be warm-started, so a comparison starts every side cold; on for a study of the "
        "platform alone.",
    )
    parser.add_argument(
        "--workdir",
        default="",
        help="Folder for the sides' stores, journals and checkpoints (default: a temporary one).",
    )
    parser.add_argument(
        "--out",
        default="",
        help="Markdown report; the .json goes beside it and the PNG into img/ beside it "
        "(default: docs/search_vs_peers.md; --short: the --workdir, else "
        "$TMPDIR/search_vs_peers-short).",
    )
    args = parser.parse_args(argv)
    sides = [side.strip() for side in args.sides.split(",") if side.strip()]
    bad = [side for side in sides if side not in SIDES and pruner_of(side) is None]
    if bad or not sides or len(set(sides)) != len(sides):
        parser.error(
            f"--sides: got {args.sides!r}; valid values are {', '.join(SIDES)} and "
            f"{', '.join(f'platform:{name}' for name in PRUNER_SIDE_OPTIONS)}, each once"
        )
    args.sides = sides
    if args.minutes is None:
        args.minutes = SHORT_MINUTES if args.short else DEFAULT_MINUTES
    if args.max_reviews is None:
        args.max_reviews = SHORT_REVIEWS if args.short else 0
    if args.minutes <= 0:
        parser.error(f"--minutes: got {args.minutes!r}; valid values are numbers > 0")
    if args.max_reviews < 0:
        parser.error(f"--max-reviews: got {args.max_reviews!r}; valid values are integers >= 0")
    return args


def pruner_of(side: str) -> str | None:
    """The pruner a `platform:<pruner>` side names, or None for any other side."""
    kind, _, pruner = side.partition(":")
    return pruner if kind == "platform" and pruner in PRUNER_SIDE_OPTIONS else None


def side_label(side: str) -> str:
    """The side's name in the table and the plot: `rnn-tracking sweep (hyperband pruner)`."""
    pruner = pruner_of(side)
    if pruner is not None:
        return f"{SIDE_NAMES['platform']} ({pruner} pruner)"
    return SIDE_NAMES[side]


def write_bench_space(args: argparse.Namespace, folder: Path) -> Path:
    """Copies the space file with this run's max_reviews (and --short's epoch cap) fixed.

    Every side reads this one file, so they search the same space on the same rows. The
    space's `enqueue:` list is dropped unless --warm-start: the peers cannot be warm-started
    from the platform's past studies, so a comparison starts the platform cold too. Vector
    files named by a relative path are made absolute, since the platform's side runs in
    another folder.
    """
    raw = yaml.safe_load(Path(args.space).read_text(encoding="utf-8"))
    if not args.warm_start:
        raw.pop("enqueue", None)
    resolve_vector_paths(raw)
    fixed = dict(raw.get("fixed") or {})
    fixed["max_reviews"] = args.max_reviews
    if args.short:
        fixed["epochs"] = min(int(fixed.get("epochs", 100)), SHORT_EPOCHS)
    raw["fixed"] = fixed
    path = folder / Path(args.space).name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def resolve_vector_paths(raw: dict[str, Any]) -> None:
    """Makes each relative `embeddings` file of a raw space absolute, in place.

    Fixed, choices and `enqueue:` entries alike, so an enqueued file still names one of the
    choices. 'none' and `runs:/` URIs stay as they are.
    """

    def resolve(value: Any) -> Any:
        if not isinstance(value, str) or value == "none" or ":/" in value:
            return value
        return str(Path(value).resolve())

    fixed = raw.get("fixed") or {}
    if "embeddings" in fixed:
        fixed["embeddings"] = resolve(fixed["embeddings"])
    spec = (raw.get("params") or {}).get("embeddings")
    if isinstance(spec, dict) and "choices" in spec:
        spec["choices"] = [resolve(choice) for choice in spec["choices"]]
    for entry in raw.get("enqueue") or []:
        if isinstance(entry, dict) and "embeddings" in entry:
            entry["embeddings"] = resolve(entry["embeddings"])


def write_pruner_space(space_path: Path, pruner: str, folder: Path) -> Path:
    """Copies the bench's space file with `pruner` in place of its own, for a platform side.

    A pruner the space already names keeps the space's options; another gets
    `PRUNER_SIDE_OPTIONS`. Everything else (sampler and seed, params, fixed) stays the same.
    """
    raw = yaml.safe_load(space_path.read_text(encoding="utf-8"))
    own = dict(raw.get("pruner") or {})
    if own.get("name") == pruner:
        raw["pruner"] = own
    else:
        raw["pruner"] = {"name": pruner, **PRUNER_SIDE_OPTIONS[pruner]}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / space_path.name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path
