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
from keras import layers

from rnn_tracking.config import TrainConfig, format_value

RECURRENT_LAYERS = {
    "simplernn": layers.SimpleRNN,
    "lstm": layers.LSTM,
    "gru": layers.GRU,
}
# Keras runs these on cuDNN when a GPU is visible and the layer keeps cuDNN's settings.
CUDNN_ARCHITECTURES = ("lstm", "gru")
# The value each setting must keep for cuDNN; any other value rules cuDNN out.
CUDNN_SETTINGS = {"recurrent_dropout": 0.0, "unroll": False}
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


def build_model(config: TrainConfig, num_classes: int = 2) -> keras.Model:
    """Builds the uncompiled classifier for integer inputs of shape (batch, maxlen).

    `num_classes` comes from the data (`Splits.num_classes`), not the config: the same
    config trains on any labels. With 2 the output has shape (batch, 1), the probability of
    class 1 (a positive review); with K >= 3, shape (batch, K), a softmax over the classes.
    Outputs are float32 under every dtype policy. Warns when a setting rules cuDNN out while
    a GPU is visible.
    """
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes: got {num_classes!r}; valid values are integers >= 2.")
    warn_if_cudnn_ruled_out(config)
    inputs = keras.Input(shape=(config.maxlen,), dtype="int32", name="tokens")
    hidden = layers.Embedding(
        config.num_words,
        config.embedding_dim,
        mask_zero=config.mask_zero,
        dtype=config.dtype_policy,
        name="embedding",
    )(inputs)
    if config.spatial_dropout:
        hidden = layers.SpatialDropout1D(
            config.spatial_dropout, dtype=config.dtype_policy, name="spatial_dropout"
        )(hidden)
    for index in range(config.layers):
        hidden = build_recurrent_layer(config, index)(hidden)
    hidden = pool_over_time(config, hidden)
    units, activation = (1, "sigmoid") if num_classes == 2 else (num_classes, "softmax")
    outputs = layers.Dense(units, activation=activation, dtype=OUTPUT_DTYPE, name="probability")(
        hidden
    )
    return keras.Model(inputs, outputs, name=f"{config.arch}_classifier")


def pool_over_time(config: TrainConfig, sequence: keras.KerasTensor) -> keras.KerasTensor:
    """Pools a (batch, steps, features) sequence to (batch, features) as `pooling` says.

    `last` passes the recurrent layer's final state through. `mean` averages the unmasked
    steps; `max` takes each feature's largest value over all steps (Keras's max pooling
    reads no mask); `max_mean` concatenates both, doubling the features.
    """
    if config.pooling == "last":
        return sequence
    pooled = []
    if config.pooling in ("max", "max_mean"):
        pooled.append(
            layers.GlobalMaxPooling1D(dtype=config.dtype_policy, name="max_pool")(sequence)
        )
    if config.pooling in ("mean", "max_mean"):
        pooled.append(
            layers.GlobalAveragePooling1D(dtype=config.dtype_policy, name="mean_pool")(sequence)
        )
    if len(pooled) == 1:
        return pooled[0]
    return layers.Concatenate(dtype=config.dtype_policy, name="max_mean_pool")(pooled)


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


def list_cudnn_blockers(config: TrainConfig) -> list[str]:
    """Returns the names of the settings that keep Keras from using cuDNN, if any.

    Keras runs LSTM and GRU layers on cuDNN only with recurrent_dropout=0 and unroll=false
    (and the default activations, which this model keeps). SimpleRNN has no cuDNN kernel.
    """
    if config.arch not in CUDNN_ARCHITECTURES:
        return []
    return [name for name in CUDNN_SETTINGS if getattr(config, name) != CUDNN_SETTINGS[name]]


def is_gpu_visible() -> bool:
    """Returns True when TensorFlow sees a GPU, the condition for Keras's cuDNN kernels."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def warn_if_cudnn_ruled_out(config: TrainConfig, gpu_visible: bool | None = None) -> None:
    """Warns, in one line, when a GPU is visible but a setting rules cuDNN out.

    Without cuDNN every time step is its own kernel launch, several times slower per epoch
    (bench/gpu_check.sh measures it). `gpu_visible` defaults to asking TensorFlow.
    """
    blockers = list_cudnn_blockers(config)
    if not blockers:
        return
    if gpu_visible is None:
        gpu_visible = is_gpu_visible()
    if gpu_visible:
        found = ", ".join(f"{name}={format_value(getattr(config, name))}" for name in blockers)
        wanted = ", ".join(f"{name}={format_value(CUDNN_SETTINGS[name])}" for name in blockers)
        warnings.warn(
            f"{found} rules out cuDNN for {config.arch} on the visible GPU, so training runs "
            f"several times slower; set {wanted} to use it.",
            stacklevel=2,
        )
