"""The report's table: runs flattened into rows, grouped, sorted, and the best groups compared.

The comparison uses Welch's t-test, which does not assume equal spreads.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from rnn_tracking.config import FIELDS, format_value, parse_value
from rnn_tracking.options import ReportOptions
from rnn_tracking.report.select import Selection, select_runs
from rnn_tracking.runs import paused_garbage_collection, resolve_experiment_ids

# The metric columns of the table, in order (`seconds_per_epoch` is derived, not logged),
# and the learning curves drawn at most: the report command's defaults, with their reasons.
DEFAULT_METRICS = ReportOptions.metrics
MAX_CURVES = ReportOptions.max_curves
SIGNIFICANCE_METRIC = "test_accuracy"
SIGNIFICANCE_LEVEL = 0.05
MISSING = "-"


@dataclass(frozen=True)
class TableOptions:
    """How the table is laid out: metric columns, groups, order and length.

    `sort_by` defaults to test_accuracy (else the first metric column); the order is
    descending unless `ascending`. `top_k` = 0 keeps every row (or group).
    """

    metrics: tuple[str, ...] = DEFAULT_METRICS
    group_by: tuple[str, ...] = ()
    sort_by: str | None = None
    ascending: bool = False
    top_k: int = 0
    max_curves: int = MAX_CURVES

    def __post_init__(self) -> None:
        if not self.metrics:
            raise ValueError("metrics: got an empty list; valid values are metric names.")
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise ValueError(f"top_k: got {self.top_k!r}; valid values are integers >= 0.")
        if not isinstance(self.max_curves, int) or self.max_curves < 0:
            raise ValueError(
                f"max_curves: got {self.max_curves!r}; valid values are integers >= 0."
            )

    @property
    def sort_metric(self) -> str:
        if self.sort_by:
            return self.sort_by
        return SIGNIFICANCE_METRIC if SIGNIFICANCE_METRIC in self.metrics else self.metrics[0]


@dataclass(frozen=True, eq=False)
class Report:
    """A built report: the selected runs, the table and the comparison of the best groups.

    `runs` has one row per selected run: `run_name`, `run_id`, `experiment`, `status`,
    `arch`, then `params.<name>`, `metrics.<name>` and `tags.<name>` columns. `table` is
    what is shown, numeric: one row per run (the differing params as strings), or one row
    per group with the group keys, `n`, and `<metric>_mean` / `<metric>_std` columns.
    """

    selection: Selection
    options: TableOptions
    runs: pd.DataFrame
    table: pd.DataFrame
    param_columns: tuple[str, ...]
    comparison: str | None
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S"))

    @property
    def grouped(self) -> bool:
        return bool(self.options.group_by)

    def shown_runs(self) -> pd.DataFrame:
        """Returns the selected runs that the table shows (all runs of the groups shown)."""
        if not self.grouped:
            return self.runs.set_index("run_id").loc[self.table["run_id"]].reset_index()
        keys = set(self.table[list(self.options.group_by)].itertuples(index=False, name=None))
        labels = group_labels(self.runs, self.options.group_by)
        return self.runs[[label in keys for label in labels]]


@functools.lru_cache(maxsize=65536)
def canonical_param(name: str, value: str) -> str:
    """Spells a config param one way (`1e-4` and `0.0001` are one value); others as logged.

    Cached: a thousand runs repeat a few dozen distinct values of each param.
    """
    if name in FIELDS:
        try:
            return format_value(parse_value(name, value))
        except ValueError:
            return value
    return value


def runs_to_frame(runs: Sequence[Run], experiment_names: dict[str, str]) -> pd.DataFrame:
    """Flattens runs into one row each (see `Report.runs`), adding `seconds_per_epoch`.

    `seconds_per_epoch` is train_seconds / epochs_run: both are summary metrics, so no
    metric history has to be read. Tags that MLflow itself writes (`mlflow.*`) are left out.
    """
    rows = []
    for run in runs:
        data = run.data
        row = {
            "run_name": run.info.run_name or "",
            "run_id": run.info.run_id,
            "experiment": experiment_names.get(run.info.experiment_id, run.info.experiment_id),
            "status": run.info.status,
            "arch": data.params.get("arch") or data.tags.get("arch") or "",
        }
        row.update({f"params.{k}": canonical_param(k, v) for k, v in data.params.items()})
        row.update({f"metrics.{k}": float(v) for k, v in data.metrics.items()})
        row.update({f"tags.{k}": v for k, v in data.tags.items() if not k.startswith("mlflow.")})
        seconds, epochs = data.metrics.get("train_seconds"), data.metrics.get("epochs_run")
        if seconds is not None and epochs:
            row["metrics.seconds_per_epoch"] = float(seconds) / float(epochs)
        rows.append(row)
    return pd.DataFrame(rows)


def list_metrics(frame: pd.DataFrame) -> list[str]:
    """Returns the metric names any selected run logged, derived ones included."""
    return sorted(c.removeprefix("metrics.") for c in frame.columns if c.startswith("metrics."))


def metric_values(frame: pd.DataFrame, name: str) -> pd.Series:
    """Returns one metric per run as floats; NaN where a run lacks it."""
    column = f"metrics.{name}"
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return frame[column].astype(float)


def differing_params(frame: pd.DataFrame) -> list[str]:
    """Returns the params that take two or more values among the runs that logged them.

    A param only some runs have (a baseline has no `units`) is shown only if those runs
    disagree on it, so mixing in runs of other kinds does not flood the table; the runs
    without it show a blank. Config fields come first in their declared order, then other
    params alphabetically; `arch` has its own column.
    """
    names = [c.removeprefix("params.") for c in frame.columns if c.startswith("params.")]
    differing = [name for name in names if name != "arch" and frame[f"params.{name}"].nunique() > 1]
    order = {name: index for index, name in enumerate(FIELDS)}
    return sorted(differing, key=lambda name: (order.get(name, len(order)), name))


def key_column(frame: pd.DataFrame, key: str) -> str:
    """Returns the column a group key reads: `arch`, else a param, else a tag."""
    if key == "arch":
        return "arch"
    for column in (f"params.{key}", f"tags.{key}"):
        if column in frame:
            return column
    params = sorted(c.removeprefix("params.") for c in frame.columns if c.startswith("params."))
    raise ValueError(
        f"group_by: {key!r} is neither a param nor a tag of the selected runs; valid values "
        f"are arch or the params: {', '.join(params) or 'none'}."
    )


def group_labels(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Returns each run's group as a tuple of key values; a missing value is MISSING."""
    columns = [key_column(frame, key) for key in keys]
    values = frame[columns].astype(object).where(frame[columns].notna(), MISSING)
    values = values.replace("", MISSING).astype(str)
    return pd.Series(
        list(values.itertuples(index=False, name=None)), index=frame.index, dtype=object
    )


