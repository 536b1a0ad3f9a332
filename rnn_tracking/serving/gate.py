"""The promotion gate: a challenger must earn the `champion` alias on the test split.

Rules, in order (the first that fails refuses the challenger, in one line):

1. it logged `test_predictions.npz` and a `test_digest` tag (runs made before the gate
   existed have neither);
2. with a champion: both have the same test digest, so their predictions pair review by
   review; then McNemar's exact test on the discordant reviews (b: only the challenger
   right, c: only the champion right; two-sided binomial test of b against b + c) must
   give p < alpha, with b > c;
3. the best linear baseline run (`arch` one of BASELINE_ARCHS: TF-IDF + logistic regression
   or NBSVM) on the same test digest, in the same experiments, must exist and have no higher
   test accuracy than the challenger.

A first promotion (no champion yet) checks rules 1 and 3 only.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_tracking import runs
from rnn_tracking.predictions import PREDICTIONS_ARTIFACT, SplitPredictions, load_test_predictions

# The `arch` tags of `rnn-tracking baseline`'s runs (rnn_tracking.baseline.MODELS); serving
# does not import the baseline package, so the names are repeated here and a test ties them.
BASELINE_ARCHS = ("tfidf_logreg", "nbsvm")
GATE_TAG = "gate"


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test of two classifiers on the same reviews.

    `b`: reviews only the second (challenger) got right; `c`: only the first (champion)
    got right; `p_value`: two-sided exact binomial p of b in b + c at 1/2 (1.0 when
    b + c = 0, as nothing tells them apart).
    """

    b: int
    c: int
    p_value: float


def compare_paired_predictions(
    labels: np.ndarray, champion: np.ndarray, challenger: np.ndarray
) -> McNemar:
    """Runs McNemar's exact test on two predicted-class arrays (n,) against labels (n,)."""
    from scipy.stats import binomtest

    labels, champion, challenger = (np.asarray(a) for a in (labels, champion, challenger))
    if not labels.shape == champion.shape == challenger.shape:
        raise ValueError(
            f"predictions: got shapes {labels.shape}, {champion.shape}, {challenger.shape}; "
            "valid values are one prediction per review of the same test split."
        )
    champion_right, challenger_right = champion == labels, challenger == labels
    b = int(np.sum(challenger_right & ~champion_right))
    c = int(np.sum(champion_right & ~challenger_right))
    p_value = 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue)
    return McNemar(b, c, p_value)


