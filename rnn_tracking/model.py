"""The recurrent classifier: Embedding, then N recurrent layers, then the output layer.

Two classes keep the tutorial's Dense(1, sigmoid), the probability of class 1; three or
more get Dense(K, softmax), one probability per class.

The recipe knobs (all off by default) add SpatialDropout1D after the embedding, mask the
padding, and pool the last layer's outputs over time (max, mean, or both concatenated).

The model is built from the config alone, so the tutorial's four models are four configs:

| tutorial model             | config                              | parameters |
|----------------------------|-------------------------------------|-----------:|
| LSTM(8)                    | arch=lstm                           |      8,809 |
| LSTM(8, dropout=0.3)       | arch=lstm dropout=0.3               |      8,809 |
| 2 x LSTM(8, dropout=0.3)   | arch=lstm layers=2 dropout=0.3      |      9,353 |
| GRU(8)                     | arch=gru                            |      8,633 |
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
from keras import layers, ops

from rnn_tracking.config import TrainConfig, format_value

RECURRENT_LAYERS = {
    "simplernn": layers.SimpleRNN,
    "lstm": layers.LSTM,
    "gru": layers.GRU,
}
# The layers Keras runs on cuDNN when a GPU is visible and the layer keeps cuDNN's settings,
# per backend: JAX has a cuDNN kernel for LSTM only (jax.experimental.rnn), none for GRU.
CUDNN_ARCHITECTURES = {
    "tensorflow": ("lstm", "gru"),
    "torch": ("lstm", "gru"),
    "jax": ("lstm",),
}
# The value each setting must keep for cuDNN; any other value rules cuDNN out. On JAX a mask
# rules it out too (Keras falls back to its own loop); TensorFlow and PyTorch take a mask
# on cuDNN only for right-padded reviews (see check_cudnn_padding).
CUDNN_SETTINGS = {"recurrent_dropout": 0.0, "unroll": False}
JAX_CUDNN_SETTINGS = {**CUDNN_SETTINGS, "mask_zero": False}
# Added to the padded steps before max pooling: recurrent outputs lie in [-1, 1], so a
# padded step never wins, and the value stays finite in float16.
MASKED_STEP_PENALTY = -1e4
# The output layer computes in float32 whatever the policy, so the probabilities and the
# loss keep full precision under mixed precision (the Keras mixed-precision guide's advice).
OUTPUT_DTYPE = "float32"


def build_recurrent_layer(config: TrainConfig, index: int) -> keras.layers.Layer:
    """Returns recurrent layer `index` (0-based) of the stack.

    Every layer but the last returns the whole sequence, so the next one has a sequence to
    read; the last returns only its final state for the classifier, or with pooling its
    whole sequence too.
    """
    layer_class = RECURRENT_LAYERS[config.arch]
    # With pooling, the last layer hands every step's output to the pooling layer.
    returns_state_only = index == config.layers - 1 and config.pooling == "last"
    layer = layer_class(
        config.units,
        dropout=config.dropout,
        recurrent_dropout=config.recurrent_dropout,
        return_sequences=not returns_state_only,
        unroll=config.unroll,
        dtype=config.dtype_policy,
        name=f"{config.arch}_{index + 1}",
    )
    if config.bidirectional:
        layer = layers.Bidirectional(
            layer, dtype=config.dtype_policy, name=f"bidirectional_{index + 1}"
        )
    return layer


def build_model(
    config: TrainConfig, num_classes: int = 2, embedding_matrix: np.ndarray | None = None
) -> keras.Model:
    """Builds the uncompiled classifier for integer inputs of shape (batch, maxlen).

    `num_classes` comes from the data (`Splits.num_classes`), not the config: the same
    config trains on any labels. With 2 the output has shape (batch, 1), the probability of
    class 1 (a positive review); with K >= 3, shape (batch, K), a softmax over the classes.
    Outputs are float32 under every dtype policy. Warns when a setting rules cuDNN out while
    a GPU is visible.

    `embedding_matrix`, float32 (num_words, embedding_dim), gives the embedding's starting
    rows (pretrained vectors, `rnn_tracking.data.vectors`); it is set as the layer's weights,
    so the saved model holds them and needs no vector file. With it the embedding is
    trainable as `embeddings_trainable` says. With `bucketing=length` the input takes any
    number of steps (each bucket's width), not only maxlen.
    """
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes: got {num_classes!r}; valid values are integers >= 2.")
    warn_if_cudnn_ruled_out(config)
    check_cudnn_padding(config)
    steps = None if config.bucketing == "length" else config.maxlen
    inputs = keras.Input(shape=(steps,), dtype="int32", name="tokens")
    embedding = layers.Embedding(
        config.num_words,
        config.embedding_dim,
        mask_zero=config.mask_zero,
        trainable=config.embeddings_trainable if embedding_matrix is not None else True,
        dtype=config.dtype_policy,
        name="embedding",
    )
    hidden = embedding(inputs)
    if embedding_matrix is not None:
        expected = (config.num_words, config.embedding_dim)
        if tuple(embedding_matrix.shape) != expected:
            raise ValueError(
                f"embedding_matrix: got shape {tuple(embedding_matrix.shape)}; valid shapes "
                f"are (num_words, embedding_dim) = {expected}."
            )
        embedding.set_weights([np.asarray(embedding_matrix, dtype="float32")])
    if config.spatial_dropout:
        hidden = layers.SpatialDropout1D(
            config.spatial_dropout, dtype=config.dtype_policy, name="spatial_dropout"
        )(hidden)
    for index in range(config.layers):
        hidden = build_recurrent_layer(config, index)(hidden)
    hidden = pool_over_time(config, hidden, inputs)
    units, activation = (1, "sigmoid") if num_classes == 2 else (num_classes, "softmax")
    outputs = layers.Dense(units, activation=activation, dtype=OUTPUT_DTYPE, name="probability")(
        hidden
    )
    return keras.Model(inputs, outputs, name=f"{config.arch}_classifier")


def pool_over_time(
    config: TrainConfig, sequence: keras.KerasTensor, tokens: keras.KerasTensor | None = None
) -> keras.KerasTensor:
    """Pools a (batch, steps, features) sequence to (batch, features) as `pooling` says.

    `last` passes the recurrent layer's final state through. `mean` averages the unmasked
    steps; `max` takes each feature's largest value over the steps, the unmasked ones only
    with `mask_zero` (see `mask_padded_steps`); `max_mean` concatenates both, doubling the
    features. `tokens` is the model's (batch, steps) input, which says where the padding is.
    """
    if config.pooling == "last":
        return sequence
    pooled = []
    if config.pooling in ("max", "max_mean"):
        candidates = mask_padded_steps(sequence, tokens) if config.mask_zero else sequence
        pooled.append(
            layers.GlobalMaxPooling1D(dtype=config.dtype_policy, name="max_pool")(candidates)
        )
    if config.pooling in ("mean", "max_mean"):
        pooled.append(
            layers.GlobalAveragePooling1D(dtype=config.dtype_policy, name="mean_pool")(sequence)
        )
    if len(pooled) == 1:
        return pooled[0]
    return layers.Concatenate(dtype=config.dtype_policy, name="max_mean_pool")(pooled)


def mask_padded_steps(sequence: keras.KerasTensor, tokens: keras.KerasTensor) -> keras.KerasTensor:
    """Returns the sequence with MASKED_STEP_PENALTY added at every padded step (token 0).

    Keras's GlobalMaxPooling1D reads no mask, and a masked recurrent layer outputs zeros at
    padded steps, which won the max of any feature whose real outputs were all negative. The
    penalty is built from keras.ops on the graph's tensors, which the `.keras` format saves
    as built-in operations: the model loads with safe_mode and no package code.
    """
    padded = ops.cast(ops.equal(tokens, 0), sequence.dtype)
    return sequence + ops.expand_dims(padded, -1) * MASKED_STEP_PENALTY


OPTIMIZERS = {
    "rmsprop": keras.optimizers.RMSprop,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "sgd": keras.optimizers.SGD,
}


def build_optimizer(
    config: TrainConfig, steps_per_epoch: int | None = None
) -> keras.optimizers.Optimizer:
    """Returns the configured optimizer, with its clipping, weight decay and rate schedule.

    `lr_schedule=cosine` decays the rate to 0 over `epochs * steps_per_epoch` steps, so it
    needs `steps_per_epoch`. Under `mixed_float16` the optimizer is wrapped in Keras's
    LossScaleOptimizer, so that small gradients do not underflow in float16 (bfloat16 has
    float32's range and needs none).
    """
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = config.learning_rate
    if config.lr_schedule == "cosine":
        if not steps_per_epoch:
            raise ValueError("lr_schedule: cosine needs the number of steps per epoch")
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.epochs * steps_per_epoch
        )
    # None keeps Keras's own default: no clipping, and no decay except AdamW's built-in one,
    # which AdamW needs as a number (it refuses None).
    decay = config.weight_decay if config.weight_decay or config.optimizer == "adamw" else None
    optimizer = OPTIMIZERS[config.optimizer](
        learning_rate=learning_rate, clipnorm=config.clipnorm or None, weight_decay=decay
    )
    if config.dtype_policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def list_cudnn_blockers(config: TrainConfig, backend: str | None = None) -> list[str]:
    """Returns the names of the settings that keep Keras from using cuDNN, if any.

    On every backend cuDNN needs recurrent_dropout=0 and unroll=false (and the default
    activations, which this model keeps); on JAX also mask_zero=false, and only LSTM has a
    cuDNN kernel there. SimpleRNN has none anywhere. `backend` defaults to Keras's.
    """
    backend = backend or keras.backend.backend()
    if config.arch not in CUDNN_ARCHITECTURES.get(backend, ()):
        return []
    settings = JAX_CUDNN_SETTINGS if backend == "jax" else CUDNN_SETTINGS
    return [name for name in settings if getattr(config, name) != settings[name]]


def is_gpu_visible(backend: str | None = None) -> bool:
    """Returns True when the backend sees a GPU, the condition for Keras's cuDNN kernels."""
    backend = backend or keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if backend == "torch":
        import torch

        return bool(torch.cuda.is_available())
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def check_cudnn_padding(
    config: TrainConfig, gpu_visible: bool | None = None, backend: str | None = None
) -> None:
    """Raises ValueError, in one line, for a mask on front-padded reviews where cuDNN runs.

    TensorFlow's and PyTorch's cuDNN kernels take a mask only for right-padded sequences;
    Keras refuses any other batch in the middle of training. With a mask, the side of the
    padding does not change the math (masked steps are skipped, and `pooling=last` still
    reads the last real word), so `padding=post` is the fix.
    """
    backend = backend or keras.backend.backend()
    if not config.mask_zero or config.padding != "pre" or backend == "jax":
        return
    if list_cudnn_blockers(config, backend) or config.arch not in CUDNN_ARCHITECTURES[backend]:
        return
    if gpu_visible is None:
        gpu_visible = is_gpu_visible(backend)
    if gpu_visible:
        raise ValueError(
            f"padding: got 'pre' with mask_zero=true, which cuDNN refuses on the visible GPU "
            f"({backend}); valid values with mask_zero=true there are post (same math: the "
            "mask skips the padding wherever it is)."
        )


def warn_if_cudnn_ruled_out(
    config: TrainConfig, gpu_visible: bool | None = None, backend: str | None = None
) -> None:
    """Warns, in one line, when a GPU is visible but a setting rules cuDNN out.

    Without cuDNN every time step is its own kernel launch, several times slower per epoch
    (bench/gpu_check.sh measures it). `gpu_visible` defaults to asking the backend.
    """
    backend = backend or keras.backend.backend()
    blockers = list_cudnn_blockers(config, backend)
    if not blockers:
        return
    if gpu_visible is None:
        gpu_visible = is_gpu_visible(backend)
    if gpu_visible:
        settings = JAX_CUDNN_SETTINGS if backend == "jax" else CUDNN_SETTINGS
        found = ", ".join(f"{name}={format_value(getattr(config, name))}" for name in blockers)
        wanted = ", ".join(f"{name}={format_value(settings[name])}" for name in blockers)
        warnings.warn(
            f"{found} rules out cuDNN for {config.arch} on the visible GPU ({backend}), so "
            f"training runs several times slower; set {wanted} to use it.",
            stacklevel=2,
        )
