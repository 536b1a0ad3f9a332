"""Macro-F1: a Keras metric for training and a NumPy function for anything else.

Macro-F1 is the mean over classes of each class's F1 (2 TP / (2 TP + FP + FN)), so every
class counts the same however rare it is; for two classes it averages the F1 of the
negative and of the positive class. The Keras metric accumulates a K x K confusion matrix
over the batches Keras already runs, so it costs no extra pass over the data, and it runs
inside XLA-compiled steps. Predictions are the sigmoid output >= 0.5 for two classes (one
output), else the argmax of the softmax.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

MACRO_F1 = "macro_f1"


def predict_classes(probabilities: np.ndarray) -> np.ndarray:
    """Returns class indices from model outputs: (n, 1) sigmoid >= 0.5, or (n, K) argmax."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 1 or probabilities.shape[-1] == 1:
        return (probabilities.reshape(-1) >= 0.5).astype(np.int64)
    return probabilities.argmax(axis=-1)


def macro_f1(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> float:
    """Returns the macro-F1 of class indices; a class absent from both counts as F1 0."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.float64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), np.asarray(predicted)), 1.0)
    return f1_from_confusion(matrix)


def f1_from_confusion(matrix: np.ndarray) -> float:
    """Returns the macro-F1 of a (true, predicted) confusion matrix."""
    hits = np.diag(matrix)
    denominators = matrix.sum(axis=0) + matrix.sum(axis=1)
    scores = np.divide(2 * hits, denominators, out=np.zeros_like(hits), where=denominators > 0)
    return float(scores.mean())


@keras.saving.register_keras_serializable(package="rnn_tracking")
class MacroF1(keras.metrics.Metric):
    """Macro-F1 over `num_classes` classes, from sparse labels and the model's outputs."""

    def __init__(self, num_classes: int = 2, name: str = MACRO_F1, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.confusion = self.add_variable(
            shape=(num_classes, num_classes), initializer="zeros", name="confusion"
        )

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        if ops.shape(y_pred)[-1] == 1:
            predicted = ops.cast(ops.reshape(y_pred, (-1,)) >= 0.5, "int32")
        else:
            predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        true_hot = ops.one_hot(labels, self.num_classes, dtype=self.dtype)
        predicted_hot = ops.one_hot(predicted, self.num_classes, dtype=self.dtype)
        self.confusion.assign_add(ops.matmul(ops.transpose(true_hot), predicted_hot))

    def result(self):
        hits = ops.diagonal(self.confusion)
        denominators = ops.sum(self.confusion, axis=0) + ops.sum(self.confusion, axis=1)
        scores = ops.divide_no_nan(2.0 * hits, denominators)
        return ops.mean(scores)

    def reset_state(self) -> None:
        self.confusion.assign(ops.zeros((self.num_classes, self.num_classes), dtype=self.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes}
