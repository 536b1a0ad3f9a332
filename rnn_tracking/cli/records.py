"""The commands that read or add records without Keras: `report` (compare tracked runs,
`rnn_tracking.report`) and `baseline` (TF-IDF + logistic regression, NBSVM)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from rnn_tracking.cli.commands import (
    EXIT_FAILED,
    EXIT_OK,
    PROGRAM,
    end_pending_run,
    prepare_tracking_store,
)
from rnn_tracking.cli.parser import UsageError, read_config, read_options
from rnn_tracking.options import BaselineOptions, ReportOptions


def command_report(args: argparse.Namespace) -> int:
    """Builds the report, prints the table and writes the requested outputs."""
    from rnn_tracking import report

    def path(text: str | None) -> Path | None:
        return Path(text).expanduser() if text else None

    inside_mlflow_run = bool(os.environ.get("MLFLOW_RUN_ID"))
    try:
        given = read_options(args, ReportOptions)
        selection = report.Selection(
            experiment_names=given.experiment_name,
            filter_string=given.filter,
            children=given.children,
            statuses=report.parse_statuses(given.status),
        )
        options = report.TableOptions(
            metrics=given.metrics,
            group_by=given.group_by,
            sort_by=given.sort_by,
            ascending=given.order == "asc",
            top_k=given.top_k,
            max_curves=given.max_curves,
        )
        outputs = report.Outputs(
            markdown=path(given.markdown),
            csv=path(given.csv),
            html=path(given.html),
            plots_dir=path(given.plots_dir),
            output_dir=path(given.output_dir),
            log_to_mlflow=given.log_to_mlflow or inside_mlflow_run,
        )
        prepare_tracking_store()
        built = report.build_report(selection, options)
    except report.NoRunsError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        end_pending_run()
        return EXIT_FAILED
    except ValueError as error:
        raise UsageError(str(error)) from error
    print(report.render_terminal(built))
    with tempfile.TemporaryDirectory() as scratch:
        files = report.write_outputs(built, outputs.resolved(Path(scratch)))
        if outputs.log_to_mlflow:
            names = selection.experiment_names
            run_id = report.log_report(built, files, names[0] if names else None)
            print(f"logged the report as run {run_id}")
        if outputs.output_dir or not outputs.log_to_mlflow:
            for written in files:
                print(f"wrote {written}")
    return EXIT_OK


def command_baseline(args: argparse.Namespace) -> int:
    """Fits every model and budget first, then logs one run each and prints its metrics."""
    # `runs`, not `tracking`: the baseline needs no Keras, and imports none.
    from rnn_tracking import baseline, runs
    from rnn_tracking.baseline.record import track_baseline

    try:
        config = read_config(args, baseline.DATA_FIELDS)
        options = read_options(args, BaselineOptions)
        budgets = baseline.parse_budgets(options.budgets)
        fitted = baseline.run_baselines(config, budgets, baseline.parse_models(options.models))
    except ValueError as error:
        raise UsageError(str(error)) from error
    runs.select_experiment(options.experiment_name)
    for data, result in fitted:
        run_id = track_baseline(config, data, result)
        print(
            f"run {run_id}: {result.arch} at the {result.budget} budget, "
            f"C {result.best_c:g}, val_accuracy {result.best_val_accuracy:.4f}, "
            f"test_accuracy {result.test_accuracy:.4f}, {result.train_seconds:.1f} s"
        )
    return EXIT_OK
