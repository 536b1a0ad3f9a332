"""The text-in model: raw review strings in, probability and label out; promotion; evaluation.

Every training run logs, beside its Keras model, an MLflow pyfunc model named `text_model`
that answers raw review text. Its artifacts are the best weights as a `.keras` file and a
JSON of the training encoding (vocabulary, `num_words`, `maxlen`, the reserved indices and
offset, and the training config). It encodes with `rnn_tracking.data.encode_texts`, the very
function training used, and the package's code travels with the model (`code_paths`), so
the text a server receives is turned into the numbers the model was trained on. On loading,
the model re-encodes two reference reviews and refuses to load if the numbers differ from
those recorded at training time: an encoding that drifted fails loudly, never silently.

Input: a list of review strings (the signature comes from the type hints of `predict`; a
one-column DataFrame is accepted too). Output: one `ReviewScore` per review, in order:
`probability` that the review is positive, and `label`, 1 (positive) when probability >= 0.5
and 0 (negative) otherwise. The scoring server takes `{"inputs": ["review", ...]}` and
answers `{"predictions": [{"probability": 0.93, "label": 1}, ...]}`.

What happens to bad input, in process and in MLflow's scoring server (which answers any of
these errors with HTTP 400 and the message, and goes on serving):
- a review that is not a string (a number, null, a list): MLflow's type-hint check refuses
  the request, naming the bad elements;
- a review without any word (empty, blank or only punctuation) is refused: the model would
  see nothing but the start mark, and a made-up probability is worse than an error;
- a review longer than MAX_REVIEW_CHARS characters is refused; any shorter review is scored,
  and, as in training, only its last `maxlen` tokens count;
- an empty list gives an empty list.

Keras models are loaded with `safe_mode=True`, so a model file cannot run arbitrary code.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import numpy as np
import pandas as pd
import pydantic
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

import rnn_tracking
from rnn_tracking import data
from rnn_tracking.config import FIELDS, TrainConfig, config_from_mapping, resolve_data_source

if TYPE_CHECKING:
    import keras

TEXT_MODEL_NAME = "text_model"
TEXT_COLUMN = "text"
KERAS_ARTIFACT = "keras_model"
ENCODING_ARTIFACT = "encoding"
CHAMPION_ALIAS = "champion"
# A review is scored as positive (label 1) when its probability reaches this threshold.
THRESHOLD = 0.5
# The longest review of aclImdb has about 13,700 characters; 100,000 leaves room for any
# real review while keeping one request from tying up a server worker.
MAX_REVIEW_CHARS = 100_000
# Bumped whenever the layout of the encoding JSON changes.
ENCODING_FORMAT = 1
# Two short reviews: the model's input example, and the reference texts whose encoding is
# recorded at training time and checked again at every load.
EXAMPLE_REVIEWS = (
    "A wonderful film: the acting is superb and the story moved me to tears.",
    "Dull, predictable and far too long. The worst movie I have seen this year.",
)
# Reviews are put in length buckets by their number of tokens (words, as `data.tokenize`
# counts them), with fixed bounds so that runs with different `maxlen` stay comparable:
# short <= 100 tokens (the whole review fits the tutorial's maxlen=100), medium 101-300,
# long > 300 (the tutorial's model sees at most a third of it). Of aclImdb's 25,000 test
# reviews (median 172 tokens), 12.7% are short, 65.7% medium and 21.6% long.
LENGTH_BUCKETS = (("short", 0, 100), ("medium", 101, 300), ("long", 301, math.inf))
DEFAULT_PROMOTION_METRIC = "best_val_accuracy"
VALIDATION_METRIC_PREFIXES = ("best_val_", "val_")
DEFAULT_WRONG_REVIEWS = 20
WRONG_TABLE_FILE = "confidently_wrong_reviews.json"


# --- Input checks and scoring ---------------------------------------------------------------


def check_reviews(reviews: Sequence[Any]) -> list[str]:
    """Returns the reviews if each is a string with a word and at most MAX_REVIEW_CHARS.

    Raises ValueError naming the first bad review by its 0-based position.
    """
    for position, review in enumerate(reviews):
        if not isinstance(review, str):
            shown = "None" if review is None else f"{type(review).__name__} {review!r}"[:80]
            raise ValueError(
                f"review {position}: got {shown}; valid values are strings of review text."
            )
        if len(review) > MAX_REVIEW_CHARS:
            raise ValueError(
                f"review {position}: got {len(review):,} characters; valid values are reviews "
                f"of at most {MAX_REVIEW_CHARS:,} characters."
            )
        if not data.tokenize(review):
            raise ValueError(
                f"review {position}: got {review[:40]!r}, which has no words; valid values are "
                "texts with at least one word."
            )
    return list(reviews)


@dataclass(frozen=True)
class Encoding:
    """Everything that turns review text into the model's input, as recorded at training."""

    vocabulary: tuple[str, ...]
    num_words: int
    maxlen: int
    config: dict[str, Any]
    check_texts: tuple[str, ...]
    check_encoded: tuple[tuple[int, ...], ...]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Encodes reviews as training did: int32 of shape (len(texts), maxlen)."""
        return data.encode_texts(texts, self.vocabulary, self.num_words, self.maxlen)


def make_encoding(config: TrainConfig, vocabulary: Sequence[str]) -> Encoding:
    """Records the encoding of a training, with the reference reviews encoded now."""
    resolved = dataclasses.asdict(config) | {"data": resolve_data_source(config)}
    encoding = Encoding(
        vocabulary=tuple(vocabulary),
        num_words=config.num_words,
        maxlen=config.maxlen,
        config=resolved,
        check_texts=EXAMPLE_REVIEWS,
        check_encoded=(),
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
        "pad_index": data.PAD_INDEX,
        "start_index": data.START_INDEX,
        "oov_index": data.OOV_INDEX,
        "index_from": data.INDEX_FROM,
        "padding": "pre",
        "truncating": "pre",
        "config": encoding.config,
        "check_texts": list(encoding.check_texts),
        "check_encoded": [list(row) for row in encoding.check_encoded],
    }
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def read_encoding(path: str | Path) -> Encoding:
    """Reads an encoding JSON and checks it against the encoder this process runs.

    Raises MlflowException if the recorded offsets or the reference reviews' encoding differ
    from what `rnn_tracking.data` computes now, so that drift stops the model from loading.
    """
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    expected = {
        "format": ENCODING_FORMAT,
        "pad_index": data.PAD_INDEX,
        "start_index": data.START_INDEX,
        "oov_index": data.OOV_INDEX,
        "index_from": data.INDEX_FROM,
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
    """The model's answer for one review: the probability that it is positive, and the label."""

    probability: float
    label: int


