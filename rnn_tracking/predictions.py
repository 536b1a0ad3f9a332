"""Per-review test predictions: the compact artifact every run logs, and the test digest.

A run's `test_predictions.npz` holds, for each review of its test split in split order:

- `index`: uint32, the row in the test split (0..n-1), so a reader can check the pairing;
- `label`: uint8, the true class index;
- `predicted`: uint8, the predicted class, taken from the float32 probabilities *before*
  they are rounded, so it is exact (a probability of 0.50001 stays class 1);
- `probability`: float16, the probability of class 1 for two classes, (n, K) class
  probabilities for K >= 3. float16 keeps about three significant digits, enough for
  calibration plots and ROC curves; decisions use `predicted`.

25,000 reviews take about 90 KB compressed. Two runs' predictions pair review by review
only when they were made on the same test reviews in the same order: the `test_digest` tag
says which. This module imports only numpy and hashlib, so training and baselines share it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PREDICTIONS_ARTIFACT = "test_predictions.npz"
# Class indices fit a byte: the platform's sources have far fewer than 256 classes.
MAX_CLASSES = 256


@dataclass(frozen=True, eq=False)
class SplitPredictions:
    """One run's predictions on its test split (see the module docstring for each array)."""

    index: np.ndarray
    label: np.ndarray
    predicted: np.ndarray
    probability: np.ndarray

    @property
    def accuracy(self) -> float:
        """The share of reviews whose predicted class is the label."""
        return float(np.mean(self.predicted == self.label)) if len(self.label) else float("nan")


def predict_classes(probabilities: np.ndarray) -> np.ndarray:
    """Returns uint8 classes: probability > 0.5 for (n,) (Keras' binary accuracy), else argmax."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 1:
        return (probabilities > 0.5).astype(np.uint8)
    return np.argmax(probabilities, axis=1).astype(np.uint8)


def make_test_predictions(labels: np.ndarray, probabilities: np.ndarray) -> SplitPredictions:
    """Packs labels (n,) and float probabilities ((n,) or (n, K)) into the compact form."""
    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if len(labels) != len(probabilities):
        raise ValueError(
            f"probabilities: got {len(probabilities)} rows for {len(labels)} test labels; "
            "valid values are one row per test review."
        )
    if labels.size and int(labels.max()) >= MAX_CLASSES:
        raise ValueError(f"labels: got class {int(labels.max())}; valid values are 0..255.")
    return SplitPredictions(
        index=np.arange(len(labels), dtype=np.uint32),
        label=labels.astype(np.uint8),
        predicted=predict_classes(probabilities),
        probability=probabilities.astype(np.float16),
    )


def save_test_predictions(predictions: SplitPredictions, path: Path) -> Path:
    """Writes the predictions as a compressed `.npz` file; returns its path."""
    np.savez_compressed(
        path,
        index=predictions.index,
        label=predictions.label,
        predicted=predictions.predicted,
        probability=predictions.probability,
    )
    return Path(path)


def load_test_predictions(path: str | Path) -> SplitPredictions:
    """Reads predictions written by `save_test_predictions`."""
    with np.load(path) as archive:
        return SplitPredictions(
            index=archive["index"],
            label=archive["label"],
            predicted=archive["predicted"],
            probability=archive["probability"],
        )


def digest_test_split(
    data_digest: str,
    max_reviews: int,
    seed: int,
    classes: tuple[str, ...] | list[str],
    labels: np.ndarray,
) -> str:
    """Returns a 32-hex digest that names a test split: which reviews, in which order.

    The test reviews are the source's (its content `data_digest`), sampled by `max_reviews`
    with `seed` when `max_reviews` is not 0, with labels indexed in `classes` order. The
    encoding (`num_words`, `maxlen`) is left out on purpose: models that read the same
    reviews differently are still compared on the same reviews. The labels go in too, so
    any difference in sampling shows.
    """
    hasher = hashlib.sha256()
    sampling = f"max_reviews={max_reviews};seed={seed if max_reviews else '-'}"
    for part in (data_digest, sampling, ",".join(classes)):
        hasher.update(part.encode())
        hasher.update(b"\0")
    hasher.update(np.asarray(labels, dtype=np.int64).tobytes())
    return hasher.hexdigest()[:32]
