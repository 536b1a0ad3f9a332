"""What every command shares: the exit codes, the tracking store, the Keras backend.

Each command's handler (what it does once its options are read: wire the modules, print
the outcome) is in its room: `training.py` (train, rerun, embed), `records.py` (report,
baseline), `serving.py` (predict, promote, evaluate), `studies.py` (sweep).

Heavy libraries are imported only by the command that needs them, so `--help` answers at
once. Bad input raises `UsageError` before any run is opened, so it never leaves one behind.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from rnn_tracking.cli.parser import UsageError, read_options
from rnn_tracking.options import RerunOptions

PROGRAM = "rnn-tracking"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def prepare_tracking_store() -> None:
    """Creates the tracking store once, under a lock, before a command's first MLflow call."""
    from rnn_tracking.runs import prepare_tracking_store as prepare

    prepare()


def record_system_metrics(enabled: bool) -> None:
    """Turns the system metrics and cost summaries of this process's runs on or off."""
    from rnn_tracking.runs import record_system_metrics as record

    record(enabled)


def end_pending_run() -> None:
    """Ends FAILED the run `mlflow run` created for us, if our code never got to open it."""
    if os.environ.get("MLFLOW_RUN_ID"):
        from rnn_tracking.runs import end_launcher_run_failed_if_pending

        end_launcher_run_failed_if_pending()


# --- the Keras backend: chosen once per process, before Keras is imported -----------------


def prepare_backend(args: argparse.Namespace) -> str:
    """Makes this process (and the workers it starts) run Keras on the command's backend.

    train: `--backend` (default: the field's); rerun: the backend the run recorded
    (tensorflow for runs made before the option existed); sweep: the space's `fixed`
    backend; predict and evaluate: $KERAS_BACKEND if set, else the default (a text model
    loads on any backend). Raises UsageError, one line, for a missing backend or a process
    whose Keras already runs on another.
    """
    from rnn_tracking.backend import BACKEND_ENV_VAR, DEFAULT_BACKEND, apply_backend

    try:
        if args.command == "train":
            name = args.backend or DEFAULT_BACKEND
        elif args.command == "rerun":
            name = read_rerun_backend(args)
        elif args.command == "sweep":
            name = read_space_backend(args.space)
        else:
            name = os.environ.get(BACKEND_ENV_VAR) or DEFAULT_BACKEND
        apply_backend(name)
    except ValueError as error:
        raise UsageError(str(error)) from error
    return name


def read_rerun_backend(args: argparse.Namespace) -> str:
    """Returns the backend the run to rerun trained on; ValueError for a bad run id."""
    from rnn_tracking import rerun

    options = read_options(args, RerunOptions)
    if len(options.run_id) != 1:
        raise ValueError(
            f"run_id: got {len(options.run_id)} ids; valid values are exactly one run id."
        )
    prepare_tracking_store()
    return rerun.config_of_run(rerun.read_training_run(options.run_id[0])).backend


def read_space_backend(path: str | None) -> str:
    """Returns the backend a space file fixes, else the default; the sweep's own reader
    checks the file in full afterwards (this reads YAML only, so that no Keras is imported)."""
    import yaml

    from rnn_tracking.backend import DEFAULT_BACKEND

    try:
        raw = yaml.safe_load(Path(str(path)).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return DEFAULT_BACKEND
    fixed = raw.get("fixed") if isinstance(raw, dict) else None
    name = fixed.get("backend") if isinstance(fixed, dict) else None
    return str(name) if name is not None else DEFAULT_BACKEND


# The command handlers live in their own rooms (`training`, `records`, `serving`, `studies`);
# these names are still importable from here, loaded on first use, because those rooms import
# the helpers above (an import at the top would be circular).
HANDLER_ROOMS = {
    "command_train": "rnn_tracking.cli.training",
    "command_rerun": "rnn_tracking.cli.training",
    "command_embed": "rnn_tracking.cli.training",
    "describe_result": "rnn_tracking.cli.training",
    "seed_configs": "rnn_tracking.cli.training",
    "command_report": "rnn_tracking.cli.records",
    "command_baseline": "rnn_tracking.cli.records",
    "command_predict": "rnn_tracking.cli.serving",
    "command_promote": "rnn_tracking.cli.serving",
    "command_evaluate": "rnn_tracking.cli.serving",
    "command_sweep": "rnn_tracking.cli.studies",
}


def __getattr__(name: str) -> Any:
    """Returns a command handler from its room, so `cli.commands.command_train` still works."""
    if name in HANDLER_ROOMS:
        import importlib

        return getattr(importlib.import_module(HANDLER_ROOMS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
