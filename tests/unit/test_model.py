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


TINY = {"num_words": 10, "maxlen": 4, "units": 2, "embedding_dim": 3}


@pytest.mark.parametrize(
    ("pooling", "features"), [("last", 2), ("max", 2), ("mean", 2), ("max_mean", 4)]
)
def test_pooling_sets_the_classifier_input_and_keeps_the_output_shape(pooling, features):
    model = build_model(TrainConfig(pooling=pooling, **TINY))
    assert model.get_layer("probability").input.shape == (None, features)
    tokens = np.array([[1, 4, 9, 2], [0, 0, 1, 5]], dtype="int32")
    assert np.asarray(model(tokens)).shape == (2, 1)


def test_pooling_adds_parameters_only_where_the_classifier_input_grows():
    base = build_model(TrainConfig()).count_params()
    assert build_model(TrainConfig(pooling="max")).count_params() == base
    assert build_model(TrainConfig(pooling="mean")).count_params() == base
    # Dense(1) reads 16 features instead of 8: 8 more weights.
    assert build_model(TrainConfig(pooling="max_mean")).count_params() == base + 8


def test_pooling_makes_the_last_recurrent_layer_return_sequences():
    model = build_model(TrainConfig(layers=2, pooling="mean"))
    assert [model.get_layer(f"lstm_{i}").return_sequences for i in (1, 2)] == [True, True]


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "max_mean"])
def test_a_masked_model_ignores_the_padding(pooling):
    import keras

    padded = build_model(TrainConfig(pooling=pooling, mask_zero=True, **TINY))
    short = build_model(TrainConfig(pooling=pooling, mask_zero=True, **{**TINY, "maxlen": 2}))
    short.set_weights(padded.get_weights())
    with_padding = np.asarray(padded(np.array([[0, 0, 4, 5]], dtype="int32")))
    without = np.asarray(short(np.array([[4, 5]], dtype="int32")))
    np.testing.assert_allclose(with_padding, without, rtol=1e-6)
    unmasked = build_model(TrainConfig(pooling=pooling, **TINY))
    unmasked.set_weights(padded.get_weights())
    assert not np.allclose(np.asarray(unmasked(np.array([[0, 0, 4, 5]]))), without)
    keras.backend.clear_session()


def test_masked_max_pooling_never_lets_a_padded_step_win():
    import keras

    from rnn_tracking.model import mask_padded_steps

    tokens = keras.Input(shape=(4,), dtype="int32")
    sequence = keras.Input(shape=(4, 2))
    pooled = keras.layers.GlobalMaxPooling1D()(mask_padded_steps(sequence, tokens))
    model = keras.Model([tokens, sequence], pooled)
    # The padded steps output 0 (as a masked recurrent layer does); every real output is < 0.
    outputs = np.array([[[0.0, 0.0], [0.0, 0.0], [-0.5, -0.9], [-0.2, -0.7]]], dtype="float32")
    maxima = np.asarray(model([np.array([[0, 0, 4, 5]], dtype="int32"), outputs]))
    np.testing.assert_allclose(maxima, [[-0.2, -0.7]], rtol=1e-6)


@pytest.mark.parametrize("pooling", ["last", "max_mean"])
def test_a_masked_model_scores_front_and_back_padding_alike(pooling):
    import keras

    model = build_model(TrainConfig(pooling=pooling, mask_zero=True, bidirectional=True, **TINY))
    front = np.asarray(model(np.array([[0, 0, 4, 5]], dtype="int32")))
    back = np.asarray(model(np.array([[4, 5, 0, 0]], dtype="int32")))
    np.testing.assert_allclose(front, back, rtol=1e-5)
    keras.backend.clear_session()


def test_a_masked_max_pooling_model_loads_in_safe_mode_without_package_code(tmp_path):
    import keras

    model = build_model(TrainConfig(pooling="max", mask_zero=True, **TINY))
    path = tmp_path / "masked.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    tokens = np.array([[0, 0, 4, 5]], dtype="int32")
    np.testing.assert_allclose(np.asarray(loaded(tokens)), np.asarray(model(tokens)), rtol=1e-6)
    keras.backend.clear_session()


def test_recipe_knobs_reach_keras_under_their_keras_names():
    from rnn_tracking.model import build_optimizer

    model = build_model(TrainConfig(spatial_dropout=0.2, mask_zero=True))
    assert model.get_layer("spatial_dropout").rate == 0.2
    assert model.get_layer("embedding").mask_zero is True
    optimizer = build_optimizer(TrainConfig(optimizer="adamw", clipnorm=1.0, weight_decay=0.01))
    assert type(optimizer).__name__ == "AdamW"
    assert (optimizer.clipnorm, optimizer.weight_decay) == (1.0, 0.01)
    plain = build_optimizer(TrainConfig())
    assert (plain.clipnorm, plain.weight_decay) == (None, None)
    # AdamW with the default weight_decay=0 is Adam: no decay, and no refusal from Keras.
    assert build_optimizer(TrainConfig(optimizer="adamw")).weight_decay == 0.0


def test_cosine_schedule_decays_the_rate_to_zero_over_all_steps():
    from rnn_tracking.model import build_optimizer

    optimizer = build_optimizer(TrainConfig(lr_schedule="cosine", epochs=4), steps_per_epoch=5)
    schedule = optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(1e-4)
    assert float(schedule(20)) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="^lr_schedule"):
        build_optimizer(TrainConfig(lr_schedule="cosine"))
