"""The report's plots: learning curves, test accuracy per group, and the Pareto fronts.

Matplotlib is imported only when a plot is drawn, so a table-only report starts fast.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from rnn_tracking.report.table import (
    SIGNIFICANCE_METRIC,
    Report,
    format_label,
    group_labels,
    metric_values,
)

CURVE_METRIC = "val_accuracy"

# Text properties for what users wrote (run names, params, group keys): drawn as written,
# never parsed as mathtext (`$...$`, backslashes) nor sent through LaTeX, so a param value
# such as `a$b` or `\alpha` can neither crash a plot nor change what it says.
LITERAL_TEXT = {"parse_math": False, "usetex": False}

PLOT_NAMES = (
    "learning_curves.png",
    "test_accuracy_by_group.png",
    "accuracy_vs_train_seconds.png",
    "accuracy_vs_param_count.png",
)
# The cost summaries of `runs.log_run_cost`: a report that shows one of them as a column
# (`--metrics ...,cpu_seconds`) also plots test accuracy against it, Pareto front marked.
COST_METRICS = ("cpu_seconds", "peak_rss_mb", "gpu_peak_memory_mb")


def pareto_front(costs: Sequence[float], scores: Sequence[float]) -> np.ndarray:
    """Returns a boolean mask of the points no other point beats: cheaper and no worse.

    A point is on the front when every point at most as costly scores lower. Points with
    a missing cost or score are never on it.
    """
    costs, scores = np.asarray(costs, dtype=float), np.asarray(scores, dtype=float)
    mask = np.zeros(costs.shape, dtype=bool)
    valid = np.flatnonzero(np.isfinite(costs) & np.isfinite(scores))
    best = -np.inf
    for index in valid[np.lexsort((-scores[valid], costs[valid]))]:
        if scores[index] > best:
            mask[index] = True
            best = scores[index]
    return mask


def show_literally(texts: Sequence) -> None:
    """Makes Matplotlib draw each Text artist as written (see LITERAL_TEXT)."""
    for text in texts:
        text.set(**LITERAL_TEXT)


def figure_to_png(figure) -> bytes:
    """Renders a Matplotlib figure to PNG bytes and closes it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def plot_groups(report: Report) -> tuple[tuple[str, ...], pd.Series]:
    """Returns the keys the plots colour by and each shown run's group label.

    They are the table's groups; an ungrouped table is coloured by `arch`.
    """
    keys = report.options.group_by or ("arch",)
    runs = report.shown_runs()
    return keys, group_labels(runs, keys).map(lambda label: format_label(keys, label))


