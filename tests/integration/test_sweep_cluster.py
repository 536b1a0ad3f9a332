"""A cluster on real services: PostgreSQL as the Optuna storage, `mlflow server` for tracking.

The test starts a throwaway PostgreSQL server (initdb and pg_ctl from Debian's postgresql
package; as root they run as the `postgres` user, since PostgreSQL refuses root) and an
`mlflow server` on loopback, then two workers of one study against both, as two machines
would be.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import mlflow
import optuna
import pytest
from helpers import SWEEP_MAX_REVIEWS, check_two_way_links, free_port, running_server, start_process
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.integration

SPACE = f"""\
study_name: cluster
sampler: {{name: tpe, seed: 2, n_startup_trials: 2}}
pruner: {{name: median, n_startup_trials: 2, n_warmup_steps: 2}}
fixed: {{arch: gru, epochs: 2, max_reviews: {SWEEP_MAX_REVIEWS}, batch_size: 32, embedding_dim: 8}}
params:
  units: {{type: int, low: 2, high: 8}}
  dropout: {{type: float, low: 0.0, high: 0.3}}
"""


def postgres_bin():
    """Returns the folder of initdb and pg_ctl, or skips when PostgreSQL is not installed."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(str(Path(found).parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    pytest.skip(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql "
        "package (.ci/run does) to run the cluster test"
    )


@pytest.fixture
def postgres_url():
    """Starts a throwaway PostgreSQL server on loopback; yields a URL of an empty database."""
    folder = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="rnn-tracking-pg-"))
    prefix = []
    if os.geteuid() == 0:
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            user = "nobody"
        shutil.chown(root, user)
        prefix = ["runuser", "-u", user, "--"]
    data, port = root / "data", free_port()

    def run(*command):
        subprocess.run(
            prefix + [str(part) for part in command], check=True, capture_output=True, timeout=120
        )

    run(folder / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    run(folder / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w", "start")
    try:
        run(folder / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "optuna")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/optuna"
    finally:
        run(folder / "pg_ctl", "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def is_healthy(url):
    """Whether the server at `url` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.fixture
def tracking_server(tmp_path, monkeypatch, subprocess_env):
    """Starts `mlflow server` on loopback with its own store; points MLflow at it."""
    port = free_port()
    command = [
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'server.db'}",
        "--artifacts-destination",
        str(tmp_path / "server-artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    uri = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "mlflow-server.log"
    # The server runs uvicorn and a job runner as children: running_server stops them all.
    with running_server(
        command, subprocess_env, tmp_path, log_path, lambda: is_healthy(f"{uri}/health"), 120
    ):
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)
        yield uri


def test_two_workers_share_one_study_through_postgresql_and_an_mlflow_server(
    reviews, postgres_url, tracking_server, tmp_path, subprocess_env
):
    # `reviews` put the encoding that both workers read into their shared cache.
    space = tmp_path / "cluster.yaml"
    space.write_text(SPACE, encoding="utf-8")
    env = subprocess_env | {"MLFLOW_TRACKING_URI": tracking_server}
    command = [
        "rnn-tracking",
        "sweep",
        "--space",
        str(space),
        "--n_trials",
        "3",
        "--storage",
        postgres_url,
        "--data",
        str(reviews),
    ]
    # Each worker runs in its own folder, as on its own machine.
    workers = []
    for number in range(2):
        folder = tmp_path / f"machine{number}"
        folder.mkdir()
        workers.append(start_process(command, env, folder))
    outputs = [worker.communicate(timeout=600) for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-3000:]
        assert "study 'cluster': 3 of 3 trials done" in out
        assert not list((tmp_path / "machine0").glob("optuna.journal"))

    study = optuna.load_study(study_name="cluster", storage=postgres_url)
    assert [trial.number for trial in study.trials] == [0, 1, 2]
    assert all(trial.state.is_finished() for trial in study.trials)
    assert len({tuple(sorted(trial.params.items())) for trial in study.trials}) == 3

    client = MlflowClient()
    [experiment] = client.search_experiments()
    runs = client.search_runs([experiment.experiment_id])
    [parent] = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    children = [run for run in runs if "trial_number" in run.data.tags]
    assert len(runs) == 1 + len(children)
    assert study.user_attrs["mlflow_parent_run_id"] == parent.info.run_id
    assert parent.data.tags["optuna_storage"].startswith(
        "postgresql+psycopg2://postgres@127.0.0.1:"
    )
    assert parent.info.status == "FINISHED"
    check_two_way_links(study, children, parent.info.run_id)
    # Both workers' trials reached the server, with their artifacts.
    assert {run.data.tags["optuna_worker"] for run in children} <= {
        f"{socket.gethostname()}:{worker.pid}" for worker in workers
    }
    artifacts = {item.path for item in client.list_artifacts(parent.info.run_id)}
    assert {"cluster.yaml", "trials.csv"} <= artifacts
