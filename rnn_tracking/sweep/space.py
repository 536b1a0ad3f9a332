"""The search-space file of a sweep: what to tune, what to fix, and how to search.

A `sweeps/*.yaml` file asks one question. It names the study, the metric and its
direction, the sampler and the pruner, the fixed settings and the tuned parameters. Every
fixed or tuned key is a `TrainConfig` field, spelled as everywhere else. `read_space`
validates a file in full before anything starts, and names the file, the key and the
problem in a one-line ValueError. `rnn_tracking.sweep` runs the study.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rnn_tracking.config import FIELDS, TrainConfig, config_from_mapping, format_value

# The keys of a space file, in the order the docs list them.
SPACE_KEYS = (
    "study_name",
    "description",
    "metric",
    "direction",
    "sampler",
    "pruner",
    "fixed",
    "params",
)
# Each metric the pruner can watch: its direction and the summary value a trial returns.
METRICS = {
    "val_accuracy": ("maximize", "best_val_accuracy"),
    "val_loss": ("minimize", "best_val_loss"),
    "val_macro_f1": ("maximize", "best_val_macro_f1"),
}
PARAM_TYPES = ("int", "float", "categorical")
RANGE_KEYS = ("type", "low", "high", "log", "step")
CHOICE_KEYS = ("type", "choices")
# The options each sampler and pruner takes, with their types. Optuna checks the values.
SAMPLER_OPTIONS: dict[str, dict[str, type]] = {
    "tpe": {"seed": int, "n_startup_trials": int, "multivariate": bool},
    "random": {"seed": int},
}
PRUNER_OPTIONS: dict[str, dict[str, type]] = {
    "median": {"n_startup_trials": int, "n_warmup_steps": int, "interval_steps": int},
    "hyperband": {"min_resource": int, "max_resource": int, "reduction_factor": int},
    "threshold": {"lower": float, "upper": float, "n_warmup_steps": int, "interval_steps": int},
    "none": {},
}
DEFAULT_SAMPLER = "tpe"
DEFAULT_PRUNER = "median"
# The fields whose values change what `load_splits` returns. A space may tune them: each
# distinct encoding is then loaded once per worker instead of once in all.
SPLIT_FIELDS = (
    "data",
    "num_words",
    "maxlen",
    "max_reviews",
    "val_split",
    "test_split",
    "text_column",
    "label_column",
    "split_column",
    "seed",
)


@dataclass(frozen=True)
class ParamSpec:
    """One tuned parameter: a config field with its range (int, float) or its choices."""

    name: str
    type: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """Asks an `optuna.Trial` for this parameter's value."""
        if self.type == "int":
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        if self.type == "float":
            return trial.suggest_float(
                self.name, float(self.low), float(self.high), step=self.step, log=self.log
            )
        return trial.suggest_categorical(self.name, list(self.choices))

    def describe(self) -> dict[str, Any]:
        """Returns the spec as plain data, the way the study records it."""
        if self.type == "categorical":
            return {"type": self.type, "choices": list(self.choices)}
        return {
            "type": self.type,
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "step": self.step,
        }


@dataclass(frozen=True)
class SearchSpace:
    """A validated space file: what to tune, what to fix, and how to search.

    `fixed` holds typed config values; a trial's config is `fixed` updated with the values
    it samples for `params`. `sampler` and `pruner` are (name, options) pairs.
    """

    path: Path
    study_name: str
    description: str
    metric: str
    direction: str
    sampler: tuple[str, dict[str, Any]]
    pruner: tuple[str, dict[str, Any]]
    fixed: dict[str, Any]
    params: tuple[ParamSpec, ...]

    def config_for(self, sampled: dict[str, Any]) -> TrainConfig:
        """Returns the training config of a trial that sampled `sampled`."""
        return config_from_mapping({**self.fixed, **sampled}, base=TrainConfig())

    @property
    def base_config(self) -> TrainConfig:
        """The config of the fixed settings alone (tuned fields keep their defaults)."""
        return config_from_mapping(self.fixed, base=TrainConfig())

    @property
    def tunes_data(self) -> bool:
        """Whether some tuned parameter changes the encoded data."""
        return any(spec.name in SPLIT_FIELDS for spec in self.params)

    @property
    def objective_name(self) -> str:
        """The trial run's summary metric that the study optimizes (`best_val_accuracy`)."""
        return METRICS[self.metric][1]

    def describe(self) -> dict[str, Any]:
        """Returns what makes two sessions the same study, as plain data.

        The data source is left out: the same study may read the same data from a different
        path on another machine.
        """
        return {
            "metric": self.metric,
            "direction": self.direction,
            "fixed": {
                name: format_value(value) for name, value in self.fixed.items() if name != "data"
            },
            "params": {spec.name: spec.describe() for spec in self.params},
        }


