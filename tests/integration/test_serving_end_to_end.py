"""Train, promote, serve and evaluate the text model on a few hundred real reviews.

One module-scoped store holds two tiny tracked trainings (200 real reviews per split, a few
epochs of LSTM(4) and LSTM(8)); the tests share it, and the scoring server that
`mlflow models serve` starts on a free loopback port, so the whole file stays near a minute.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from helpers import free_port, running_server
from mlflow.tracking import MlflowClient

from rnn_tracking import serving
from rnn_tracking.cli import main
from rnn_tracking.config import TrainConfig
from rnn_tracking.data import TextSplits, encode_texts, load_splits, load_text_splits
from rnn_tracking.tracking import select_experiment, track_training

# Its tests share module-scoped fixtures (trained once): one xdist worker runs them all.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("serving_end_to_end")]

EXPERIMENT = "serving"
MODEL_NAME = "imdb-text"
SERVER_START_SECONDS = 180


@dataclass
class Store:
    """The shared tracking store and what was trained into it."""

    uri: str
    directory: Path
    config: TrainConfig
    run_ids: list[str]
    texts: TextSplits


@pytest.fixture(scope="module")
def real_data() -> Path:
    """The real aclImdb tar, found as conftest's `real_data_path` finds it, for a module."""
    default = Path(__file__).resolve().parents[3] / "shared" / "data" / "aclImdb_labeled.tar.gz"
    path = Path(os.environ.get("RNN_TRACKING_TEST_DATA") or default)
    if not path.exists():
        pytest.skip(f"real dataset not found at {path}; set $RNN_TRACKING_TEST_DATA")
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory, real_data):
    """Two tracked trainings in a fresh SQLite store; artifacts under the same folder."""
    directory = tmp_path_factory.mktemp("serving_store")
    uri = f"sqlite:///{directory / 'mlflow.db'}"
    previous_uri = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        # MLflow puts the artifacts of a SQLite store under ./mlruns of the working folder.
        patch.chdir(directory)
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.setenv("RNN_TRACKING_CACHE", str(directory / "cache"))
        patch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
        patch.delenv("MLFLOW_RUN_ID", raising=False)
        mlflow.set_tracking_uri(uri)
        base = TrainConfig(
            data=str(real_data), max_reviews=200, units=4, epochs=3, learning_rate=1e-3
        )
        configs = [base, TrainConfig(**{**base.__dict__, "units": 8, "epochs": 2, "seed": 7})]
        select_experiment(EXPERIMENT)
        run_ids = [track_training(config, load_splits(config))[0] for config in configs]
        try:
            yield Store(uri, directory, base, run_ids, load_text_splits(base))
        finally:
            while mlflow.active_run():
                mlflow.end_run()
            mlflow.set_tracking_uri(previous_uri)


