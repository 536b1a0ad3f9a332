"""The linear baselines (TF-IDF + logistic regression, NBSVM), on tiny datasets made by the tests."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from rnn_tracking import baseline
from rnn_tracking.baseline import nbsvm
from rnn_tracking.baseline.record import baseline_params
from rnn_tracking.cli import main
from rnn_tracking.config import TrainConfig
from rnn_tracking.data import encode_texts, load_splits

POSITIVE = ["good film", "good acting", "a good story", "good fun"]
NEGATIVE = ["bad film", "bad acting", "a bad story", "bad fun"]


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
    train = [(t, 1) for t in POSITIVE * 3] + [(t, 0) for t in NEGATIVE * 3]
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
    params = baseline_params(TrainConfig(), result)
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


# NBSVM: the log-count ratio, one-vs-rest, and its place among the baselines.


def test_log_count_ratio_matches_the_hand_computed_one():
    # Row 0 (positive) has terms 0 and 1; row 1 (negative) has terms 1 and 2. With alpha 1:
    # p = (2, 2, 1), |p| = 5; q = (1, 2, 2), |q| = 5; r = log(p / q).
    counts = scipy.sparse.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=np.float32))
    r = nbsvm.compute_log_count_ratio(counts, np.array([True, False]))
    np.testing.assert_allclose(r, [np.log(2), 0.0, -np.log(2)])


def test_log_count_ratio_normalizes_each_side_by_its_own_total():
    counts = np.array([[1, 1, 1], [1, 0, 0]], dtype=np.float32)
    # p = (2, 2, 2) / 6, q = (2, 1, 1) / 4.
    r = nbsvm.compute_log_count_ratio(counts, np.array([True, False]), alpha=1.0)
    np.testing.assert_allclose(r, np.log(np.array([1 / 3, 1 / 3, 1 / 3]) / [0.5, 0.25, 0.25]))


def test_scaled_features_are_the_counts_times_the_ratio_column_by_column():
    counts = scipy.sparse.csr_matrix(np.array([[1, 0, 1], [0, 1, 1]], dtype=np.float32))
    scaled = nbsvm.scale_columns(counts, np.array([2.0, -1.0, 0.5]))
    assert scipy.sparse.issparse(scaled)
    np.testing.assert_allclose(scaled.toarray(), [[2.0, 0.0, 0.5], [0.0, -1.0, 0.5]])


def test_three_classes_get_one_ratio_and_one_model_each_with_probabilities_summing_to_one():
    # Term j marks class j; term 3 appears everywhere.
    rows = [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]] * 4
    x = scipy.sparse.csr_matrix(np.array(rows, dtype=np.float32))
    y = np.array([0, 1, 2] * 4)
    model = nbsvm.NBLogisticRegression(C=10.0, random_state=0).fit(x, y)
    assert model.ratios_.shape == model.coef_.shape == (3, 4)
    assert model.intercept_.shape == (3,)
    for k in range(3):
        np.testing.assert_allclose(
            model.ratios_[k], nbsvm.compute_log_count_ratio(x, y == k), err_msg=str(k)
        )
        # Each class's own marker term carries its largest ratio.
        assert np.argmax(model.ratios_[k]) == k
    probabilities = model.predict_proba(x[:3])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(x[:3]), [0, 1, 2])


def test_two_classes_get_one_ratio_of_class_one_against_class_zero():
    x = scipy.sparse.csr_matrix(np.array([[1, 0], [0, 1]] * 3, dtype=np.float32))
    y = np.array([1, 0] * 3)
    model = nbsvm.NBLogisticRegression(C=10.0, random_state=0).fit(x, y)
    assert model.ratios_.shape == (1, 2) and model.ratios_[0, 0] > 0 > model.ratios_[0, 1]
    probabilities = model.predict_proba(x[:2])
    assert probabilities.shape == (2, 2) and probabilities[0, 1] > 0.5 > probabilities[1, 1]


def test_nbsvm_fit_selects_c_on_validation_and_logs_its_own_settings():
    train = [(t, 1) for t in POSITIVE * 3] + [(t, 0) for t in NEGATIVE * 3]
    val = [("good good", 1), ("bad bad", 0), ("good story", 1), ("bad story", 0)]
    test = [("really good", 1), ("really bad", 0)]
    data = make_data(train, val, test)
    result = baseline.fit_baseline(data, seed=0, arch="nbsvm")
    assert result.arch == "nbsvm"
    assert list(result.val_accuracy_by_c) == list(baseline.NBSVM_C_GRID)
    assert result.test_accuracy == 1.0
    assert result.param_count == result.feature_count + 1
    assert result.test_probabilities.shape == (2,)
    params = baseline_params(TrainConfig(), result)
    assert params["arch"] == "nbsvm" and params["nb_alpha"] == "1"
    assert params["ngram_range"] == "1,2" and params["binary"] == "true"
    assert params["multiclass"] == "binary" and "sublinear_tf" not in params


@pytest.mark.parametrize("text", ["", "svm", "nbsvm,tfidf"])
def test_unknown_models_are_rejected_with_the_valid_ones(text):
    with pytest.raises(ValueError, match="models: got .*; valid values are tfidf_logreg, nbsvm"):
        baseline.parse_models(text)


def test_the_promotion_gate_accepts_every_baseline_model():
    from rnn_tracking.serving.gate import BASELINE_ARCHS

    assert BASELINE_ARCHS == baseline.MODELS


@pytest.mark.slow
def test_baseline_command_logs_a_comparable_run_per_model_on_the_same_split(
    tiny_csv, tracking_uri, capsys
):
    import mlflow

    argv = ["baseline", "--data", str(tiny_csv), "--val_split", "0.25", "--budgets", "full"]
    assert main([*argv, "--experiment-name", "both"]) == 0
    found = mlflow.search_runs(experiment_names=["both"])
    assert sorted(found["tags.arch"]) == ["nbsvm", "tfidf_logreg"]
    assert set(found["status"]) == {"FINISHED"}
    # Both sit on the same test reviews, so the promotion gate can pair either with a model.
    assert found["tags.test_digest"].nunique() == 1
    assert found.loc[found["tags.arch"] == "nbsvm", "params.nb_alpha"].item() == "1"
    assert main([*argv, "--models", "nbsvm", "--experiment-name", "one"]) == 0
    assert list(mlflow.search_runs(experiment_names=["one"])["tags.arch"]) == ["nbsvm"]
