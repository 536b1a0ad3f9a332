"""The core commands on each Keras backend: train, predict, rerun and sweep, as a user runs them.

Each backend trains once (a fresh `rnn-tracking train --backend B` on a made-up 80-review
tree, 2 epochs of LSTM(4)) into one module-scoped store, and the tests share those runs, so
the file costs a few fresh interpreters per backend. PyTorch is in the matrix where it is
installed (`pip install -e '.[torch]'`) and skipped with that reason where it is not.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pytest
from helpers import make_subprocess_env, write_reviews, write_space
from mlflow.tracking import MlflowClient

from rnn_tracking.backend import INSTALL_HINTS, active_backend, is_installed, read_version
from rnn_tracking.serving import TEXT_MODEL_NAME, predict_reviews

# Its tests share module-scoped fixtures (trained once): one xdist worker runs them all.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("backend_matrix")]

MATRIX = ("jax", "tensorflow", "torch")
# A small model on small arrays: the cost is the interpreters and the compiles, not the math.
MODEL_ARGS = ("--num-words", "40", "--maxlen", "16", "--units", "4", "--embedding-dim", "8")
MODEL_ARGS += ("--batch-size", "16", "--learning-rate", "1e-2", "--system-metrics", "false")
REVIEWS = ("A great and wonderful film, loved it.", "Bad, awful and boring acting.")
# How far the scores of the same weights may be apart on two backends.
SCORE_TOLERANCE = 1e-4


@dataclass
class Matrix:
    """The shared store, the made-up data, and the training run of each backend so far."""

    directory: Path
    data: Path
    env: dict[str, str]
    runs: dict[str, str] = field(default_factory=dict)

    def run(self, command: list[str], backend: str) -> subprocess.CompletedProcess:
        """Runs a CLI command in a fresh process with $KERAS_BACKEND=backend; checks it exits 0."""
        finished = subprocess.run(
            command,
            env={**self.env, "KERAS_BACKEND": backend},
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert finished.returncode == 0, finished.stderr[-3000:]
        return finished

    def train(self, backend: str) -> str:
        """Returns the id of the backend's training run, training it on first use."""
        if backend not in self.runs:
            command = ["rnn-tracking", "train", "--backend", backend, "--data", str(self.data)]
            command += [*MODEL_ARGS, "--epochs", "2", "--verbose", "0"]
            self.run(command + ["--experiment-name", f"train-{backend}"], backend)
            experiment = mlflow.get_experiment_by_name(f"train-{backend}")
            [source] = MlflowClient().search_runs([experiment.experiment_id])
            self.runs[backend] = source.info.run_id
        return self.runs[backend]


def make_reviews(per_class: dict[str, int]) -> dict[str, str]:
    """Returns an aclImdb tree's {path: text}: reviews of filler words with two or three
    words of their class, `per_class[split]` per class and split, the same on every call."""
    pick = random.Random(0)
    filler = ("the", "film", "movie", "plot", "acting", "story", "cast", "was", "and", "it")
    words = {"pos": ("great", "wonderful", "loved", "superb"), "neg": ("bad", "awful", "dull")}
    reviews = {}
    for split, count in per_class.items():
        for label, strong in words.items():
            for number in range(count):
                text = [pick.choice(filler) for _ in range(8)] + pick.sample(strong, 2)
                pick.shuffle(text)
                reviews[f"{split}/{label}/{number}_5.txt"] = " ".join(text) + "."
    return reviews


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> Matrix:
    """A store and data shared by the module; each backend trains into it once."""
    directory = tmp_path_factory.mktemp("matrix")
    data = write_reviews(directory / "aclImdb", make_reviews({"train": 40, "test": 10}))
    uri = f"sqlite:///{directory / 'mlflow.db'}"
    env = make_subprocess_env(uri, RNN_TRACKING_CACHE=str(directory / "cache"))
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
        env.pop(name, None)
    return Matrix(directory, data, env)


@pytest.fixture
def in_matrix(matrix: Matrix, monkeypatch: pytest.MonkeyPatch):
    """Points this test's MLflow at the matrix's store; yields the matrix."""
    previous = mlflow.get_tracking_uri()
    monkeypatch.chdir(matrix.directory)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", matrix.env["MLFLOW_TRACKING_URI"])
    mlflow.set_tracking_uri(matrix.env["MLFLOW_TRACKING_URI"])
    yield matrix
    mlflow.set_tracking_uri(previous)


def require(backend: str) -> None:
    """Skips the test, saying how to install it, when `backend` is not installed."""
    if not is_installed(backend):
        pytest.skip(f"{backend} is not installed; install it with `{INSTALL_HINTS[backend]}`")


def other_backend(backend: str) -> str:
    """Another installed backend than `backend`."""
    return next(each for each in MATRIX if each != backend and is_installed(each))


