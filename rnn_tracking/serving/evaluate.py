"""Evaluation: a text model's metrics on a test split, in a new MLflow run.

`mlflow.models.evaluate` computes the classifier metrics and the confusion matrix; this
module adds ROC AUC and average precision, macro-F1, accuracy per length bucket, the ROC and
precision-recall curves and a table of the most confidently wrong reviews. With three
classes or more, labels are class names, the confusion matrix is K x K (also as
`confusion_matrix.json`), and each class gets its precision, recall and F1 and its
one-vs-rest ROC and precision-recall curves.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from rnn_tracking import data, runs
from rnn_tracking.config import FIELDS, TrainConfig, config_from_mapping
from rnn_tracking.encoding import tokenize
from rnn_tracking.metrics import MACRO_F1, predict_classes
from rnn_tracking.options import EvaluateOptions, parse_count
from rnn_tracking.serving.text_model import (
    Encoding,
    load_text_model,
    predict_frame,
    unwrap_text_model,
)

# Reviews are put in length buckets by their number of tokens (words, as `tokenize`
# counts them), with fixed bounds so that runs with different `maxlen` stay comparable:
# short <= 100 tokens (the whole review fits the tutorial's maxlen=100), medium 101-300,
# long > 300 (the tutorial's model sees at most a third of it). Of aclImdb's 25,000 test
# reviews (median 172 tokens), 12.7% are short, 65.7% medium and 21.6% long.
LENGTH_BUCKETS = (("short", 0, 100), ("medium", 101, 300), ("long", 301, math.inf))
DEFAULT_WRONG_REVIEWS = EvaluateOptions.wrong_reviews
WRONG_TABLE_FILE = "confidently_wrong_reviews.json"
CONFUSION_FILE = "confusion_matrix.json"
# Characters MLflow refuses in a metric name.
METRIC_UNSAFE = re.compile(r"[^A-Za-z0-9_.\- /]")


@dataclass(frozen=True)
class Evaluation:
    """The outcome of `evaluate_model`: the evaluation run and its metrics."""

    run_id: str
    metrics: dict[str, float]
    reviews: int


def count_tokens(texts: Sequence[str]) -> np.ndarray:
    """Returns the number of words of each review, as the encoder tokenizes it."""
    return np.asarray([len(tokenize(text)) for text in texts], dtype=np.int64)


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


def name_metric(prefix: str, class_name: str) -> str:
    """Returns a metric name for one class, e.g. `f1_spam`; characters MLflow refuses become _."""
    return f"{prefix}_{METRIC_UNSAFE.sub('_', class_name)}"


def measure_classes(
    labels: np.ndarray, probabilities: np.ndarray, classes: Sequence[str]
) -> dict[str, float]:
    """Returns macro-F1, and with three classes or more each class's precision, recall and F1
    (`precision_<class>`, ...) and the one-vs-rest macro ROC AUC `roc_auc_ovr`.

    `labels` are class indices; `probabilities` the model's outputs, (n, 1) or (n, K).
    """
    from sklearn.metrics import precision_recall_fscore_support, roc_auc_score

    predicted = predict_classes(probabilities)
    everyone = list(range(len(classes)))
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=everyone, zero_division=0
    )
    metrics = {MACRO_F1: float(f1.mean())}
    if len(classes) == 2:
        return metrics
    for position, name in enumerate(classes):
        metrics[name_metric("precision", name)] = float(precision[position])
        metrics[name_metric("recall", name)] = float(recall[position])
        metrics[name_metric("f1", name)] = float(f1[position])
    if len(np.unique(labels)) == len(classes):
        metrics["roc_auc_ovr"] = float(
            roc_auc_score(
                labels, probabilities, multi_class="ovr", average="macro", labels=everyone
            )
        )
    return metrics


def draw_one_vs_rest_curves(
    labels: np.ndarray, probabilities: np.ndarray, classes: Sequence[str]
) -> dict[str, Any]:
    """Returns the one-vs-rest ROC and precision-recall figures: one curve per class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    figures = {}
    for name, display in (
        ("roc_curve_plot", RocCurveDisplay),
        ("precision_recall_curve_plot", PrecisionRecallDisplay),
    ):
        figure, axis = plt.subplots(figsize=(6, 5))
        for position, class_name in enumerate(classes):
            if (labels == position).any():
                display.from_predictions(
                    labels == position, probabilities[:, position], ax=axis, name=str(class_name)
                )
        axis.set_title("one class against the rest")
        figure.tight_layout()
        figures[name] = figure
    return figures


