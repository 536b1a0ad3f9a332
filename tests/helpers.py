"""Helpers that several test modules share; fixtures live in conftest.py beside this file.

Test modules import these as `from helpers import ...` (pyproject puts tests/ on sys.path),
so that no test module ever imports another. Keep this module free of TensorFlow, MLflow and
Optuna imports at the top: the fast tier imports it, and those take seconds each to import.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnn_tracking.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]

# The summary metrics that every training run logs (a subset; README "What a run records").
SUMMARY_METRICS = (
    "best_epoch",
    "best_val_loss",
    "best_val_accuracy",
    "test_loss",
    "test_accuracy",
    "train_seconds",
    "param_count",
)


# Files and data.


def write_reviews(root: Path, reviews: dict[str, str]) -> Path:
    """Writes {relative path: text} under root and returns root."""
    for relative, text in reviews.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def assert_one_line_error(config: TrainConfig, *parts: str) -> None:
    """Loads data with `config`; checks the ValueError is one line holding each of `parts`."""
    from rnn_tracking.data import load_splits

    with pytest.raises(ValueError) as caught:
        load_splits(config)
    message = str(caught.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, message


# Toy arrays: the smallest model and splits that still train.

# A config small enough that a few epochs take well under a second once compiled.
TOY = TrainConfig(num_words=10, maxlen=3, units=2, embedding_dim=2, epochs=4, batch_size=4)


def make_splits(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    **fields: Any,
):
    """Returns `Splits` of the given (x, y) pairs; validation and test default to train.

    `fields` overrides the bookkeeping (vocabulary, source, name, digest), which defaults to
    a one-word vocabulary from a source named `toy`.
    """
    from rnn_tracking.data import Splits

    validation = validation or train
    test = test or train
    bookkeeping = {"vocabulary": ("w",), "source": "toy", "name": "toy", "digest": "0" * 64}
    return Splits(
        x_train=train[0],
        y_train=train[1],
        x_val=validation[0],
        y_val=validation[1],
        x_test=test[0],
        y_test=test[1],
        **{**bookkeeping, **fields},
    )


def make_toy_splits():
    """Distinct 8x3 train, 4x3 validation and 4x3 test arrays; token 4 means positive."""
    rng = np.random.default_rng(0)

    def make(n):
        x = rng.integers(3, 10, size=(n, 3)).astype("int32")
        return x, (x[:, 1] == 4).astype("int32")

    return make_splits(
        make(8), make(4), make(4), vocabulary=("good",), source="toy.csv", digest="ab" * 32
    )


# Processes: fresh interpreters, servers, waiting.


def print_in_fresh_python(code: str) -> str:
    """Runs `code` in a fresh interpreter (this one's executable); returns its last stdout line."""
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return output.strip().splitlines()[-1]


def make_subprocess_env(tracking_uri: str, **extra: str) -> dict[str, str]:
    """This process's environment for CLI subprocesses: this interpreter's bin/ first on
    PATH (so `rnn-tracking`, `mlflow` and the `python` that `mlflow run --env-manager local`
    starts are the ones under test), the tracking store, TensorFlow quiet, and `extra`."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return {**env, **extra}


def free_port() -> int:
    """Returns a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(
    condition: Callable[[], Any],
    timeout: float,
    what: str,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
) -> Any:
    """Polls `condition` until it returns something true, and returns that.

    Fails, naming `what` (and the last lines of `log`, if given), when `timeout` seconds pass
    or when `process`, the program the condition waits on, exits first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        exited = process is not None and process.poll() is not None
        if exited or time.monotonic() > deadline:
            reason = "the process exited" if exited else f"timed out after {timeout} s"
            tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
            raise AssertionError(f"{reason} waiting for {what}\n{tail}")
        time.sleep(0.2)


def mlflow_run_command(
    *parameters: str, experiment: str | None = None, entry_point: str = "main"
) -> list[str]:
    """`mlflow run` of this project in the installed venv, with the given `-P name=value`s."""
    command = ["mlflow", "run", str(ROOT), "--env-manager", "local"]
    if entry_point != "main":
        command += ["-e", entry_point]
    if experiment is not None:
        command += ["--experiment-name", experiment]
    for parameter in parameters:
        command += ["-P", parameter]
    return command


# Sweep studies on a few hundred real reviews (tests/integration/test_sweep_*.py).

# How many real reviews the sweep tests train on; the `reviews` fixture encodes them once.
SWEEP_MAX_REVIEWS = 100

# Small and fast: 80 training reviews, 2 epochs, at most 8 GRU units.
SWEEP_SPACE = f"""\
study_name: it
sampler: {{name: tpe, seed: 1, n_startup_trials: 2}}
pruner: none
fixed: {{arch: gru, epochs: 2, max_reviews: {SWEEP_MAX_REVIEWS}, batch_size: 32, embedding_dim: 8}}
params:
  units: {{type: int, low: 2, high: 8}}
  learning_rate: {{type: float, low: 1.0e-3, high: 3.0e-2, log: true}}
"""


def write_space(folder: Path, text: str = SWEEP_SPACE, name: str = "it.yaml") -> Path:
    """Writes a search space file into `folder`; returns its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def journal(path: Path):
    """Opens the Optuna journal file at `path` as a storage."""
    import optuna

    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))


