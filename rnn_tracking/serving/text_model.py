"""The text-in model: raw review strings in, the class and its probabilities out.

Every training run logs, beside its Keras model, an MLflow pyfunc model named `text_model`
that answers raw review text. Its artifacts are the best weights as a `.keras` file and a
JSON of the training encoding (vocabulary, `num_words`, `maxlen`, `padding`, `truncating`,
the reserved indices and offset, the class names in model order, and the training config).
It encodes with `rnn_tracking.encoding.encode_texts`, the very
function training used, and the package's code travels with the model (`code_paths`), so
the text a server receives is turned into the numbers the model was trained on. On loading,
the model re-encodes two reference reviews and refuses to load if the numbers differ from
those recorded at training time: an encoding that drifted fails loudly, never silently.

Input: a list of review strings (the signature comes from the type hints of `predict`; a
one-column DataFrame is accepted too). Output: one `ReviewScore` per review, in order.
With two classes (the tutorial), as ever: `probability` of the second class (a positive
review), and `label`, 1 when probability >= 0.5 and 0 otherwise; the class names are in the
encoding (`neg`, `pos` for IMDB). With three classes or more: `label`, the most probable
class's name, and `probabilities`, each class's probability by name. The scoring server
takes `{"inputs": ["review", ...]}` and answers `{"predictions": [{"probability": 0.93,
"label": 1}, ...]}`, or `{"predictions": [{"label": "spam", "probabilities": {"ham": 0.1,
"spam": 0.7, "promo": 0.2}}, ...]}`.

What happens to bad input, in process and in MLflow's scoring server (which answers any of
these errors with HTTP 400 and the message, and goes on serving):
- a review that is not a string (a number, null, a list) is refused, naming its position
  and quoting a short prefix (the input is typed `list[Any]` because MLflow's own check of
  `list[str]` quotes the whole bad element: a 5 MB item made a 5 MB error body);
- a review without any word (empty, blank or only punctuation) is refused: the model would
  see nothing but the start mark, and a made-up probability is worse than an error;
- a review longer than MAX_REVIEW_CHARS characters is refused; any shorter review is scored,
  and, as in training, only its last `maxlen` tokens count (its first ones with
  `truncating: post`);
- an empty list gives an empty list.

Keras models are loaded with `safe_mode=True`, so a model file cannot run arbitrary code.

The input checks live in `review_checks` (their names are importable from here too).
This module ships inside every logged model and runs in the scoring server, so it imports
only `rnn_tracking.encoding`, `rnn_tracking.config`, `rnn_tracking.inference` (numpy only)
and the serving rooms `error_bodies` and `review_checks` of this package (a test checks it).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import numpy as np
import pandas as pd
import pydantic
from mlflow.exceptions import MlflowException

from rnn_tracking.config import TrainConfig, resolve_data_source
from rnn_tracking.encoding import (
    IMDB_CLASSES,
    INDEX_FROM,
    OOV_INDEX,
    PAD_INDEX,
    START_INDEX,
    encode_texts,
)
from rnn_tracking.inference import predict_fixed_batches
from rnn_tracking.serving.error_bodies import bound_scoring_server_errors
from rnn_tracking.serving.review_checks import MAX_REVIEW_CHARS as MAX_REVIEW_CHARS
from rnn_tracking.serving.review_checks import QUOTED_CHARS as QUOTED_CHARS
from rnn_tracking.serving.review_checks import ReviewRefused, check_reviews
from rnn_tracking.serving.review_checks import quote_review as quote_review

if TYPE_CHECKING:
    import keras

TEXT_MODEL_NAME = "text_model"
KERAS_ARTIFACT = "keras_model"
ENCODING_ARTIFACT = "encoding"
CHAMPION_ALIAS = "champion"
# A review is scored as positive (label 1) when its probability reaches this threshold.
THRESHOLD = 0.5
# Bumped whenever the layout of the encoding JSON changes.
ENCODING_FORMAT = 1
# Two short reviews: the model's input example, and the reference texts whose encoding is
# recorded at training time and checked again at every load.
EXAMPLE_REVIEWS = (
    "A wonderful film: the acting is superb and the story moved me to tears.",
    "Dull, predictable and far too long. The worst movie I have seen this year.",
)


@dataclass(frozen=True)
class Encoding:
    """Everything that turns review text into the model's input, as recorded at training."""

    vocabulary: tuple[str, ...]
    num_words: int
    maxlen: int
    config: dict[str, Any]
    check_texts: tuple[str, ...]
    check_encoded: tuple[tuple[int, ...], ...]
    padding: str = "pre"
    truncating: str = "pre"
    # The class names in model order; models logged before classes were recorded are IMDB's.
    classes: tuple[str, ...] = IMDB_CLASSES

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Encodes reviews as training did: int32 of shape (len(texts), maxlen)."""
        return encode_texts(
            texts,
            self.vocabulary,
            self.num_words,
            self.maxlen,
            padding=self.padding,
            truncating=self.truncating,
        )


def make_encoding(
    config: TrainConfig, vocabulary: Sequence[str], classes: Sequence[str] = IMDB_CLASSES
) -> Encoding:
    """Records the encoding of a training, with the reference reviews encoded now."""
    resolved = dataclasses.asdict(config) | {"data": resolve_data_source(config)}
    encoding = Encoding(
        vocabulary=tuple(vocabulary),
        num_words=config.num_words,
        maxlen=config.maxlen,
        config=resolved,
        check_texts=EXAMPLE_REVIEWS,
        check_encoded=(),
        padding=config.padding,
        truncating=config.truncating,
        classes=tuple(classes),
    )
    encoded = encoding.encode(EXAMPLE_REVIEWS)
    return dataclasses.replace(encoding, check_encoded=tuple(map(tuple, encoded.tolist())))


def write_encoding(encoding: Encoding, path: Path) -> None:
    """Writes the encoding JSON, with the reserved indices and offset spelled out."""
    document = {
        "format": ENCODING_FORMAT,
        "vocabulary": list(encoding.vocabulary),
        "num_words": encoding.num_words,
        "maxlen": encoding.maxlen,
        "pad_index": PAD_INDEX,
        "start_index": START_INDEX,
        "oov_index": OOV_INDEX,
        "index_from": INDEX_FROM,
        "padding": encoding.padding,
        "truncating": encoding.truncating,
        "classes": list(encoding.classes),
        "config": encoding.config,
        "check_texts": list(encoding.check_texts),
        "check_encoded": [list(row) for row in encoding.check_encoded],
    }
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def read_encoding(path: str | Path) -> Encoding:
    """Reads an encoding JSON and checks it against the encoder this process runs.

    Raises MlflowException if the recorded offsets or the reference reviews' encoding differ
    from what `rnn_tracking.encoding` computes now, so that drift stops the model from loading.
    """
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    expected = {
        "format": ENCODING_FORMAT,
        "pad_index": PAD_INDEX,
        "start_index": START_INDEX,
        "oov_index": OOV_INDEX,
        "index_from": INDEX_FROM,
    }
    for key, value in expected.items():
        if document.get(key) != value:
            raise MlflowException(
                f"encoding: the model records {key}={document.get(key)!r} but this "
                f"rnn_tracking encodes with {key}={value!r}; load it with the rnn_tracking "
                "version it was trained with."
            )
    encoding = Encoding(
        vocabulary=tuple(document["vocabulary"]),
        num_words=int(document["num_words"]),
        maxlen=int(document["maxlen"]),
        config=dict(document["config"]),
        check_texts=tuple(document["check_texts"]),
        check_encoded=tuple(tuple(row) for row in document["check_encoded"]),
        # Models saved before these two settings existed padded and cut in front.
        padding=str(document.get("padding", "pre")),
        truncating=str(document.get("truncating", "pre")),
        classes=tuple(document.get("classes", IMDB_CLASSES)),
    )
    now = encoding.encode(encoding.check_texts).tolist()
    if [list(row) for row in encoding.check_encoded] != now:
        raise MlflowException(
            "encoding: this rnn_tracking encodes the model's reference reviews differently "
            "from the training run; load it with the rnn_tracking version it was trained with."
        )
    return encoding


def load_keras_model(path: str | Path) -> keras.Model:
    """Loads a `.keras` file with safe_mode on, so that no arbitrary code can run.

    Keras is imported here, not at the top, so that `promote` never pays for TensorFlow.
    """
    import keras

    return keras.saving.load_model(path, compile=False, safe_mode=True)


class ReviewScore(pydantic.BaseModel):
    """The model's answer for one review (see the module docstring).

    Two classes: `probability` of the second class and `label` 1 or 0. Three or more:
    `label`, the most probable class's name, and `probabilities` by class name. Fields that
    do not apply are left out of the answer, not sent as null.
    """

    label: int | str
    probability: float | None = None
    probabilities: dict[str, float] | None = None

    @pydantic.model_serializer(mode="wrap")
    def leave_out_absent_fields(self, handler: Any) -> dict[str, Any]:
        return {name: value for name, value in handler(self).items() if value is not None}


def score_classes(model: keras.Model, encoding: Encoding, reviews: Sequence[str]) -> np.ndarray:
    """Returns the model's outputs, float64: shape (n, 1) for two classes, else (n, K)."""
    width = 1 if len(encoding.classes) == 2 else len(encoding.classes)
    if not reviews:
        return np.empty((0, width), dtype=np.float64)
    # Fixed-size batches: one compiled shape whatever the request size (rnn_tracking.inference).
    return predict_fixed_batches(model, encoding.encode(reviews)).reshape(len(reviews), width)