def score_reviews(model: keras.Model, encoding: Encoding, reviews: Sequence[str]) -> np.ndarray:
    """Returns the probability that each review is positive: float64 of shape (len(reviews),)."""
    if not reviews:
        return np.empty(0, dtype=np.float64)
    probabilities = model.predict(encoding.encode(reviews), batch_size=256, verbose=0)
    return np.asarray(probabilities, dtype=np.float64).reshape(-1)


class TextReviewModel(mlflow.pyfunc.PythonModel):
    """The pyfunc model: raw reviews in, one ReviewScore out per review (see the module doc).

    The type hints are the model's signature: MLflow checks that the input is a list of
    strings before `predict` runs, in process and in the scoring server alike.
    """

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.encoding = read_encoding(context.artifacts[ENCODING_ARTIFACT])
        self.model = load_keras_model(context.artifacts[KERAS_ARTIFACT])
        width = self.model.input_shape[-1]
        if width != self.encoding.maxlen:
            raise MlflowException(
                f"encoding: the Keras model reads {width} tokens but the encoding pads to "
                f"maxlen={self.encoding.maxlen}; the model's artifacts do not belong together."
            )

    def predict(self, context, model_input: list[str], params=None) -> list[ReviewScore]:
        try:
            reviews = check_reviews(model_input)
        except ValueError as error:
            raise MlflowException.invalid_parameter_value(str(error)) from None
        probabilities = score_reviews(self.model, self.encoding, reviews)
        return [ReviewScore(probability=float(p), label=int(p >= THRESHOLD)) for p in probabilities]


# Models from code: MLflow runs this file to build the model when logging and loading it,
# so no pickled object is stored with the model.
MODEL_CODE = """import mlflow
from rnn_tracking.serving import TextReviewModel

mlflow.models.set_model(TextReviewModel())
"""


def package_requirements() -> list[str]:
    """Pins the libraries the text model imports, at the versions that trained it.

    Listing them saves MLflow from inferring requirements, which loads the model in a
    subprocess (seconds per training run).
    """
    from importlib.metadata import version

    names = ("tensorflow", "keras", "numpy", "pandas", "scikit-learn", "mlflow")
    return [f"{name}=={version(name)}" for name in names]


