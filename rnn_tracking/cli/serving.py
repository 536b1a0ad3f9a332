"""The text model's commands (`rnn_tracking.serving`): `predict`, `promote` and `evaluate`."""

from __future__ import annotations

import argparse
import sys

from rnn_tracking.cli.commands import (
    EXIT_FAILED,
    EXIT_OK,
    PROGRAM,
    prepare_tracking_store,
    record_system_metrics,
)
from rnn_tracking.cli.parser import UsageError, read_options
from rnn_tracking.options import EvaluateOptions, PredictOptions, PromoteOptions


def command_predict(args: argparse.Namespace) -> int:
    """Scores reviews given as arguments or in a file; prints one line per review."""
    from rnn_tracking import serving
    from rnn_tracking.data import read_review_file

    try:
        options = read_options(args, PredictOptions)
        reviews = list(options.reviews)
        if options.file:
            reviews += read_review_file(options.file, options.text_column)
        if not reviews:
            raise ValueError(
                "reviews: got none; valid values are review texts as arguments, or --file PATH."
            )
        prepare_tracking_store()
        scores = serving.predict_reviews(options.model_uri, reviews)
    except ValueError as error:
        raise UsageError(str(error)) from error
    binary = "class_name" in scores.columns
    print("label\tsentiment\tprobability\treview" if binary else "label\tprobability\treview")
    for review, probability, label in zip(
        reviews, scores["probability"], scores["label"], strict=True
    ):
        snippet = " ".join(review.split())
        snippet = snippet if len(snippet) <= 60 else snippet[:57] + "..."
        if binary:
            sentiment = "positive" if label == 1 else "negative"
            print(f"{label}\t{sentiment}\t{probability:.4f}\t{snippet}")
        else:
            print(f"{label}\t{probability:.4f}\t{snippet}")
    return EXIT_OK


def command_promote(args: argparse.Namespace) -> int:
    """Registers the best run's text model and points the `champion` alias at it, if it
    passes the gate (or `--force`); a refused challenger prints the gate's table and exits 1."""
    from rnn_tracking import serving

    try:
        options = read_options(args, PromoteOptions)
        prepare_tracking_store()
        promotion = serving.promote_best_model(
            options.name,
            experiment_names=list(options.experiment_name) or None,
            filter_string=options.filter,
            metric=options.metric,
            alpha=options.alpha,
            force=options.force,
        )
    except serving.PromotionRefused as refused:
        print(refused.decision.describe_table())
        print(f"{PROGRAM} promote: refused: {refused}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as error:
        raise UsageError(str(error)) from error
    if promotion.decision is not None:
        print(promotion.decision.describe_table())
    gate = "gate skipped (--force); " if promotion.forced else ""
    print(
        f"registered {promotion.name} version {promotion.version} from run {promotion.run_id} "
        f"({promotion.metric} {promotion.value:.4f}); {gate}alias {serving.CHAMPION_ALIAS} -> "
        f"{promotion.model_uri}"
    )
    return EXIT_OK


def command_evaluate(args: argparse.Namespace) -> int:
    """Evaluates a text model on its test split in a new MLflow run; prints the key metrics."""
    from rnn_tracking import serving, tracking

    try:
        options = read_options(args, EvaluateOptions)
        record_system_metrics(options.system_metrics)
    except ValueError as error:
        raise UsageError(str(error)) from error
    tracking.select_experiment(options.experiment_name)
    try:
        prepare_tracking_store()
        evaluation = serving.evaluate_model(
            options.model_uri,
            data_source=options.data,
            max_reviews=options.max_reviews,
            wrong_reviews=options.wrong_reviews,
        )
    except ValueError as error:
        raise UsageError(str(error)) from error
    shown = [
        "accuracy_score",
        "f1_score",
        "macro_f1",
        "roc_auc",
        "roc_auc_ovr",
        "average_precision",
    ]
    shown += [f"accuracy_{bucket}" for bucket, _, _ in serving.LENGTH_BUCKETS]
    values = ", ".join(
        f"{name} {evaluation.metrics[name]:.4f}" for name in shown if name in evaluation.metrics
    )
    print(f"run {evaluation.run_id}: {evaluation.reviews} test reviews, {values}")
    return EXIT_OK
