"""`mlflow run . -e report` over a store the test fills: the outputs become artifacts."""

import subprocess
from pathlib import Path

import pytest
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from rnn_tracking import report

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ACCURACIES = {"lstm": (0.80, 0.82, 0.84), "gru": (0.70, 0.72, 0.71)}


def fill_store(experiment_name):
    """Logs three seeds of two architectures, with curves, through the public API."""
    client = MlflowClient()
    experiment_id = client.create_experiment(experiment_name)
    for arch, accuracies in ACCURACIES.items():
        for seed, accuracy in enumerate(accuracies, start=42):
            run_id = client.create_run(experiment_id, run_name=f"{arch}-{seed}").info.run_id
            metrics = {
                "test_accuracy": accuracy,
                "best_val_accuracy": accuracy + 0.01,
                "param_count": 8809 if arch == "lstm" else 8633,
                "train_seconds": 60.0,
                "epochs_run": 6,
                "best_epoch": 4,
            }
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, 0, 0) for k, v in metrics.items()]
                + [Metric("val_accuracy", accuracy - 0.1 / e, 0, e) for e in (1, 2, 3)],
                params=[Param("arch", arch), Param("seed", str(seed))],
            )
            client.set_terminated(run_id)


def mlflow_run_report(env, *parameters):
    command = [
        "mlflow",
        "run",
        str(ROOT),
        "-e",
        "report",
        "--env-manager",
        "local",
        "--experiment-name",
        "compare",
    ]
    for parameter in parameters:
        command += ["-P", parameter]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_report_entry_point_logs_the_outputs_and_refuses_an_empty_selection(subprocess_env):
    fill_store("compare")
    finished = mlflow_run_report(subprocess_env, "group_by=arch")
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "Welch's t-test" in finished.stdout

    client = MlflowClient()
    experiment = client.get_experiment_by_name("compare")
    [run] = client.search_runs(
        [experiment.experiment_id], f"tags.`{report.REPORT_KIND_TAG}` = 'report'"
    )
    assert run.info.status == "FINISHED"
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"report.md", "report.csv", "report.html", "report.json"} <= artifacts
    plots = {item.path for item in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {f"plots/{name}" for name in report.PLOT_NAMES}

    empty = mlflow_run_report(subprocess_env, "filter=params.arch = 'transformer'")
    assert empty.returncode != 0
    assert "rnn-tracking: no runs match" in empty.stderr
    statuses = [r.info.status for r in client.search_runs([experiment.experiment_id])]
    assert "RUNNING" not in statuses
