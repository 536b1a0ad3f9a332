"""What every command's options share: the common help texts and reading raw values.

`parse_option` converts one raw value (argv, an MLflow param) to its field's type, by the
field's metadata; `options_from_mapping` builds a whole options dataclass from such values.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rnn_tracking.config import parse_bool

__all__ = [
    "EXPERIMENT_HELP",
    "SYSTEM_METRICS_HELP",
    "VERBOSE_HELP",
    "VERBOSITIES",
    "is_empty",
    "options_from_mapping",
    "parse_count",
    "parse_option",
]

VERBOSITIES = ("0", "1", "2")
EXPERIMENT_HELP = (
    "MLflow experiment to record into; unset means $MLFLOW_EXPERIMENT_NAME, else MLflow's Default."
)
VERBOSE_HELP = "Keras fit output: 0 silent, 1 progress bar, 2 one line per epoch."
SYSTEM_METRICS_HELP = (
    "Record MLflow's system metrics (CPU, memory, disk, network, GPU; one sample per 10 s) "
    "and the cost summaries cpu_seconds and peak_rss_mb on each run: on by default, so the "
    "report can weigh accuracy against cost. Changes nothing in the model."
)


def is_empty(value: Any) -> bool:
    """True for a value that means 'unset': None, '' or an empty list of repeats."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return all(is_empty(each) for each in value)
    return False


def parse_option(options: type, name: str, value: Any) -> Any:
    """Converts one raw value (argv, MLflow param) to the type of `options`' field `name`.

    An empty value means the field's default, unless the option is required or
    positional (those pass on as given, for their command to judge). Raises ValueError naming the option.
    """
    spec = {each.name: each for each in dataclasses.fields(options)}[name]
    if spec.metadata.get("positional"):
        return tuple(str(each) for each in value)
    if is_empty(value) and not spec.metadata.get("required"):
        return spec.default
    kind = str(spec.type)
    if kind.startswith("tuple"):
        parts = [value] if isinstance(value, str) else list(value)
        split = (piece.strip() for part in parts for piece in str(part).split(","))
        return tuple(piece for piece in split if piece)
    choices = spec.metadata.get("choices")
    if kind.startswith("int"):
        number = parse_count(name, value, spec.metadata.get("minimum", 0))
        if choices and str(number) not in choices:
            raise ValueError(f"{name}: got {value!r}; valid values are {', '.join(choices)}.")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        try:
            return parse_bool(value)
        except ValueError:
            raise ValueError(f"{name}: got {value!r}; valid values are true or false.") from None
    text = str(value)
    if choices and text not in choices:
        raise ValueError(f"{name}: got {text!r}; valid values are {', '.join(choices)}.")
    return text


def options_from_mapping(options: type, values: dict[str, Any]) -> Any:
    """Builds an `options` instance from raw values; unset ones keep their defaults."""
    names = [each.name for each in dataclasses.fields(options)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(
            f"unknown parameter {unknown[0]!r}; valid parameters are {', '.join(names)}."
        )
    return options(**{name: parse_option(options, name, value) for name, value in values.items()})


def parse_count(name: str, value: Any, minimum: int = 0) -> int:
    """Reads a whole number >= `minimum` from an int or a string such as '5' or '5.0'.

    `mlflow run` passes float parameters as '5.0', so those are whole numbers too; '5.5',
    booleans and words are not. Raises ValueError naming the parameter.
    """
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not number.is_integer() or number < minimum:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"{name}: got {value!r}; valid values are integers >= {minimum}."
        ) from None
    return int(number)
