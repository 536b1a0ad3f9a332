"""The options of `report`: which runs, how the table is laid out, and where it goes."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_tracking.config import _knob


@dataclass(frozen=True)
class ReportOptions:
    """The options of `report`: which runs, how the table is laid out, and where it goes."""

    experiment_name: tuple[str, ...] = _knob(
        (),
        "Experiment to read; repeat it or separate names with commas. Unset means "
        "$MLFLOW_EXPERIMENT_NAME, else MLflow's Default.",
        repeatable=True,
        metavar="NAME",
        group="which runs",
    )
    filter: str = _knob(
        "",
        "MLflow search filter, e.g. \"params.units = '8' and metrics.test_accuracy > 0.7\"; "
        "empty selects every run.",
        group="which runs",
    )
    children: str = _knob(
        "exclude",
        "exclude or include: whether sweep trials (child runs) are rows; seed repeats always "
        "are. Trials are excluded because a sweep's parent run already summarizes them.",
        group="which runs",
    )
    status: str = _knob(
        "finished",
        "Run statuses shown: 'all' or a comma-separated list of finished, failed, killed, "
        "running, scheduled; runs other than finished ones get a status column. Finished "
        "runs are the ones with final metrics.",
        group="which runs",
    )
    group_by: tuple[str, ...] = _knob(
        (),
        "Comma-separated params (or arch) to group by; groups show mean ± std and n. "
        "Unset shows one row per run.",
        repeatable=True,
        metavar="KEYS",
        group="the table",
    )
    metrics: tuple[str, ...] = _knob(
        (
            "param_count",
            "best_epoch",
            "best_val_accuracy",
            "test_accuracy",
            "train_seconds",
            "seconds_per_epoch",
        ),
        "Comma-separated metric columns; by default the model's size, when it stopped, how "
        "well it did and how fast it was.",
        repeatable=True,
        metavar="NAMES",
        group="the table",
    )
    sort_by: str | None = _knob(
        None,
        "Metric to sort by; unset means test_accuracy, else the first metric column.",
        metavar="METRIC",
        group="the table",
    )
    order: str = _knob(
        "desc",
        "Sort order; desc puts the best accuracy first.",
        choices=("desc", "asc"),
        group="the table",
    )
    top_k: int = _knob(
        0, "Keep the first K rows or groups; 0 keeps all.", metavar="K", group="the table"
    )
    max_curves: int = _knob(
        50,
        "Learning curves drawn at most, best first; only their histories are read. 50 "
        "curves still tell apart on one plot.",
        metavar="N",
        group="the table",
    )
    markdown: str | None = _knob(
        None, "Write the table as Markdown.", metavar="FILE", group="outputs"
    )
    csv: str | None = _knob(
        None, "Write the numeric table as CSV.", metavar="FILE", group="outputs"
    )
    html: str | None = _knob(
        None, "Write one self-contained HTML page with the plots.", metavar="FILE", group="outputs"
    )
    plots_dir: str | None = _knob(
        None, "Write the plots as PNG files.", metavar="DIR", group="outputs"
    )
    output_dir: str | None = _knob(
        None,
        "Write all of them (report.md, report.csv, report.html, plots/) into DIR.",
        metavar="DIR",
        group="outputs",
    )
    log_to_mlflow: bool = _knob(
        False,
        "Also log the outputs as artifacts of a run named 'report' (always inside mlflow run).",
        flag=True,
        group="outputs",
    )