@pytest.fixture(scope="module")
def champion(store):
    """Promotes the best run by validation accuracy; returns the registered version."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(store.directory)
        # These runs have no baseline: the gate is tested in test_promotion_gate.py.
        promotion = serving.promote_best_model(
            MODEL_NAME, experiment_names=[EXPERIMENT], force=True
        )
    return promotion


@pytest.fixture
def in_store(store, monkeypatch):
    """Points this test at the shared store (the autouse cache fixture ran before it)."""
    monkeypatch.chdir(store.directory)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.uri)
    mlflow.set_tracking_uri(store.uri)
    return store


def clear_reviews(texts: TextSplits) -> tuple[str, str]:
    """Returns a clearly positive and a clearly negative review of the test split.

    Clear means a short review (under 60 words) whose label matches strong words in it.
    """

    def pick(label: int, word: str) -> str:
        candidates = [
            text
            for text, y in zip(texts.test_texts, texts.y_test, strict=True)
            if y == label and word in text.lower() and len(text.split()) < 60
        ]
        return min(candidates, key=len) if candidates else None

    positive = pick(1, "excellent") or pick(1, "great")
    negative = pick(0, "worst") or pick(0, "awful") or pick(0, "bad")
    assert positive and negative
    return positive, negative


def post(url: str, body: bytes | str | dict, content_type: str = "application/json"):
    """POSTs to the server; returns (HTTP status, body text)."""
    data = (
        body
        if isinstance(body, bytes)
        else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    )
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def get_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


@pytest.fixture(scope="module")
def server(store, champion, tmp_path_factory):
    """`mlflow models serve -m models:/NAME@champion` on a free loopback port; always stopped."""
    port = free_port()
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": store.uri,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    env.pop("MLFLOW_RUN_ID", None)
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    command = [
        str(bin_dir / "mlflow"),
        "models",
        "serve",
        "-m",
        f"models:/{MODEL_NAME}@{serving.CHAMPION_ALIAS}",
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"

    def ready():
        return get_status(f"{url}/ping") == 200

    with running_server(command, env, store.directory, log_path, ready, SERVER_START_SECONDS):
        yield url


def test_every_training_run_logs_a_text_model_beside_the_keras_model(in_store):
    client = MlflowClient()
    for run_id in in_store.run_ids:
        run = client.get_run(run_id)
        names = {client.get_logged_model(o.model_id).name for o in run.outputs.model_outputs}
        assert names == {"model", serving.TEXT_MODEL_NAME}
        info = mlflow.models.get_model_info(f"runs:/{run_id}/{serving.TEXT_MODEL_NAME}")
        # Items are typed Any so that the model checks them itself, quoting a bad one shortly.
        assert info.signature.inputs.to_dict() == [{"type": "any", "required": True}]
        assert info.saved_input_example_info["type"] == "json_object"


def test_text_model_scores_raw_test_reviews_like_the_keras_model_scores_their_encoding(
    in_store,
):
    run_id = in_store.run_ids[0]
    splits = load_splits(in_store.config)
    texts = in_store.texts
    encoded = encode_texts(
        texts.test_texts, splits.vocabulary, in_store.config.num_words, in_store.config.maxlen
    )
    np.testing.assert_array_equal(encoded, splits.x_test)
    keras_model = mlflow.keras.load_model(f"runs:/{run_id}/model")
    expected = keras_model.predict(splits.x_test, verbose=0)[:, 0]
    text_model = mlflow.pyfunc.load_model(f"runs:/{run_id}/{serving.TEXT_MODEL_NAME}")
    scores = serving.predict_frame(text_model, texts.test_texts)
    np.testing.assert_allclose(scores["probability"], expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(scores["label"], (expected >= 0.5).astype(int))


def test_promote_registers_the_best_validation_run_with_the_champion_alias(in_store, champion):
    client = MlflowClient()
    runs = [client.get_run(run_id) for run_id in in_store.run_ids]
    best = max(runs, key=lambda run: (run.data.metrics["best_val_accuracy"], -run.info.start_time))
    assert champion.run_id == best.info.run_id
    version = client.get_model_version_by_alias(MODEL_NAME, serving.CHAMPION_ALIAS)
    assert str(version.version) == champion.version and version.run_id == best.info.run_id
    assert version.source == f"models:/{champion.model_id}"
    champion_model = mlflow.pyfunc.load_model(champion.model_uri)
    run_model = mlflow.pyfunc.load_model(f"runs:/{best.info.run_id}/{serving.TEXT_MODEL_NAME}")
    reviews = in_store.texts.test_texts[:20]
    assert champion_model.predict(reviews) == run_model.predict(reviews)


def test_promote_by_loss_or_filter_moves_the_alias_and_reuses_versions(in_store, champion):
    client = MlflowClient()
    runs = [client.get_run(run_id) for run_id in in_store.run_ids]
    lowest_loss = min(runs, key=lambda run: run.data.metrics["best_val_loss"])
    by_loss = serving.promote_best_model(
        MODEL_NAME, experiment_names=[EXPERIMENT], metric="best_val_loss", force=True
    )
    assert by_loss.run_id == lowest_loss.info.run_id
    by_filter = serving.promote_best_model(
        MODEL_NAME, experiment_names=[EXPERIMENT], filter_string="params.units = '8'", force=True
    )
    assert by_filter.run_id == in_store.run_ids[1]
    again = serving.promote_best_model(MODEL_NAME, experiment_names=[EXPERIMENT], force=True)
    assert (again.version, again.run_id) == (champion.version, champion.run_id)
    versions = client.search_model_versions(f"name = '{MODEL_NAME}'")
    assert len(versions) == len({each.run_id for each in (champion, by_loss, by_filter)})
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == (
        champion.version
    )


def test_promote_cli_reports_bad_experiment_and_empty_filter_in_one_line(in_store, capsys):
    assert main(["promote", "--name", MODEL_NAME, "--experiment-name", "nope"]) == 2
    error = capsys.readouterr().err.strip()
    assert "experiment_name: no experiment named 'nope'; valid values are" in error
    argv = ["promote", "--name", MODEL_NAME, "--experiment-name", EXPERIMENT]
    assert main([*argv, "--filter", "params.units = '99'"]) == 2
    assert "filter: no finished run matching" in capsys.readouterr().err
    assert main([*argv, "--filter", "units ="]) == 2
    assert "is not a valid MLflow search filter" in capsys.readouterr().err


def test_served_champion_answers_real_reviews_like_the_model_in_process(in_store, champion, server):
    positive, negative = clear_reviews(in_store.texts)
    status, body = post(f"{server}/invocations", {"inputs": [positive, negative]})
    assert status == 200
    predictions = json.loads(body)["predictions"]
    assert [set(item) for item in predictions] == [{"probability", "label"}] * 2
    expected = mlflow.pyfunc.load_model(champion.model_uri).predict([positive, negative])
    for item, score in zip(predictions, expected, strict=True):
        assert isinstance(item["probability"], float) and isinstance(item["label"], int)
        assert item["probability"] == pytest.approx(score.probability, abs=1e-7)
        assert item["label"] == score.label


@pytest.mark.parametrize(
    "body, message",
    [
        ({"inputs": [""]}, "review 0: got '', which has no words"),
        ({"inputs": ["fine", "   "]}, "review 1: got '   ', which has no words"),
        ({"inputs": [5]}, "review 0: got int 5; valid values are strings of review text"),
        ({"inputs": [None]}, "review 0: got None; valid values are strings of review text"),
        ({"inputs": [["nested"]]}, "review 0: got list ['nested']; valid values are strings"),
        ({"inputs": ["ok", ["x" * 5_000_000]]}, "review 1: got list ['xxxxxx"),
        ({"inputs": "a bare string"}, "Expected list, but got str"),
        ({"inputs": ["word " * 30_000]}, "valid values are reviews of at most 100,000"),
        ({"dataframe_records": [{"text": "fine"}]}, "Request payload must be a dictionary"),
        ("this is not JSON", "Ensure that input is a valid JSON"),
    ],
)
def test_served_model_answers_bad_input_with_400_and_keeps_serving(server, body, message):
    status, text = post(f"{server}/invocations", body)
    assert status == 400
    assert message in json.loads(text)["message"]
    # The body never echoes more than a short prefix of the input.
    assert len(text) < 1000
    assert get_status(f"{server}/ping") == 200
    status, text = post(f"{server}/invocations", {"inputs": ["A fine film."]})
    assert status == 200 and len(json.loads(text)["predictions"]) == 1


@pytest.mark.parametrize(
    "body, content_type, status, message",
    [
        (b"{not json " + b"x" * 4_800_000, "application/json", 400, "valid JSON formatted"),
        (b"\xff\xfe not utf-8", "application/json", 400, "valid JSON formatted"),
        (b'a,b\n1,"2\n' + b"3," * 100_000, "text/csv", 400, "Failed to parse input as a Pandas"),
        (b"\xff\xfe not utf-8", "text/csv", 400, "valid UTF-8"),
        (b"PAR1 not parquet", "application/x-parquet", 415, "only supports"),
        (b"PAR1 not parquet", "application/vnd.apache.parquet", 400, "Failed to parse input"),
        (b"{}", "text/plain; " + "x" * 5_000 + "=1", 415, ""),
        (b"{}", "image/" + "x" * 5_000, 415, "only supports the following content types"),
    ],
)
def test_served_model_never_answers_a_long_body_or_a_traceback(
    server, body, content_type, status, message
):
    answered, text = post(f"{server}/invocations", body, content_type)
    assert answered == status
    assert message in text
    assert len(text) < 1000
    assert "Traceback" not in text and "stack_trace" not in text
    assert get_status(f"{server}/ping") == 200


def test_served_model_answers_an_empty_list_with_no_predictions(server):
    assert post(f"{server}/invocations", {"inputs": []}) == (200, '{"predictions": []}')


def test_predict_cli_scores_arguments_and_a_csv_column_like_the_model(
    in_store, champion, tmp_path, capsys
):
    reviews = in_store.texts.test_texts[:3]
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"id": [1, 2], "body": reviews[1:]}).to_csv(path, index=False)
    argv = ["predict", "--model-uri", champion.model_uri, reviews[0], "--file", str(path)]
    assert main([*argv, "--text-column", "body"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    expected = mlflow.pyfunc.load_model(champion.model_uri).predict(reviews)
    assert len(lines) == 3
    for line, score in zip(lines, expected, strict=True):
        label, _, probability, _ = line.split("\t")
        assert (int(label), float(probability)) == (score.label, round(score.probability, 4))


def test_predict_cli_refuses_a_model_that_is_not_a_text_model(in_store, capsys):
    uri = f"runs:/{in_store.run_ids[0]}/model"
    assert main(["predict", "--model-uri", uri, "A fine film."]) == 2
    assert "is not a text model" in capsys.readouterr().err


def test_evaluate_logs_classifier_metrics_curves_length_buckets_and_wrong_reviews(
    in_store, champion, capsys
):
    argv = ["evaluate", "--model-uri", champion.model_uri, "--experiment-name", "evaluation"]
    assert main([*argv, "--wrong-reviews", "5"]) == 0
    run_id = capsys.readouterr().out.split()[1].rstrip(":")
    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    texts = in_store.texts
    scores = serving.predict_frame(mlflow.pyfunc.load_model(champion.model_uri), texts.test_texts)
    hits = scores["label"].to_numpy() == texts.y_test
    assert metrics["accuracy_score"] == pytest.approx(hits.mean())
    assert 0.0 <= metrics["roc_auc"] <= 1.0 and 0.0 <= metrics["average_precision"] <= 1.0
    buckets = np.array([serving.bucket_of(n) for n in serving.count_tokens(texts.test_texts)])
    for bucket, _, _ in serving.LENGTH_BUCKETS:
        inside = buckets == bucket
        assert metrics[f"reviews_{bucket}"] == inside.sum()
        if inside.any():
            assert metrics[f"accuracy_{bucket}"] == pytest.approx(hits[inside].mean())
    artifacts = {item.path for item in client.list_artifacts(run_id)}
    assert {
        "confusion_matrix.png",
        "roc_curve_plot.png",
        "precision_recall_curve_plot.png",
        serving.WRONG_TABLE_FILE,
    } <= artifacts
    table = client.load_table(run.info.experiment_id, serving.WRONG_TABLE_FILE, [run_id])
    wrong = (~hits).sum()
    assert len(table) == min(5, wrong)
    assert (table["confidence"].diff().dropna() <= 0).all()
    assert set(table["text"]) <= {
        t for t, hit in zip(texts.test_texts, hits, strict=True) if not hit
    }
    assert run.data.tags["evaluated_run_id"] == champion.run_id
    logged = mlflow.get_logged_model(champion.model_id)
    assert "accuracy_score" in {metric.key for metric in logged.metrics}


def test_evaluate_with_a_bad_model_uri_opens_no_run(in_store, capsys):
    argv = ["evaluate", "--model-uri", "models:/no-such-model@champion"]
    assert main([*argv, "--experiment-name", "evaluation-bad"]) == 2
    assert "model_uri: cannot load" in capsys.readouterr().err
    experiment = mlflow.get_experiment_by_name("evaluation-bad")
    assert experiment is None or not MlflowClient().search_runs([experiment.experiment_id])
