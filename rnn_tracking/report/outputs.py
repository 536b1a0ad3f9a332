"""Where a report goes besides the terminal: files on disk and a `report` run in MLflow."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from rnn_tracking.report.plots import make_plots
from rnn_tracking.report.render import render_csv, render_html, render_markdown
from rnn_tracking.report.table import Report
from rnn_tracking.runs import REPORT_KIND, REPORT_KIND_TAG, launcher_run_id, open_run


@dataclass(frozen=True)
class Outputs:
    """Where the report goes besides the terminal; None means not written.

    `output_dir` writes all of them (report.md, report.csv, report.html, plots/) unless a
    path is given for one. `log_to_mlflow` logs them as the artifacts of a `report` run.
    """

    markdown: Path | None = None
    csv: Path | None = None
    html: Path | None = None
    plots_dir: Path | None = None
    output_dir: Path | None = None
    log_to_mlflow: bool = False

    def resolved(self, scratch: Path | None) -> Outputs:
        """Fills the paths left empty from output_dir, or from scratch when logging."""
        base = self.output_dir or (scratch if self.log_to_mlflow else None)
        if base is None:
            return self
        return Outputs(
            markdown=self.markdown or base / "report.md",
            csv=self.csv or base / "report.csv",
            html=self.html or base / "report.html",
            plots_dir=self.plots_dir or base / "plots",
            output_dir=base,
            log_to_mlflow=self.log_to_mlflow,
        )

    @property
    def needs_plots(self) -> bool:
        return self.html is not None or self.plots_dir is not None


def write_text(path: Path, text: str) -> Path:
    """Writes a file through a temporary sibling and a rename, so it is never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def write_outputs(
    report: Report, outputs: Outputs, client: MlflowClient | None = None
) -> list[Path]:
    """Writes the requested files and returns their paths (plots only when needed)."""
    written = []
    plots = make_plots(report, client) if outputs.needs_plots else {}
    if outputs.plots_dir is not None:
        outputs.plots_dir.mkdir(parents=True, exist_ok=True)
        for name, png in plots.items():
            (outputs.plots_dir / name).write_bytes(png)
            written.append(outputs.plots_dir / name)
    if outputs.markdown is not None:
        written.append(write_text(outputs.markdown, render_markdown(report)))
    if outputs.csv is not None:
        written.append(write_text(outputs.csv, render_csv(report)))
    if outputs.html is not None:
        written.append(write_text(outputs.html, render_html(report, plots)))
    return written


def log_report(report: Report, files: Sequence[Path], experiment_name: str | None) -> str:
    """Logs the written files as the artifacts of a `report` run and returns its id.

    Inside `mlflow run -e report` the run that `mlflow run` made is used; otherwise a new
    run named `report` opens in `experiment_name` (the active experiment if there is no
    such experiment). It is tagged so that no later report shows it as a row, and it ends
    like every run: KILLED on Ctrl-C, FAILED with an `error` tag if logging fails.
    """
    experiment_id = None
    if experiment_name and not launcher_run_id():
        experiment = mlflow.get_experiment_by_name(experiment_name)
        experiment_id = experiment.experiment_id if experiment else None
    tags = {REPORT_KIND_TAG: REPORT_KIND}
    with open_run(REPORT_KIND, experiment_id=experiment_id, tags=tags) as run:
        mlflow.log_dict(
            {
                "selection": report.selection.describe(),
                "group_by": list(report.options.group_by),
                "metrics": list(report.options.metrics),
                "sort_by": report.options.sort_metric,
                "top_k": report.options.top_k,
                "run_ids": report.runs["run_id"].tolist(),
                "comparison": report.comparison,
            },
            "report.json",
        )
        mlflow.log_metric("runs", len(report.runs))
        for path in files:
            folder = "plots" if path.suffix == ".png" else None
            mlflow.log_artifact(str(path), artifact_path=folder)
        return run.info.run_id