def check_metrics(frame: pd.DataFrame, options: TableOptions) -> None:
    """Rejects metric names that no selected run has, naming the ones that exist."""
    known = set(list_metrics(frame)) | set(DEFAULT_METRICS)
    for parameter, names in (("metrics", options.metrics), ("sort_by", [options.sort_metric])):
        for name in names:
            if name not in known:
                raise ValueError(
                    f"{parameter}: no selected run has the metric {name!r}; valid values are "
                    f"{', '.join(sorted(known))}."
                )
    if options.sort_metric not in options.metrics:
        raise ValueError(
            f"sort_by: {options.sort_metric!r} is not a metric column; valid values are "
            f"{', '.join(options.metrics)}."
        )


def sort_and_cut(table: pd.DataFrame, column: str, options: TableOptions) -> pd.DataFrame:
    """Sorts by one column (missing values last) and keeps the top k rows."""
    table = table.sort_values(
        column, ascending=options.ascending, na_position="last", kind="stable"
    )
    if options.top_k:
        table = table.head(options.top_k)
    return table.reset_index(drop=True)


def build_run_table(
    frame: pd.DataFrame, options: TableOptions, params: Sequence[str], show: Sequence[str]
) -> pd.DataFrame:
    """Builds the one-row-per-run table: identity columns, differing params, metrics."""
    table = frame[["run_name", "run_id", *show, "arch"]].copy()
    for name in params:
        table[name] = frame[f"params.{name}"].astype(object)
    for name in options.metrics:
        table[name] = metric_values(frame, name)
    return sort_and_cut(table, options.sort_metric, options)


def build_group_table(frame: pd.DataFrame, options: TableOptions) -> pd.DataFrame:
    """Builds the one-row-per-group table: keys, n, and each metric's mean and std.

    The std is the sample standard deviation (ddof=1), NaN for a group of one; means and
    stds skip runs that lack the metric, while n counts every run of the group.
    """
    keys = list(options.group_by)
    labels = group_labels(frame, keys)
    metrics = pd.DataFrame({name: metric_values(frame, name) for name in options.metrics})
    metrics["_group"] = labels.to_numpy()
    grouped = metrics.groupby("_group", sort=True)
    table = pd.DataFrame(grouped.size().rename("n"))
    for name in options.metrics:
        table[f"{name}_mean"] = grouped[name].mean()
        table[f"{name}_std"] = grouped[name].std(ddof=1)
    table = table.reset_index()
    for position, key in enumerate(keys):
        table.insert(position, key, table["_group"].map(lambda group, i=position: group[i]))
    table = table.drop(columns="_group")
    return sort_and_cut(table, f"{options.sort_metric}_mean", options)


