"""Builds each command's argparse options from field metadata, and reads them back.

One convention for every command: a field `learning_rate` is the option `--learning-rate`
(as `--help` shows it), and `--learning_rate`, the MLflow param's spelling, is accepted as
its alias. Values stay strings here; `config_from_mapping` and `options_from_mapping`
convert and validate them, so argv, MLflow params and sweep files share one value parser.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from rnn_tracking.config import FIELDS, TrainConfig, config_from_mapping
from rnn_tracking.options import options_from_mapping


class UsageError(ValueError):
    """Bad input from the user: reported as one line with exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and raise instead of exiting.

    Abbreviations are off: `--lr` must not silently mean `--learning-rate`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", OneSpellingFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # noqa: D102 - argparse's hook.
        raise UsageError(message)


class OneSpellingFormatter(argparse.HelpFormatter):
    """Shows each option under its hyphenated spelling (`--n-trials N`), without the
    underscore alias (`--n_trials`) that MLflow's param name adds."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings:
            return super()._format_action_invocation(action)
        shown = ", ".join(
            [each for each in action.option_strings if "_" not in each] or action.option_strings[:1]
        )
        if action.nargs == 0:
            return shown
        default = self._get_default_metavar_for_optional(action)
        return f"{shown} {self._format_args(action, default)}"


def spell_option(name: str) -> list[str]:
    """Returns the option strings of a field: `--top-k` first, then `--top_k` if different."""
    hyphenated = f"--{name.replace('_', '-')}"
    return [hyphenated] if hyphenated == f"--{name}" else [hyphenated, f"--{name}"]


def describe_default(spec: dataclasses.Field) -> str:
    """Returns the `(default: ...)` suffix of an option's help, or '' when it has none."""
    default = spec.default
    if default is None or spec.metadata.get("required") or spec.metadata.get("flag"):
        return ""
    if isinstance(default, tuple):
        return f" (default: {', '.join(default)})" if default else ""
    shown = repr(default) if isinstance(default, str) else default
    return f" (default: {shown})"


def add_field_options(
    parser: argparse.ArgumentParser | Any, fields: Iterable[dataclasses.Field]
) -> None:
    """Adds one option (or positional) per field, with the field's reason and default.

    Every option defaults to None, meaning 'not given', so the dataclass keeps its default.
    """
    for spec in fields:
        meta = spec.metadata
        text = (meta["help"] + describe_default(spec)).replace("%", "%%")
        choices = meta.get("choices")
        kind = str(spec.type).split(" ")[0]
        metavar = meta.get("metavar") or (
            "{" + ",".join(choices) + "}" if choices else "LIST" if "[" in kind else kind.upper()
        )
        if meta.get("positional"):
            parser.add_argument(spec.name, nargs="*", metavar=metavar, help=text)
        elif meta.get("flag"):
            parser.add_argument(
                *spell_option(spec.name),
                dest=spec.name,
                action="store_true",
                default=None,
                help=text,
            )
        else:
            parser.add_argument(
                *spell_option(spec.name),
                dest=spec.name,
                default=None,
                required=bool(meta.get("required")),
                action="append" if meta.get("repeatable") else "store",
                metavar=metavar,
                help=text,
            )


def add_config_options(
    parser: argparse.ArgumentParser, names: Sequence[str] = tuple(FIELDS)
) -> None:
    """Adds one option per training config field (or per field in `names`)."""
    group = parser.add_argument_group("training config (each is also an MLflow param)")
    add_field_options(group, (FIELDS[name] for name in names))


def add_command_options(parser: argparse.ArgumentParser, options: type) -> None:
    """Adds the options of a command's dataclass, grouped by their `group` metadata."""
    groups: dict[str, Any] = {}
    for spec in dataclasses.fields(options):
        title = spec.metadata.get("group")
        target = parser
        if title:
            target = groups.setdefault(title, parser.add_argument_group(title))
        add_field_options(target, [spec])


def read_config(args: argparse.Namespace, names: Sequence[str] = tuple(FIELDS)) -> TrainConfig:
    """Builds the config from the options the user gave; the rest keep their defaults."""
    given = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    return config_from_mapping(given)


def read_options(args: argparse.Namespace, options: type) -> Any:
    """Builds a command's options from argv; those not given keep their defaults."""
    names = [spec.name for spec in dataclasses.fields(options)]
    given = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    return options_from_mapping(options, given)


def report_unknown_options(extras: Sequence[str], valid: Sequence[str]) -> None:
    """Raises a UsageError naming the first unknown option and the command's parameters."""
    for extra in extras:
        if extra.startswith("--"):
            name = extra[2:].split("=", 1)[0]
            raise UsageError(
                f"unknown parameter {name!r}; valid parameters are {', '.join(valid)}."
            )
    raise UsageError(f"unexpected argument {extras[0]!r}")