@dataclass(frozen=True)
class GateDecision:
    """What the gate found; `reason` is empty when the challenger passed."""

    test_digest: str
    alpha: float
    challenger_accuracy: float
    champion_version: str | None = None
    champion_accuracy: float | None = None
    mcnemar: McNemar | None = None
    baseline_run_id: str | None = None
    baseline_accuracy: float | None = None
    reason: str = ""

    @property
    def passed(self) -> bool:
        return not self.reason

    def describe_table(self) -> str:
        """Returns the decision as a small aligned table, one rule per line."""

        def number(value: float | None, spec: str = ".4f") -> str:
            return "-" if value is None else format(value, spec)

        test = self.mcnemar
        rows = [
            ("test digest", self.test_digest or "-"),
            ("challenger test_accuracy", number(self.challenger_accuracy)),
            (
                f"champion test_accuracy (v{self.champion_version})"
                if self.champion_version
                else "champion test_accuracy",
                number(self.champion_accuracy) if self.champion_version else "none (first)",
            ),
            ("discordant b (only challenger right)", "-" if test is None else str(test.b)),
            ("discordant c (only champion right)", "-" if test is None else str(test.c)),
            (f"McNemar exact p (alpha {self.alpha:g})", number(test and test.p_value, ".3g")),
            ("best baseline test_accuracy", number(self.baseline_accuracy)),
            ("decision", "promote" if self.passed else "refuse"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)

    def to_tags(self) -> dict[str, str]:
        """Returns the decision as model-version tags (`gate=passed`, `gate_p_value`, ...)."""
        tags = {
            GATE_TAG: "passed",
            runs.TEST_DIGEST_TAG: self.test_digest,
            "gate_alpha": f"{self.alpha:g}",
            "gate_challenger_test_accuracy": f"{self.challenger_accuracy:.6f}",
            "gate_baseline_test_accuracy": f"{self.baseline_accuracy:.6f}",
            "gate_baseline_run_id": str(self.baseline_run_id),
        }
        if self.champion_version and self.mcnemar is not None:
            tags |= {
                "gate_champion_version": self.champion_version,
                "gate_champion_test_accuracy": f"{self.champion_accuracy:.6f}",
                "gate_discordant_b": str(self.mcnemar.b),
                "gate_discordant_c": str(self.mcnemar.c),
                "gate_p_value": f"{self.mcnemar.p_value:.6g}",
            }
        return tags


def judge_challenger(
    predictions: SplitPredictions,
    test_digest: str,
    champion: tuple[str, str, SplitPredictions] | None,
    baseline: tuple[str, float] | None,
    alpha: float,
) -> GateDecision:
    """Applies the rules of the module docstring to already loaded predictions.

    `champion` is (version, test digest, predictions) or None for a first promotion;
    `baseline` is (run id, test accuracy) of the best baseline on `test_digest`, or None.
    """
    decision = GateDecision(test_digest, alpha, predictions.accuracy)
    if champion is not None:
        version, champion_digest, champion_predictions = champion
        decision = _replace(
            decision, champion_version=version, champion_accuracy=champion_predictions.accuracy
        )
        if champion_digest != test_digest:
            return _replace(
                decision,
                reason=(
                    f"test_digest: the challenger was tested on {test_digest} but champion "
                    f"v{version} on {champion_digest}; valid values are runs on the same test "
                    "reviews (same data, max_reviews and seed), or --force."
                ),
            )
        test = compare_paired_predictions(
            predictions.label, champion_predictions.predicted, predictions.predicted
        )
        decision = _replace(decision, mcnemar=test)
    if baseline is not None:
        decision = _replace(decision, baseline_run_id=baseline[0], baseline_accuracy=baseline[1])
    if decision.mcnemar is not None:
        test = decision.mcnemar
        if not (test.b > test.c and test.p_value < alpha):
            return _replace(
                decision,
                reason=(
                    f"alpha: the challenger does not beat champion v{decision.champion_version} "
                    f"on the test split (McNemar b={test.b}, c={test.c}, p={test.p_value:.3g}, "
                    f"alpha {alpha:g}); valid values are challengers significantly better, or "
                    "--force."
                ),
            )
    if baseline is None:
        return _replace(
            decision,
            reason=(
                f"baseline: no finished {' or '.join(BASELINE_ARCHS)} run on test digest {test_digest} in "
                "these experiments; valid values are experiments holding one (run "
                "`rnn-tracking baseline` with the same data, max_reviews and seed), or --force."
            ),
        )
    if baseline[1] > predictions.accuracy:
        return _replace(
            decision,
            reason=(
                f"baseline: the challenger's test_accuracy {predictions.accuracy:.4f} is below "
                f"the linear baseline's {baseline[1]:.4f} (run {baseline[0]}); valid values "
                "are challengers at least as good as the baseline, or --force."
            ),
        )
    return decision


def _replace(decision: GateDecision, **changes: Any) -> GateDecision:
    import dataclasses

    return dataclasses.replace(decision, **changes)


# --- Reading the runs ---------------------------------------------------------------------


def load_run_predictions(client, run_id: str) -> tuple[str, SplitPredictions] | None:
    """Returns a run's (test digest, predictions), or None if it logged no predictions."""
    import mlflow

    digest = client.get_run(run_id).data.tags.get(runs.TEST_DIGEST_TAG)
    if not digest:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=PREDICTIONS_ARTIFACT, dst_path=scratch
            )
        except Exception:
            return None
        return digest, load_test_predictions(path)


def find_best_baseline(
    client, experiment_ids: list[str], test_digest: str
) -> tuple[str, float] | None:
    """Returns (run id, test accuracy) of the best finished baseline run on `test_digest`.

    One search per baseline arch: every MLflow store answers `tags.arch = '...'`.
    """
    best = None
    for arch in BASELINE_ARCHS:
        filter_string = (
            f"attributes.status = 'FINISHED' and tags.{runs.ARCH_TAG} = '{arch}' "
            f"and tags.{runs.TEST_DIGEST_TAG} = '{test_digest}'"
        )
        for run in runs.search_runs_paged(experiment_ids, filter_string, client=client):
            accuracy = run.data.metrics.get("test_accuracy")
            if accuracy is not None and (best is None or accuracy > best[1]):
                best = (run.info.run_id, float(accuracy))
    return best
