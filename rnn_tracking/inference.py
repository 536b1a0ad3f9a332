"""Inference in fixed-size batches, so the compiled predict function meets one shape only.

XLA (JAX's only compiled path, and TensorFlow's with `jit_compile`) compiles once per input
shape. `model.predict` on n rows ends with a short batch of n mod batch_size rows, a new
shape, so every new request size compiled again, and on JAX a model run outside `jit` lowers
its recurrent `scan` again for each call: minutes of stalls after training. Here every batch
has exactly `batch_size` rows: the last one is padded with rows of padding tokens (index 0)
and their outputs are dropped.

The served text model uses this module, so it imports nothing of the package and imports
Keras only inside the functions that need it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# The batch of the served model and of evaluation: one shape, compiled once per process.
PREDICT_BATCH = 128


def pad_rows(tokens: np.ndarray, batch_size: int) -> np.ndarray:
    """Returns `tokens` (n, maxlen) with rows of zeros appended up to a multiple of batch_size."""
    missing = -len(tokens) % batch_size
    if not missing:
        return tokens
    padding = np.zeros((missing, *tokens.shape[1:]), dtype=tokens.dtype)
    return np.concatenate([tokens, padding])


def predict_fixed_batches(
    model: Any, tokens: np.ndarray, batch_size: int = PREDICT_BATCH
) -> np.ndarray:
    """Returns the model's outputs for `tokens` (n, maxlen) as float64 of shape (n, outputs).

    Each call into the compiled predict function gets exactly `batch_size` rows (see the
    module docstring); the outputs of the padding rows are dropped.
    """
    tokens = np.asarray(tokens, dtype=np.int32)
    count = len(tokens)
    width = int(model.output_shape[-1])
    if not count:
        return np.empty((0, width), dtype=np.float64)
    padded = pad_rows(tokens, batch_size)
    outputs = [
        np.asarray(model.predict_on_batch(padded[start : start + batch_size]))
        for start in range(0, len(padded), batch_size)
    ]
    return np.concatenate(outputs).astype(np.float64).reshape(-1, width)[:count]
