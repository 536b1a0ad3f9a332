"""The TF-IDF + logistic-regression baseline, on tiny datasets made by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tracking import baseline
from rnn_tracking.cli import main
from rnn_tracking.config import TrainConfig
from rnn_tracking.data import encode_texts, load_splits


def make_data(train, val, test):
    """Builds full-text BaselineData from (text, label) pairs per split."""

    def unzip(pairs):
        return [text for text, _ in pairs], np.array([label for _, label in pairs], dtype=np.int32)

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = map(unzip, (train, val, test))
    return baseline.BaselineData("full", x_train, y_train, x_val, y_val, x_test, y_test, "toy", "d")


def test_neural_budget_documents_are_the_encoded_rows_without_padding():
    rows = np.array([[0, 0, 1, 5, 2], [1, 4, 4, 9, 2]], dtype=np.int32)
    assert baseline.encoded_documents(rows) == ["1 5 2", "1 4 4 9 2"]


def test_both_budgets_read_the_very_rows_of_the_neural_split(tiny_csv):
    config = TrainConfig(data=str(tiny_csv), num_words=20, maxlen=6, val_split=0.25)
    splits = load_splits(config)
    neural = baseline.load_baseline_data(config, "neural")
    full = baseline.load_baseline_data(config, "full")
    for part in ("train", "val", "test"):
        x = getattr(splits, f"x_{part}")
        assert getattr(neural, part) == baseline.encoded_documents(x), part
        encoded = encode_texts(getattr(full, part), splits.vocabulary, 20, 6)
        np.testing.assert_array_equal(encoded, x, err_msg=part)
        np.testing.assert_array_equal(getattr(full, f"y_{part}"), getattr(splits, f"y_{part}"))


def test_fit_selects_c_on_validation_and_counts_weights_and_intercept():
    positive = ["good film", "good acting", "a good story", "good fun"]
    negative = ["bad film", "bad acting", "a bad story", "bad fun"]
    train = [(t, 1) for t in positive * 3] + [(t, 0) for t in negative * 3]
    val = [("good good", 1), ("bad bad", 0), ("good story", 1), ("bad story", 0)]
    test = [("really good", 1), ("really bad", 0)]
    result = baseline.fit_baseline(make_data(train, val, test), seed=0)
    accuracies = result.val_accuracy_by_c
    assert list(accuracies) == list(baseline.C_GRID)
    best = max(accuracies.values())
    # Ties go to the first (strongest-regularized) C that reaches the best accuracy.
    assert result.best_c == next(c for c, a in accuracies.items() if a == best)
    assert result.best_val_accuracy == best
    assert result.test_accuracy == 1.0
    assert result.param_count == result.feature_count + 1
    assert result.summary_metrics().keys() >= {
        "best_val_accuracy",
        "test_accuracy",
        "train_seconds",
    }


def test_full_budget_params_leave_out_the_neural_budget_fields():
    result = baseline.BaselineResult("full", 1.0, {1.0: 0.5}, 0.5, 0.7, 0.5, 0.7, 1.0, 10, 9)
    params = baseline.baseline_params(TrainConfig(), result)
    assert params["arch"] == "tfidf_logreg" and params["budget"] == "full"
    assert "num_words" not in params and "maxlen" not in params
    assert params["seed"] == "42" and params["C"] == "1"


@pytest.mark.parametrize("text", ["", "neural,tiny", "all"])
def test_unknown_budgets_are_rejected_with_the_valid_ones(text):
    with pytest.raises(ValueError, match="budgets: got .*; valid values are neural, full"):
        baseline.parse_budgets(text)


@pytest.mark.slow
def test_full_budget_on_the_keras_source_is_a_usage_error_and_logs_nothing(tracking_uri, capsys):
    import mlflow

    assert main(["baseline", "--data", "keras", "--budgets", "full"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("rnn-tracking: error: data:")
    assert mlflow.search_runs(search_all_experiments=True).empty


def test_padding_index_is_the_one_data_encodes_with():
    from rnn_tracking import data

    assert baseline.PAD_INDEX == data.PAD_INDEX
