"""The recurrent classifier: Embedding, then N recurrent layers, then Dense(1, sigmoid).

The model is built from the config alone, so the tutorial's four models are four configs:

| tutorial model             | config                              | parameters |
|----------------------------|-------------------------------------|-----------:|
| LSTM(8)                    | arch=lstm                           |      8,809 |
| LSTM(8, dropout=0.3)       | arch=lstm dropout=0.3               |      8,809 |
| 2 x LSTM(8, dropout=0.3)   | arch=lstm layers=2 dropout=0.3      |      9,353 |
| GRU(8)                     | arch=gru                            |      8,633 |
"""

from __future__ import annotations

import keras
from keras import layers

from rnn_tracking.config import TrainConfig

RECURRENT_LAYERS = {
    "simplernn": layers.SimpleRNN,
    "lstm": layers.LSTM,
    "gru": layers.GRU,
}


def build_recurrent_layer(config: TrainConfig, index: int) -> keras.layers.Layer:
    """Returns recurrent layer `index` (0-based) of the stack.

    Every layer but the last returns the whole sequence, so the next one has a sequence to
    read; the last returns only its final state for the classifier.
    """
    layer_class = RECURRENT_LAYERS[config.arch]
    is_last = index == config.layers - 1
    layer = layer_class(
        config.units,
        dropout=config.dropout,
        recurrent_dropout=config.recurrent_dropout,
        return_sequences=not is_last,
        name=f"{config.arch}_{index + 1}",
    )
    if config.bidirectional:
        layer = layers.Bidirectional(layer, name=f"bidirectional_{index + 1}")
    return layer


def build_model(config: TrainConfig) -> keras.Model:
    """Builds the uncompiled classifier for integer inputs of shape (batch, maxlen).

    The output has shape (batch, 1): the probability that a review is positive.
    """
    inputs = keras.Input(shape=(config.maxlen,), dtype="int32", name="tokens")
    hidden = layers.Embedding(config.num_words, config.embedding_dim, name="embedding")(inputs)
    for index in range(config.layers):
        hidden = build_recurrent_layer(config, index)(hidden)
    outputs = layers.Dense(1, activation="sigmoid", name="probability")(hidden)
    return keras.Model(inputs, outputs, name=f"{config.arch}_classifier")


def build_optimizer(config: TrainConfig) -> keras.optimizers.Optimizer:
    """Returns the configured optimizer at the configured learning rate."""
    optimizers = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
    }
    return optimizers[config.optimizer](learning_rate=config.learning_rate)
