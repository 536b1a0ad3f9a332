"""The speed settings change how fast Keras runs the model, not what it computes.

Each default that docs/speed.md measured as faster (XLA, several steps per execution) is
checked here against the plain setting on toy arrays, from the same seed: the same layer
outputs and the same trained weights, to float32 rounding or bit for bit. Each can be
turned off from the config, and the settings that rule cuDNN out say so when a GPU is seen.
"""

import warnings

import keras
import numpy as np
import pytest
from helpers import make_splits

from rnn_tracking.config import TrainConfig, config_from_mapping
from rnn_tracking.model import (
    build_model,
    check_cudnn_padding,
    list_cudnn_blockers,
    warn_if_cudnn_ruled_out,
)
from rnn_tracking.train import compile_model, train_model

# A toy classifier small enough to compile with XLA in a second or two.
TOY = TrainConfig(num_words=10, maxlen=5, units=3, embedding_dim=2, batch_size=4, seed=7)
PLAIN = {"jit_compile": False, "steps_per_execution": 1, "unroll": False}
# float32 rounding: XLA and the unrolled graph may fuse or order a few operations differently.
TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


def make_config(**settings):
    """Returns TOY with the given settings, starting from the plain (slow) ones."""
    return config_from_mapping({**PLAIN, **settings}, base=TOY)


def make_toy_data(rows=22):
    """Seeded token ids of shape (rows, 5) and labels that depend on the first token.

    22 rows at batch size 4 leave a last batch of 2, so the partial-batch path runs too.
    """
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10, size=(rows, 5)).astype("int32")
    y = (x[:, 0] > 5).astype("int32")
    return x, y


def fit_one_epoch(config):
    """Builds the seeded model, trains it for one epoch, returns (weights, epoch loss)."""
    x, y = make_toy_data()
    model = compile_model(config)
    history = model.fit(x, y, batch_size=config.batch_size, epochs=1, verbose=0)
    return [np.asarray(w) for w in model.get_weights()], history.history["loss"][0]


def initial_weights(config):
    keras.utils.set_random_seed(config.seed)
    return [np.asarray(w) for w in build_model(config).get_weights()]


@pytest.mark.parametrize("arch", ["simplernn", "lstm", "gru"])
def test_unrolled_layers_compute_the_same_outputs_as_the_loop(arch):
    tokens = np.array([[1, 4, 9, 2, 3], [0, 0, 1, 5, 8]], dtype="int32")
    outputs = {}
    for unroll in (False, True):
        config = make_config(arch=arch, layers=2, unroll=unroll)
        keras.utils.set_random_seed(config.seed)
        model = build_model(config)
        assert model.get_layer(f"{arch}_1").unroll is unroll
        outputs[unroll] = np.asarray(model(tokens))
    np.testing.assert_allclose(outputs[True], outputs[False], **TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_xla_training_gives_the_same_weights_as_plain_training(arch):
    config = make_config(arch=arch)
    start = initial_weights(config)
    plain, plain_loss = fit_one_epoch(config)
    xla, xla_loss = fit_one_epoch(make_config(arch=arch, jit_compile=True))
    # Training moved the weights, so agreeing after it is not agreeing by standing still.
    assert max(np.abs(a - b).max() for a, b in zip(plain, start, strict=True)) > 1e-4
    for a, b in zip(xla, plain, strict=True):
        np.testing.assert_allclose(a, b, **TOLERANCE)
    assert xla_loss == pytest.approx(plain_loss, rel=1e-5)


@pytest.mark.slow
def test_steps_per_execution_trains_bit_for_bit_the_same():
    plain, plain_loss = fit_one_epoch(make_config(dropout=0.3))
    batched, batched_loss = fit_one_epoch(make_config(dropout=0.3, steps_per_execution=4))
    for a, b in zip(batched, plain, strict=True):
        np.testing.assert_array_equal(a, b)
    assert batched_loss == plain_loss


@pytest.mark.slow
def test_xla_training_with_dropout_is_reproducible_from_the_seed():
    # XLA draws its dropout masks from its own random stream, so only XLA against XLA is
    # bit for bit; docs/speed.md shows the validation accuracy stays within seed noise.
    first, _ = fit_one_epoch(make_config(dropout=0.3, jit_compile=True))
    second, _ = fit_one_epoch(make_config(dropout=0.3, jit_compile=True))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_speed_settings_reach_keras_and_can_be_turned_off():
    fast = compile_model(TrainConfig(num_words=10, maxlen=5, units=2))
    assert (fast.jit_compile, fast.steps_per_execution) == (True, 32)
    plain = compile_model(
        config_from_mapping(
            {"jit_compile": "false", "steps_per_execution": "1", "unroll": "false"}, base=TOY
        )
    )
    assert (plain.jit_compile, plain.steps_per_execution) == (False, 1)
    assert plain.get_layer("lstm_1").unroll is False


@pytest.mark.slow
def test_trained_model_is_recompiled_with_the_backends_own_compile_for_inference(tmp_path):
    x, y = make_toy_data(8)
    splits = make_splits((x, y))
    config = config_from_mapping({"epochs": 1, "jit_compile": True}, base=TOY)
    result = train_model(config, splits, tmp_path / "best.keras")
    # Keras's `auto`: XLA on JAX (its only compiled path), a graph without XLA on a CPU with
    # TensorFlow. Inference runs in fixed-size batches, so XLA compiles one shape.
    on_jax = keras.backend.backend() == "jax"
    assert result.model.get_compile_config()["jit_compile"] is on_jax
    assert result.model.jit_compile is on_jax
    assert result.model.steps_per_execution == 1
    assert int(result.model.optimizer.iterations) == 2


def test_mixed_precision_computes_in_16_bits_and_outputs_float32():
    config = TrainConfig(num_words=10, maxlen=5, units=2, dtype_policy="mixed_float16")
    model = compile_model(config)
    assert model.get_layer("lstm_1").compute_dtype == "float16"
    assert model.get_layer("probability").compute_dtype == "float32"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    probabilities = model(np.array([[1, 4, 9, 2, 3]], dtype="int32"))
    assert keras.backend.standardize_dtype(probabilities.dtype) == "float32"


@pytest.mark.parametrize(
    ("backend", "settings", "blockers"),
    [
        ("tensorflow", {}, []),
        ("tensorflow", {"recurrent_dropout": 0.2}, ["recurrent_dropout"]),
        (
            "tensorflow",
            {"arch": "gru", "unroll": True, "recurrent_dropout": 0.1},
            ["recurrent_dropout", "unroll"],
        ),
        ("tensorflow", {"arch": "simplernn", "recurrent_dropout": 0.2}, []),
        # A right-padded mask keeps cuDNN on TensorFlow and PyTorch, not on JAX.
        ("tensorflow", {"mask_zero": True}, []),
        ("torch", {"arch": "gru", "unroll": True}, ["unroll"]),
        ("jax", {"mask_zero": True, "unroll": True}, ["unroll", "mask_zero"]),
        # JAX has no cuDNN GRU: nothing to rule out.
        ("jax", {"arch": "gru", "recurrent_dropout": 0.2}, []),
    ],
)
def test_cudnn_blockers_are_the_settings_keras_cannot_run_on_cudnn(backend, settings, blockers):
    assert list_cudnn_blockers(TrainConfig(**settings), backend) == blockers


@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_a_mask_on_front_padded_reviews_is_refused_in_one_line_on_a_gpu(backend):
    config = TrainConfig(mask_zero=True, padding="pre")
    with pytest.raises(ValueError, match=r"^padding: got 'pre' with mask_zero=true.*post") as error:
        check_cudnn_padding(config, gpu_visible=True, backend=backend)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("backend", "settings", "gpu_visible"),
    [
        ("tensorflow", {"mask_zero": True, "padding": "pre"}, False),
        ("tensorflow", {"mask_zero": True, "padding": "post"}, True),
        ("tensorflow", {"mask_zero": False, "padding": "pre"}, True),
        # Off cuDNN anyway: Keras's own loop takes any mask.
        ("tensorflow", {"mask_zero": True, "recurrent_dropout": 0.1}, True),
        ("jax", {"mask_zero": True, "padding": "pre"}, True),
    ],
)
def test_the_padding_rule_refuses_only_a_mask_cudnn_would_refuse(backend, settings, gpu_visible):
    check_cudnn_padding(TrainConfig(**settings), gpu_visible=gpu_visible, backend=backend)


