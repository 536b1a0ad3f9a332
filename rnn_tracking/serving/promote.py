"""Promotion: registers the best run's text model and points the `champion` alias at it.

The best run (the challenger) is chosen on a validation metric, never on test, among the
finished runs that logged a text model. Unless forced, it must then pass the gate
(`serving.gate`): beat the current champion on the same test reviews (McNemar's exact test)
and a linear baseline. A refused challenger changes nothing in the registry.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from rnn_tracking import runs
from rnn_tracking.options import PromoteOptions
from rnn_tracking.serving.gate import (
    GATE_TAG,
    GateDecision,
    find_best_baseline,
    judge_challenger,
    load_run_predictions,
)
from rnn_tracking.serving.text_model import CHAMPION_ALIAS, TEXT_MODEL_NAME

DEFAULT_PROMOTION_METRIC = PromoteOptions.metric
DEFAULT_ALPHA = PromoteOptions.alpha
VALIDATION_METRIC_PREFIXES = ("best_val_", "val_")


@dataclass(frozen=True)
class Promotion:
    """The outcome of `promote_best_model`: which run won, and the version now champion."""

    name: str
    version: str
    run_id: str
    model_id: str
    metric: str
    value: float
    # The gate's finding; None when forced or when the run already holds the alias.
    decision: GateDecision | None = None
    forced: bool = False

    @property
    def model_uri(self) -> str:
        return f"models:/{self.name}@{CHAMPION_ALIAS}"


class PromotionRefused(RuntimeError):
    """The challenger failed the gate; `decision` says why. Nothing was registered."""

    def __init__(self, decision: GateDecision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


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
    order = [
        f"metrics.`{metric}` {'DESC' if higher_is_better else 'ASC'}",
        "attributes.start_time ASC",
    ]
    client = MlflowClient()
    for run in search_finished_runs(experiment_ids, filter_string, order, client):
        value = run.data.metrics.get(metric)
        if value is None or not math.isfinite(value):
            continue
        model_id = find_text_model_id(client, run)
        if model_id is not None:
            return run, model_id
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


def search_finished_runs(
    experiment_ids: Sequence[str], filter_string: str, order: Sequence[str], client: MlflowClient
) -> Iterator[mlflow.entities.Run]:
    """Yields the finished runs matching `filter_string` in `order`, reading page by page.

    A filter MLflow cannot parse is a ValueError naming `filter`; errors raised while the
    caller handles a run are the caller's own.
    """
    conditions = ["attributes.status = 'FINISHED'"] + ([filter_string] if filter_string else [])
    found = runs.search_runs_paged(
        experiment_ids, " and ".join(conditions), order_by=order, client=client
    )
    while True:
        try:
            run = next(found)
        except StopIteration:
            return
        except MlflowException as error:
            raise ValueError(
                f"filter: {filter_string!r} is not a valid MLflow search filter "
                f"({error.message.splitlines()[0]}); valid values are MLflow filter strings "
                "such as \"params.arch = 'gru'\"."
            ) from None
        yield run


def promote_best_model(
    name: str,
    *,
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    metric: str = DEFAULT_PROMOTION_METRIC,
    alpha: float = DEFAULT_ALPHA,
    force: bool = False,
) -> Promotion:
    """Registers the best run's text model under `name` and points alias `champion` at it.

    The best run is the finished run with the best validation `metric` among those matching
    `filter_string` in the experiments. Unless `force`, it must pass the gate at `alpha`
    (see `serving.gate`), else PromotionRefused is raised and nothing changes. Promoting the
    model that already holds the alias changes nothing; another existing version is reused.
    """
    if not name.strip():
        raise ValueError("name: got an empty name; valid values are registered-model names.")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: got {alpha!r}; valid values are numbers in (0, 1).")
    check_selection_metric(metric)
    experiment_ids = list(runs.resolve_experiment_ids(experiment_names or ()).values())
    run, model_id = find_best_run(experiment_ids, filter_string, metric)
    value = float(run.data.metrics[metric])
    client = MlflowClient()
    version = find_registered_version(client, name, model_id)
    champion = find_champion(client, name)
    if champion is not None and version == str(champion.version):
        return Promotion(name, version, run.info.run_id, model_id, metric, value)
    decision = None
    if force:
        tags = {GATE_TAG: "forced"}
    else:
        decision = gate_challenger(client, run.info.run_id, champion, experiment_ids, alpha)
        if not decision.passed:
            raise PromotionRefused(decision)
        tags = decision.to_tags()
    tags |= {"selection_metric": metric, metric: str(value)}
    if version is None:
        registered = mlflow.register_model(f"models:/{model_id}", name, tags=tags)
        version = str(registered.version)
    else:
        for key, tag in tags.items():
            client.set_model_version_tag(name, version, key, tag)
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version)
    return Promotion(
        name, version, run.info.run_id, model_id, metric, value, decision=decision, forced=force
    )


def find_champion(client: MlflowClient, name: str):
    """Returns the model version the `champion` alias points at, or None if there is none."""
    try:
        return client.get_model_version_by_alias(name, CHAMPION_ALIAS)
    except MlflowException:
        return None


def gate_challenger(
    client: MlflowClient, run_id: str, champion, experiment_ids: list[str], alpha: float
) -> GateDecision:
    """Reads the challenger's, the champion's and the baselines' records and judges them."""
    challenger = load_run_predictions(client, run_id)
    if challenger is None:
        return GateDecision(
            "",
            alpha,
            float("nan"),
            reason=(
                f"test_predictions: the challenger run {run_id} logged no {runs.TEST_DIGEST_TAG}"
                " or test predictions (trained before the gate existed); valid values are runs "
                "trained by this version, or --force."
            ),
        )
    digest, predictions = challenger
    champion_record = None
    if champion is not None:
        loaded = load_run_predictions(client, champion.run_id) if champion.run_id else None
        champion_digest, champion_predictions = loaded or ("none (no predictions logged)", None)
        champion_record = (str(champion.version), champion_digest, champion_predictions)
        if champion_predictions is None:
            champion_record = (str(champion.version), champion_digest, predictions)
    baseline = find_best_baseline(client, experiment_ids, digest)
    return judge_challenger(predictions, digest, champion_record, baseline, alpha)


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
