"""Reruns: train again from a run's recorded params and say whether its results reproduce.

`rnn-tracking rerun RUN_ID` reads the run's params back into a `TrainConfig`, loads the
data it was trained on, refuses when that data's content digest differs from the one the
run recorded, trains a new run tagged `rerun_of=RUN_ID`, and compares the summary metrics
one by one. Without dropout the math is deterministic on one machine (same seed, same
data, same XLA program), so the numbers must match exactly; with dropout they must agree
within noise, since a different XLA build or thread count draws other masks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from rnn_tracking import runs
from rnn_tracking.config import FIELDS, TrainConfig, config_from_mapping

# Results logged as float64 from float32 tensors: the same math gives the same numbers, so
# "exact" allows only the rounding of the log itself.
EXACT_TOLERANCE = 1e-6
# With dropout: how far two seeds' worth of noise may move each metric on the full data
# (docs/report.md measured test_accuracy std 0.002-0.006 over 5 seeds); None shows the
# metric without judging it, because early stopping may end a noisy rerun epochs apart.
NOISE_TOLERANCE: dict[str, float | None] = {
    "param_count": 0.0,
    "best_val_accuracy": 0.02,
    "test_accuracy": 0.02,
    "best_val_loss": 0.05,
    "test_loss": 0.05,
    "best_epoch": None,
    "epochs_run": None,
}
COMPARED_METRICS = tuple(NOISE_TOLERANCE)
# Fields added after runs were first recorded, with the value those earlier runs used.
EARLIER_VALUES = {"backend": "tensorflow"}


@dataclass(frozen=True)
class MetricComparison:
    """One summary metric of the source run against the rerun; `matches` None: not judged."""

    name: str
    original: float | None
    rerun: float | None
    tolerance: float | None
    matches: bool | None


def read_training_run(run_id: str, client: MlflowClient | None = None) -> Run:
    """Returns the training run `run_id`; ValueError if the store has no such training run."""
    client = client or MlflowClient()
    try:
        run = client.get_run(run_id)
    except MlflowException:
        run = None
    if run is None or not set(FIELDS) - set(EARLIER_VALUES) <= set(run.data.params):
        raise ValueError(
            f"run_id: {run_id!r} is not a training run in {client.tracking_uri}; valid "
            "values are ids of runs made by `rnn-tracking train` (or `mlflow run .`)."
        )
    return run


def config_of_run(run: Run, data: str | None = None) -> TrainConfig:
    """Rebuilds the config a run trained with, from its params (as `mlflow run` spelled them).

    The data source is the one the run resolved (its `data_source` tag), unless `data` names
    another copy of the same data. The backend is the recorded one (a run made before the
    option existed trained on tensorflow), so a rerun computes on the same backend.
    """
    params = {name: run.data.params.get(name, EARLIER_VALUES.get(name)) for name in FIELDS}
    params["data"] = data or run.data.tags.get(runs.DATA_SOURCE_TAG) or params["data"]
    return config_from_mapping(params)


def check_same_data(run: Run, digest: str, source: str) -> None:
    """Raises ValueError when the data's content digest differs from the one the run recorded."""
    recorded = run.data.tags.get(runs.DATA_DIGEST_TAG)
    if recorded != digest:
        raise ValueError(
            f"data: {source} has content digest {digest[:12]}, but run {run.info.run_id} was "
            f"trained on data with digest {str(recorded)[:12]}; valid values are the data "
            "file the run was trained on (--data PATH to another copy of it)."
        )


def is_deterministic(config: TrainConfig) -> bool:
    """Tells whether a rerun must match exactly: no random masks are drawn while training."""
    return config.dropout == 0 and config.recurrent_dropout == 0


def compare_results(
    original: Mapping[str, float], rerun: Mapping[str, float], deterministic: bool
) -> list[MetricComparison]:
    """Compares each summary metric: exact when deterministic, else within NOISE_TOLERANCE."""
    comparisons = []
    for name in COMPARED_METRICS:
        before, after = original.get(name), rerun.get(name)
        tolerance = EXACT_TOLERANCE if deterministic else NOISE_TOLERANCE[name]
        if before is None or after is None:
            matches = None if tolerance is None else before is None and after is None
        elif tolerance is None:
            matches = None
        else:
            matches = abs(float(before) - float(after)) <= tolerance
        comparisons.append(MetricComparison(name, before, after, tolerance, matches))
    return comparisons


def reproduces(comparisons: Sequence[MetricComparison]) -> bool:
    """Tells whether every judged metric matched."""
    return all(comparison.matches is not False for comparison in comparisons)


def describe_comparisons(comparisons: Sequence[MetricComparison], deterministic: bool) -> str:
    """Returns one line per metric and a verdict, as the `rerun` command prints them."""
    width = max(len(comparison.name) for comparison in comparisons)
    lines = []
    for comparison in comparisons:
        if comparison.matches is None:
            verdict = "shown, not judged"
        else:
            bound = "exactly" if deterministic else f"within {comparison.tolerance:g}"
            verdict = f"{'matches' if comparison.matches else 'DIFFERS'} ({bound})"
        lines.append(
            f"  {comparison.name:<{width}}  {format_metric(comparison.original)} -> "
            f"{format_metric(comparison.rerun)}  {verdict}"
        )
    kind = "exactly (no dropout: deterministic)" if deterministic else "within noise (dropout)"
    outcome = "reproduced" if reproduces(comparisons) else "did NOT reproduce"
    return "\n".join([*lines, f"{outcome} {kind}"])


def format_metric(value: float | None) -> str:
    """Spells a metric for the comparison lines: whole numbers plainly, others to 6 places."""
    if value is None:
        return "-"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.6f}"
