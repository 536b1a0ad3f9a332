"""End to end: `mlflow run . --env-manager local` and signals, as subprocesses."""

import os
import signal
import subprocess

import mlflow
import pytest
from helpers import ROOT, mlflow_run_command, start_process, wait_for
from mlflow.tracking import MlflowClient

from rnn_tracking.config import FIELDS
from rnn_tracking.runs import prepare_tracking_store

pytestmark = pytest.mark.integration


def runs_of(experiment_name):
    prepare_tracking_store()
    experiment = mlflow.get_experiment_by_name(experiment_name)
    return MlflowClient().search_runs([experiment.experiment_id]) if experiment else []


def mlflow_run(env, *parameters, experiment="e2e"):
    command = mlflow_run_command(*parameters, experiment=experiment)
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


def first_epoch_logged(experiment_name):
    """Whether the experiment's run has logged its first epoch's val_loss."""
    runs = runs_of(experiment_name)
    return bool(runs) and bool(MlflowClient().get_metric_history(runs[0].info.run_id, "val_loss"))


def test_mlflow_run_trains_gru_and_logs_one_finished_run(real_data_path, subprocess_env):
    finished = mlflow_run(
        subprocess_env,
        "arch=gru",
        "epochs=2",
        "units=4",
        "max_reviews=300",
        f"data={real_data_path}",
        "learning_rate=1e-3",
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    [run] = runs_of("e2e")
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "gru-1x4"
    assert set(FIELDS) <= set(run.data.params)
    # mlflow run logged the user's spelling first; ours was not logged again.
    assert run.data.params["learning_rate"] == "1e-3"
    assert run.data.metrics["epochs_run"] == 2
    steps = [m.step for m in MlflowClient().get_metric_history(run.info.run_id, "val_accuracy")]
    assert steps == [1, 2]
    assert mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model") is not None


def test_mlflow_run_with_unknown_parameter_fails_the_run(subprocess_env):
    finished = mlflow_run(subprocess_env, "unitz=16", experiment="bad")
    assert finished.returncode != 0
    assert "rnn-tracking: error: unknown parameter 'unitz'; valid parameters are" in finished.stderr
    [run] = runs_of("bad")
    assert run.info.status == "FAILED"


def test_sigterm_ends_the_run_killed_with_best_checkpoint(real_data_path, subprocess_env):
    process = subprocess.Popen(
        [
            "rnn-tracking",
            "train",
            "--data",
            str(real_data_path),
            "--max_reviews",
            "300",
            "--units",
            "4",
            "--epochs",
            "100",
            "--patience",
            "100",
            "--verbose",
            "0",
            "--experiment-name",
            "term",
        ],
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: first_epoch_logged("term"), 300, "the first epoch", process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr[-2000:]
    [run] = runs_of("term")
    assert run.info.status == "KILLED"
    assert f"interrupted; run {run.info.run_id} ended KILLED." in stderr
    checkpoints = MlflowClient().list_artifacts(run.info.run_id, "checkpoints")
    assert [item.path for item in checkpoints] == ["checkpoints/best.keras"]


def test_ctrl_c_on_mlflow_run_ends_the_run_killed_with_an_error_tag(real_data_path, subprocess_env):
    """Ctrl-C reaches the whole process group: `mlflow run` and the training under it.

    `mlflow run` then also sends SIGTERM to the training and marks a still RUNNING run
    FAILED; the training must have ended the run KILLED first, whatever the order.
    """
    # `mlflow run` itself opens the store without our lock, so this test, which reads the
    # store while it runs, creates it first (as any earlier run would have).
    prepare_tracking_store()
    command = mlflow_run_command(
        f"data={real_data_path}",
        "max_reviews=300",
        "units=4",
        "epochs=100",
        "patience=100",
        experiment="ctrlc",
    )
    process = start_process(command, subprocess_env, ROOT, start_new_session=True)
    try:
        wait_for(lambda: first_epoch_logged("ctrlc"), 300, "the first epoch", process)
        # What a terminal does on Ctrl-C: SIGINT to every process of the foreground group.
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    # Read once, right as `mlflow run` has returned: no waiting for the status to settle.
    [run] = runs_of("ctrlc")
    assert process.returncode != 0
    assert run.info.status == "KILLED", stderr[-3000:]
    assert run.data.tags["error"] == "KeyboardInterrupt: SIGINT"
    assert f"interrupted; run {run.info.run_id} ended KILLED." in stderr