def make_scores(classes: Sequence[str], outputs: np.ndarray) -> list[ReviewScore]:
    """Turns the model's outputs into one ReviewScore per review (see ReviewScore)."""
    if len(classes) == 2:
        return [ReviewScore(probability=float(p), label=int(p >= THRESHOLD)) for p in outputs[:, 0]]
    return [
        ReviewScore(
            label=classes[int(row.argmax())],
            probabilities={name: float(p) for name, p in zip(classes, row, strict=True)},
        )
        for row in outputs
    ]


# MLflow reads `predict`'s type hints when the class is defined and warns, at every import,
# that it does not validate `list[Any]` items; that is the point (see the class docstring).
with warnings.catch_warnings(record=True):

    class TextReviewModel(mlflow.pyfunc.PythonModel):
        """The pyfunc model: raw reviews in, one ReviewScore out per review (see the module doc).

        The type hints are the model's signature: a list in, one score per item out. `predict`
        checks each item itself (`check_reviews`), in process and in the scoring server alike,
        so that an error quotes a bad item shortly instead of whole.
        """

        def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
            bound_scoring_server_errors()
            self.encoding = read_encoding(context.artifacts[ENCODING_ARTIFACT])
            self.model = load_keras_model(context.artifacts[KERAS_ARTIFACT])
            width = self.model.input_shape[-1]
            if width != self.encoding.maxlen:
                raise MlflowException(
                    f"encoding: the Keras model reads {width} tokens but the encoding pads to "
                    f"maxlen={self.encoding.maxlen}; the model's artifacts do not belong together."
                )
            classes = len(self.encoding.classes)
            outputs = self.model.output_shape[-1]
            if outputs != (1 if classes == 2 else classes):
                raise MlflowException(
                    f"encoding: the Keras model has {outputs} outputs but the encoding names "
                    f"{classes} classes; the model's artifacts do not belong together."
                )

        def predict(self, context, model_input: list[Any], params=None) -> list[ReviewScore]:
            try:
                reviews = check_reviews(model_input)
            except ValueError as error:
                raise ReviewRefused(str(error)) from None
            outputs = score_classes(self.model, self.encoding, reviews)
            return make_scores(self.encoding.classes, outputs)


