"""The model builder: the tutorial's parameter counts, stacking and output shapes."""

import numpy as np
import pytest

from rnn_tracking.config import TrainConfig
from rnn_tracking.model import build_model


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"arch": "lstm"}, 8_809),
        ({"arch": "lstm", "dropout": 0.3}, 8_809),
        ({"arch": "lstm", "layers": 2, "dropout": 0.3}, 9_353),
        ({"arch": "gru"}, 8_633),
    ],
)
def test_tutorial_models_have_the_tutorials_parameter_counts(settings, expected):
    assert build_model(TrainConfig(**settings)).count_params() == expected


def test_simplernn_parameter_count_follows_its_formula():
    # Embedding 500*16, SimpleRNN 8*(16+8+1), Dense 8+1.
    assert build_model(TrainConfig(arch="simplernn")).count_params() == 8_000 + 200 + 9


def test_stacked_lstm_returns_sequences_except_last():
    model = build_model(TrainConfig(layers=3))
    recurrent = [layer for layer in model.layers if layer.name.startswith("lstm_")]
    assert [layer.return_sequences for layer in recurrent] == [True, True, False]


def test_bidirectional_doubles_the_recurrent_output():
    model = build_model(TrainConfig(arch="gru", units=4, bidirectional=True, maxlen=3))
    assert model.get_layer("bidirectional_1").output.shape == (None, 8)


@pytest.mark.parametrize("arch", ["simplernn", "lstm", "gru"])
def test_model_maps_token_batches_to_probabilities(arch):
    model = build_model(TrainConfig(arch=arch, num_words=10, maxlen=3, units=2, embedding_dim=2))
    tokens = np.array([[1, 4, 9], [0, 1, 5]], dtype="int32")
    probabilities = np.asarray(model(tokens))
    assert probabilities.shape == (2, 1)
    assert np.all((probabilities > 0) & (probabilities < 1))


def test_layer_settings_reach_keras_under_the_same_names():
    model = build_model(TrainConfig(units=5, dropout=0.25, recurrent_dropout=0.1))
    layer = model.get_layer("lstm_1")
    assert (layer.units, layer.dropout, layer.recurrent_dropout) == (5, 0.25, 0.1)
