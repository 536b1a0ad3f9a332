"""A baseline fit on record: one MLflow run per model and budget, comparable to neural runs."""

from __future__ import annotations

from rnn_tracking.baseline import (
    MIN_DF,
    NEURAL_ONLY_FIELDS,
    NGRAM_RANGE,
    BaselineData,
    BaselineResult,
)
from rnn_tracking.baseline.nbsvm import NB_ALPHA, NBSVM_ARCH
from rnn_tracking.config import DATA_FIELDS, TrainConfig, config_to_params, resolve_data_source


def describe_model(result: BaselineResult, class_count: int) -> dict[str, str]:
    """Returns the params that set one model apart: its features and classifier."""
    shared = {
        "C": f"{result.best_c:g}",
        "c_grid": ",".join(f"{c:g}" for c in result.val_accuracy_by_c),
        "ngram_range": ",".join(map(str, NGRAM_RANGE)),
        "min_df": str(MIN_DF),
        "solver": result.solver,
    }
    if result.arch == NBSVM_ARCH:
        return shared | {
            "binary": "true",
            "nb_alpha": f"{NB_ALPHA:g}",
            "multiclass": "ovr" if class_count > 2 else "binary",
        }
    return shared | {"sublinear_tf": "true"}


def baseline_params(
    config: TrainConfig, result: BaselineResult, class_count: int = 2
) -> dict[str, str]:
    """Returns a baseline run's params: its data fields, budget and the model's settings."""
    fields = [
        name for name in DATA_FIELDS if result.budget == "neural" or name not in NEURAL_ONLY_FIELDS
    ]
    config_params = config_to_params(config)
    return {
        "arch": result.arch,
        **{name: config_params[name] for name in fields},
        "budget": result.budget,
        **describe_model(result, class_count),
    }


def track_baseline(config: TrainConfig, data: BaselineData, result: BaselineResult) -> str:
    """Logs one finished baseline fit as an MLflow run and returns the run's id.

    The fit happens before the run opens, so a run holds a whole result or nothing. Inside
    `mlflow run` the first call fills the run `mlflow run` made; later calls open new runs
    in the same experiment.
    """
    import mlflow

    from rnn_tracking import runs
    from rnn_tracking.run_records import log_params_once, log_test_predictions

    tags = {
        runs.ARCH_TAG: result.arch,
        runs.DATA_SOURCE_TAG: resolve_data_source(config),
        runs.DATA_DIGEST_TAG: data.digest,
    }
    # FINISHED, KILLED on Ctrl-C, or FAILED with an `error` tag, like every run.
    with runs.open_run(f"{result.arch}-{result.budget}", tags=tags) as run:
        params = baseline_params(config, result, len(data.classes))
        log_params_once(run.info.run_id, params)
        mlflow.log_metrics(result.summary_metrics() | {"feature_count": result.feature_count})
        mlflow.log_dict(
            {
                "C": list(result.val_accuracy_by_c),
                "val_accuracy": list(result.val_accuracy_by_c.values()),
                "chosen_C": result.best_c,
            },
            "c_search.json",
        )
        if result.test_probabilities is not None:
            log_test_predictions(
                config, data.digest, data.classes, data.y_test, result.test_probabilities
            )
        return run.info.run_id
