"""The report as people read it: an aligned terminal table, Markdown, CSV and one HTML page.

Every value is escaped because run names and params come from users.
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Sequence

import pandas as pd

from rnn_tracking.report.table import MISSING, Report

# The HTML page, in the package's templates/ folder.
PAGE_TEMPLATE = "report.html"

# Shown as whole numbers in a run's row; every other metric gets a fixed number of decimals.
INTEGER_METRICS = ("param_count", "best_epoch", "epochs_run")


def format_number(name: str, value: float, whole: bool = True) -> str:
    """Spells one metric value: integers with thousands separators, seconds with 1 decimal,
    accuracies and other metrics with 4; missing values as MISSING.

    With `whole` False (group means and stds), an integer metric keeps 1 decimal unless the
    value is whole: `8,809 ± 0`, `5.3 ± 1.2`.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if name in INTEGER_METRICS and (whole or float(value).is_integer()):
        return f"{value:,.0f}"
    if name in INTEGER_METRICS or name.endswith("seconds") or name == "seconds_per_epoch":
        return f"{value:,.1f}"
    return f"{value:.4f}"


def display_table(report: Report) -> pd.DataFrame:
    """Returns the table as the strings people read: `0.8123 ± 0.0040` in groups."""
    table = report.table
    shown = pd.DataFrame(index=table.index)
    metrics = report.options.metrics
    for column in table.columns:
        if report.grouped and column.endswith(("_mean", "_std")):
            continue
        if column in metrics and not report.grouped:
            shown[column] = [format_number(column, v) for v in table[column]]
        else:
            shown[column] = [MISSING if pd.isna(v) or v == "" else str(v) for v in table[column]]
    if report.grouped:
        for name in metrics:
            means, stds = table[f"{name}_mean"], table[f"{name}_std"]
            shown[name] = [
                format_number(name, m, whole=False)
                + ("" if pd.isna(s) or pd.isna(m) else f" ± {format_number(name, s, whole=False)}")
                for m, s in zip(means, stds, strict=True)
            ]
    return shown.reset_index(drop=True)


def numeric_columns(report: Report) -> set[str]:
    """Returns the table's columns that hold numbers (right-aligned)."""
    if report.grouped:
        return {"n", *report.options.metrics}
    return set(report.options.metrics)


def column_alignment(report: Report, columns: Sequence[str]) -> list[str]:
    numeric = numeric_columns(report)
    return ["right" if column in numeric else "left" for column in columns]


def render_terminal(report: Report) -> str:
    """Returns the aligned terminal table with a header line and the comparison."""
    from tabulate import tabulate

    shown = display_table(report)
    table = tabulate(
        shown.values.tolist(),
        headers=list(shown.columns),
        tablefmt="simple",
        colalign=column_alignment(report, shown.columns),
        disable_numparse=True,
    )
    lines = [f"{len(report.runs)} runs ({report.selection.describe()})", "", table]
    if report.comparison:
        lines += ["", report.comparison]
    return "\n".join(lines)


def escape_markdown(text: str) -> str:
    """Escapes the characters that would break a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    """Returns the table as a GitHub Markdown table, with the comparison below it."""
    shown = display_table(report).map(escape_markdown)
    shown.columns = [escape_markdown(column) for column in shown.columns]
    text = shown.to_markdown(
        index=False, colalign=column_alignment(report, shown.columns), disable_numparse=True
    )
    if report.comparison:
        text += "\n\n" + escape_markdown(report.comparison)
    return text + "\n"


def render_csv(report: Report) -> str:
    """Returns the numeric table as CSV: full precision, group means and stds apart."""
    return report.table.to_csv(index=False)


@functools.cache
def load_page_template():
    """Loads the HTML page template shipped in the package, with autoescape on.

    Autoescape runs every value, header and caption through HTML escaping, so a run named
    `<script>...</script>` is shown as text wherever the template places it.
    """
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("rnn_tracking.report", "templates"),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template(PAGE_TEMPLATE)


def render_html(report: Report, plots: dict[str, bytes]) -> str:
    """Returns one self-contained HTML page: the table, the comparison and the plots.

    The page is `templates/report.html` with autoescape on, so every user value is shown as
    text; the plots are embedded as base64 PNG data URIs. The page is also well-formed XML.
    """
    shown = display_table(report)
    numeric = numeric_columns(report)

    def kind(column: str) -> str:
        return "num" if column in numeric else "text"

    columns = [{"name": str(column), "kind": kind(column)} for column in shown.columns]
    rows = [
        [
            {"value": str(value), "kind": kind(column)}
            for column, value in zip(shown.columns, row, strict=True)
        ]
        for row in shown.itertuples(index=False)
    ]
    figures = [
        {"name": name, "source": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}
        for name, png in plots.items()
    ]
    return load_page_template().render(
        selection=f"{len(report.runs)} runs: {report.selection.describe()}.",
        created=report.created,
        columns=columns,
        rows=rows,
        comparison=report.comparison,
        figures=figures,
    )
