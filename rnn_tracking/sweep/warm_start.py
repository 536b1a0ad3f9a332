"""Warm starts: configs a study tries before it samples any.

Two sources, queued in this order with Optuna's `enqueue_trial(..., skip_if_exists=True)`
(a config already queued or tried in the study is not queued again, so a continued study
or a second worker adds nothing twice):

1. the space file's `enqueue:` list, validated with the rest of the file (`params.read_enqueue`);
2. `--warm-start STUDY`: the best `--warm-start-top` complete trials of another study in the
   same storage, ranked by that study's first objective in its own direction.

A trial of the other study fits this space when each of its params is tuned here with a
value inside its range or choices, or is fixed here to the very same value (then it is
left out, as the fixed value applies anyway). Trials that do not fit are skipped and
counted, with the first reason printed; the warm start is refused in one line only when
none of the other study's complete trials fits, since a warm start that queues nothing
is almost certainly the wrong study.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from rnn_tracking.config import format_value
from rnn_tracking.sweep.space import SearchSpace

# How many of the other study's best configs `--warm-start` queues unless told otherwise.
DEFAULT_WARM_START_TOP = 3


def fit_params(space: SearchSpace, params: dict[str, Any]) -> dict[str, Any]:
    """Returns `params` typed for this space, without keys fixed here to the same value.

    Raises ValueError naming the first key that does not fit and why.
    """
    specs = {spec.name: spec for spec in space.params}
    fitted = {}
    for name, value in params.items():
        if name in specs:
            try:
                fitted[name] = specs[name].admit(value)
            except ValueError as error:
                raise ValueError(f"{name} {error}") from None
        elif name in space.fixed and format_value(space.fixed[name]) == format_value(value):
            continue
        elif name in space.fixed:
            raise ValueError(
                f"{name} is {format_value(value)!r} there but fixed to "
                f"{format_value(space.fixed[name])!r} here"
            )
        else:
            raise ValueError(f"{name} is not tuned here (valid keys are {', '.join(specs)})")
    return fitted


def rank_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Returns a study's complete trials, best first by its first objective."""
    complete = [
        trial
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if trial.values
    ]
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    return sorted(complete, key=lambda trial: trial.values[0], reverse=maximize)


def find_warm_start_configs(
    storage: optuna.storages.BaseStorage,
    source: str,
    space: SearchSpace,
    top: int,
    study_name: str,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Returns the best `top` configs of study `source` that fit `space`, and why each
    skipped trial did not fit (`trial 3: units 300; valid values are 4 to 128`).

    Raises ValueError in one line for an unknown or identical study, one with no complete
    trial, or one none of whose complete trials fits.
    """
    if top < 1:
        raise ValueError(f"warm_start_top: got {top!r}; valid values are integers >= 1")
    names = optuna.get_all_study_names(storage=storage)
    if source == study_name or source not in names:
        others = [name for name in names if name != study_name]
        problem = "is this study itself" if source == study_name else "is not in this storage"
        raise ValueError(
            f"warm_start: study {source!r} {problem}; valid values are the other studies in "
            f"the same storage: {', '.join(others) or 'none'}"
        )
    ranked = rank_trials(optuna.load_study(study_name=source, storage=storage))
    configs: list[dict[str, Any]] = []
    skipped: list[str] = []
    for trial in ranked:
        if len(configs) == top:
            break
        try:
            configs.append(fit_params(space, trial.params))
        except ValueError as error:
            skipped.append(f"trial {trial.number}: {error}")
    if not configs:
        reason = f" (first: {skipped[0]})" if skipped else ""
        raise ValueError(
            f"warm_start: none of study {source!r}'s {len(ranked)} complete trials fits the "
            f"space {space.path.name}{reason}; valid values are studies with complete "
            "trials whose params this space tunes"
        )
    return configs, skipped


def collect_configs(
    space: SearchSpace,
    storage: optuna.storages.BaseStorage,
    study_name: str,
    warm_start: tuple[str, int] | None,
    echo: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Returns the space's `enqueue:` configs, then `warm_start`'s (study name, top k) ones.

    Called before the study or its parent run is touched, so a bad warm start leaves
    nothing behind.
    """
    configs = [dict(entry) for entry in space.enqueue]
    if warm_start is not None:
        source, top = warm_start
        found, skipped = find_warm_start_configs(storage, source, space, top, study_name)
        configs += found
        note = f"; {len(skipped)} trials skipped (first: {skipped[0]})" if skipped else ""
        echo(f"warm start: the best {len(found)} configs of study {source!r}{note}")
    return configs


def enqueue_configs(
    study: optuna.Study, configs: list[dict[str, Any]], echo: Callable[[str], None]
) -> int:
    """Queues each config unless the study already holds it; returns how many were new."""
    before = len(study.get_trials(deepcopy=False))
    for config in configs:
        study.enqueue_trial(config, skip_if_exists=True)
    added = len(study.get_trials(deepcopy=False)) - before
    if configs:
        held = f" ({len(configs) - added} already in the study)" if added < len(configs) else ""
        echo(f"queued {added} of {len(configs)} warm-start configs to try first{held}")
    return added
