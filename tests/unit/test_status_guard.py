"""The trigger that keeps a KILLED run KILLED when `mlflow run` writes FAILED over it."""

import pytest
from mlflow.tracking import MlflowClient

from rnn_tracking import runs
from rnn_tracking.runs.status_guard import has_killed_guard

pytestmark = pytest.mark.slow


def make_run_with_status(client: MlflowClient, status: str) -> str:
    """Creates a run in the default experiment and ends it with `status`; returns its id."""
    run_id = client.create_run("0").info.run_id
    if status != runs.RUNNING:
        client.set_terminated(run_id, status)
    return run_id


def test_launchers_failed_over_a_killed_run_is_undone_at_once(tracking_uri):
    runs.prepare_tracking_store()
    client = MlflowClient()
    killed = make_run_with_status(client, runs.KILLED)
    end_time = client.get_run(killed).info.end_time
    assert runs.guard_killed_status(tracking_uri)
    # What MLflow 3.17's `mlflow run` does after the training process exits.
    client.set_terminated(killed, runs.FAILED)
    run = client.get_run(killed)
    assert (run.info.status, run.info.end_time) == (runs.KILLED, end_time)


def test_guard_leaves_every_other_status_change_alone(tracking_uri):
    runs.prepare_tracking_store()
    client = MlflowClient()
    assert runs.guard_killed_status(tracking_uri)
    running = make_run_with_status(client, runs.RUNNING)
    finished = make_run_with_status(client, runs.FINISHED)
    killed = make_run_with_status(client, runs.KILLED)
    client.set_terminated(running, runs.FAILED)
    client.set_terminated(finished, runs.FAILED)
    client.set_terminated(killed, runs.FINISHED)
    statuses = [client.get_run(each).info.status for each in (running, finished, killed)]
    assert statuses == [runs.FAILED, runs.FAILED, runs.FINISHED]


def test_guard_is_installed_once_and_only_on_sqlite(tracking_uri):
    runs.prepare_tracking_store()
    assert runs.guard_killed_status(tracking_uri)
    assert runs.guard_killed_status(tracking_uri)
    assert has_killed_guard(runs.sqlite_database_path(tracking_uri))
    assert not runs.guard_killed_status("http://127.0.0.1:5000")