def count_confusions(
    labels: np.ndarray, probabilities: np.ndarray, classes: Sequence[str]
) -> dict[str, Any]:
    """Returns the K x K confusion matrix (rows: true class, columns: predicted) by name."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(
        labels, predict_classes(probabilities), labels=list(range(len(classes)))
    )
    return {"classes": list(classes), "rows": "true class", "matrix": matrix.tolist()}


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
    review called positive, 1 - `probability` for a positive review called negative. With
    class names as labels (three classes or more), `probability` is already the predicted
    class's.
    """
    wrong = frame[frame["prediction"] != frame["label"]].copy()
    if frame["prediction"].dtype.kind in "iub":
        wrong["confidence"] = np.where(
            wrong["prediction"] == 1, wrong["probability"], 1.0 - wrong["probability"]
        )
    else:
        wrong["confidence"] = wrong["probability"]
    wrong = wrong.sort_values("confidence", ascending=False, kind="stable").head(count)
    return wrong[["text", "label", "probability", "confidence", "tokens"]].reset_index(drop=True)


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
    wrong_reviews = parse_count("wrong_reviews", wrong_reviews, 0)
    loaded = load_text_model(model_uri)
    encoding = unwrap_text_model(loaded).encoding
    config = evaluation_config(encoding, {"data": data_source, "max_reviews": max_reviews})
    texts = data.load_text_splits(config)
    classes = encoding.classes
    # Two classes are indices 0/1 whatever their names (models logged before class names
    # were recorded say neg, pos); more must match by name, in order.
    if len(texts.classes) != len(classes) or (
        len(classes) > 2 and tuple(texts.classes) != tuple(classes)
    ):
        raise ValueError(
            f"data: the test split's classes are {', '.join(texts.classes)}, but the model "
            f"predicts {', '.join(classes)}; valid values are data with the model's classes."
        )
    scored = predict_frame(loaded, texts.test_texts)
    binary = len(classes) == 2
    if binary:
        probabilities = scored["probability"].to_numpy().reshape(-1, 1)
        labels, predictions = texts.y_test.astype(np.int64), scored["label"].to_numpy()
    else:
        probabilities = scored[[f"probability_{name}" for name in classes]].to_numpy()
        names = np.asarray(classes, dtype=object)
        labels, predictions = names[texts.y_test], scored["label"].to_numpy(dtype=object)
    frame = pd.DataFrame(
        {
            "text": texts.test_texts,
            "label": labels,
            "prediction": predictions,
            "probability": scored["probability"].to_numpy(),
            "tokens": count_tokens(texts.test_texts),
        }
    )
    model_id = getattr(loaded.metadata, "model_id", None)
    # Inside `mlflow run -e evaluate` this resumes the run MLflow made, which already holds
    # the -P values as params, so the params below use names of their own. The run ends
    # FINISHED, KILLED on Ctrl-C, or FAILED with an `error` tag (see `runs.open_run`).
    with runs.open_run(run_name or "evaluate", system_metrics=True) as run:
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
            if binary:
                settings = {"log_model_explainability": False, "pos_label": 1}
                extra = make_probability_metrics() + make_length_metrics()
                artifacts = [
                    make_curve_artifacts(frame["label"].to_numpy(), frame["probability"].to_numpy())
                ]
            else:
                settings = {"log_model_explainability": False, "average": "macro"}
                extra, artifacts = make_length_metrics(), []
            result = mlflow.models.evaluate(
                data=dataset,
                model_type="classifier",
                model_id=model_id,
                evaluator_config=settings,
                extra_metrics=extra,
                custom_artifacts=artifacts,
            )
        by_class = measure_classes(texts.y_test, probabilities, classes)
        mlflow.log_metrics(by_class)
        if not binary:
            mlflow.log_dict(count_confusions(texts.y_test, probabilities, classes), CONFUSION_FILE)
            for name, figure in draw_one_vs_rest_curves(
                texts.y_test, probabilities, classes
            ).items():
                mlflow.log_figure(figure, f"{name}.png")
        mlflow.log_table(select_wrong_reviews(frame, wrong_reviews), artifact_file=WRONG_TABLE_FILE)
    metrics = {name: float(value) for name, value in result.metrics.items() if value is not None}
    metrics |= by_class
    return Evaluation(run_id=run.info.run_id, metrics=metrics, reviews=len(frame))
