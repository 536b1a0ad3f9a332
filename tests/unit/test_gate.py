"""The promotion gate's statistics and rules, on tiny hand-made prediction arrays."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tracking.predictions import make_test_predictions
from rnn_tracking.serving.gate import compare_paired_predictions, judge_challenger


@pytest.mark.parametrize(
    ("champion", "challenger", "b", "c", "p_value"),
    [
        # Three reviews only the challenger gets right: p = 2 * (1/2)**3.
        ([0, 0, 0], [1, 1, 1], 3, 0, 0.25),
        # Six: p = 2 / 64.
        ([0] * 6, [1] * 6, 6, 0, 0.03125),
        # Two against one: P(X <= 1 | n=3) = 1/2, doubled to 1.
        ([0, 0, 1], [1, 1, 0], 2, 1, 1.0),
        # No discordant review: nothing tells them apart.
        ([1, 1, 1], [1, 1, 1], 0, 0, 1.0),
    ],
)
def test_mcnemar_counts_discordant_reviews_and_gives_the_exact_p(
    champion, challenger, b, c, p_value
):
    labels = np.ones(len(champion), dtype=np.uint8)
    test = compare_paired_predictions(labels, np.array(champion), np.array(challenger))
    assert (test.b, test.c) == (b, c)
    assert test.p_value == pytest.approx(p_value)


def test_mcnemar_refuses_predictions_of_different_lengths():
    with pytest.raises(ValueError, match="predictions: got shapes"):
        compare_paired_predictions(np.ones(3), np.ones(3), np.ones(2))


def predictions_right_on(right: list[bool]):
    """Predictions on len(right) positive reviews, right where `right` says."""
    labels = np.ones(len(right), dtype=np.uint8)
    return make_test_predictions(labels, np.where(right, 0.9, 0.1))


CHAMPION = predictions_right_on([False] * 6 + [True] * 4)
BETTER = predictions_right_on([True] * 10)


def test_significantly_better_challenger_with_the_baseline_beaten_passes():
    decision = judge_challenger(BETTER, "d1", ("1", "d1", CHAMPION), ("base", 0.5), 0.05)
    assert decision.passed
    assert (decision.mcnemar.b, decision.mcnemar.c) == (6, 0)
    assert decision.to_tags()["gate_p_value"] == "0.03125"
    assert "decision" in decision.describe_table().splitlines()[-1]


def test_worse_or_not_significant_challenger_is_refused_naming_alpha():
    worse = judge_challenger(CHAMPION, "d1", ("1", "d1", BETTER), ("base", 0.1), 0.05)
    assert not worse.passed and worse.reason.startswith("alpha:")
    strict = judge_challenger(BETTER, "d1", ("1", "d1", CHAMPION), ("base", 0.1), 0.01)
    assert not strict.passed and "p=0.0312" in strict.reason


def test_champion_on_other_test_reviews_is_refused_naming_both_digests():
    decision = judge_challenger(BETTER, "d1", ("1", "d2", CHAMPION), ("base", 0.1), 0.05)
    assert not decision.passed
    assert "d1" in decision.reason and "d2" in decision.reason
    assert "\n" not in decision.reason


def test_first_promotion_checks_only_the_baseline():
    assert judge_challenger(CHAMPION, "d1", None, ("base", 0.4), 0.05).passed
    below = judge_challenger(CHAMPION, "d1", None, ("base", 0.5), 0.05)
    assert below.reason.startswith("baseline: the challenger's test_accuracy 0.4000")
    missing = judge_challenger(CHAMPION, "d1", None, None, 0.05)
    assert missing.reason.startswith(
        "baseline: no finished tfidf_logreg or nbsvm run on test digest d1"
    )