def compare_best_groups(frame: pd.DataFrame, keys: Sequence[str]) -> str:
    """Says in words whether the two groups with the best mean test accuracy differ.

    It uses Welch's t-test (scipy.stats.ttest_ind with equal_var=False) on the runs' test
    accuracies, at the 5% level; a group needs two runs or more to be tested. When one of
    the best two is a single run (a baseline, say), the best two groups with repeats are
    compared as well, so the sentence still answers the question for the repeated configs.
    """
    values = metric_values(frame, SIGNIFICANCE_METRIC)
    samples: dict[tuple[str, ...], np.ndarray] = {}
    for label, group in values.groupby(group_labels(frame, keys), sort=False):
        present = group.dropna().to_numpy()
        if present.size:
            samples[label] = present
    if len(samples) < 2:
        return (
            f"Significance: {'only one group has' if samples else 'no group has'} "
            f"{SIGNIFICANCE_METRIC}, so there is nothing to compare."
        )
    ranked = sorted(samples, key=lambda label: -samples[label].mean())
    first, second = ranked[0], ranked[1]
    text = f"Best two groups by mean {SIGNIFICANCE_METRIC}: " + compare_two(
        keys, first, samples[first], second, samples[second]
    )
    if min(samples[first].size, samples[second].size) >= 2:
        return text
    repeated = [label for label in ranked if samples[label].size >= 2]
    if len(repeated) >= 2 and repeated[:2] != [first, second]:
        best, runner_up = repeated[0], repeated[1]
        text += " Best two groups with repeats: " + compare_two(
            keys, best, samples[best], runner_up, samples[runner_up]
        )
    return text


def compare_two(
    keys: Sequence[str],
    first: tuple[str, ...],
    a: np.ndarray,
    second: tuple[str, ...],
    b: np.ndarray,
) -> str:
    """Says how far group `first` leads `second` and whether Welch's t-test finds it real."""
    from scipy import stats

    def describe(label: tuple[str, ...], sample: np.ndarray) -> str:
        spread = f" ± {sample.std(ddof=1):.4f}" if sample.size > 1 else ""
        return f"{format_label(keys, label)} ({sample.mean():.4f}{spread}, n={sample.size})"

    lead = f"{describe(first, a)} ahead of {describe(second, b)} by {a.mean() - b.mean():.4f}."
    if min(a.size, b.size) < 2:
        small = format_label(keys, first if a.size < 2 else second)
        return (
            f"{lead} Not tested: {small} has a single run; repeat it under several seeds "
            "(rnn-tracking train --seeds 5, or -P seeds=5) to test the difference."
        )
    test = stats.ttest_ind(a, b, equal_var=False)
    if not np.isfinite(test.pvalue):
        return f"{lead} Welch's t-test is undefined here: neither group varies across runs."
    level = f"{SIGNIFICANCE_LEVEL:.0%}"
    if test.pvalue < SIGNIFICANCE_LEVEL:
        verdict = f"the difference is significant at the {level} level."
    else:
        verdict = (
            f"the difference is not significant at the {level} level; it is within the "
            "run-to-run (seed) spread."
        )
    return f"{lead} Welch's t-test: t = {test.statistic:.2f}, p = {test.pvalue:.3g}; {verdict}"


def format_label(keys: Sequence[str], label: Sequence[str]) -> str:
    """Names a group for people: `lstm, layers=2, dropout=0.3`; missing keys are left out."""
    parts = [
        value if key == "arch" else f"{key}={value}"
        for key, value in zip(keys, label, strict=True)
        if value != MISSING
    ]
    return ", ".join(parts) or MISSING


def build_report(
    selection: Selection, options: TableOptions, client: MlflowClient | None = None
) -> Report:
    """Selects the runs and builds the table and the comparison (no plots, no files).

    Raises NoRunsError when nothing matches, and ValueError (one line, naming the option)
    for an unknown experiment, filter, metric or group key. It runs with Python's cyclic
    collector paused: the runs read and the rows made from them all live on, and over
    10,000 runs the collections their allocation sets off would take most of the time.
    """
    with paused_garbage_collection():
        return build_report_now(selection, options, client)


def build_report_now(
    selection: Selection, options: TableOptions, client: MlflowClient | None
) -> Report:
    """Builds the report (see `build_report`) with the collector as it is."""
    client = client or MlflowClient()
    runs = select_runs(selection, client)
    experiments = {
        experiment_id: name
        for name, experiment_id in resolve_experiment_ids(
            selection.experiment_names, client
        ).items()
    }
    frame = runs_to_frame(runs, experiments)
    check_metrics(frame, options)
    params = tuple(differing_params(frame))
    if options.group_by:
        table = build_group_table(frame, options)
        comparison = compare_best_groups(frame, options.group_by)
    else:
        # The experiment is shown when several are compared, the status when runs other
        # than finished ones were asked for: that is how those runs are marked.
        show = ["experiment"] if frame["experiment"].nunique() > 1 else []
        if selection.statuses != ("FINISHED",):
            show.append("status")
        table = build_run_table(frame, options, params, show)
        comparison = None
    return Report(selection, options, frame, table, params, comparison)
