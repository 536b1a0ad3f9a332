"""The tuned parameters of a space file: each one's range or choices, read and validated.

`read_params` turns the `params:` mapping of a space file into `ParamSpec`s, each a config
field with an int or float range or a list of choices, checked against the fixed settings.
Every problem is a one-line ValueError naming the file, the key and the problem
(`space_error`). `rnn_tracking.sweep.space` reads the rest of the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnn_tracking.config import FIELDS, config_from_mapping, format_value

PARAM_TYPES = ("int", "float", "categorical")
RANGE_KEYS = ("type", "low", "high", "log", "step")
CHOICE_KEYS = ("type", "choices")


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

    def admit(self, value: Any) -> Any:
        """Returns `value` typed as this parameter's (a choice as listed, an int, a float).

        Raises ValueError saying why when the value lies outside the range, off its step,
        or among none of the choices: Optuna would otherwise warn and sample another value.
        """
        if self.type == "categorical":
            for choice in self.choices:
                if format_value(choice) == format_value(value):
                    return choice
            raise ValueError(f"got {value!r}; valid values are {format_choices(self.choices)}")
        try:
            number = read_number(Path(self.name), "value", value, self.type == "int")
        except ValueError as error:
            # The message is `<name>: value: <problem>`; the caller names the key.
            raise ValueError(str(error).split(": ", 2)[2]) from None
        if not self.low <= number <= self.high:
            raise ValueError(f"got {value!r}; valid values are {self.low} to {self.high}")
        if self.step and not math.isclose(
            (number - self.low) / self.step, round((number - self.low) / self.step), abs_tol=1e-8
        ):
            raise ValueError(
                f"got {value!r}; valid values are {self.low} to {self.high} in steps of {self.step}"
            )
        return number

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


# Fields a sweep may fix but not tune: every trial of a study runs in processes that
# imported Keras once, on one backend.
PROCESS_FIELDS = ("backend",)


def space_error(path: Path, key: str, problem: str) -> ValueError:
    """Returns the one-line error for a space file: the file, the key, the problem."""
    return ValueError(f"{path}: {key}: {problem}")


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
        if name in PROCESS_FIELDS:
            raise space_error(
                path,
                key,
                "is chosen once per process (Keras reads it at import); valid places are "
                f"fixed.{name}, or one study per value",
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


def format_choices(choices: tuple[Any, ...]) -> str:
    """Spells choices as a space file lists them: `lstm, gru`."""
    return ", ".join(format_value(choice) for choice in choices)


def read_enqueue(path: Path, raw: Any, params: tuple[ParamSpec, ...]) -> tuple[dict[str, Any], ...]:
    """Validates `enqueue:`, a list of configs the study tries first, each typed per its spec.

    Every key of an entry is a tuned parameter and every value inside its range or among its
    choices; a tuned parameter an entry leaves out is sampled as usual. The key of an error
    is `enqueue[i].name`, i counting from 0.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(entry, dict) and entry for entry in raw):
        raise space_error(
            path, "enqueue", "expected a list of mappings of tuned parameters to values"
        )
    specs = {spec.name: spec for spec in params}
    entries = []
    for index, entry in enumerate(raw):
        typed = {}
        for name, value in entry.items():
            key = f"enqueue[{index}].{name}"
            if name not in specs:
                raise space_error(
                    path, key, "not a tuned parameter; valid keys are " + ", ".join(specs)
                )
            try:
                typed[name] = specs[name].admit(value)
            except ValueError as error:
                raise space_error(path, key, strip_name(name, str(error))) from None
        entries.append(typed)
    return tuple(entries)
