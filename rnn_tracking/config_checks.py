"""The checks of a training config: the valid values of its fields, and `validate_config`.

`TrainConfig` (in `rnn_tracking.config`, the home of the defaults) runs `validate_config` on
construction, so a config that exists is a config that can run. Everything here is
re-exported by `rnn_tracking.config`. It imports nothing of the package (a test checks it),
so it comes with `config` wherever that goes, the served text model included.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rnn_tracking.config import TrainConfig

ARCHITECTURES = ("simplernn", "lstm", "gru")
OPTIMIZERS = ("rmsprop", "adam", "adamw", "sgd")
POOLINGS = ("last", "max", "mean", "max_mean")
SEQUENCE_ENDS = ("pre", "post")
LR_SCHEDULES = ("none", "plateau", "cosine")
DTYPE_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
# The Keras backends (rnn_tracking.backend owns choosing one); jax measured fastest on CPU.
BACKENDS = ("jax", "tensorflow", "torch")
BUCKETINGS = ("none", "length")
# A sentinel rather than an empty string: see the sentinels in `rnn_tracking.config`.
AUTO_CLASSES = "auto"


def _fail(name: str, value: Any, valid: str) -> None:
    raise ValueError(f"{name}: got {value!r}; valid values are {valid}.")


def validate_config(config: TrainConfig) -> None:
    """Raises ValueError naming the first bad field and its valid values."""
    for name, valid in (
        ("arch", ARCHITECTURES),
        ("optimizer", OPTIMIZERS),
        ("dtype_policy", DTYPE_POLICIES),
        ("bucketing", BUCKETINGS),
        ("backend", BACKENDS),
        ("pooling", POOLINGS),
        ("padding", SEQUENCE_ENDS),
        ("truncating", SEQUENCE_ENDS),
        ("lr_schedule", LR_SCHEDULES),
    ):
        if getattr(config, name) not in valid:
            _fail(name, getattr(config, name), "one of " + ", ".join(valid))
    for name in (
        "units",
        "layers",
        "embedding_dim",
        "num_words",
        "maxlen",
        "batch_size",
        "epochs",
        "steps_per_execution",
    ):
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            _fail(name, value, "integers >= 1")
    if config.num_words < 4:
        _fail("num_words", config.num_words, "integers >= 4 (indices 0-2 are reserved)")
    for name in ("patience", "max_reviews"):
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            _fail(name, value, "integers >= 0")
    seed = config.seed
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        _fail("seed", seed, "integers in [0, 2**32)")
    for name in ("dropout", "recurrent_dropout", "spatial_dropout"):
        value = getattr(config, name)
        if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
            _fail(name, value, "numbers in [0, 1)")
    for name in ("val_split", "test_split"):
        value = getattr(config, name)
        if not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
            _fail(name, value, "numbers in (0, 1)")
    rate = config.learning_rate
    if not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        _fail("learning_rate", rate, "finite numbers > 0")
    for name in ("clipnorm", "weight_decay"):
        value = getattr(config, name)
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            _fail(name, value, "finite numbers >= 0 (0 turns it off)")
    for name in ("bidirectional", "mask_zero", "embeddings_trainable", "jit_compile", "unroll"):
        if not isinstance(getattr(config, name), bool):
            _fail(name, getattr(config, name), "true or false")
    for name in ("data", "embeddings", "text_column", "label_column", "split_column", "classes"):
        if not isinstance(getattr(config, name), str):
            _fail(name, getattr(config, name), "strings")
    if not config.embeddings.strip():
        _fail("embeddings", config.embeddings, "'none', a vector file or runs:/RUN_ID/PATH")
    names = parse_classes(config)
    if names is not None:
        if len(names) < 2 or not all(names):
            _fail("classes", config.classes, "'auto' or two or more class names, comma-separated")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            _fail(
                "classes", config.classes, f"class names given once each ({repeated[0]!r} repeats)"
            )


def parse_classes(config: TrainConfig) -> tuple[str, ...] | None:
    """Returns the class order the user gave, or None for auto.

    `neg,pos` -> ('neg', 'pos'); a JSON list names classes that hold commas:
    `["good, really", "bad"]` -> ('good, really', 'bad').
    """
    text = config.classes.strip()
    if text in ("", AUTO_CLASSES):
        return None
    if not text.startswith("["):
        return tuple(name.strip() for name in text.split(","))
    import json

    try:
        names = json.loads(text)
    except json.JSONDecodeError as error:
        names = error
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        _fail("classes", config.classes, "comma-separated names or a JSON list of strings")
    return tuple(name.strip() for name in names)