def write_text_model_files(
    directory: Path, config: TrainConfig, vocabulary: Sequence[str], model: keras.Model
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
    write_encoding(make_encoding(config, vocabulary), encoding_path)
    code_path.write_text(MODEL_CODE, encoding="utf-8")
    return {
        "python_model": str(code_path),
        "artifacts": {KERAS_ARTIFACT: str(keras_path), ENCODING_ARTIFACT: str(encoding_path)},
        "code_paths": [os.path.dirname(rnn_tracking.__file__)],
        "input_example": list(EXAMPLE_REVIEWS),
        "pip_requirements": package_requirements(),
    }


def log_text_model(
    config: TrainConfig, vocabulary: Sequence[str], model: keras.Model
) -> mlflow.models.model.ModelInfo:
    """Logs `model` as the active run's text-in pyfunc model `text_model`; returns its info.

    `model` should hold the best weights: `train_model` restores them, so this is the
    best checkpoint's model, and the very model the run logs as its Keras `model`.
    """
    with tempfile.TemporaryDirectory() as scratch:
        arguments = write_text_model_files(Path(scratch), config, vocabulary, model)
        return mlflow.pyfunc.log_model(name=TEXT_MODEL_NAME, **arguments)


def save_text_model(
    path: str | Path, config: TrainConfig, vocabulary: Sequence[str], model: keras.Model
) -> None:
    """Saves the text model into a new local directory, without any tracking store."""
    with tempfile.TemporaryDirectory() as scratch:
        arguments = write_text_model_files(Path(scratch), config, vocabulary, model)
        mlflow.pyfunc.save_model(path=str(path), **arguments)


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
    """Scores reviews with a loaded text model: columns `probability` (float64) and `label`."""
    scores = loaded.predict(list(reviews))
    return pd.DataFrame(
        {
            "probability": np.asarray([score.probability for score in scores], dtype=np.float64),
            "label": np.asarray([score.label for score in scores], dtype=np.int64),
        }
    )


def predict_reviews(model_uri: str, reviews: Sequence[Any]) -> pd.DataFrame:
    """Scores reviews with the text model at `model_uri`: `probability` and `label` per review.

    Raises ValueError for a bad URI or a bad review (see `check_reviews`), before any work.
    """
    reviews = check_reviews(reviews)
    return predict_frame(load_text_model(model_uri), reviews)


# --- Promotion ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Promotion:
    """The outcome of `promote_best_model`: which run won, and the version now champion."""

    name: str
    version: str
    run_id: str
    model_id: str
    metric: str
    value: float

    @property
    def model_uri(self) -> str:
        return f"models:/{self.name}@{CHAMPION_ALIAS}"


def check_selection_metric(metric: str) -> bool:
    """Returns whether higher is better for a validation metric; refuses any other metric.

    Selection never looks at the test split, so only `best_val_*` and `val_*` metrics are
    valid. Losses are minimized, everything else is maximized.
    """
    if not metric.startswith(VALIDATION_METRIC_PREFIXES):
        raise ValueError(
            f"metric: got {metric!r}, which is not a validation metric; valid values are "
            "metrics named best_val_* or val_* (e.g. best_val_accuracy, best_val_loss): the "
            "best run is chosen on validation, never on test."
        )
    return "loss" not in metric


def find_experiment_ids(experiment_names: Sequence[str] | None) -> list[str]:
    """Returns the ids of the named experiments.

    Without names: $MLFLOW_EXPERIMENT_NAME, else $MLFLOW_EXPERIMENT_ID (which `mlflow run`
    sets), else MLflow's Default experiment.
    """
    names = list(experiment_names or [])
    from_environment = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if not names and not from_environment and os.environ.get("MLFLOW_EXPERIMENT_ID"):
        return [os.environ["MLFLOW_EXPERIMENT_ID"]]
    if not names:
        names = [os.environ.get("MLFLOW_EXPERIMENT_NAME") or "Default"]
    ids = []
    for name in names:
        experiment = mlflow.get_experiment_by_name(name)
        if experiment is None:
            known = ", ".join(repr(e.name) for e in mlflow.search_experiments()) or "none"
            raise ValueError(
                f"experiment_name: no experiment named {name!r}; valid values are the "
                f"existing experiments: {known}."
            )
        ids.append(experiment.experiment_id)
    return ids


def find_text_model_id(client: MlflowClient, run: mlflow.entities.Run) -> str | None:
    """Returns the id of the text model a run logged, or None if it logged none."""
    outputs = run.outputs.model_outputs if run.outputs else []
    for output in outputs:
        if client.get_logged_model(output.model_id).name == TEXT_MODEL_NAME:
            return output.model_id
    return None


def find_best_run(
    experiment_ids: Sequence[str], filter_string: str, metric: str
) -> tuple[mlflow.entities.Run, str]:
    """Returns the finished run with the best `metric` that logged a text model, and its id.

    Runs are read page by page in metric order, so the search stops at the first good one
    however many runs the experiments hold. Runs without the metric (or with NaN) are skipped.
    """
    higher_is_better = check_selection_metric(metric)
    conditions = ["attributes.status = 'FINISHED'"] + ([filter_string] if filter_string else [])
    order = [
        f"metrics.`{metric}` {'DESC' if higher_is_better else 'ASC'}",
        "attributes.start_time ASC",
    ]
    client = MlflowClient()
    page_token = None
    while True:
        try:
            page = client.search_runs(
                experiment_ids,
                filter_string=" and ".join(conditions),
                order_by=order,
                max_results=200,
                page_token=page_token,
            )
        except MlflowException as error:
            raise ValueError(
                f"filter: {filter_string!r} is not a valid MLflow search filter "
                f"({error.message.splitlines()[0]}); valid values are MLflow filter strings "
                "such as \"params.arch = 'gru'\"."
            ) from None
        for run in page:
            value = run.data.metrics.get(metric)
            if value is None or not math.isfinite(value):
                continue
            model_id = find_text_model_id(client, run)
            if model_id is not None:
                return run, model_id
        page_token = page.token
        if not page_token:
            break
    names = ", ".join(repr(MlflowClient().get_experiment(i).name) for i in experiment_ids)
    if filter_string:
        raise ValueError(
            f"filter: no finished run matching {filter_string!r} in {names} has a "
            f"{TEXT_MODEL_NAME} and the metric {metric!r}; valid values are filters that "
            "match trained runs."
        )
    raise ValueError(
        f"metric: no finished run in {names} has a {TEXT_MODEL_NAME} and the metric "
        f"{metric!r}; valid values are validation metrics of trained runs (train a model "
        "first, or choose another experiment)."
    )


def promote_best_model(
    name: str,
    *,
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    metric: str = DEFAULT_PROMOTION_METRIC,
) -> Promotion:
    """Registers the best run's text model under `name` and points alias `champion` at it.

    The best run is the finished run with the best validation `metric` among those matching
    `filter_string` in the experiments. Promoting the same model again reuses its version.
    """
    if not name.strip():
        raise ValueError("name: got an empty name; valid values are registered-model names.")
    check_selection_metric(metric)
    run, model_id = find_best_run(find_experiment_ids(experiment_names), filter_string, metric)
    value = float(run.data.metrics[metric])
    client = MlflowClient()
    version = find_registered_version(client, name, model_id)
    if version is None:
        registered = mlflow.register_model(
            f"models:/{model_id}",
            name,
            tags={"selection_metric": metric, metric: str(value)},
        )
        version = str(registered.version)
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version)
    return Promotion(name, version, run.info.run_id, model_id, metric, value)


