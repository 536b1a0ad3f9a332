"""The options of the text model's commands: `promote`, `evaluate` and `predict`."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_tracking.config import FIELDS, _knob
from rnn_tracking.options.fields import EXPERIMENT_HELP, SYSTEM_METRICS_HELP


@dataclass(frozen=True)
class PromoteOptions:
    """The options of `promote`: which run's text model becomes the champion."""

    name: str | None = _knob(None, "Registered-model name.", required=True)
    experiment_name: tuple[str, ...] = _knob(
        (),
        "Experiment to search; repeat it or separate names with commas. Unset means "
        "$MLFLOW_EXPERIMENT_NAME, else Default.",
        repeatable=True,
        metavar="NAME",
    )
    filter: str = _knob(
        "", "MLflow search filter, e.g. \"params.arch = 'gru'\"; empty searches every run."
    )
    metric: str = _knob(
        "best_val_accuracy",
        "Validation metric that picks the best run: best_val_* or val_*; losses are "
        "minimized, the rest maximized. Validation, so that the test split stays unseen.",
    )
    alpha: float = _knob(
        0.05,
        "Significance level of the gate's McNemar test: the challenger must beat the champion "
        "on the paired test reviews at p < alpha. 0.05, the usual level: a promotion by "
        "chance at most once in twenty when the two models are equally good.",
        metavar="P",
    )
    force: bool = _knob(
        False,
        "Skip the gate (champion on the same test reviews, McNemar test, linear baseline) and "
        "promote anyway; the model version is tagged gate=forced.",
        flag=True,
    )


MODEL_URI_HELP = "The text model: runs:/RUN_ID/text_model, models:/NAME@champion, or a local path."


@dataclass(frozen=True)
class EvaluateOptions:
    """The options of `evaluate`: one text model on the test split, in a new run."""

    model_uri: str | None = _knob(None, MODEL_URI_HELP, required=True, metavar="URI")
    data: str | None = _knob(
        None,
        "Data source to evaluate on; unset means the one the model was trained on.",
        metavar="SOURCE",
    )
    max_reviews: int | None = _knob(
        None,
        "Test reviews to sample, 0 for all; unset means as in the model's training run.",
        metavar="N",
    )
    wrong_reviews: int = _knob(
        20,
        "Rows of the table of most confidently wrong reviews; 20 fit on one screen.",
        metavar="N",
    )
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")
    system_metrics: bool = _knob(True, SYSTEM_METRICS_HELP)


@dataclass(frozen=True)
class PredictOptions:
    """The options of `predict`: review texts in, one scored line per review out."""

    model_uri: str | None = _knob(None, MODEL_URI_HELP, required=True, metavar="URI")
    reviews: tuple[str, ...] = _knob(
        (), "Review texts to score.", positional=True, metavar="REVIEW"
    )
    file: str | None = _knob(
        None,
        "Also score this file: a .csv file (its --text-column), or one review per line.",
        metavar="PATH",
    )
    text_column: str = _knob(
        FIELDS["text_column"].default,
        "CSV column holding the reviews; the training default, which fits the common "
        "50k-review IMDB CSV.",
        metavar="NAME",
    )