def space_error(path: Path, key: str, problem: str) -> ValueError:
    """Returns the one-line error for a space file: the file, the key, the problem."""
    return ValueError(f"{path}: {key}: {problem}")


def read_space(
    path: str | Path, *, data: str | None = None, seed: int | None = None
) -> SearchSpace:
    """Reads and validates a space file in full; raises ValueError naming file, key, problem.

    `data` replaces the fixed data source (as `--data` does for training). `seed` replaces
    the sampler's seed and the fixed training seed, so one number seeds the whole study.

    The file holds (only `study_name` and `params` are required)::

        study_name: lstm              # the Optuna study (and the MLflow parent run) name
        description: ...              # optional; shown as the parent run's note
        metric: val_accuracy          # or val_loss
        direction: maximize           # val_accuracy is maximized, val_loss minimized
        sampler: {name: tpe, seed: 42, n_startup_trials: 10}   # or random
        pruner: {name: median, n_startup_trials: 5, n_warmup_steps: 2}  # hyperband, threshold, none
        fixed: {arch: lstm, epochs: 20}                        # any TrainConfig field
        params:
          units: {type: int, low: 4, high: 128, log: true}
          dropout: {type: float, low: 0.0, high: 0.5}
          arch: {type: categorical, choices: [lstm, gru]}
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(
            f"space: cannot read {path} ({error.strerror}); valid values are a YAML file "
            "such as sweeps/lstm.yaml"
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        raise space_error(
            path, where, f"not valid YAML ({getattr(error, 'problem', error)})"
        ) from None
    if not isinstance(raw, dict):
        raise space_error(path, "(top level)", "expected a mapping of " + ", ".join(SPACE_KEYS))
    unknown = [key for key in raw if key not in SPACE_KEYS]
    if unknown:
        raise space_error(
            path, str(unknown[0]), "unknown key; valid keys are " + ", ".join(SPACE_KEYS)
        )
    for key in ("study_name", "params"):
        if key not in raw:
            raise space_error(path, key, "missing; every space file names its study and its params")

    study_name = raw["study_name"]
    if not isinstance(study_name, str) or not study_name.strip():
        raise space_error(
            path, "study_name", f"got {study_name!r}; valid values are non-empty strings"
        )
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise space_error(path, "description", f"got {description!r}; valid values are strings")
    metric = raw.get("metric", "val_accuracy")
    if metric not in METRICS:
        raise space_error(path, "metric", f"got {metric!r}; valid values are " + ", ".join(METRICS))
    direction = raw.get("direction", METRICS[metric][0])
    if direction != METRICS[metric][0]:
        raise space_error(
            path, "direction", f"got {direction!r}; {metric} is a metric to {METRICS[metric][0]}"
        )

    fixed = read_fixed(path, raw.get("fixed"), data)
    params = read_params(path, raw["params"], fixed)
    tuned = {spec.name for spec in params}
    if seed is not None and "seed" not in tuned:
        fixed["seed"] = seed
    sampler = read_choice(path, "sampler", raw.get("sampler", DEFAULT_SAMPLER), SAMPLER_OPTIONS)
    sampler[1].setdefault("seed", fixed.get("seed", TrainConfig().seed))
    if seed is not None:
        sampler[1]["seed"] = seed
    pruner = read_choice(path, "pruner", raw.get("pruner", DEFAULT_PRUNER), PRUNER_OPTIONS)
    return SearchSpace(
        path=path,
        study_name=study_name.strip(),
        description=description.strip(),
        metric=metric,
        direction=direction,
        sampler=sampler,
        pruner=pruner,
        fixed=fixed,
        params=params,
    )


def read_fixed(path: Path, raw: Any, data: str | None) -> dict[str, Any]:
    """Validates the fixed settings as a config; returns them typed."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise space_error(path, "fixed", "expected a mapping of config fields to values")
    for name, value in raw.items():
        if name not in FIELDS:
            raise space_error(
                path,
                f"fixed.{name}",
                "unknown parameter; valid parameters are " + ", ".join(FIELDS),
            )
        if value is None or isinstance(value, (dict, list)):
            raise space_error(
                path, f"fixed.{name}", f"got {value!r}; valid values are single values"
            )
    values = dict(raw)
    if data:
        values["data"] = data
    for name in values:
        try:
            config_from_mapping({name: values[name]})
        except ValueError as error:
            raise space_error(path, f"fixed.{name}", strip_name(name, str(error))) from None
    config = config_from_mapping(values)
    return {name: getattr(config, name) for name in values}