def find_registered_version(client: MlflowClient, name: str, model_id: str) -> str | None:
    """Returns the version of `name` that already holds the logged model, if any."""
    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    for version in versions:
        if model_id in (version.model_id, version.source.removeprefix("models:/")):
            return str(version.version)
    return None


# --- Evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """The outcome of `evaluate_model`: the evaluation run and its metrics."""

    run_id: str
    metrics: dict[str, float]
    reviews: int


def count_tokens(texts: Sequence[str]) -> np.ndarray:
    """Returns the number of words of each review, as the encoder tokenizes it."""
    return np.asarray([len(data.tokenize(text)) for text in texts], dtype=np.int64)


def bucket_of(tokens: int) -> str:
    """Returns the LENGTH_BUCKETS name of a review with `tokens` words."""
    for name, low, high in LENGTH_BUCKETS:
        if low <= tokens <= high:
            return name
    raise ValueError(f"tokens: got {tokens}; valid values are integers >= 0.")


def make_length_metrics() -> list[mlflow.models.EvaluationMetric]:
    """Returns one metric per length bucket: `accuracy_<bucket>` and `reviews_<bucket>`."""

    def make(bucket: str) -> list[mlflow.models.EvaluationMetric]:
        def accuracy(predictions: pd.Series, targets: pd.Series, tokens: pd.Series) -> Any:
            inside = tokens.map(bucket_of).to_numpy() == bucket
            name = f"accuracy_{bucket}"
            if not inside.any():
                return mlflow.metrics.MetricValue(aggregate_results={name: None})
            hits = predictions.to_numpy()[inside] == targets.to_numpy()[inside]
            return mlflow.metrics.MetricValue(aggregate_results={name: float(hits.mean())})

        def reviews(predictions: pd.Series, targets: pd.Series, tokens: pd.Series) -> Any:
            count = int((tokens.map(bucket_of).to_numpy() == bucket).sum())
            return mlflow.metrics.MetricValue(aggregate_results={f"reviews_{bucket}": count})

        return [
            mlflow.models.make_metric(
                eval_fn=accuracy, greater_is_better=True, name=f"accuracy_{bucket}"
            ),
            mlflow.models.make_metric(
                eval_fn=reviews, greater_is_better=True, name=f"reviews_{bucket}"
            ),
        ]

    return [metric for bucket, _, _ in LENGTH_BUCKETS for metric in make(bucket)]


