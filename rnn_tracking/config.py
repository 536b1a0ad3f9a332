"""The settings of one training run: the only home of defaults.

Every knob has one name end to end: the MLproject parameter, the CLI flag, the field
below, the Keras keyword it feeds, the MLflow param, the sweep key and the report
column. The defaults reproduce the Keras IMDB tutorial; each line says why.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

# The valid values of the fields and the check of a whole config live in `config_checks`;
# their names are importable from here.
from rnn_tracking.config_checks import (
    ARCHITECTURES,
    AUTO_CLASSES,
    BACKENDS,
    BUCKETINGS,
    DTYPE_POLICIES,
    LR_SCHEDULES,
    OPTIMIZERS,
    POOLINGS,
    validate_config,
)
from rnn_tracking.config_checks import SEQUENCE_ENDS as SEQUENCE_ENDS
from rnn_tracking.config_checks import parse_classes as parse_classes

DATA_ENV_VAR = "RNN_TRACKING_DATA"
KERAS_SOURCE = "keras"
# Sentinels rather than empty strings: `mlflow run` logs an empty default as the two
# characters '' and passes it on quoted, so an empty value cannot round-trip through it.
AUTO_DATA = "auto"
NO_SPLIT_COLUMN = "none"
NO_EMBEDDINGS = "none"


def _knob(default: Any, help: str, **cli: Any) -> Any:
    """Declares a field with its default and the reason shown by `--help`.

    `cli` holds how the command line spells the option when that is not a plain
    `--name VALUE` (see `rnn_tracking.options`): required, choices, repeatable, ...
    """
    return field(default=default, metadata={"help": help, **cli})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run computes.

    Instances are immutable and validated on construction, so a config that exists is a
    config that can run. Build one from strings (argv, MLflow params, sweep files) with
    `config_from_mapping`, which rejects unknown keys.
    """

    # Model: the tutorial's Embedding(500, 16) -> LSTM(8) -> Dense(1, sigmoid).
    arch: str = _knob(
        "lstm",
        f"Recurrent layer type, one of {', '.join(ARCHITECTURES)}; the tutorial's first model is an LSTM.",
    )
    units: int = _knob(8, "Units per recurrent layer; the tutorial uses 8.")
    layers: int = _knob(
        1,
        "Stacked recurrent layers; every layer but the last returns sequences. The tutorial stacks at most 2.",
    )
    dropout: float = _knob(
        0.0,
        "Input dropout of each recurrent layer, in [0, 1); the tutorial's second model uses 0.3.",
    )
    recurrent_dropout: float = _knob(
        0.0, "Dropout on the recurrent state, in [0, 1); 0 keeps the fast fused kernels."
    )
    bidirectional: bool = _knob(
        False, "Wrap each recurrent layer in Bidirectional; the tutorial does not."
    )
    embedding_dim: int = _knob(16, "Size of each word vector; the tutorial's Embedding(500, 16).")
    # The recipe: off by default, so the defaults stay the tutorial's model (README, Parameters).
    pooling: str = _knob(
        "last",
        f"How the last recurrent layer sums up a review, one of {', '.join(POOLINGS)}: 'last' "
        "is its final state (the tutorial); the others pool every step's output over time.",
    )
    mask_zero: bool = _knob(
        False,
        "Mask the padding (Keras Embedding mask_zero), so recurrent layers and mean pooling "
        "skip it; the tutorial reads the padding. Max pooling skips it too.",
    )
    spatial_dropout: float = _knob(
        0.0,
        "SpatialDropout1D after the embedding (drops whole word-vector channels), in [0, 1); "
        "the tutorial has none.",
    )
    embeddings: str = _knob(
        NO_EMBEDDINGS,
        "Word vectors that start the embedding: a word2vec (text or binary) or GloVe file, or "
        "runs:/RUN_ID/PATH (e.g. from `rnn-tracking embed`); 'none' starts from random rows, "
        "as the tutorial does.",
    )
    embeddings_trainable: bool = _knob(
        True,
        "Fine-tune pretrained vectors on the labels (in-domain ones gain); false freezes them.",
    )
    # Data: the tutorial's imdb.load_data(num_words=500) and pad_sequences(maxlen=100).
    data: str = _knob(
        AUTO_DATA,
        f"Data source: 'keras'; a folder of .txt reviews, one subfolder per class (with or without a train/test level; aclImdb is one) or its .tar.gz; or a .csv, .parquet or .jsonl file; 'auto' means ${DATA_ENV_VAR} if set, else 'keras'.",
    )
    num_words: int = _knob(
        500,
        "Vocabulary size, counting the 3 reserved indices as keras.datasets.imdb does; the tutorial keeps 500.",
    )
    maxlen: int = _knob(
        100, "Tokens kept per review (the last ones), padded in front; the tutorial uses 100."
    )
    val_split: float = _knob(
        0.2, "Fraction of the training split held out for validation; the tutorial holds out 20%."
    )
    test_split: float = _knob(
        0.5,
        "Test fraction held out of a file without split column, or of a folder without a "
        "train/test level; 0.5 mirrors aclImdb's 25k/25k.",
    )
    padding: str = _knob(
        "pre",
        "Where short reviews are padded (Keras pad_sequences padding), pre or post; the "
        "tutorial pads in front.",
    )
    truncating: str = _knob(
        "pre",
        "Which end of a long review is cut (Keras pad_sequences truncating): pre keeps the "
        "last maxlen tokens (the tutorial), post keeps the first.",
    )
    text_column: str = _knob(
        "review",
        "Column holding the review text (CSV, Parquet, JSONL); fits the common 50k-review IMDB CSV.",
    )
    label_column: str = _knob(
        "sentiment",
        "Column holding the label (CSV, Parquet, JSONL): any two or more values, strings or "
        "integers; fits the same CSV.",
    )
    split_column: str = _knob(
        NO_SPLIT_COLUMN,
        "Column saying train or test for each row; 'none' means hold out test_split instead.",
    )
    classes: str = _knob(
        AUTO_CLASSES,
        "The class names in model order, comma-separated (e.g. neg,pos), or a JSON list for "
        'names with commas (["good, really","bad"]): with two classes the second is the '
        "positive one. 'auto' sorts the labels found (numerically when all are integers); "
        "aclImdb gives neg,pos.",
    )
    max_reviews: int = _knob(
        0,
        "Cap on reviews read per split (stratified, seeded), for quick runs and tests; 0 reads all.",
    )
    # Training: the tutorial's RMSprop(1e-4), batch 64, up to 100 epochs, EarlyStopping(patience=3).
    optimizer: str = _knob(
        "rmsprop", f"Optimizer, one of {', '.join(OPTIMIZERS)}; the tutorial uses RMSprop."
    )
    learning_rate: float = _knob(1e-4, "Optimizer step size; the tutorial's RMSprop(1e-4).")
    clipnorm: float = _knob(
        0.0,
        "Clip each gradient to this norm (Keras optimizer clipnorm); 0 means no clipping, as "
        "in the tutorial. 1 is the usual choice for recurrent nets.",
    )
    weight_decay: float = _knob(
        0.0,
        "Decoupled weight decay (Keras optimizer weight_decay); 0 means none, as in the "
        "tutorial. With optimizer=adamw this is AdamW's decay.",
    )
    lr_schedule: str = _knob(
        "none",
        f"Learning-rate schedule, one of {', '.join(LR_SCHEDULES)}: 'plateau' halves the rate "
        "after an epoch without a better val_loss (ReduceLROnPlateau), 'cosine' decays it to "
        "0 over all epochs (CosineDecay); the tutorial keeps it constant.",
    )
    batch_size: int = _knob(64, "Reviews per gradient step; the tutorial uses 64.")
    epochs: int = _knob(
        100, "Upper bound on epochs; early stopping usually ends sooner. The tutorial allows 100."
    )
    patience: int = _knob(
        3,
        "Epochs without a better val_loss before stopping; the tutorial's EarlyStopping(patience=3).",
    )
    seed: int = _knob(
        42,
        "Seeds Python, NumPy and TensorFlow, and the validation split; the tutorial's random_state=42.",
    )
    bucketing: str = _knob(
        "none",
        f"Batching, one of {', '.join(BUCKETINGS)}: 'length' groups reviews of similar length "
        "and pads each batch only to its bucket's width (4 widths at most, maxlen the longest), "
        "so short reviews cost fewer steps; 'none' pads every batch to maxlen (the tutorial).",
    )
    # Speed: how Keras runs the same model. Measured side by side in docs/speed.md.
    jit_compile: bool = _knob(
        True,
        "Compile training steps with XLA (Keras jit_compile): about 4x faster epochs on CPU after a "
        "one-off compile of seconds. Same math; dropout masks come from XLA's own random stream. "
        "On a GPU Keras keeps cuDNN for LSTM/GRU instead. On jax, false runs op by op "
        "(hundreds of times slower).",
    )
    steps_per_execution: int = _knob(
        32,
        "Batches run per call into the compiled graph (Keras steps_per_execution); the same updates "
        "in the same order with fewer Python round trips. Per-batch callbacks see every Nth batch.",
    )
    unroll: bool = _knob(
        False,
        "Unroll the recurrent loop (Keras unroll): about 2x faster without XLA, but slow to "
        "compile with it, and it rules cuDNN out on a GPU.",
    )
    backend: str = _knob(
        "jax",
        f"Keras backend, one of {', '.join(BACKENDS)}: jax trains 1.3-3x faster per epoch than "
        "tensorflow on CPU and compiles 3x sooner (README, Backends); torch needs the extra "
        "'.[torch]'. Dropout draws other masks on each backend.",
    )
    dtype_policy: str = _knob(
        "float32",
        f"Keras dtype policy, one of {', '.join(DTYPE_POLICIES)}; the mixed ones compute in 16 bits "
        "and pay off only on a GPU. The output layer stays float32.",
    )

    def __post_init__(self) -> None:
        validate_config(self)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