def load_text_model(model_uri: str) -> mlflow.pyfunc.PyFuncModel:
    """Loads a text model by URI (`runs:/ID/text_model`, `models:/NAME@champion`, a path).

    Raises ValueError naming `model_uri` when it does not resolve to a text model.
    """
    try:
        loaded = mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"model_uri: cannot load {model_uri!r} ({message}); valid values are the URI of "
            f"a logged {TEXT_MODEL_NAME}, e.g. runs:/RUN_ID/{TEXT_MODEL_NAME} or "
            f"models:/NAME@{CHAMPION_ALIAS}."
        ) from None
    if not isinstance(unwrap_text_model(loaded), TextReviewModel):
        raise ValueError(
            f"model_uri: {model_uri!r} is not a text model; valid values are the URI of a "
            f"logged {TEXT_MODEL_NAME}, e.g. runs:/RUN_ID/{TEXT_MODEL_NAME} or "
            f"models:/NAME@{CHAMPION_ALIAS}."
        )
    return loaded


def unwrap_text_model(loaded: mlflow.pyfunc.PyFuncModel) -> Any:
    """Returns the PythonModel inside a pyfunc model, or None for other kinds of model."""
    try:
        return loaded.unwrap_python_model()
    except MlflowException:
        return None


def predict_frame(loaded: mlflow.pyfunc.PyFuncModel, reviews: Sequence[str]) -> pd.DataFrame:
    """Scores reviews with a loaded text model, one row per review.

    Two classes: `probability` (float64, of the second class), `label` (int64 0/1) and
    `class_name`. Three or more: `label` (the class name), `probability` (of that class)
    and one `probability_<class>` column per class, in class order.
    """
    scores = loaded.predict(list(reviews))
    classes = unwrap_text_model(loaded).encoding.classes
    if len(classes) == 2:
        labels = np.asarray([score.label for score in scores], dtype=np.int64)
        return pd.DataFrame(
            {
                "probability": np.asarray(
                    [score.probability for score in scores], dtype=np.float64
                ),
                "label": labels,
                "class_name": np.asarray(classes, dtype=object)[labels],
            }
        )
    frame = pd.DataFrame(
        {
            "label": [score.label for score in scores],
            "probability": [score.probabilities[score.label] for score in scores],
        }
    )
    for name in classes:
        frame[f"probability_{name}"] = [score.probabilities[name] for score in scores]
    return frame


def predict_reviews(model_uri: str, reviews: Sequence[Any]) -> pd.DataFrame:
    """Scores reviews with the text model at `model_uri`: `probability` and `label` per review.

    Raises ValueError for a bad URI or a bad review (see `check_reviews`), before any work.
    """
    reviews = check_reviews(reviews)
    return predict_frame(load_text_model(model_uri), reviews)
