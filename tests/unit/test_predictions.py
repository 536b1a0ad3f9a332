"""The per-review test predictions artifact and the digest that says which reviews it covers."""

from __future__ import annotations

import numpy as np

from rnn_tracking.predictions import (
    digest_test_split,
    load_test_predictions,
    make_test_predictions,
    save_test_predictions,
)


def test_predicted_classes_are_exact_although_probabilities_are_float16(tmp_path):
    labels = np.array([1, 0, 1, 0])
    # 0.50001 rounds to 0.5 in float16; the stored class must still be 1.
    probabilities = np.array([0.50001, 0.2, 0.9, 0.49999], dtype=np.float32)
    written = make_test_predictions(labels, probabilities)
    read = load_test_predictions(save_test_predictions(written, tmp_path / "p.npz"))
    assert read.predicted.tolist() == [1, 0, 1, 0]
    assert read.index.tolist() == [0, 1, 2, 3] and read.label.tolist() == [1, 0, 1, 0]
    assert read.probability.dtype == np.float16 and read.accuracy == 1.0


def test_multiclass_predictions_take_the_argmax():
    probabilities = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    assert make_test_predictions(np.array([1, 2]), probabilities).predicted.tolist() == [1, 0]


def test_twenty_five_thousand_reviews_stay_well_under_a_megabyte(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 25_000)
    predictions = make_test_predictions(labels, rng.random(25_000, dtype=np.float32))
    path = save_test_predictions(predictions, tmp_path / "p.npz")
    assert path.stat().st_size < 250_000


def test_test_digest_changes_with_the_reviews_not_with_the_encoding():
    labels = np.array([0, 1, 1])
    base = digest_test_split("abc", 0, 1, ("neg", "pos"), labels)
    # The seed does not choose the reviews when nothing is sampled.
    assert digest_test_split("abc", 0, 2, ("neg", "pos"), labels) == base
    assert digest_test_split("abc", 10, 1, ("neg", "pos"), labels) != base
    assert digest_test_split("abd", 0, 1, ("neg", "pos"), labels) != base
    assert digest_test_split("abc", 0, 1, ("pos", "neg"), labels) != base
    assert digest_test_split("abc", 0, 1, ("neg", "pos"), labels[::-1]) != base
