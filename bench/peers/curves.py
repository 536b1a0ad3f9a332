"""A side's numbers and its anytime curve: the best validation accuracy so far, per second."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any


def side_result(
    ends: list[tuple[float, float | None, str]],
    *,
    wall_seconds: float,
    best_value: float | None,
    best_test_accuracy: float | None,
    best_params: dict[str, Any],
    pruned: int | None,
    failed: int,
    notes: str,
) -> dict[str, Any]:
    """One side's numbers: `ends` holds (seconds since the side began, value, state) per trial."""
    ends = sorted(ends)
    curve, best = [], None
    for seconds, value, _ in ends:
        if value is not None and math.isfinite(value) and (best is None or value > best):
            best = value
            curve.append([round(seconds, 2), value])
    return {
        "best_val_accuracy": best_value,
        "best_test_accuracy": best_test_accuracy,
        "best_params": {name: plain(value) for name, value in best_params.items()},
        "trials_finished": sum(state in ("COMPLETE", "PRUNED") for _, _, state in ends),
        "trials_pruned": pruned,
        "trials_failed": failed,
        "wall_seconds": round(wall_seconds, 1),
        "trial_ends": [[round(s, 2), v, state] for s, v, state in ends],
        "curve": curve,
        "notes": notes,
    }


def optuna_trial_ends(study: Any, began: datetime) -> list[tuple[float, float | None, str]]:
    """(seconds since `began`, value or None, state) of each finished trial of an Optuna study."""
    import optuna

    return [
        (
            (trial.datetime_complete - began).total_seconds(),
            trial.value if trial.state == optuna.trial.TrialState.COMPLETE else None,
            trial.state.name,
        )
        for trial in study.trials
        if trial.datetime_complete is not None
    ]


def plain(value: Any) -> Any:
    """NumPy scalars and the like as JSON values."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    try:
        return value.item()
    except AttributeError:
        return str(value)


def marks_minutes(minutes: float) -> list[float]:
    """The times the table reads the curves at: every 5 minutes, or thirds of a short budget."""
    if minutes >= 10:
        marks = [float(m) for m in range(5, int(minutes) + 1, 5)]
    else:
        marks = [round(minutes * share, 2) for share in (1 / 3, 2 / 3)]
    if not marks or marks[-1] < minutes:
        marks.append(round(minutes, 2))
    return marks


def best_at(curve: list[list[float]], seconds: float) -> float | None:
    """The best value of trials that had ended by `seconds`, or None before the first."""
    values = [value for ended, value in curve if ended <= seconds]
    return values[-1] if values else None


def seconds_to_reach(curve: list[list[float]], target: float) -> float | None:
    """When the curve first reached `target`, or None if it never did."""
    for ended, value in curve:
        if value >= target - 1e-12:
            return ended
    return None
