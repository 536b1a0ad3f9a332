"""The command line: the only reader of argv, and the only place that sets exit codes.

`rnn-tracking train --arch gru --units 16` (also `python -m rnn_tracking train ...`) parses
argv into a validated `TrainConfig`, loads the data, and trains inside one MLflow run. Heavy
libraries are imported only by the command that needs them, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rnn_tracking.config import FIELDS, TrainConfig, config_from_mapping

PROGRAM = "rnn-tracking"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(ValueError):
    """Bad input from the user: reported as one line with exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and raise instead of exiting."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse's hook.
        raise UsageError(message)


def quiet_tensorflow() -> None:
    """Keeps TensorFlow's C++ start-up chatter out of the terminal unless asked for."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """Adds one `--name` option per config field, with the field's default and reason.

    Values stay strings here; `config_from_mapping` converts and validates them, so argv,
    MLflow params and sweep files share one parser of values.
    """
    defaults = TrainConfig()
    group = parser.add_argument_group("training config (each is also an MLflow param)")
    for name, spec in FIELDS.items():
        default = getattr(defaults, name)
        shown = repr(default) if isinstance(default, str) else default
        group.add_argument(
            f"--{name}",
            dest=name,
            default=None,
            metavar=spec.type.upper(),
            help=f"{spec.metadata['help']} (default: {shown})".replace("%", "%%"),
        )


def add_tracking_options(parser: argparse.ArgumentParser) -> None:
    """Adds the options that choose where runs are recorded and how chatty training is."""
    parser.add_argument(
        "--experiment-name",
        default=None,
        help="MLflow experiment to record into (default: $MLFLOW_EXPERIMENT_NAME, else MLflow's Default).",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=2,
        help="Keras fit output: 0 silent, 1 progress bar, 2 one line per epoch (default: 2).",
    )


def read_config(args: argparse.Namespace) -> TrainConfig:
    """Builds the config from the options the user gave; the rest keep their defaults."""
    given = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    return config_from_mapping(given)


def command_train(args: argparse.Namespace) -> int:
    """Trains one model in one MLflow run and prints its summary metrics."""
    from rnn_tracking import tracking
    from rnn_tracking.data import load_splits

    # Everything is validated and the data loaded before a run is opened, so bad input
    # never leaves a run behind.
    try:
        config = read_config(args)
        splits = load_splits(config)
    except ValueError as error:
        raise UsageError(str(error)) from error
    tracking.select_experiment(args.experiment_name)
    run_id, result = tracking.track_training(config, splits, verbose=args.verbose)
    print(
        f"run {run_id}: best epoch {result.best_epoch} of {result.epochs_run}, "
        f"val_accuracy {result.best_val_accuracy:.4f}, test_accuracy {result.test_accuracy:.4f}, "
        f"{result.train_seconds:.1f} s"
    )
    return EXIT_OK


def build_parser() -> OneLineParser:
    """Returns the parser of every subcommand."""
    parser = OneLineParser(
        prog=PROGRAM,
        description="Train, sweep and compare recurrent IMDB classifiers, tracked in MLflow.",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    train = commands.add_parser(
        "train",
        help="Train one model in one MLflow run.",
        description="Train one model in one MLflow run. Every option below is logged as an MLflow param.",
        allow_abbrev=False,
    )
    add_config_options(train)
    add_tracking_options(train)
    train.set_defaults(handler=command_train)
    return parser


def report_unknown_options(extras: Sequence[str]) -> None:
    """Raises a UsageError naming the first unknown option and the valid parameters."""
    for extra in extras:
        if extra.startswith("--"):
            name = extra[2:].split("=", 1)[0]
            raise UsageError(
                f"unknown parameter {name!r}; valid parameters are {', '.join(FIELDS)}."
            )
    raise UsageError(f"unexpected argument {extras[0]!r}")


def raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    """Turns SIGTERM into KeyboardInterrupt, so a terminated run ends KILLED like Ctrl-C."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one subcommand and returns its exit code; errors are one line on stderr."""
    quiet_tensorflow()
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            report_unknown_options(extras)
        handler: Callable[[argparse.Namespace], int] = args.handler
        signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
        return handler(args)
    except UsageError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        end_pending_run()
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted; the run was ended KILLED.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        print(f"{PROGRAM}: error: {type(error).__name__}: {error}", file=sys.stderr)
        end_pending_run()
        return EXIT_FAILED


def end_pending_run() -> None:
    """Ends FAILED the run `mlflow run` created for us, if our code never got to open it."""
    if os.environ.get("MLFLOW_RUN_ID"):
        from rnn_tracking.tracking import end_run_failed_if_pending

        end_run_failed_if_pending()


if __name__ == "__main__":
    sys.exit(main())