# The fields that decide the train/validation/test arrays `load_splits` returns: the data
# a run saw. A sweep loads each distinct combination once; the baseline reads exactly them.
DATA_FIELDS = (
    "data",
    "num_words",
    "maxlen",
    "padding",
    "truncating",
    "val_split",
    "test_split",
    "text_column",
    "label_column",
    "split_column",
    "classes",
    "max_reviews",
    "seed",
)


def parse_bool(text: str) -> bool:
    """Reads true/false the way MLflow params and YAML users write them."""
    lowered = str(text).strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_value(name: str, value: Any) -> Any:
    """Converts one raw value (a string from argv, MLflow or YAML) to the field's type.

    Raises ValueError naming the parameter. Integers must be whole (`8`, `8.0`), so that
    `units=8.5` is an error rather than a silent truncation.
    """
    kind = FIELDS[name].type
    try:
        if kind == "bool":
            return value if isinstance(value, bool) else parse_bool(value)
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        expected = {"bool": "true or false", "int": "an integer", "float": "a number"}[kind]
        raise ValueError(f"{name}: got {value!r}; valid values are {expected}.") from None


def config_from_mapping(values: dict[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    """Builds a validated config from raw values, rejecting unknown keys.

    Values may be strings (as from argv or MLflow) or already typed (as from YAML).
    """
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(
            f"unknown parameter {unknown[0]!r}; valid parameters are {', '.join(FIELDS)}."
        )
    typed = {name: parse_value(name, value) for name, value in values.items()}
    return dataclasses.replace(base or TrainConfig(), **typed)


def resolve_data_source(config: TrainConfig) -> str:
    """Returns the data source to read: the field, else $RNN_TRACKING_DATA, else 'keras'."""
    if config.data not in ("", AUTO_DATA):
        return config.data
    return os.environ.get(DATA_ENV_VAR, "") or KERAS_SOURCE


def csv_split_column(config: TrainConfig) -> str | None:
    """Returns the CSV column that assigns rows to train/test, or None to hold out test_split."""
    return None if config.split_column in ("", NO_SPLIT_COLUMN) else config.split_column


def config_to_params(config: TrainConfig) -> dict[str, str]:
    """Renders every field as an MLflow param string, in one spelling per value."""
    return {name: format_value(getattr(config, name)) for name in FIELDS}


def format_value(value: Any) -> str:
    """Spells a value the one way this project logs it (`0.0001`, `true`, `8`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
