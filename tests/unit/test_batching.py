"""Length bucketing: batch widths, seeded order, and every review once per epoch."""

import numpy as np
import pytest

from rnn_tracking.batching import LengthBuckets, choose_widths, measure_lengths


def make_padded(lengths, maxlen, padding="pre"):
    """Rows whose real tokens are 1 (start) then row-numbered words, padded with 0."""
    x = np.zeros((len(lengths), maxlen), dtype=np.int32)
    for row, length in enumerate(lengths):
        tokens = [1] + [3 + row] * (length - 1)
        if padding == "pre":
            x[row, maxlen - length :] = tokens
        else:
            x[row, :length] = tokens
    return x


LENGTHS = np.random.default_rng(0).integers(1, 101, size=203)


def collect_epoch(buckets):
    return [buckets[i] for i in range(len(buckets))]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("steps", [1, 3])
def test_every_batch_is_one_bucket_wide_and_keeps_every_token(padding, steps):
    x = make_padded(LENGTHS, 100, padding)
    y = np.arange(len(x))
    buckets = LengthBuckets(x, y, 8, padding=padding, seed=1, steps_per_execution=steps)
    assert buckets.widths[-1] == 100 and len(buckets.widths) <= 4
    assert all(width % 16 == 0 for width in buckets.widths[:-1])
    for xb, yb in collect_epoch(buckets):
        assert xb.shape[1] in buckets.widths and len(xb) <= 8
        # Every real token survives the cut: the row's tokens are the original row's.
        np.testing.assert_array_equal(measure_lengths(xb), LENGTHS[yb])
        np.testing.assert_array_equal(np.sort(xb[xb != 0]), np.sort(x[yb][x[yb] != 0]))


def test_batches_come_in_chunks_of_one_width_for_steps_per_execution():
    x = make_padded(LENGTHS, 100)
    buckets = LengthBuckets(x, np.arange(len(x)), 4, seed=0, steps_per_execution=5)
    widths = [xb.shape[1] for xb, _ in collect_epoch(buckets)]
    sizes = [len(yb) for _, yb in collect_epoch(buckets)]
    full_chunks = sum(size == 4 for size in sizes) // 5
    for chunk in range(full_chunks):
        assert len(set(widths[chunk * 5 : chunk * 5 + 5])) == 1
    # The shapes of an epoch are the same every epoch; only their order changes.
    first = sorted(zip(widths, sizes, strict=True))
    buckets.on_epoch_end()
    again = sorted((xb.shape[1], len(yb)) for xb, yb in collect_epoch(buckets))
    assert first == again


def test_each_epoch_holds_every_review_exactly_once():
    x = make_padded(LENGTHS, 100)
    buckets = LengthBuckets(x, np.arange(len(x)), 8, seed=3, steps_per_execution=2)
    for _ in range(3):
        seen = np.concatenate([yb for _, yb in collect_epoch(buckets)])
        np.testing.assert_array_equal(np.sort(seen), np.arange(len(x)))
        buckets.on_epoch_end()


def test_the_order_is_seeded_and_changes_between_epochs():
    x = make_padded(LENGTHS, 100)

    def orders(seed):
        buckets = LengthBuckets(x, np.arange(len(x)), 8, seed=seed)
        first = np.concatenate([yb for _, yb in collect_epoch(buckets)])
        buckets.on_epoch_end()
        second = np.concatenate([yb for _, yb in collect_epoch(buckets)])
        return first, second

    first, second = orders(5)
    again_first, again_second = orders(5)
    other_first, _ = orders(6)
    np.testing.assert_array_equal(first, again_first)
    np.testing.assert_array_equal(second, again_second)
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, other_first)


def test_widths_sit_at_the_quartiles_rounded_up_to_16_and_end_at_maxlen():
    assert choose_widths(np.array([10, 20, 40, 90, 300]), 400) == (32, 48, 96, 400)
    # Lengths that all round to one width give that width and maxlen.
    assert choose_widths(np.array([3, 3, 3]), 64) == (16, 64)


@pytest.mark.slow
def test_training_with_buckets_and_pretrained_rows_runs_and_keeps_the_rows_frozen(tmp_path):
    import dataclasses

    from helpers import TOY, make_splits

    from rnn_tracking.train import train_model

    lengths = np.random.default_rng(1).integers(1, 33, size=40)
    x = make_padded(lengths, 32) % 10
    y = (lengths > 16).astype("int32")
    config = dataclasses.replace(
        TOY,
        maxlen=32,
        bucketing="length",
        steps_per_execution=2,
        epochs=2,
        embeddings="vectors.txt",
        embeddings_trainable=False,
    )
    matrix = np.random.default_rng(2).normal(size=(10, 2)).astype("float32")
    result = train_model(
        config, make_splits((x, y)), tmp_path / "best.keras", embedding_matrix=matrix
    )
    assert result.epochs_run == 2
    np.testing.assert_array_equal(result.model.get_layer("embedding").get_weights()[0], matrix)
    assert result.test_probabilities.shape == (40,)
