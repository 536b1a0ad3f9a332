"""Shared fixtures: tiny hand-made datasets, a private cache folder, and the real corpus.

The tiny aclImdb tree holds six reviews whose words were chosen so that tests can write
down the exact encoding (see TINY_REVIEWS). Training words by count, ties alphabetical:
great 3; acting, bad, film, movie 2; a, awful 1. So, with the offset of 3, great=4,
acting=5, bad=6, film=7, movie=8, a=9, awful=10. The test split repeats 'unseen', a word
that must not be ranked because it never occurs in training.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import pytest
from helpers import SWEEP_MAX_REVIEWS, make_subprocess_env, write_reviews

# Keras reads its backend once, at its first import: the tests run on the default backend
# unless KERAS_BACKEND says otherwise (a config's `backend` must then match it).
os.environ.setdefault("KERAS_BACKEND", "jax")

from rnn_tracking.data import CACHE_ENV_VAR

REAL_DATA_ENV_VAR = "RNN_TRACKING_TEST_DATA"
REAL_DATA_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "aclImdb_labeled.tar.gz"

# Relative path inside the aclImdb folder -> review text.
TINY_REVIEWS = {
    "train/neg/1_1.txt": "Bad movie, bad acting.",
    "train/neg/2_2.txt": "Awful film",
    "train/pos/1_10.txt": "Great movie. Great acting!",
    "train/pos/2_9.txt": "A great<br />film",
    "test/neg/1_3.txt": "Bad film unseen unseen unseen unseen",
    "test/pos/1_8.txt": "Great unseen unseen unseen unseen",
}

# Ten labeled rows: five of each label, text labels in mixed case, HTML line breaks.
TINY_CSV = """review,sentiment
"Great movie<br /><br />great acting",Positive
"Great film",positive
"A great story",POSITIVE
"Great fun",positive
"Great cast",positive
"Bad movie<br />bad acting",negative
"Bad film",Negative
"A bad story",negative
"Bad fun",negative
"Bad cast",NEGATIVE
"""


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Points $RNN_TRACKING_CACHE at a fresh folder so no test reads or fills the user's cache.

    It also clears the variables through which a user's shell (or an `mlflow run` parent)
    would steer the code, so every test starts from the documented defaults.
    """
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(CACHE_ENV_VAR, str(cache))
    for name in (
        "RNN_TRACKING_DATA",
        "MLFLOW_RUN_ID",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    return cache


@pytest.fixture
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Points MLflow (in process and in subprocesses) at a fresh SQLite store; yields its URI."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # A SQLite store keeps artifacts in ./mlruns of the working folder, so work in tmp_path.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    forget_mlflow_state()
    mlflow.set_tracking_uri(uri)
    yield uri
    while mlflow.active_run():
        mlflow.end_run()
    forget_mlflow_state()


def forget_mlflow_state() -> None:
    """Forgets the tracking URI and the active experiment that MLflow keeps per process.

    `mlflow.set_experiment` remembers an experiment id that means nothing in the next test's
    fresh store, and MLflow offers no public call to unset it.
    """
    import mlflow
    from mlflow.tracking import fluent

    mlflow.set_tracking_uri(None)
    fluent._active_experiment_id = None


@pytest.fixture
def tiny_aclimdb(tmp_path: Path) -> Path:
    """Returns the `aclImdb` folder of a six-review tree holding TINY_REVIEWS."""
    return write_reviews(tmp_path / "aclImdb", TINY_REVIEWS)


@pytest.fixture
def tiny_aclimdb_tar(tiny_aclimdb: Path, tmp_path: Path) -> Path:
    """Returns a .tar.gz of the tiny tree, with the top folder `aclImdb/` as downloaded."""
    path = tmp_path / "aclImdb_tiny.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(tiny_aclimdb, arcname="aclImdb")
    return path


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """Returns `reviews.csv` holding TINY_CSV (columns review, sentiment; no split column)."""
    path = tmp_path / "reviews.csv"
    path.write_text(TINY_CSV, encoding="utf-8")
    return path


@pytest.fixture
def real_data_path() -> Path:
    """Returns the real aclImdb tar: $RNN_TRACKING_TEST_DATA, else ../shared/data; else skips."""
    return find_real_data()


def find_real_data() -> Path:
    """Returns the real aclImdb tar: $RNN_TRACKING_TEST_DATA, else ../shared/data; else skips."""
    path = Path(os.environ.get(REAL_DATA_ENV_VAR) or REAL_DATA_PATH)
    if not path.exists():
        pytest.skip(
            f"real dataset not found at {path}; set ${REAL_DATA_ENV_VAR} to an aclImdb "
            "directory or .tar.gz to run this test"
        )
    return path


@pytest.fixture(scope="session")
def encoded_reviews(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Encodes the first SWEEP_MAX_REVIEWS real reviews once per session.

    Returns (the real data path, a folder holding that encoding's cache files). Reading the
    whole tar takes seconds, so the tests that train on these reviews share one encoding.
    """
    from rnn_tracking.config import TrainConfig
    from rnn_tracking.data import load_splits

    path = find_real_data()
    stash = tmp_path_factory.mktemp("encoded_reviews")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV_VAR, str(stash))
        load_splits(TrainConfig(data=str(path), max_reviews=SWEEP_MAX_REVIEWS))
    return path, stash


@pytest.fixture
def reviews(encoded_reviews: tuple[Path, Path], private_cache: Path) -> Path:
    """Returns the real reviews' path, their small encoding already in this test's cache."""
    path, stash = encoded_reviews
    for cached in stash.iterdir():
        shutil.copy(cached, private_cache)
    return path


@pytest.fixture
def subprocess_env(tracking_uri: str) -> dict[str, str]:
    """The environment for CLI subprocesses (see `helpers.make_subprocess_env`), pointed at
    the test's tracking store."""
    return make_subprocess_env(tracking_uri)
