"""The command line: the only reader of argv, and the only place that sets exit codes.

`rnn-tracking train --arch gru --units 16` (also `python -m rnn_tracking train ...`) parses
argv into a validated `TrainConfig`, loads the data, and trains inside one MLflow run. Every
command's parser is built from field metadata (`rnn_tracking.config`, `rnn_tracking.options`),
the one home of defaults; `cli.parser` builds it, `cli.commands` holds what the commands
share, and each command runs in its room (`training`, `records`, `serving`, `studies`).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from rnn_tracking.baseline import DATA_FIELDS as BASELINE_DATA_FIELDS
from rnn_tracking.cli.commands import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROGRAM,
    end_pending_run,
    prepare_backend,
)
from rnn_tracking.cli.parser import (
    OneLineParser,
    UsageError,
    add_command_options,
    add_config_options,
    read_config,
    report_unknown_options,
)
from rnn_tracking.cli.records import command_baseline, command_report
from rnn_tracking.cli.serving import command_evaluate, command_predict, command_promote
from rnn_tracking.cli.studies import command_sweep
from rnn_tracking.cli.training import (
    command_embed,
    command_rerun,
    command_train,
    describe_result,
    seed_configs,
)
from rnn_tracking.config import FIELDS
from rnn_tracking.options import (
    EMBED_DATA_FIELDS,
    BaselineOptions,
    EmbedOptions,
    EvaluateOptions,
    PredictOptions,
    PromoteOptions,
    ReportOptions,
    RerunOptions,
    SweepOptions,
    TrainOptions,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROGRAM",
    "SWEEP_DEFAULT_HEARTBEAT_INTERVAL",
    "SWEEP_DEFAULT_N_TRIALS",
    "OneLineParser",
    "UsageError",
    "build_parser",
    "describe_result",
    "main",
    "read_config",
    "seed_configs",
]

# The sweep's defaults, read from its options' metadata; a unit test checks that the sweep
# module's own constants agree.
SWEEP_DEFAULT_N_TRIALS = SweepOptions.n_trials
SWEEP_DEFAULT_HEARTBEAT_INTERVAL = SweepOptions.heartbeat_interval


@dataclasses.dataclass(frozen=True)
class Command:
    """One subcommand: its help, its options (config field names and/or a dataclass), its
    handler, whether it runs Keras (on the backend `choose_backend` picks), and whether it
    runs without the cyclic garbage collector (see `main`)."""

    name: str
    help: str
    description: str
    handler: Callable[[argparse.Namespace], int]
    config_fields: tuple[str, ...] = ()
    options: type | None = None
    uses_keras: bool = False
    pauses_garbage_collection: bool = False


COMMANDS = (
    Command(
        "train",
        "Train one model in one MLflow run.",
        "Train one model in one MLflow run. Every training config option is logged as an "
        "MLflow param.",
        command_train,
        tuple(FIELDS),
        TrainOptions,
        uses_keras=True,
    ),
    Command(
        "rerun",
        "Train a run again from its params and say whether its results reproduce.",
        "Train a run again from its recorded params on data with the same content digest "
        "(refused otherwise), in a new run tagged rerun_of, and compare the summary metrics "
        "one by one: exactly without dropout, within noise with it. Exit 1 if one differs.",
        command_rerun,
        options=RerunOptions,
        uses_keras=True,
    ),
    Command(
        "report",
        "Compare tracked runs in a table, grouped, with plots.",
        "Compare tracked runs: a table (one row per run or per group, mean ± std), a "
        "significance test of the best two groups, plots, and Markdown/CSV/HTML files. "
        "The table is always printed.",
        command_report,
        options=ReportOptions,
        pauses_garbage_collection=True,
    ),
    Command(
        "baseline",
        "Train linear baselines (TF-IDF, NBSVM) on the same split, as comparable runs.",
        "Train TF-IDF + LogisticRegression and NBSVM (NB-LR) on exactly the "
        "train/validation/test split of the neural runs (C chosen on validation, test scored "
        "once); log one run per model and budget with arch=tfidf_logreg or arch=nbsvm.",
        command_baseline,
        BASELINE_DATA_FIELDS,
        BaselineOptions,
    ),
    Command(
        "embed",
        "Train word2vec on the training split's reviews and log the vectors in a new run.",
        "Train word2vec (gensim) on the training split's reviews only, never validation or "
        "test, and log the vectors (word2vec text format) as an artifact of a new run tagged "
        "with the data digest and split; train from them with --embeddings runs:/RUN_ID/"
        "vectors/word2vec.txt.",
        command_embed,
        EMBED_DATA_FIELDS,
        EmbedOptions,
    ),
    Command(
        "predict",
        "Score review texts with a text model.",
        "Score review texts with a text model; prints label, sentiment, probability and the "
        "start of each review, tab-separated.",
        command_predict,
        options=PredictOptions,
        uses_keras=True,
    ),
    Command(
        "promote",
        "Register the best run's text model with the alias champion.",
        "Pick the finished run with the best validation metric, register its text model under "
        "NAME and point the alias 'champion' at it (models:/NAME@champion).",
        command_promote,
        options=PromoteOptions,
    ),
    Command(
        "evaluate",
        "Evaluate a text model on the test split, in a new MLflow run.",
        "Evaluate a text model on the test split of its training data with "
        "mlflow.models.evaluate: classifier metrics, confusion matrix, ROC and PR curves, "
        "accuracy by review length and the most confidently wrong reviews.",
        command_evaluate,
        options=EvaluateOptions,
        uses_keras=True,
    ),
    Command(
        "sweep",
        "Run or continue an Optuna study: one parent run, one nested run per trial.",
        "Run or continue an Optuna study over a search-space file (sweeps/*.yaml). Several "
        "workers may share one study through its storage.",
        command_sweep,
        options=SweepOptions,
        uses_keras=True,
    ),
)


def list_parameters(command: Command) -> list[str]:
    """Returns the names a command accepts, config fields first: its MLflow params."""
    names = list(command.config_fields)
    if command.options is not None:
        names += [spec.name for spec in dataclasses.fields(command.options)]
    return names


def build_parser() -> OneLineParser:
    """Returns the parser of every subcommand, each built from its options' metadata."""
    parser = OneLineParser(
        prog=PROGRAM,
        description="Train, sweep and compare recurrent IMDB classifiers, tracked in MLflow.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.description)
        if command.config_fields:
            add_config_options(sub, command.config_fields)
        if command.options is not None:
            add_command_options(sub, command.options)
        sub.set_defaults(
            handler=command.handler,
            parameters=list_parameters(command),
            uses_keras=command.uses_keras,
            pauses_garbage_collection=command.pauses_garbage_collection,
        )
    return parser


def quiet_libraries() -> None:
    """Keeps library chatter out of the terminal: TensorFlow's C++ start-up lines and
    MLflow's artifact download progress bars. Set the variables yourself to see them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow and probes its devices with C++ stderr held back.

    TensorFlow 2.21 writes its start-up notices (oneDNN, CUDA probing) through absl before
    TF_CPP_MIN_LOG_LEVEL applies, so they are caught at the file descriptor instead. If the
    import fails, the held-back lines are shown after all; TF_CPP_MIN_LOG_LEVEL=0 or 1 shows
    them always.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") in ("0", "1") or "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnce:
    """Turns the first Ctrl-C or SIGTERM into KeyboardInterrupt, so a stopped run ends KILLED.

    Later stop signals are ignored while the runs are being ended: Ctrl-C under `mlflow run`
    reaches both it and us, and it then sends SIGTERM, which would otherwise interrupt the
    ending half-way. (The handler stays installed rather than becoming SIG_IGN, which makes
    Python raise "Signal 15 ignored due to race condition" for a signal already pending.)
    """

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, frame: Any) -> None:
        if self.stopping:
            return
        self.stopping = True
        raise KeyboardInterrupt(signal.Signals(signum).name)


def describe_interruption(launcher_run_id: str | None) -> str:
    """Ends what an interruption left open and says which runs ended KILLED.

    `launcher_run_id` is the run `mlflow run` made for this process, read at start (ending
    it unsets $MLFLOW_RUN_ID); `mlflow run` would mark it FAILED afterwards, so it is kept
    KILLED (see `runs.keep_launcher_status`).
    """
    if "rnn_tracking.runs" not in sys.modules:
        return "interrupted before any run was opened."
    from rnn_tracking import runs

    pending = runs.end_launcher_run_if_pending(runs.KILLED)
    killed = [*runs.killed_run_ids(), *([pending] if pending else [])]
    if launcher_run_id in killed:
        runs.keep_launcher_status(launcher_run_id, runs.KILLED)
    if not killed:
        return "interrupted before any run was opened."
    return f"interrupted; run {', '.join(killed)} ended KILLED."


def record_command_line(argv: Sequence[str]) -> None:
    """Makes the runs of this process record the command line that started them."""
    import shlex

    from rnn_tracking import runs

    runs.record_command_line(shlex.join([PROGRAM, *argv]))


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one subcommand and returns its exit code; errors are one line on stderr.

    A command marked `pauses_garbage_collection` (the report) runs with Python's cyclic
    collector off: it imports MLflow and reads thousands of runs, all objects that live
    until it ends, and the collections that their allocation sets off only walk them again,
    a fifth of the report's CPU time over 1,000 runs. The collector is restored on return,
    for callers that run `main` in their own process. Run as the program (no `argv`: the
    console script, `python -m rnn_tracking`), such a command also freezes the heap at the
    end (`gc.freeze`), so that the interpreter's exit skips its last collections over every
    object MLflow and the runs left behind (0.6 s of CPU): the process is ending anyway.
    """
    quiet_libraries()
    collecting = gc.isenabled()
    paused = False
    parser = build_parser()
    argv_given = argv
    argv = list(sys.argv[1:] if argv is None else argv)
    launcher_run_id = os.environ.get("MLFLOW_RUN_ID")
    previous = {each: signal.getsignal(each) for each in STOP_SIGNALS}
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            report_unknown_options(extras, args.parameters)
        handler: Callable[[argparse.Namespace], int] = args.handler
        stop = StopOnce()
        for each in STOP_SIGNALS:
            signal.signal(each, stop)
        if args.pauses_garbage_collection:
            paused = True
            gc.disable()
        if args.uses_keras and prepare_backend(args) == "tensorflow":
            import_tensorflow_quietly()
        record_command_line(argv)
        return handler(args)
    except UsageError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        end_pending_run()
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROGRAM}: {describe_interruption(launcher_run_id)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        print(f"{PROGRAM}: error: {type(error).__name__}: {error}", file=sys.stderr)
        end_pending_run()
        return EXIT_FAILED
    finally:
        if collecting:
            gc.enable()
        if paused and argv_given is None:
            gc.freeze()
        for each, handler_before in previous.items():
            signal.signal(each, handler_before)


if __name__ == "__main__":
    sys.exit(main())
