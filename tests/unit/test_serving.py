"""The text-in model on a tiny untrained network, its input rules, and the serving helpers.

The saved model is a real MLflow pyfunc model in a temporary folder (no tracking store); its
vocabulary is written down here, so each review's encoding is known.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from rnn_tracking import runs, serving
from rnn_tracking.cli import main
from rnn_tracking.config import TrainConfig
from rnn_tracking.data import (
    encode_texts,
    load_splits,
    load_text_splits,
    read_review_file,
)
from rnn_tracking.train import compile_model

# Its tests share module-scoped fixtures (trained once): one xdist worker runs them all.
pytestmark = pytest.mark.xdist_group("unit_serving")

TINY = TrainConfig(num_words=12, maxlen=6, units=4, embedding_dim=4, data="tiny.csv")
VOCABULARY = ("great", "bad", "film", "movie", "acting", "boring", "fun", "awful")
REVIEWS = [
    "Great film, great acting!",
    "Bad movie. Boring<br />and awful.",
    "an unseen word, then fun",
    "film " * 40,
]


@pytest.fixture(scope="module")
def keras_model() -> keras.Model:
    return compile_model(TINY)


@pytest.fixture(scope="module")
def saved_model_path(keras_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("text_model") / "model"
    serving.save_text_model(path, TINY, VOCABULARY, keras_model)
    return path


@pytest.fixture(scope="module")
def loaded(saved_model_path):
    return mlflow.pyfunc.load_model(str(saved_model_path))


def copy_with_encoding(saved_model_path, tmp_path, change):
    """Copies the saved model and applies `change` to its encoding JSON document."""
    copy = tmp_path / "model"
    shutil.copytree(saved_model_path, copy)
    encoding_path = copy / "artifacts" / "encoding.json"
    document = json.loads(encoding_path.read_text())
    change(document)
    encoding_path.write_text(json.dumps(document))
    return copy


@pytest.mark.slow
def test_text_model_scores_raw_reviews_exactly_like_the_keras_model_on_their_encoding(
    loaded, keras_model
):
    scores = loaded.predict(REVIEWS)
    encoded = encode_texts(REVIEWS, VOCABULARY, TINY.num_words, TINY.maxlen)
    expected = keras_model.predict(encoded, verbose=0)[:, 0]
    probabilities = np.array([score.probability for score in scores])
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-7)
    assert [score.label for score in scores] == [int(p >= 0.5) for p in probabilities]


@pytest.mark.slow
def test_text_model_accepts_a_one_column_table_like_a_list(loaded):
    from_list = loaded.predict(REVIEWS[:2])
    from_table = loaded.predict(pd.DataFrame({"text": REVIEWS[:2]}))
    assert from_table == from_list


@pytest.mark.slow
def test_text_model_signature_is_a_list_in_probability_and_label_out(loaded, saved_model_path):
    signature = loaded.metadata.signature
    # Items are typed Any so that `predict` checks them itself, quoting a bad one shortly.
    assert signature.inputs.to_dict() == [{"type": "any", "required": True}]
    output = json.dumps(signature.outputs.to_dict())
    assert '"probability"' in output and '"label"' in output
    example = json.loads((saved_model_path / "serving_input_example.json").read_text())
    assert example == {"inputs": list(serving.EXAMPLE_REVIEWS)}


@pytest.mark.slow
def test_text_model_pins_the_installed_model_packages(saved_model_path):
    from importlib.metadata import version

    pins = (saved_model_path / "requirements.txt").read_text().split()
    assert f"keras=={version('keras')}" in pins
    assert {pin.split("==")[0] for pin in pins} - {"mlflow"} <= set(runs.MODEL_PACKAGES)


def test_model_requirements_skip_packages_that_are_not_installed():
    from importlib.metadata import version

    pins = runs.list_model_requirements(("tensorflow-cpu-absent-here", "keras"))
    assert pins == [f"keras=={version('keras')}"]


@pytest.mark.slow
def test_text_model_records_the_training_encoding(saved_model_path):
    document = json.loads((saved_model_path / "artifacts" / "encoding.json").read_text())
    assert document["vocabulary"] == list(VOCABULARY)
    assert (document["num_words"], document["maxlen"]) == (12, 6)
    assert (document["pad_index"], document["start_index"], document["oov_index"]) == (0, 1, 2)
    assert document["index_from"] == 3
    assert document["config"]["units"] == 4 and document["config"]["data"] == "tiny.csv"
    expected = encode_texts(serving.EXAMPLE_REVIEWS, VOCABULARY, 12, 6).tolist()
    assert document["check_encoded"] == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    "bad, message",
    [
        ([""], "review 0: got '', which has no words"),
        (["fine", "   "], "review 1: got '   ', which has no words"),
        (["?!"], "which has no words"),
        (["x" * (serving.MAX_REVIEW_CHARS + 1)], "valid values are reviews of at most 100,000"),
        ([5], "review 0: got int 5; valid values are strings of review text"),
        ([None], "review 0: got None; valid values are strings of review text"),
        ("one review", "Expected list, but got str"),
    ],
)
def test_text_model_refuses_bad_reviews_with_a_clear_error(loaded, bad, message):
    with pytest.raises(MlflowException, match=message) as raised:
        loaded.predict(bad)
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.slow
def test_refusal_of_a_5_mb_review_quotes_only_a_short_prefix_and_its_length(loaded):
    huge = "x" * 5_000_000
    with pytest.raises(MlflowException) as raised:
        loaded.predict([huge])
    message = raised.value.message
    assert len(message) < 500
    assert "'" + "x" * serving.QUOTED_CHARS + "'... (5,000,000 characters)" in message


@pytest.mark.slow
def test_refusal_of_a_5_mb_non_string_item_stays_short(loaded):
    with pytest.raises(MlflowException) as raised:
        loaded.predict([["x" * 5_000_000]])
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    assert len(raised.value.message) < 500
    assert raised.value.message.startswith("review 0: got list [")


@pytest.mark.parametrize(
    "bad",
    [
        ["!" * (serving.MAX_REVIEW_CHARS - 1)],
        ["x" * 5_000_000],
        [["x" * 5_000_000] * 10],
        [{"text": "x" * 5_000_000}],
    ],
)
def test_review_errors_stay_short_whatever_the_input(bad):
    with pytest.raises(ValueError) as raised:
        serving.check_reviews(bad)
    assert len(str(raised.value)) < 500


@pytest.mark.slow
def test_text_model_scores_a_long_review_by_its_last_maxlen_tokens(loaded):
    long_review = "bad " * 5000 + "great film great acting fun great"
    scores = loaded.predict([long_review, "great film great acting fun great"])
    assert scores[0] == scores[1]


@pytest.mark.slow
def test_text_model_answers_an_empty_batch_with_an_empty_list(loaded):
    assert loaded.predict([]) == []


def test_text_model_encodes_served_reviews_with_the_runs_padding_and_truncating(tmp_path):
    config = dataclasses.replace(TINY, padding="post", truncating="post")
    path = tmp_path / "model"
    serving.save_text_model(path, config, VOCABULARY, compile_model(config))
    document = json.loads((path / "artifacts" / "encoding.json").read_text())
    assert (document["padding"], document["truncating"]) == ("post", "post")
    encoding = serving.read_encoding(path / "artifacts" / "encoding.json")
    expected = encode_texts(REVIEWS, VOCABULARY, 12, 6, padding="post", truncating="post")
    np.testing.assert_array_equal(encoding.encode(REVIEWS), expected)
    assert encoding.encode(["film " * 40])[0].tolist() == [1, 6, 6, 6, 6, 6]


@pytest.mark.slow
def test_encodings_saved_without_padding_and_truncating_read_as_pre(saved_model_path, tmp_path):
    def change(document):
        del document["padding"], document["truncating"]

    copy = copy_with_encoding(saved_model_path, tmp_path, change)
    encoding = serving.read_encoding(copy / "artifacts" / "encoding.json")
    assert (encoding.padding, encoding.truncating) == ("pre", "pre")


@pytest.mark.slow
def test_text_model_refuses_to_load_when_the_encoding_drifted(saved_model_path, tmp_path):
    def change(document):
        document["check_encoded"][0][-1] += 1

    copy = copy_with_encoding(saved_model_path, tmp_path, change)
    with pytest.raises(MlflowException, match="encodes the model's reference reviews differently"):
        mlflow.pyfunc.load_model(str(copy))


@pytest.mark.slow
def test_text_model_refuses_to_load_with_other_index_offsets(saved_model_path, tmp_path):
    def change(document):
        document["index_from"] = 4

    copy = copy_with_encoding(saved_model_path, tmp_path, change)
    with pytest.raises(MlflowException, match="records index_from=4 but this rnn_tracking"):
        mlflow.pyfunc.load_model(str(copy))


def test_keras_models_load_in_safe_mode_so_lambda_code_never_runs(tmp_path):
    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        serving.load_keras_model(path)


def test_check_reviews_returns_good_reviews_unchanged():
    assert serving.check_reviews(("Great film", "x")) == ["Great film", "x"]


def test_length_buckets_split_token_counts_at_100_and_300():
    assert [serving.bucket_of(n) for n in (0, 100, 101, 300, 301, 5000)] == [
        "short",
        "short",
        "medium",
        "medium",
        "long",
        "long",
    ]


def test_wrong_reviews_are_ordered_by_the_probability_given_to_the_wrong_label():
    frame = pd.DataFrame(
        {
            "text": ["a", "b", "c", "d", "e"],
            "label": [1, 0, 1, 0, 1],
            "prediction": [0, 1, 1, 1, 0],
            "probability": [0.45, 0.7, 0.9, 0.95, 0.1],
            "tokens": [1, 2, 3, 4, 5],
        }
    )
    table = serving.select_wrong_reviews(frame, 3)
    assert table["text"].tolist() == ["d", "e", "b"]
    np.testing.assert_allclose(table["confidence"], [0.95, 0.9, 0.7])
    assert list(table.columns) == ["text", "label", "probability", "confidence", "tokens"]


@pytest.mark.parametrize("metric", ["test_accuracy", "accuracy", "loss", "test_loss"])
def test_selection_refuses_metrics_that_are_not_validation_metrics(metric):
    with pytest.raises(ValueError, match=f"metric: got '{metric}', which is not a validation"):
        serving.check_selection_metric(metric)


def test_selection_minimizes_losses_and_maximizes_accuracies():
    assert serving.check_selection_metric("best_val_accuracy") is True
    assert serving.check_selection_metric("val_accuracy") is True
    assert serving.check_selection_metric("best_val_loss") is False


@pytest.mark.slow
def test_promotion_reads_comma_separated_experiment_names(tracking_uri, monkeypatch):
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.create_experiment("first")
    mlflow.create_experiment("second")
    with pytest.raises(ValueError, match="metric: no finished run in 'first', 'second' has"):
        serving.promote_best_model("m", experiment_names=["first,second"])
    with pytest.raises(ValueError, match="experiment_name: no experiment named 'nope'"):
        serving.promote_best_model("m", experiment_names=["first, nope"])


@pytest.mark.slow
def test_promotion_names_a_filter_mlflow_cannot_parse(tracking_uri):
    mlflow.create_experiment("first")
    with pytest.raises(ValueError, match="filter: 'params.units ==' is not a valid MLflow"):
        serving.promote_best_model("m", experiment_names=["first"], filter_string="params.units ==")


@pytest.mark.slow
@pytest.mark.parametrize(
    "raised, status", [(KeyboardInterrupt(), "KILLED"), (RuntimeError("boom"), "FAILED")]
)
def test_evaluation_run_ends_killed_on_ctrl_c_and_failed_on_errors_with_error_tag(
    raised, status, saved_model_path, tiny_csv, tracking_uri, monkeypatch
):
    def interrupt(**kwargs):
        raise raised

    monkeypatch.setattr(mlflow.models, "evaluate", interrupt)
    with pytest.raises(type(raised)):
        serving.evaluate_model(str(saved_model_path), data_source=str(tiny_csv))
    (run,) = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert run.info.status == status
    assert run.data.tags[runs.ERROR_TAG] == runs.describe_error(raised)


def test_evaluation_uses_the_training_config_unless_overridden():
    encoding = serving.make_encoding(TINY, VOCABULARY)
    assert serving.evaluation_config(encoding, {"data": None, "max_reviews": None}) == TINY
    changed = serving.evaluation_config(encoding, {"data": "other.csv", "max_reviews": "0"})
    assert (changed.data, changed.max_reviews, changed.units) == ("other.csv", 0, 4)


@pytest.mark.parametrize("source", ["tiny_aclimdb", "tiny_csv"])
def test_text_splits_hold_the_reviews_load_splits_encodes_row_for_row(source, request):
    config = TrainConfig(data=str(request.getfixturevalue(source)), val_split=0.25)
    splits = load_splits(config)
    texts = load_text_splits(config)
    for part in ("train", "val", "test"):
        encoded = encode_texts(
            getattr(texts, f"{part}_texts"), splits.vocabulary, config.num_words, config.maxlen
        )
        np.testing.assert_array_equal(encoded, getattr(splits, f"x_{part}"))
        np.testing.assert_array_equal(getattr(texts, f"y_{part}"), getattr(splits, f"y_{part}"))
    assert (texts.source, texts.name, texts.digest) == (splits.source, splits.name, splits.digest)


def test_text_splits_of_the_keras_source_are_refused():
    with pytest.raises(ValueError, match="data: the 'keras' source holds encoded reviews"):
        load_text_splits(TrainConfig(data="keras"))


def test_review_file_is_one_review_per_line_without_blank_lines(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("Great film\n\n   \nBad movie\n", encoding="utf-8")
    assert read_review_file(path) == ["Great film", "Bad movie"]


def test_review_csv_is_read_by_its_text_column(tiny_csv):
    reviews = read_review_file(tiny_csv, "review")
    assert len(reviews) == 10 and reviews[1] == "Great film"
    with pytest.raises(ValueError, match="text_column: column 'body' is not in"):
        read_review_file(tiny_csv, "body")


def test_missing_review_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="file: .* is not a file; valid values are"):
        read_review_file(tmp_path / "missing.txt")


@pytest.mark.slow
def test_predict_cli_scores_a_file_and_arguments_with_the_saved_model(
    saved_model_path, loaded, tmp_path, capsys
):
    path = tmp_path / "reviews.txt"
    path.write_text("Bad movie. Boring and awful.\n", encoding="utf-8")
    code = main(
        ["predict", "--model-uri", str(saved_model_path), "Great film", "--file", str(path)]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "label\tsentiment\tprobability\treview"
    expected = loaded.predict(["Great film", "Bad movie. Boring and awful."])
    for line, score, review in zip(
        lines[1:], expected, ["Great film", "Bad movie. Boring and awful."], strict=True
    ):
        label, sentiment, probability, shown = line.split("\t")
        assert int(label) == score.label
        assert sentiment == ("positive" if score.label else "negative")
        assert float(probability) == pytest.approx(score.probability, abs=5e-5)
        assert shown == review


@pytest.mark.parametrize(
    "argv, message",
    [
        (["predict", "--model-uri", "x"], "reviews: got none"),
        (["predict", "--model-uri", "x", ""], "review 0: got '', which has no words"),
        (["promote", "--name", "m", "--metric", "test_accuracy"], "metric: got 'test_accuracy'"),
        (["promote", "--name", " "], "name: got an empty name"),
    ],
)
def test_serving_commands_reject_bad_input_with_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


def test_predict_cli_names_the_model_uri_it_cannot_load(tmp_path, capsys):
    assert main(["predict", "--model-uri", str(tmp_path / "nothing"), "Great film"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("rnn-tracking: error: model_uri: cannot load")
    assert len(error.splitlines()) == 1
