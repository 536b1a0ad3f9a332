"""The real aclImdb tar reads and encodes as the tutorial expects, on a few hundred reviews."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tracking.config import TrainConfig
from rnn_tracking.data import load_splits


@pytest.mark.integration
def test_real_tar_sample_has_balanced_labels_and_indices_below_num_words(real_data_path):
    config = TrainConfig(data=str(real_data_path), max_reviews=300)
    splits = load_splits(config)
    assert splits.x_train.shape == (240, config.maxlen)
    assert splits.x_val.shape == (60, config.maxlen)
    assert splits.x_test.shape == (300, config.maxlen)
    training_labels = np.concatenate([splits.y_train, splits.y_val])
    assert np.bincount(training_labels).tolist() == [150, 150]
    assert np.bincount(splits.y_test).tolist() == [150, 150]
    for x in (splits.x_train, splits.x_val, splits.x_test):
        assert x.dtype == np.int32 and x.min() >= 0 and x.max() < config.num_words
    assert len(splits.vocabulary) == config.num_words - 4
    assert splits.vocabulary[:3] == ("the", "and", "a")
    assert splits.name == "aclImdb" and len(splits.digest) == 64