@pytest.mark.parametrize("backend", MATRIX)
def test_run_records_its_backend_and_its_text_model_scores_through_predict(
    in_matrix: Matrix, backend: str
):
    require(backend)
    run = MlflowClient().get_run(in_matrix.train(backend))
    assert run.info.status == "FINISHED"
    assert run.data.params["backend"] == backend
    assert run.data.tags["backend"] == backend
    assert run.data.tags["backend_version"] == read_version(backend)
    for distribution in ("keras", "jax", "jaxlib", "tensorflow", "torch"):
        assert run.data.tags[f"version.{distribution}"] == read_version(distribution)
    uri = f"runs:/{run.info.run_id}/{TEXT_MODEL_NAME}"
    out = in_matrix.run(["rnn-tracking", "predict", "--model-uri", uri, *REVIEWS], backend).stdout
    header, *lines = out.strip().splitlines()
    assert header == "label\tsentiment\tprobability\treview"
    assert len(lines) == len(REVIEWS)
    for line in lines:
        label, sentiment, probability, _ = line.split("\t")
        assert (label, sentiment) in {("1", "positive"), ("0", "negative")}
        assert 0.0 <= float(probability) <= 1.0


@pytest.mark.parametrize("backend", MATRIX)
def test_rerun_reproduces_exactly_on_the_recorded_backend(in_matrix: Matrix, backend: str):
    require(backend)
    source_id = in_matrix.train(backend)
    # The rerun's process starts on another backend: the run's record must win.
    command = ["rnn-tracking", "rerun", source_id, "--verbose", "0"]
    out = in_matrix.run(command, other_backend(backend)).stdout
    assert "reproduced exactly (no dropout: deterministic)" in out, out
    assert "DIFFERS" not in out
    client = MlflowClient()
    source = client.get_run(source_id)
    [rerun] = client.search_runs(
        [source.info.experiment_id], filter_string=f"tags.rerun_of = '{source_id}'"
    )
    assert rerun.data.tags["backend"] == backend
    assert rerun.data.params == source.data.params
    for name in ("best_val_loss", "test_loss", "test_accuracy"):
        assert rerun.data.metrics[name] == source.data.metrics[name], name


@pytest.mark.parametrize("backend", MATRIX)
def test_two_trial_sweep_trains_on_the_backend_its_space_fixes(in_matrix: Matrix, backend: str):
    require(backend)
    space = write_space(
        in_matrix.directory,
        f"""\
study_name: matrix-{backend}
sampler: {{name: tpe, seed: 1, n_startup_trials: 2}}
pruner: none
fixed: {{backend: {backend}, epochs: 1, num_words: 40, maxlen: 16, batch_size: 16}}
params:
  units: {{type: int, low: 2, high: 4}}
""",
        name=f"{backend}.yaml",
    )
    command = ["rnn-tracking", "sweep", "--space", str(space), "--n-trials", "2"]
    command += ["--data", str(in_matrix.data), "--experiment-name", f"sweep-{backend}"]
    command += ["--storage", str(in_matrix.directory / f"{backend}.journal")]
    in_matrix.run(command + ["--system-metrics", "false"], other_backend(backend))
    experiment = mlflow.get_experiment_by_name(f"sweep-{backend}")
    runs = MlflowClient().search_runs([experiment.experiment_id])
    trials = [run for run in runs if "trial_number" in run.data.tags]
    assert len(trials) == 2
    for run in trials:
        assert run.info.status == "FINISHED"
        assert run.data.params["backend"] == run.data.tags["backend"] == backend
        assert 0.0 <= run.data.metrics["best_val_accuracy"] <= 1.0


SCORE_CODE = """\
import json, sys
from rnn_tracking.serving import predict_reviews
scores = {uri: predict_reviews(uri, json.loads(sys.argv[2]))["probability"].tolist()
          for uri in json.loads(sys.argv[1])}
print(json.dumps(scores))
"""


def test_text_model_scores_agree_on_every_backend(in_matrix: Matrix):
    """Each backend's text model, loaded afresh on every installed backend, scores its
    reviews the same to SCORE_TOLERANCE: the `.keras` format carries no backend."""
    here = active_backend() or os.environ["KERAS_BACKEND"]
    backends = [each for each in MATRIX if is_installed(each)]
    uris = [f"runs:/{in_matrix.train(each)}/{TEXT_MODEL_NAME}" for each in backends]
    reviews = [*REVIEWS, "The plot was dull but the cast was superb."]
    scores = {here: {uri: predict_reviews(uri, reviews)["probability"].tolist() for uri in uris}}
    for backend in backends:
        if backend != here:
            command = [sys.executable, "-c", SCORE_CODE, json.dumps(uris), json.dumps(reviews)]
            out = in_matrix.run(command, backend).stdout
            scores[backend] = json.loads(out.strip().splitlines()[-1])
    for backend, by_uri in scores.items():
        for uri in uris:
            np.testing.assert_allclose(
                by_uri[uri], scores[here][uri], rtol=0, atol=SCORE_TOLERANCE, err_msg=backend
            )