def test_recurrent_dropout_on_a_visible_gpu_warns_in_one_line():
    config = TrainConfig(recurrent_dropout=0.2)
    with pytest.warns(
        UserWarning, match=r"^recurrent_dropout=0\.2 rules out cuDNN .*recurrent_dropout=0\.0"
    ) as record:
        warn_if_cudnn_ruled_out(config, gpu_visible=True, backend="tensorflow")
    assert "\n" not in str(record[0].message)


def test_a_mask_on_jax_warns_that_it_rules_out_cudnn():
    with pytest.warns(UserWarning, match=r"^mask_zero=true rules out cuDNN for lstm .*\(jax\)"):
        warn_if_cudnn_ruled_out(TrainConfig(mask_zero=True), gpu_visible=True, backend="jax")


def test_no_cudnn_warning_without_a_gpu_or_with_cudnn_settings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_cudnn_ruled_out(TrainConfig(recurrent_dropout=0.2), gpu_visible=False)
        warn_if_cudnn_ruled_out(TrainConfig(), gpu_visible=True)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"steps_per_execution": "0"},
            "steps_per_execution: got 0; valid values are integers >= 1",
        ),
        ({"jit_compile": "maybe"}, "jit_compile: got 'maybe'; valid values are true or false"),
        (
            {"dtype_policy": "float16"},
            "dtype_policy: got 'float16'; valid values are one of float32",
        ),
    ],
)
def test_bad_speed_settings_are_rejected_naming_the_parameter(settings, message):
    with pytest.raises(ValueError, match=message):
        config_from_mapping(settings)


def test_fixed_batch_prediction_pads_the_last_batch_and_drops_its_rows():
    from rnn_tracking.inference import pad_rows, predict_fixed_batches

    tokens = np.arange(1, 21, dtype="int32").reshape(5, 4) % 9 + 1
    assert pad_rows(tokens, 4).shape == (8, 4)
    assert (pad_rows(tokens, 4)[5:] == 0).all()
    model = build_model(TrainConfig(num_words=10, maxlen=4, units=2, embedding_dim=2))
    seen = []
    predict_on_batch = model.predict_on_batch
    model.predict_on_batch = lambda batch: seen.append(batch.shape) or predict_on_batch(batch)
    outputs = predict_fixed_batches(model, tokens, batch_size=4)
    assert seen == [(4, 4), (4, 4)]
    assert outputs.shape == (5, 1)
    np.testing.assert_allclose(outputs, np.asarray(model(tokens)), rtol=1e-5)
    keras.backend.clear_session()
