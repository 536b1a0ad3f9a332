"""Writes the text model's files, and logs or saves them as an MLflow pyfunc model.

The model is a model from code (`MODEL_CODE`): MLflow runs that file to build the
`TextReviewModel` of `rnn_tracking.serving.text_model`, and the package's code travels with
the model, so no pickled object is stored.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import mlflow

import rnn_tracking
from rnn_tracking import runs
from rnn_tracking.config import TrainConfig
from rnn_tracking.encoding import IMDB_CLASSES
from rnn_tracking.serving.text_model import (
    ENCODING_ARTIFACT,
    EXAMPLE_REVIEWS,
    KERAS_ARTIFACT,
    TEXT_MODEL_NAME,
    make_encoding,
    write_encoding,
)

if TYPE_CHECKING:
    import keras


# Models from code: MLflow runs this file to build the model when logging and loading it,
# so no pickled object is stored with the model.
MODEL_CODE = """import mlflow
from rnn_tracking.serving.text_model import TextReviewModel

mlflow.models.set_model(TextReviewModel())
"""


def write_text_model_files(
    directory: Path,
    config: TrainConfig,
    vocabulary: Sequence[str],
    model: keras.Model,
    classes: Sequence[str] = IMDB_CLASSES,
) -> dict[str, Any]:
    """Writes the model's files into `directory`; returns the keyword arguments that log
    (or save) them as the text model with `mlflow.pyfunc.log_model` / `save_model`.

    The package directory goes in as `code_paths`, so the model loads wherever MLflow and
    the requirements are installed, with the encoder it was trained with.
    """
    keras_path = directory / "model.keras"
    encoding_path = directory / "encoding.json"
    code_path = directory / "text_model.py"
    model.save(keras_path)
    write_encoding(make_encoding(config, vocabulary, classes), encoding_path)
    code_path.write_text(MODEL_CODE, encoding="utf-8")
    return {
        "python_model": str(code_path),
        "artifacts": {KERAS_ARTIFACT: str(keras_path), ENCODING_ARTIFACT: str(encoding_path)},
        "code_paths": [os.path.dirname(rnn_tracking.__file__)],
        "input_example": list(EXAMPLE_REVIEWS),
        "pip_requirements": runs.list_model_requirements(runs.MODEL_PACKAGES),
    }


def log_text_model(
    config: TrainConfig,
    vocabulary: Sequence[str],
    model: keras.Model,
    classes: Sequence[str] = IMDB_CLASSES,
) -> mlflow.models.model.ModelInfo:
    """Logs `model` as the active run's text-in pyfunc model `text_model`; returns its info.

    `model` should hold the best weights: `train_model` restores them, so this is the
    best checkpoint's model, and the very model the run logs as its Keras `model`.
    """
    with tempfile.TemporaryDirectory() as scratch:
        arguments = write_text_model_files(Path(scratch), config, vocabulary, model, classes)
        with label_type_notice_hidden():
            return mlflow.models.Model.log(
                artifact_path=None,
                name=TEXT_MODEL_NAME,
                flavor=PYFUNC_FLAVOR,
                validate_serving_input=False,
                **arguments,
            )


def save_pyfunc_model(path: str, validate_serving_input: bool = True, **kwargs: Any) -> None:
    """Saves an MLflow pyfunc model; `validate_serving_input` (which `Model.log` hands on to
    the flavor) is dropped, as `mlflow.pyfunc.save_model` takes no such argument."""
    mlflow.pyfunc.save_model(path=path, **kwargs)


# `mlflow.pyfunc.log_model` with MLflow's check of the input example turned off: the check
# loads the logged model afresh and predicts the example, which on JAX compiles the Keras
# model once more, seconds per run. The tests load and score every logged text model.
PYFUNC_FLAVOR = SimpleNamespace(__name__="mlflow.pyfunc", save_model=save_pyfunc_model)


def save_text_model(
    path: str | Path,
    config: TrainConfig,
    vocabulary: Sequence[str],
    model: keras.Model,
    classes: Sequence[str] = IMDB_CLASSES,
) -> None:
    """Saves the text model into a new local directory, without any tracking store."""
    with tempfile.TemporaryDirectory() as scratch:
        arguments = write_text_model_files(Path(scratch), config, vocabulary, model, classes)
        with label_type_notice_hidden():
            mlflow.pyfunc.save_model(path=str(path), **arguments)


# MLflow's notices that it does not validate an Any-typed part of the signature.
TYPE_HINT_NOTICE = re.compile(r"[Uu]nion type hint|Any type hint is inferred as AnyType")


@contextmanager
def label_type_notice_hidden() -> Iterator[None]:
    """Hides MLflow's notices that the input items and the `label` field are of any type.

    The answer's `label` is an int for two classes and a name for more (`ReviewScore`), and
    MLflow infers such a union as its Any type, saying so at every log; the input is typed
    `list[Any]` on purpose (see `text_model.TextReviewModel`), which MLflow notes too.
    """
    type_hints_logger = logging.getLogger("mlflow.types.type_hints")
    level = type_hints_logger.level
    type_hints_logger.setLevel(logging.ERROR)
    try:
        # Recorded rather than filtered: MLflow's own "show once" filter, set inside
        # log_model, would win over a filter set here. Any other warning is shown after.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        type_hints_logger.setLevel(level)
    for warning in caught:
        if not TYPE_HINT_NOTICE.search(str(warning.message)):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