def make_probability_metrics() -> list[mlflow.models.EvaluationMetric]:
    """Returns ROC AUC and average precision, computed from the `probability` column.

    MLflow's classifier evaluator computes these only for scikit-learn models (it calls
    `predict_proba`); the text model reports its probabilities as an output column instead.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    # MLflow tries every metric on the first row alone before the whole table, and resolves
    # each parameter by name: `predictions` and `targets` first, then data columns.
    def roc_auc(predictions: pd.Series, targets: pd.Series, probability: pd.Series) -> Any:
        both = targets.nunique() == 2
        value = float(roc_auc_score(targets, probability)) if both else None
        return mlflow.metrics.MetricValue(aggregate_results={"roc_auc": value})

    def average_precision(
        predictions: pd.Series, targets: pd.Series, probability: pd.Series
    ) -> Any:
        both = targets.nunique() == 2
        value = float(average_precision_score(targets, probability)) if both else None
        return mlflow.metrics.MetricValue(aggregate_results={"average_precision": value})

    return [
        mlflow.models.make_metric(eval_fn=roc_auc, greater_is_better=True, name="roc_auc"),
        mlflow.models.make_metric(
            eval_fn=average_precision, greater_is_better=True, name="average_precision"
        ),
    ]


def make_curve_artifacts(labels: np.ndarray, probabilities: np.ndarray) -> Any:
    """Returns a custom-artifact function drawing the ROC and precision-recall curves.

    MLflow hands custom artifacts only the predicted labels, so the probabilities (in the
    same row order) come in through this closure.
    """

    def curves(eval_df: pd.DataFrame, builtin_metrics: dict, artifacts_dir: str) -> dict:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

        if len(np.unique(labels)) < 2:
            return {}
        figures = {}
        for name, display in (
            ("roc_curve_plot", RocCurveDisplay),
            ("precision_recall_curve_plot", PrecisionRecallDisplay),
        ):
            figure, axis = plt.subplots(figsize=(5, 4))
            display.from_predictions(labels, probabilities, pos_label=1, ax=axis, name="text_model")
            figure.tight_layout()
            figures[name] = figure
        return figures

    return curves


def evaluation_config(encoding: Encoding, overrides: dict[str, Any]) -> TrainConfig:
    """Returns the model's training config, with the given overrides (e.g. data, max_reviews).

    The test split is then drawn exactly as in the training run, unless an override moves it.
    """
    recorded = {key: value for key, value in encoding.config.items() if key in FIELDS}
    given = {key: value for key, value in overrides.items() if value is not None}
    return config_from_mapping(recorded | given)


def select_wrong_reviews(frame: pd.DataFrame, count: int) -> pd.DataFrame:
    """Returns the `count` misclassified reviews the model was most confident about.

    Confidence is the probability given to the wrong label: `probability` for a negative
    review called positive, 1 - `probability` for a positive review called negative.
    """
    wrong = frame[frame["prediction"] != frame["label"]].copy()
    wrong["confidence"] = np.where(
        wrong["prediction"] == 1, wrong["probability"], 1.0 - wrong["probability"]
    )
    wrong = wrong.sort_values("confidence", ascending=False, kind="stable").head(count)
    return wrong[["text", "label", "probability", "confidence", "tokens"]].reset_index(drop=True)


def parse_count(name: str, value: int | str) -> int:
    """Reads a count >= 0 from an int or a string such as '20' or '20.0' (as `mlflow run`
    passes float parameters); raises ValueError naming the parameter."""
    try:
        number = float(value)
        if isinstance(value, bool) or not number.is_integer() or number < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"{name}: got {value!r}; valid values are integers >= 0.") from None
    return int(number)


@contextmanager
def quiet_evaluation_notices() -> Iterator[None]:
    """Silences three MLflow notices that do not apply to this evaluation.

    They are: the classifier evaluator's warning that 0/1 integer labels look like no model
    type (it only recognizes strings, booleans and categories), the hint that integer columns
    cannot hold missing values (these have none), and the note that a local path matches
    several dataset source classes (they are one class registered twice).
    """
    logger = logging.getLogger("mlflow.models.evaluation.evaluators.classifier")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*interpreted in multiple ways.*")
            warnings.filterwarnings("ignore", message=".*Integer columns in Python cannot.*")
            yield
    finally:
        logger.setLevel(level)


def evaluate_model(
    model_uri: str,
    *,
    data_source: str | None = None,
    max_reviews: int | str | None = None,
    wrong_reviews: int | str = DEFAULT_WRONG_REVIEWS,
    run_name: str | None = None,
) -> Evaluation:
    """Evaluates a text model on the test split of its training data, in a new MLflow run.

    The test split is the training run's own (its recorded config), unless `data_source` or
    `max_reviews` (0 for all) override it. The run holds `mlflow.models.evaluate`'s classifier
    metrics and confusion matrix, ROC and precision-recall curves, accuracy per length bucket
    (`accuracy_short`, `accuracy_medium`, `accuracy_long`, see LENGTH_BUCKETS) and a table of
    the most confidently wrong reviews. The metrics are also linked to the logged model.
    """
    wrong_reviews = parse_count("wrong_reviews", wrong_reviews)
    loaded = load_text_model(model_uri)
    encoding = unwrap_text_model(loaded).encoding
    config = evaluation_config(encoding, {"data": data_source, "max_reviews": max_reviews})
    texts = data.load_text_splits(config)
    scored = predict_frame(loaded, texts.test_texts)
    frame = pd.DataFrame(
        {
            "text": texts.test_texts,
            "label": texts.y_test.astype(np.int64),
            "prediction": scored["label"].to_numpy(),
            "probability": scored["probability"].to_numpy(),
            "tokens": count_tokens(texts.test_texts),
        }
    )
    model_id = getattr(loaded.metadata, "model_id", None)
    # Inside `mlflow run -e evaluate` this resumes the run MLflow made, which already holds
    # the -P values as params, so the params below use names of their own.
    with mlflow.start_run(run_name=run_name or "evaluate") as run:
        mlflow.set_tags(
            {"evaluated_model_uri": model_uri, "evaluated_run_id": loaded.metadata.run_id or ""}
        )
        mlflow.log_params(
            {
                "evaluation_data": texts.source,
                "evaluation_max_reviews": config.max_reviews,
                "test_reviews": len(frame),
            }
        )
        with quiet_evaluation_notices():
            dataset = mlflow.data.from_pandas(
                frame,
                source=texts.source,
                targets="label",
                name=f"{texts.name}-test",
                predictions="prediction",
            )
            # The predictions are in the data, so the model predicts once (above) for the
            # metrics, the curves, the length buckets and the table alike; `model_id` links
            # the metrics to the logged model as if the model had been passed.
            result = mlflow.models.evaluate(
                data=dataset,
                model_type="classifier",
                model_id=model_id,
                evaluator_config={"log_model_explainability": False, "pos_label": 1},
                extra_metrics=make_probability_metrics() + make_length_metrics(),
                custom_artifacts=[
                    make_curve_artifacts(frame["label"].to_numpy(), frame["probability"].to_numpy())
                ],
            )
        mlflow.log_table(select_wrong_reviews(frame, wrong_reviews), artifact_file=WRONG_TABLE_FILE)
    metrics = {name: float(value) for name, value in result.metrics.items() if value is not None}
    return Evaluation(run_id=run.info.run_id, metrics=metrics, reviews=len(frame))