def plot_learning_curves(report: Report, client: MlflowClient) -> bytes:
    """Overlays validation accuracy per epoch of the shown runs, one colour per group.

    Only these runs' histories are fetched, at most `max_curves` of them, best first.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    runs = report.shown_runs()
    _, labels = plot_groups(report)
    order = (
        metric_values(runs, report.options.sort_metric)
        .sort_values(ascending=report.options.ascending, na_position="last")
        .index[: report.options.max_curves]
    )
    colours = colour_map(labels)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    drawn: set[str] = set()
    for index in order:
        history = client.get_metric_history(runs.at[index, "run_id"], CURVE_METRIC)
        if not history:
            continue
        points = sorted((metric.step, metric.value) for metric in history)
        label = labels[index]
        axis.plot(
            [step for step, _ in points],
            [value for _, value in points],
            color=colours[label],
            marker="." if len(points) < 30 else None,
            alpha=0.8,
            label=None if label in drawn else label,
        )
        drawn.add(label)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel(CURVE_METRIC)
    axis.set_title(f"{CURVE_METRIC} per epoch ({len(order)} runs)")
    if drawn:
        show_literally(axis.legend(fontsize="small").get_texts())
    return figure_to_png(figure)


def colour_map(labels: pd.Series) -> dict[str, object]:
    """Gives each group label its own colour, in order of first appearance."""
    import matplotlib

    palette = matplotlib.colormaps["tab10"]
    unique = list(dict.fromkeys(labels))
    return {label: palette(index % 10) for index, label in enumerate(unique)}


def plot_group_accuracy(report: Report) -> bytes:
    """Bars of mean test accuracy per group, with error bars of one std over the runs."""
    import matplotlib.pyplot as plt

    runs = report.shown_runs()
    keys, labels = plot_groups(report)
    values = metric_values(runs, SIGNIFICANCE_METRIC)
    stats = values.groupby(labels.to_numpy()).agg(["mean", "std", "count"]).dropna(subset=["mean"])
    stats = stats.sort_values("mean", ascending=False)
    figure, axis = plt.subplots(figsize=(max(5, 1.3 * len(stats) + 2), 4.5))
    positions = np.arange(len(stats))
    axis.bar(positions, stats["mean"], yerr=stats["std"].fillna(0), capsize=6, color="#4c72b0")
    tops = stats["mean"] + stats["std"].fillna(0)
    for position, (mean, top, count) in enumerate(
        zip(stats["mean"], tops, stats["count"], strict=True)
    ):
        axis.annotate(
            f"{mean:.4f}\nn={count}",
            (position, top),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            va="bottom",
            fontsize="small",
        )
    axis.set_xticks(positions, stats.index, rotation=20, ha="right", **LITERAL_TEXT)
    if len(stats):
        low = (stats["mean"] - stats["std"].fillna(0)).min()
        axis.set_ylim(max(0.0, low - 0.05), min(1.05, tops.max() + 0.06))
    axis.set_ylabel(f"{SIGNIFICANCE_METRIC} (mean ± std)")
    axis.set_title(f"{SIGNIFICANCE_METRIC} by {', '.join(keys)}", **LITERAL_TEXT)
    return figure_to_png(figure)


def plot_pareto(report: Report, cost: str) -> bytes:
    """Test accuracy against a cost (train_seconds or param_count), Pareto front marked.

    Grouped reports plot each group's mean with std error bars; others plot each run,
    coloured by `arch`. Points are named by group or run name.
    """
    import matplotlib.pyplot as plt

    runs = report.shown_runs()
    _, labels = plot_groups(report)
    points = pd.DataFrame(
        {
            "cost": metric_values(runs, cost).to_numpy(),
            "score": metric_values(runs, SIGNIFICANCE_METRIC).to_numpy(),
            "group": labels.to_numpy(),
            "label": runs["run_name"].to_numpy(),
            "cost_std": np.nan,
            "score_std": np.nan,
        }
    )
    if report.grouped:
        grouped = points.groupby("group", sort=False)[["cost", "score"]]
        points = grouped.mean().join(grouped.std(ddof=1), rsuffix="_std").reset_index()
        points["label"] = points["group"]
    points = points.dropna(subset=["cost", "score"]).reset_index(drop=True)
    front = pareto_front(points["cost"], points["score"])
    colours = colour_map(labels)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    drawn: set[str] = set()
    for _, point in points.iterrows():
        axis.errorbar(
            point["cost"],
            point["score"],
            xerr=None if pd.isna(point["cost_std"]) else point["cost_std"],
            yerr=None if pd.isna(point["score_std"]) else point["score_std"],
            fmt="o",
            color=colours[point["group"]],
            alpha=0.8,
            capsize=3,
            label=None if point["group"] in drawn else point["group"],
        )
        drawn.add(point["group"])
    if front.any():
        edge = points[front].sort_values("cost")
        axis.step(
            edge["cost"],
            edge["score"],
            where="post",
            color="black",
            linewidth=1,
            label="Pareto front",
        )
        axis.scatter(edge["cost"], edge["score"], s=140, facecolors="none", edgecolors="black")
        for _, point in edge.iterrows():
            axis.annotate(
                point["label"],
                (point["cost"], point["score"]),
                textcoords="offset points",
                xytext=(6, -10),
                fontsize="small",
                **LITERAL_TEXT,
            )
    if len(points):
        show_literally(axis.legend(fontsize="small", loc="best").get_texts())
    positive = points["cost"][points["cost"] > 0]
    if len(positive) and positive.max() / positive.min() > 20:
        axis.set_xscale("log")
    axis.set_xlabel(cost)
    axis.set_ylabel(SIGNIFICANCE_METRIC)
    axis.set_title(f"{SIGNIFICANCE_METRIC} against {cost}")
    return figure_to_png(figure)


def make_plots(report: Report, client: MlflowClient | None = None) -> dict[str, bytes]:
    """Draws the report's four plots, and one Pareto plot per cost column (COST_METRICS)
    the table shows; returns {file name: PNG bytes}."""
    import matplotlib

    matplotlib.use("Agg")
    client = client or MlflowClient()
    costs = [name for name in report.options.metrics if name in COST_METRICS]
    return dict(
        zip(
            [*PLOT_NAMES, *(f"accuracy_vs_{cost}.png" for cost in costs)],
            (
                plot_learning_curves(report, client),
                plot_group_accuracy(report),
                plot_pareto(report, "train_seconds"),
                plot_pareto(report, "param_count"),
                *(plot_pareto(report, cost) for cost in costs),
            ),
            strict=True,
        )
    )
