"""Seed repeats end to end: `mlflow run . -P seeds=2`, then a report grouped over them."""

import subprocess
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from rnn_tracking import report
from rnn_tracking.cli import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_seeds_train_nested_runs_whose_report_groups_show_mean_and_std(
    real_data_path, subprocess_env, capsys
):
    command = ["mlflow", "run", str(ROOT), "--env-manager", "local", "--experiment-name", "seeds"]
    for parameter in (
        "seeds=2",
        "epochs=1",
        "units=4",
        "max_reviews=200",
        f"data={real_data_path}",
    ):
        command += ["-P", parameter]
    finished = subprocess.run(
        command, capture_output=True, text=True, env=subprocess_env, cwd=ROOT, timeout=600
    )
    assert finished.returncode == 0, finished.stderr[-2000:]

    experiment = mlflow.get_experiment_by_name("seeds")
    runs = MlflowClient().search_runs([experiment.experiment_id])
    [parent] = [run for run in runs if report.SEED_REPEATS_TAG in run.data.tags]
    children = [run for run in runs if run is not parent]
    parent_id = parent.info.run_id
    assert parent.info.status == "FINISHED"
    assert parent.data.tags[report.SEED_REPEATS_TAG] == "2"
    assert parent.data.params["seeds"] == "2"
    assert sorted(run.data.params["seed"] for run in children) == ["42", "43"]
    for child in children:
        assert child.info.status == "FINISHED"
        assert child.data.tags["mlflow.parentRunId"] == parent_id
        assert child.data.tags[report.SEED_REPEAT_OF_TAG] == parent_id
    accuracies = np.array([run.data.metrics["test_accuracy"] for run in children])
    assert parent.data.metrics["test_accuracy_mean"] == pytest.approx(accuracies.mean())
    assert parent.data.metrics["test_accuracy_std"] == pytest.approx(accuracies.std(ddof=1))

    # The report shows the two seeds as one group of n=2 (the parent is no row).
    assert main(["report", "--experiment-name", "seeds", "--group-by", "arch"]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if line.startswith("lstm"))
    mean, std = accuracies.mean(), accuracies.std(ddof=1)
    assert row.split()[1] == "2"
    assert f"{mean:.4f} ± {std:.4f}" in row
