"""Serving: the text-in model, its promotion to the registry, and its evaluation.

Rooms:

- `text_model`: the pyfunc model that answers raw review text, its encoding file and input
  checks; it ships inside every logged model, so it imports only `rnn_tracking.encoding` and
  `rnn_tracking.config` of this package;
- `review_checks`: which served reviews are scored, and the short refusal of the rest (ships
  with `text_model`, imports only `rnn_tracking.encoding` of this package);
- `artifacts`: writes the model's files and logs or saves them;
- `gate`: McNemar's exact test and the rules a challenger must pass to become champion;
- `promote`: picks the best run on a validation metric and makes its model the champion;
- `evaluate`: `mlflow.models.evaluate` on a test split, with length buckets and curves.

Every public name of the rooms is available here (`serving.promote_best_model`), imported on
first use. Importing a room always runs this file first, so importing the rooms here eagerly
would pull promotion and evaluation (and the data readers) into every process that loads a
served model.
"""

from __future__ import annotations

from rnn_tracking import export_lazily

# Which room holds each public name.
HOMES = {
    # text_model
    "TEXT_MODEL_NAME": "text_model",
    "KERAS_ARTIFACT": "text_model",
    "ENCODING_ARTIFACT": "text_model",
    "CHAMPION_ALIAS": "text_model",
    "THRESHOLD": "text_model",
    "MAX_REVIEW_CHARS": "review_checks",
    "ENCODING_FORMAT": "text_model",
    "EXAMPLE_REVIEWS": "text_model",
    "check_reviews": "review_checks",
    "quote_review": "review_checks",
    "QUOTED_CHARS": "review_checks",
    "Encoding": "text_model",
    "make_encoding": "text_model",
    "write_encoding": "text_model",
    "read_encoding": "text_model",
    "load_keras_model": "text_model",
    "ReviewScore": "text_model",
    "score_classes": "text_model",
    "make_scores": "text_model",
    "TextReviewModel": "text_model",
    "load_text_model": "text_model",
    "unwrap_text_model": "text_model",
    "predict_frame": "text_model",
    "predict_reviews": "text_model",
    # artifacts
    "MODEL_CODE": "artifacts",
    "write_text_model_files": "artifacts",
    "log_text_model": "artifacts",
    "save_text_model": "artifacts",
    # promote
    "DEFAULT_PROMOTION_METRIC": "promote",
    "VALIDATION_METRIC_PREFIXES": "promote",
    "Promotion": "promote",
    "check_selection_metric": "promote",
    "search_finished_runs": "promote",
    "find_text_model_id": "promote",
    "find_best_run": "promote",
    "promote_best_model": "promote",
    "find_registered_version": "promote",
    "DEFAULT_ALPHA": "promote",
    "PromotionRefused": "promote",
    "find_champion": "promote",
    "gate_challenger": "promote",
    # gate
    "GATE_TAG": "gate",
    "McNemar": "gate",
    "GateDecision": "gate",
    "compare_paired_predictions": "gate",
    "judge_challenger": "gate",
    "load_run_predictions": "gate",
    "find_best_baseline": "gate",
    # evaluate
    "LENGTH_BUCKETS": "evaluate",
    "DEFAULT_WRONG_REVIEWS": "evaluate",
    "WRONG_TABLE_FILE": "evaluate",
    "Evaluation": "evaluate",
    "count_tokens": "evaluate",
    "bucket_of": "evaluate",
    "make_length_metrics": "evaluate",
    "make_probability_metrics": "evaluate",
    "make_curve_artifacts": "evaluate",
    "evaluation_config": "evaluate",
    "select_wrong_reviews": "evaluate",
    "quiet_evaluation_notices": "evaluate",
    "evaluate_model": "evaluate",
    "CONFUSION_FILE": "evaluate",
    "name_metric": "evaluate",
    "measure_classes": "evaluate",
    "draw_one_vs_rest_curves": "evaluate",
    "count_confusions": "evaluate",
}


__getattr__, __dir__ = export_lazily(__name__, HOMES)
