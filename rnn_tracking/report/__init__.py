"""The comparison report: tracked runs pulled into one table, grouped, tested and plotted.

A report answers "which architecture is better, by how much, at what cost, and is the
difference real?". It reads runs from the tracking store, never writes to them, and builds:

- a table with one row per run (name, id, `arch`, only the params that differ among the
  selected runs, then the metric columns), or one row per group of runs (by `arch` or any
  params) holding each metric's mean ± std and the group's size n;
- a sentence saying whether the best two groups differ significantly in test accuracy
  (Welch's t-test, which does not assume equal spreads);
- plots: validation accuracy per epoch overlaid, test accuracy per group with error bars,
  and test accuracy against training time and against parameter count with the Pareto front;
- the same content as an aligned terminal table, Markdown, CSV and one self-contained HTML
  page, where every value is escaped because run names and params come from users.

Runs are read page by page, and metric histories are fetched only for the runs whose learning
curves are drawn, so a report over thousands of runs stays fast. Runs that other tools logged
(no `arch`, missing metrics) are shown with blanks, not refused.

The rooms: `select` (which runs), `table` (rows, groups, the t-test), `render` (terminal,
Markdown, CSV, HTML), `plots`, and `outputs` (files and the report's own run). This module
re-exports the names that the CLI, the benchmarks and the tests use.
"""

from rnn_tracking.report.outputs import Outputs, log_report, write_outputs
from rnn_tracking.report.plots import PLOT_NAMES, make_plots, pareto_front
from rnn_tracking.report.render import (
    display_table,
    render_csv,
    render_html,
    render_markdown,
    render_terminal,
)
from rnn_tracking.report.select import (
    CHILDREN,
    STATUSES,
    NoRunsError,
    Selection,
    parse_statuses,
    select_runs,
)
from rnn_tracking.report.table import (
    DEFAULT_METRICS,
    MAX_CURVES,
    MISSING,
    Report,
    TableOptions,
    build_report,
    compare_best_groups,
)
from rnn_tracking.runs import REPORT_KIND_TAG, SEED_REPEAT_OF_TAG, SEED_REPEATS_TAG

__all__ = [
    "CHILDREN",
    "DEFAULT_METRICS",
    "MAX_CURVES",
    "MISSING",
    "PLOT_NAMES",
    "REPORT_KIND_TAG",
    "SEED_REPEATS_TAG",
    "SEED_REPEAT_OF_TAG",
    "STATUSES",
    "NoRunsError",
    "Outputs",
    "Report",
    "Selection",
    "TableOptions",
    "build_report",
    "compare_best_groups",
    "display_table",
    "log_report",
    "make_plots",
    "pareto_front",
    "parse_statuses",
    "render_csv",
    "render_html",
    "render_markdown",
    "render_terminal",
    "select_runs",
    "write_outputs",
]
