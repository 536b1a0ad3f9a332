"""One interface for every side: `run_side(side, ...)` gives a runner a `SideRun` and gets
back the side's numbers (`curves.side_result`).

A runner is a function `SideRun -> dict`, one module per side; `RUNNERS` maps each side's kind
to its runner, and a `platform:<pruner>` side is the platform's runner on a copy of the space
with that pruner.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.peers.settings import pruner_of, write_pruner_space


@dataclass(frozen=True)
class SideRun:
    """What a side's runner gets: the space (its file and as read), the platform's splits
    cache, the command line's arguments and the side's own folder."""

    space_path: Path
    space: Any
    splits: Any
    args: argparse.Namespace
    folder: Path


def compile_trial_model(config: Any, splits: Any) -> Any:
    """The platform's model and optimizer for `config`, compiled as its training compiles them."""
    from rnn_tracking.train import compile_model, count_batches

    return compile_model(config, steps_per_epoch=count_batches(splits, config))


def best_optuna_trial(study: Any, side: str, log: Path | None = None) -> Any:
    """The study's best trial; a RuntimeError naming the side when no trial completed."""
    try:
        return study.best_trial
    except ValueError:
        states = [trial.state.name for trial in study.trials]
        where = f"; see {log}" if log else ""
        raise RuntimeError(f"{side}: no trial completed (states: {states}){where}") from None


def runners() -> dict[str, Callable[[SideRun], dict[str, Any]]]:
    """Each side's kind and its runner (imported here: the runners import this module)."""
    from bench.peers import side_keras_tuner, side_optuna, side_platform

    return {
        "platform": side_platform.run_platform,
        "keras_tuner": side_keras_tuner.run_keras_tuner,
        "optuna": side_optuna.run_optuna,
    }


def run_side(
    side: str,
    space_path: Path,
    space: Any,
    splits: Any,
    args: argparse.Namespace,
    workdir: Path,
) -> dict[str, Any]:
    """Runs one side in its own folder under `workdir`; returns its numbers."""
    pruner = pruner_of(side)
    if pruner is None:
        kind, folder = side, workdir / side
    else:
        kind, folder = "platform", workdir / f"platform-{pruner}"
        space_path = write_pruner_space(space_path, pruner, folder / "space")
    return runners()[kind](SideRun(space_path, space, splits, args, folder))
