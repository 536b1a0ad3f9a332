"""Several processes that start together on a fresh tracking store all succeed.

MLflow creates and migrates a new SQLite database on its first use; processes that do this
at the same moment break the migration, sometimes for good. `runs.prepare_tracking_store`
serialises that first use under a file lock. These drills start real processes at the same
instant, as users do with `for w in 1 2 3; do rnn-tracking sweep ... & done`.
"""

import sys
import textwrap
import time

import pytest
from helpers import start_process
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.integration

# Waits for a shared start instant, then opens the store, an experiment and one run.
OPEN_ONE_RUN = textwrap.dedent(
    """
    import sys, time
    import mlflow
    from rnn_tracking import runs

    start = float(sys.argv[1])
    while time.time() < start:
        time.sleep(0.001)
    runs.prepare_tracking_store()
    mlflow.set_experiment("together")
    with runs.open_run("worker"):
        mlflow.log_param("worker", sys.argv[2])
    """
)


def start_together(script, count, env, cwd, lead_seconds=8.0):
    """Starts `count` interpreters that all begin at the same instant; returns their results."""
    start = time.time() + lead_seconds
    processes = [
        start_process([sys.executable, "-c", script, repr(start), str(number)], env, cwd)
        for number in range(count)
    ]
    return [(process, *process.communicate(timeout=300)) for process in processes]


def test_three_processes_opening_a_fresh_store_at_once_all_succeed(tmp_path, subprocess_env):
    for attempt in range(5):
        folder = tmp_path / f"attempt{attempt}"
        folder.mkdir()
        env = dict(subprocess_env, MLFLOW_TRACKING_URI=f"sqlite:///{folder / 'mlflow.db'}")
        for process, _, err in start_together(OPEN_ONE_RUN, 3, env, folder):
            assert process.returncode == 0, f"attempt {attempt}: {err[-3000:]}"
        client = MlflowClient(env["MLFLOW_TRACKING_URI"])
        experiment = client.get_experiment_by_name("together")
        runs = client.search_runs([experiment.experiment_id])
        assert sorted(run.data.params["worker"] for run in runs) == ["0", "1", "2"]
        assert {run.info.status for run in runs} == {"FINISHED"}