def read_params(path: Path, raw: Any, fixed: dict[str, Any]) -> tuple[ParamSpec, ...]:
    """Validates each tuned parameter: a config field, a type, a range or choices."""
    if not isinstance(raw, dict) or not raw:
        raise space_error(
            path, "params", "expected a mapping of at least one config field to its range"
        )
    specs = []
    for name, spec in raw.items():
        key = f"params.{name}"
        if name not in FIELDS:
            raise space_error(
                path, key, "unknown parameter; valid parameters are " + ", ".join(FIELDS)
            )
        if name in fixed:
            raise space_error(
                path, key, "is also fixed; valid parameters are fixed or tuned, not both"
            )
        if not isinstance(spec, dict):
            raise space_error(
                path, key, "expected a mapping such as {type: float, low: 0.0, high: 0.5}"
            )
        kind = spec.get("type")
        if kind not in PARAM_TYPES:
            raise space_error(
                path, f"{key}.type", f"got {kind!r}; valid values are " + ", ".join(PARAM_TYPES)
            )
        allowed = CHOICE_KEYS if kind == "categorical" else RANGE_KEYS
        for option in spec:
            if option not in allowed:
                raise space_error(
                    path,
                    f"{key}.{option}",
                    f"unknown key for a {kind} parameter; valid keys are " + ", ".join(allowed),
                )
        field_type = FIELDS[name].type
        if kind == "categorical":
            param = read_choices(path, key, name, spec, fixed)
        elif kind != field_type:
            valid = ", ".join(
                [field_type, "categorical"] if field_type in ("int", "float") else ["categorical"]
            )
            raise space_error(
                path,
                f"{key}.type",
                f"{name} is a field of type {field_type}; valid types are {valid}",
            )
        else:
            param = read_range(path, key, name, kind, spec, fixed)
        specs.append(param)
    return tuple(specs)


def read_range(
    path: Path, key: str, name: str, kind: str, spec: dict[str, Any], fixed: dict[str, Any]
) -> ParamSpec:
    """Validates low, high, log and step of an int or float parameter."""
    integer = kind == "int"
    for option in ("low", "high"):
        if option not in spec:
            raise space_error(
                path, f"{key}.{option}", f"missing; a {kind} parameter needs low and high"
            )
    low = read_number(path, f"{key}.low", spec["low"], integer)
    high = read_number(path, f"{key}.high", spec["high"], integer)
    if low >= high:
        raise space_error(
            path, f"{key}.low", f"{low!r} is not below high {high!r}; valid ranges have low < high"
        )
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise space_error(path, f"{key}.log", f"got {log!r}; valid values are true or false")
    if log and low <= 0:
        raise space_error(
            path,
            f"{key}.log",
            f"needs a positive range, but low is {low!r}; valid ranges for log have low > 0",
        )
    step = spec.get("step")
    if step is not None:
        step = read_number(path, f"{key}.step", step, integer)
        if step <= 0:
            raise space_error(path, f"{key}.step", f"got {step!r}; valid values are numbers > 0")
        if log:
            raise space_error(
                path, f"{key}.step", "cannot be combined with log: true; valid is one of them"
            )
    for option, value in (("low", low), ("high", high)):
        check_value(path, f"{key}.{option}", name, value, fixed)
    return ParamSpec(name=name, type=kind, low=low, high=high, log=log, step=step)


def read_choices(
    path: Path, key: str, name: str, spec: dict[str, Any], fixed: dict[str, Any]
) -> ParamSpec:
    """Validates the choices of a categorical parameter, each as a value of its field."""
    choices = spec.get("choices")
    if not isinstance(choices, list) or not choices:
        raise space_error(
            path, f"{key}.choices", f"got {choices!r}; valid values are a non-empty list"
        )
    for choice in choices:
        if not isinstance(choice, (str, int, float, bool)):
            raise space_error(
                path, f"{key}.choices", f"got {choice!r}; valid choices are single values"
            )
        check_value(path, f"{key}.choices", name, choice, fixed)
    if len({format_value(choice) for choice in choices}) != len(choices):
        raise space_error(path, f"{key}.choices", f"got {choices!r}; valid choices are distinct")
    return ParamSpec(name=name, type="categorical", choices=tuple(choices))


def read_number(path: Path, key: str, value: Any, integer: bool) -> int | float:
    """Reads a YAML number; PyYAML reads `1e-4` as a string, so strings are parsed too."""
    kind = "integers" if integer else "numbers"
    if isinstance(value, bool):
        raise space_error(path, key, f"got {value!r}; valid values are {kind}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise space_error(path, key, f"got {value!r}; valid values are {kind}") from None
    if not math.isfinite(number) or (integer and not number.is_integer()):
        raise space_error(path, key, f"got {value!r}; valid values are finite {kind}")
    return int(number) if integer else number


def check_value(path: Path, key: str, name: str, value: Any, fixed: dict[str, Any]) -> None:
    """Checks that `name=value` makes a valid config together with the fixed settings."""
    try:
        config_from_mapping({**fixed, name: value})
    except ValueError as error:
        raise space_error(path, key, strip_name(name, str(error))) from None


def strip_name(name: str, message: str) -> str:
    """Drops the config's leading `name: ` from its message, since the key says it already."""
    prefix = f"{name}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


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
