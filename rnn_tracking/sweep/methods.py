"""The search methods a space file may name: its sampler and pruner, with their options.

A sampler takes every plain keyword of its Optuna constructor (read from the signature, so
a new Optuna keyword needs no change here); a pruner takes the options listed in
PRUNER_OPTIONS. `read_choice` reads either key of a space file. No optuna at import: it is
imported on first use of `sampler_options`, so that reading a space file stays light.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Any

from rnn_tracking.sweep.params import read_number, space_error

# Sampler keywords the platform sets itself: TPE always runs with the constant liar.
MANAGED_SAMPLER_OPTIONS = ("constant_liar",)


def read_constructor_options(kind: type) -> dict[str, type]:
    """Returns the keywords of a sampler's constructor that take a plain value, with its type.

    A plain value is what a space file can spell: a keyword typed bool, int or float
    (`n_ei_candidates`, `prior_weight`, `multivariate`), and `seed`. Keywords that take a
    function or an object (`gamma`, `independent_sampler`) are left out.
    """
    plains = {plain.__name__: plain for plain in (bool, int, float)}
    options: dict[str, type] = {"seed": int}
    for name, parameter in inspect.signature(kind).parameters.items():
        if name in options or name in MANAGED_SAMPLER_OPTIONS:
            continue
        # Optuna's annotations are strings (`bool | None`); a default may be None.
        spelled = parameter.annotation
        if not isinstance(spelled, str):
            spelled = getattr(spelled, "__name__", "")
        types = {part.strip() for part in spelled.split("|")} - {"None"}
        if len(types) == 1 and (found := types.pop()) in plains:
            options[name] = plains[found]
    return options


# Optuna's sampler class of each sampler name.
SAMPLER_CLASSES = {"tpe": "TPESampler", "random": "RandomSampler", "gp": "GPSampler"}


@functools.cache
def sampler_options() -> dict[str, dict[str, type]]:
    """Returns the options each sampler takes, with their types: every plain keyword of its
    Optuna constructor (`read_constructor_options`). Optuna is imported here, on first use,
    so that importing this module stays light."""
    import optuna

    return {
        name: read_constructor_options(getattr(optuna.samplers, kind))
        for name, kind in SAMPLER_CLASSES.items()
    }


# The options each pruner takes, with their types. Optuna checks the values.
PRUNER_OPTIONS: dict[str, dict[str, type]] = {
    "median": {"n_startup_trials": int, "n_warmup_steps": int, "interval_steps": int},
    "hyperband": {
        "min_resource": int,
        "max_resource": int,
        "reduction_factor": int,
        "bootstrap_count": int,
    },
    "successive_halving": {
        "min_resource": int,
        "reduction_factor": int,
        "min_early_stopping_rate": int,
        "bootstrap_count": int,
    },
    "threshold": {"lower": float, "upper": float, "n_warmup_steps": int, "interval_steps": int},
    "none": {},
}
DEFAULT_SAMPLER = "tpe"
DEFAULT_PRUNER = "median"


def read_choice(
    path: Path, key: str, raw: Any, options: dict[str, dict[str, type]]
) -> tuple[str, dict[str, Any]]:
    """Reads a sampler or pruner: a name (`tpe`) or a mapping with `name` and its options."""
    values = {"name": raw} if isinstance(raw, str) else raw
    if not isinstance(values, dict):
        raise space_error(
            path, key, f"got {raw!r}; valid values are a name or a mapping with a name"
        )
    name = values.get("name")
    if name not in options:
        raise space_error(
            path, f"{key}.name", f"got {name!r}; valid values are " + ", ".join(options)
        )
    chosen = {}
    for option, value in values.items():
        if option == "name":
            continue
        expected = options[name].get(option)
        if expected is None:
            valid = ", ".join(["name", *options[name]])
            raise space_error(
                path, f"{key}.{option}", f"unknown option of {name}; valid keys are {valid}"
            )
        if expected is bool:
            if not isinstance(value, bool):
                raise space_error(
                    path, f"{key}.{option}", f"got {value!r}; valid values are true or false"
                )
        else:
            value = read_number(path, f"{key}.{option}", value, expected is int)
        chosen[option] = value
    return name, chosen
