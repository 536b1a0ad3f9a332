"""Length bucketing: batches of reviews of similar length, each padded to a few fixed widths.

Every review is padded to `maxlen`, so with the full text (maxlen 300-500) most steps of most
reviews are padding, computed anyway. With `bucketing=length`, the training reviews are put
in at most `BUCKET_COUNT` buckets by their length (start mark included); a batch holds the
reviews of one bucket, cut to the bucket's width. Widths sit at the quartiles of the lengths,
rounded up to a multiple of `WIDTH_MULTIPLE`, and the widest is `maxlen`, so a compiled
training step is built once per width, not once per batch.

Compiled steps run `steps_per_execution` batches per call, and that call is built for the
widths of all its batches. So batches come in chunks of `steps_per_execution` batches of one
width: the reviews of a bucket that fill no whole chunk move up to the next wider bucket (a
wider cut keeps all their tokens), and those left in the widest bucket end the epoch, in
batches of `batch_size` (the last one short), as an unbucketed epoch ends. The shapes of an
epoch are therefore the same every epoch; their order is not.

Each epoch draws a new order (rows within buckets, then chunks) from NumPy's generator
seeded with (seed, epoch): the same seed gives the same epochs. Validation stays unbucketed,
at maxlen, so its metrics mean what they mean without bucketing.

Cutting a padded row to width W keeps its last W columns when reviews are padded in front
(`padding=pre`) and its first W otherwise.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from rnn_tracking.encoding import PAD_INDEX

BUCKET_COUNT = 4
WIDTH_MULTIPLE = 16


def measure_lengths(x: np.ndarray) -> np.ndarray:
    """Returns each padded row's count of real tokens (non-padding indices): int (n,)."""
    return np.count_nonzero(np.asarray(x) != PAD_INDEX, axis=1)


def choose_widths(lengths: np.ndarray, maxlen: int, count: int = BUCKET_COUNT) -> tuple[int, ...]:
    """Returns the sorted bucket widths: the lengths' quantiles at 1/count, 2/count, ...,
    rounded up to a multiple of WIDTH_MULTIPLE and capped at maxlen; the last is maxlen."""
    quantiles = (
        np.quantile(lengths, [step / count for step in range(1, count)]) if len(lengths) else []
    )
    widths = {
        min(maxlen, WIDTH_MULTIPLE * max(1, math.ceil(q / WIDTH_MULTIPLE))) for q in quantiles
    }
    return tuple(sorted(widths | {maxlen}))


class LengthBuckets(keras.utils.PyDataset):
    """The training split as batches of similar length: `self[i]` is (x of shape (b, width),
    y of shape (b,)), width one of `self.widths`. Works on every Keras backend (see
    `as_fit_input` for TensorFlow).

    `x` is int32 (n, maxlen), padded on the `padding` side; `y` holds the n labels.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        *,
        padding: str = "pre",
        seed: int = 0,
        steps_per_execution: int = 1,
        count: int = BUCKET_COUNT,
    ) -> None:
        super().__init__()
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.batch_size, self.padding, self.seed = batch_size, padding, seed
        self.chunk = batch_size * max(1, steps_per_execution)
        lengths = measure_lengths(self.x)
        self.widths = choose_widths(lengths, self.x.shape[1], count)
        # The narrowest width each review fits in.
        self.bucket_of = np.searchsorted(np.asarray(self.widths), lengths, side="left")
        self.epoch = 0
        self.batches = self.order_batches(self.epoch)

    def order_batches(self, epoch: int) -> list[tuple[np.ndarray, int]]:
        """Returns the epoch's batches as (row indices, width), in the epoch's seeded order."""
        rng = np.random.default_rng([self.seed, epoch])
        chunks: list[list[tuple[np.ndarray, int]]] = []
        carried = np.zeros(0, dtype=np.int64)
        for bucket, width in enumerate(self.widths):
            rows = np.concatenate([carried, np.flatnonzero(self.bucket_of == bucket)])
            rows = rng.permutation(rows)
            whole = len(rows) - len(rows) % self.chunk
            for start in range(0, whole, self.chunk):
                chunk = rows[start : start + self.chunk]
                chunks.append(
                    [
                        (chunk[i : i + self.batch_size], width)
                        for i in range(0, len(chunk), self.batch_size)
                    ]
                )
            carried = rows[whole:]
        order = rng.permutation(len(chunks))
        batches = [batch for index in order for batch in chunks[index]]
        widest = self.widths[-1]
        tail = [
            (carried[i : i + self.batch_size], widest)
            for i in range(0, len(carried), self.batch_size)
        ]
        return batches + tail

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows, width = self.batches[index]
        x = self.x[rows]
        x = x[:, x.shape[1] - width :] if self.padding == "pre" else x[:, :width]
        return x, self.y[rows]

    def on_epoch_end(self) -> None:
        """Draws the next epoch's order."""
        self.epoch += 1
        self.batches = self.order_batches(self.epoch)


def as_fit_input(dataset: LengthBuckets):
    """Returns what `Model.fit` takes for the buckets on the active backend.

    JAX and PyTorch take the PyDataset itself. TensorFlow's adapter fixes the input shape
    from the first two batches, which share a width here, so it gets a tf.data pipeline with
    the width left open instead; each pass over it ends with the next epoch's order.
    """
    if keras.backend.backend() != "tensorflow":
        return dataset
    import tensorflow as tf

    def generate():
        for index in range(len(dataset)):
            yield dataset[index]
        dataset.on_epoch_end()

    signature = (
        tf.TensorSpec((None, None), dtype=tf.as_dtype(dataset.x.dtype)),
        tf.TensorSpec((None,), dtype=tf.as_dtype(dataset.y.dtype)),
    )
    pipeline = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return pipeline.apply(tf.data.experimental.assert_cardinality(len(dataset)))
