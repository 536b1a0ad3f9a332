"""Reproduces the Keras IMDB tutorial's four models with the platform's default settings.

Each model is one `rnn-tracking train` run on the full dataset, recorded in the MLflow
experiment `tutorial` of the tracking store in the current directory (or
$MLFLOW_TRACKING_URI). The table printed at the end is read back from MLflow; the README's
comparison table and plots come from `rnn-tracking report` over the same experiment.

    python bench/reproduce_tutorial.py --data ../shared/data/aclImdb_labeled.tar.gz

Pass `--models lstm gru` to run a subset, and `--extra --epochs 3` to shorten a trial run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import mlflow
from mlflow.tracking import MlflowClient

# The tutorial's four models, as platform parameters.
MODELS = {
    "lstm": [],
    "lstm_dropout": ["--dropout", "0.3"],
    "lstm_stacked": ["--layers", "2", "--dropout", "0.3"],
    "gru": ["--arch", "gru"],
}


def train_model(name: str, data: str, experiment: str, extra: list[str]) -> str:
    """Runs one training as a subprocess and returns its MLflow run id."""
    command = [
        sys.executable,
        "-m",
        "rnn_tracking",
        "train",
        "--data",
        data,
        "--experiment-name",
        experiment,
        "--verbose",
        "2",
        *MODELS[name],
        *extra,
    ]
    print("$", " ".join(command), flush=True)
    started = time.time()
    subprocess.run(command, check=True)
    runs = MlflowClient().search_runs(
        [mlflow.get_experiment_by_name(experiment).experiment_id],
        filter_string=f"attributes.start_time >= {int(started * 1000)}",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id


def describe_runs(run_ids: dict[str, str]) -> str:
    """Returns a Markdown table of the runs' epochs, accuracies and seconds per epoch."""
    lines = [
        "| model | params | epochs run | best epoch | best val_accuracy | test_accuracy | s/epoch |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, run_id in run_ids.items():
        metrics = MlflowClient().get_run(run_id).data.metrics
        seconds = [m.value for m in MlflowClient().get_metric_history(run_id, "epoch_seconds")]
        median = sorted(seconds)[len(seconds) // 2]
        lines.append(
            f"| {name} | {int(metrics['param_count']):,} | {int(metrics['epochs_run'])} | "
            f"{int(metrics['best_epoch'])} | {metrics['best_val_accuracy']:.4f} | "
            f"{metrics['test_accuracy']:.4f} | {median:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--data", required=True, help="aclImdb directory or .tar.gz")
    parser.add_argument("--experiment-name", default="tutorial")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument(
        "--extra",
        nargs=argparse.REMAINDER,
        default=[],
        help="further `rnn-tracking train` options, e.g. --extra --epochs 3",
    )
    args = parser.parse_args()
    run_ids = {
        name: train_model(name, args.data, args.experiment_name, args.extra) for name in args.models
    }
    print(describe_runs(run_ids))


if __name__ == "__main__":
    main()