def sweep_command(space: Path, *options: str) -> list[str]:
    """`rnn-tracking sweep --space SPACE OPTIONS...`, as a user types it."""
    return ["rnn-tracking", "sweep", "--space", str(space), *options]


def study_runs(experiment_name: str = "Default"):
    """Returns (parents, trial runs) of the experiment; checks no other run is there."""
    import mlflow
    from mlflow.tracking import MlflowClient

    experiment = mlflow.get_experiment_by_name(experiment_name)
    runs = MlflowClient().search_runs([experiment.experiment_id])
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    children = [run for run in runs if "trial_number" in run.data.tags]
    sessions = [run for run in runs if run.data.tags.get("sweep_session") == "true"]
    assert len(parents) + len(children) + len(sessions) == len(runs)
    return parents, children


def check_two_way_links(study, children, parent_id: str) -> dict:
    """Each trial holds its run's id; each run holds its trial's number; one run per trial.

    Returns the trial runs by trial number.
    """
    by_number = {int(run.data.tags["trial_number"]): run for run in children}
    assert len(by_number) == len(children), "two runs for one trial"
    assert sorted(by_number) == [trial.number for trial in study.trials]
    for trial in study.trials:
        run = by_number[trial.number]
        assert trial.user_attrs["mlflow_run_id"] == run.info.run_id
        assert run.data.tags["mlflow.parentRunId"] == parent_id
    return by_number


def check_stale_trial_was_retried(storage):
    """Checks a two-trial study whose worker died once: the dead trial failed, was retried
    with the same params, and the study ended with nothing running, in Optuna and MLflow.

    Returns (stale trial, its retry, trial runs by number).
    """
    import optuna

    from rnn_tracking import sweep

    state = optuna.trial.TrialState
    study = optuna.load_study(study_name="it", storage=storage)
    states = [trial.state for trial in study.trials]
    assert state.RUNNING not in states and state.WAITING not in states
    tally = sweep.tally_trials(study.trials)
    assert (tally.done, tally.complete, tally.failed, tally.retried) == (2, 2, 1, 1)
    [stale] = [trial for trial in study.trials if trial.state == state.FAIL]
    [retry] = [
        trial for trial in study.trials if trial.system_attrs.get("failed_trial") == stale.number
    ]
    assert retry.params == stale.params and retry.state == state.COMPLETE
    [parent], children = study_runs()
    assert parent.info.status == "FINISHED"
    by_number = check_two_way_links(study, children, parent.info.run_id)
    assert by_number[stale.number].info.status == "FAILED"
    assert by_number[stale.number].data.tags["error"].startswith("WorkerLost: no heartbeat")
    assert [run.info.status for run in children].count("RUNNING") == 0
    return stale, retry, by_number


def start_process(command: list[str], env: dict[str, str], cwd: Path, **options: Any):
    """Starts `command` with its stdout and stderr piped as text; returns the Popen."""
    return subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


@contextlib.contextmanager
def running_server(
    command: list[str],
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    ready: Callable[[], Any],
    timeout: float,
):
    """Starts a server in a process group of its own, its output in `log_path`; waits until
    `ready()` is true (failing with the log's tail if it exits or `timeout` passes first);
    yields the Popen; then stops the whole group (the server's workers too), SIGKILL if
    SIGTERM has not ended it within 30 s."""
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for(ready, timeout, f"{command[:2]} to answer", process, log_path)
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        except ProcessLookupError:
            pass
