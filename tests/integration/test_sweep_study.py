"""Studies on a few hundred real reviews: MLflow structure, pruning, failure, resume, workers."""

import os
import re
import signal
import subprocess

import mlflow
import optuna
import pytest
from helpers import (
    ROOT,
    SWEEP_SPACE,
    check_stale_trial_was_retried,
    check_two_way_links,
    journal,
    mlflow_run_command,
    start_process,
    study_runs,
    sweep_command,
    wait_for,
    write_space,
)
from mlflow.tracking import MlflowClient

from rnn_tracking import sweep
from rnn_tracking.config import FIELDS
from rnn_tracking.sweep.trials import TrialsFailed

pytestmark = pytest.mark.integration

TrialState = optuna.trial.TrialState


def test_mlflow_run_makes_one_parent_with_linked_trial_runs_and_resumes_it(
    reviews, tmp_path, subprocess_env
):
    space = write_space(tmp_path)

    def mlflow_run(n_trials):
        command = mlflow_run_command(
            f"space={space}", f"n_trials={n_trials}", f"data={reviews}", entry_point="sweep"
        )
        finished = subprocess.run(
            command, capture_output=True, text=True, env=subprocess_env, cwd=ROOT, timeout=600
        )
        assert finished.returncode == 0, finished.stderr[-3000:]
        return finished

    first = mlflow_run(1)
    assert "[1/1] trial 0 complete" in first.stdout
    [parent], _ = study_runs()
    second = mlflow_run(2)
    assert "1 of 2 trials done" in second.stdout and "[2/2] trial 1 complete" in second.stdout

    # The study kept its first parent; the second launcher's run is a session under it.
    [still_parent], children = study_runs()
    assert still_parent.info.run_id == parent.info.run_id
    client = MlflowClient()
    [session] = client.search_runs(
        [parent.info.experiment_id], filter_string="tags.sweep_session = 'true'"
    )
    assert session.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert session.info.status == "FINISHED" and session.data.params["n_trials"] == "2"

    study = optuna.load_study(study_name="it", storage=journal(tmp_path / "optuna.journal"))
    assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 2
    by_number = check_two_way_links(study, children, parent.info.run_id)

    # The parent: tags, best_ params, counts and artifacts.
    tags, params, metrics = (
        still_parent.data.tags,
        still_parent.data.params,
        still_parent.data.metrics,
    )
    assert still_parent.info.status == "FINISHED" and still_parent.info.run_name == "it"
    assert tags["optuna_study"] == "it"
    assert tags["optuna_storage"] == str(tmp_path / "optuna.journal")
    assert tags["optuna_sampler"].startswith("TPESampler(seed=1")
    assert tags["optuna_pruner"] == "NopPruner()"
    best = study.best_trial
    # MLflow params never change: the best_ params are those of the first session's best
    # (its only trial, 0); when the second session finds a better one, it says so and the
    # metrics follow the study's best.
    first = study.trials[0]
    assert params["best_units"] == str(first.params["units"])
    assert float(params["best_learning_rate"]) == first.params["learning_rate"]
    if best.number != first.number:
        assert "keeps the best_ params it logged first" in second.stdout
    assert metrics["best_value"] == pytest.approx(best.value)
    counts = (metrics["complete_trials"], metrics["pruned_trials"], metrics["failed_trials"])
    assert counts == (2, 0, 0)
    artifacts = {item.path for item in client.list_artifacts(parent.info.run_id)}
    assert {"it.yaml", "trials.csv", "plots"} <= artifacts
    plots = {item.path for item in client.list_artifacts(parent.info.run_id, "plots")}
    assert {"plots/optimization_history.png", "plots/intermediate_values.png"} <= plots
    table = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/trials.csv").splitlines()
    assert table[0].startswith("number,state,units,learning_rate,value,duration_s,run_id")
    assert table[2].startswith("1,complete,")

    # Each trial logs what a training run logs, plus its number and state.
    run = by_number[best.number]
    assert run.info.status == "FINISHED" and run.data.tags["trial_state"] == "complete"
    assert set(FIELDS) <= set(run.data.params) and run.data.params["arch"] == "gru"
    assert run.data.metrics["best_val_accuracy"] == pytest.approx(best.value)
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert [metric.step for metric in history] == [1, 2]
    assert [metric.value for metric in history] == pytest.approx(
        [best.intermediate_values[1], best.intermediate_values[2]]
    )
    run_artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"checkpoints", "config.json", "learning_curves.png"} <= run_artifacts
    models = client.search_logged_models(
        [run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"
    )
    assert "model" in [model.name for model in models]


def run_in_process(space_path, data, **options):
    return sweep.run_sweep(
        sweep.load_space(space_path, data=str(data)), echo=lambda line: None, **options
    )


def test_pruned_trial_ends_killed_with_the_epoch_it_was_pruned_at(reviews, tmp_path, tracking_uri):
    # The threshold pruner stops any trial below an accuracy no model reaches.
    text = SWEEP_SPACE.replace("pruner: none", "pruner: {name: threshold, lower: 1.01}")
    outcome = run_in_process(write_space(tmp_path, text), reviews, n_trials=1)
    assert outcome.tally.pruned == 1 and outcome.best_trial is None
    [parent], [child] = study_runs()
    [trial] = optuna.load_study(
        study_name="it", storage=journal(tmp_path / "optuna.journal")
    ).trials
    assert trial.state == TrialState.PRUNED and list(trial.intermediate_values) == [1]
    assert child.info.status == "KILLED"
    assert child.data.tags["trial_state"] == "pruned"
    assert child.data.tags["pruned_at_epoch"] == "1"
    assert child.data.tags["error"].startswith("TrialPruned: pruned at epoch 1")
    assert trial.user_attrs["mlflow_run_id"] == child.info.run_id
    assert parent.data.metrics["pruned_trials"] == 1 and parent.info.status == "FINISHED"
    assert not any(key.startswith("best_") for key in parent.data.params)


def test_failed_trial_ends_failed_with_its_error_and_counts_toward_the_total(
    reviews, tmp_path, tracking_uri
):
    # A data source tuned among choices: this one does not exist, so the trial fails.
    text = SWEEP_SPACE.replace(
        "  units: {type: int, low: 2, high: 8}",
        f"  units: {{type: int, low: 2, high: 8}}\n  data: {{type: categorical, choices: [{tmp_path}/gone.csv]}}",
    )
    # The session's only trial failed, so the session fails too (and its parent run).
    with pytest.raises(TrialsFailed, match="all 1 trials of this session failed"):
        sweep.run_sweep(sweep.load_space(write_space(tmp_path, text)), n_trials=1, echo=print)
    [parent], [child] = study_runs()
    assert parent.info.status == "FAILED"
    assert child.info.status == "FAILED"
    assert child.data.tags["trial_state"] == "failed"
    assert "gone.csv" in child.data.tags["error"]
    [trial] = optuna.load_study(
        study_name="it", storage=journal(tmp_path / "optuna.journal")
    ).trials
    assert trial.state == TrialState.FAIL and trial.user_attrs["mlflow_run_id"] == child.info.run_id
    assert parent.data.metrics["failed_trials"] == 1


def test_worker_killed_mid_trial_is_resumed_without_duplicates_or_running_trials(
    reviews, tmp_path, subprocess_env
):
    # Longer trials (4 epochs) so that the kill lands mid-trial.
    text = SWEEP_SPACE.replace("epochs: 2,", "epochs: 4, patience: 4,")
    space = write_space(tmp_path, text)
    command = sweep_command(
        space, "--n_trials", "2", "--data", str(reviews), "--heartbeat_interval", "1"
    )
    storage = journal(tmp_path / "optuna.journal")

    def second_trial_training():
        try:
            trials = optuna.load_study(study_name="it", storage=storage).trials
        except KeyError:
            return None
        return any(
            trial.number >= 1
            and trial.state == TrialState.RUNNING
            and "mlflow_run_id" in trial.user_attrs
            for trial in trials
        )

    worker = subprocess.Popen(
        command, env=subprocess_env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(second_trial_training, 300, "the second trial to start training", worker)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    assert worker.returncode == -signal.SIGKILL

    restarted = subprocess.run(
        command, env=subprocess_env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert "its worker stopped (no heartbeat" in restarted.stdout

    stale, retry, by_number = check_stale_trial_was_retried(storage)
    assert by_number[retry.number].data.tags["retry_of_trial"] == str(stale.number)


def test_two_local_workers_share_the_default_storage(reviews, tmp_path, subprocess_env):
    space = write_space(tmp_path)
    command = sweep_command(space, "--n_trials", "3", "--data", str(reviews))
    workers = [start_process(command, subprocess_env, tmp_path) for _ in range(2)]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-3000:]
        # A worker that stops while the other still trains the last trial sees fewer done;
        # the study itself must hold all three (checked below).
        assert re.search(r"study 'it': [1-3] of 3 trials done", out), out[-2000:]

    # The default storage sits beside the tracking database, in a file of its own.
    study = optuna.load_study(study_name="it", storage=journal(tmp_path / "optuna.journal"))
    assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 3
    drawn = [tuple(sorted(trial.params.items())) for trial in study.trials]
    assert len(set(drawn)) == 3, "two workers drew the same trial"
    [parent], children = study_runs()
    assert parent.info.status == "FINISHED"
    check_two_way_links(study, children, parent.info.run_id)


def test_multi_objective_study_plots_and_lists_its_pareto_front_and_logs_importances(
    reviews, tmp_path, tracking_uri
):
    text = SWEEP_SPACE.replace("pruner: none\n", "objectives: [val_accuracy, train_seconds]\n")
    text = text.replace("epochs: 2", "epochs: 1")
    outcome = run_in_process(write_space(tmp_path, text), reviews, n_trials=3)
    assert outcome.tally.complete == 3 and outcome.best_trial is None
    study = optuna.load_study(study_name="it", storage=journal(tmp_path / "optuna.journal"))
    assert study.directions == [
        optuna.study.StudyDirection.MAXIMIZE,
        optuna.study.StudyDirection.MINIMIZE,
    ]
    front = sorted(trial.number for trial in study.best_trials)
    assert [trial.number for trial in outcome.pareto_trials] == front
    [parent], children = study_runs()
    by_number = check_two_way_links(study, children, parent.info.run_id)
    for trial in study.trials:
        metrics = by_number[trial.number].data.metrics
        assert trial.values == pytest.approx(
            [metrics["best_val_accuracy"], metrics["train_seconds"]]
        )
    assert parent.data.tags["optuna_metric"] == "val_accuracy,train_seconds"
    assert parent.data.tags["optuna_direction"] == "maximize,minimize"
    assert parent.data.metrics["pareto_trials"] == len(front)
    assert {"importance_units", "importance_learning_rate"} <= set(parent.data.metrics)
    client = MlflowClient()
    plots = {item.path for item in client.list_artifacts(parent.info.run_id, "plots")}
    assert "plots/pareto_front.png" in plots
    table = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/trials.csv").splitlines()
    assert table[0].startswith(
        "number,state,units,learning_rate,value_val_accuracy,value_train_seconds,pareto,"
    )
    assert sum(",True," in row for row in table[1:]) == len(front)
    importances = mlflow.artifacts.load_dict(f"runs:/{parent.info.run_id}/importances.json")
    assert set(importances) == {"val_accuracy", "train_seconds"}
