"""Which runs a report reads: the selection, run statuses, and the search that applies them."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from rnn_tracking.runs import (
    ENTRY_POINT_TAG,
    PARENT_RUN_TAG,
    REPORT_KIND,
    REPORT_KIND_TAG,
    SEED_REPEAT_OF_TAG,
    SEED_REPEATS_TAG,
    launcher_run_id,
    resolve_experiment_ids,
    search_runs_paged,
)

STATUSES = ("FINISHED", "FAILED", "KILLED", "RUNNING", "SCHEDULED")
CHILDREN = ("exclude", "include")


def parse_statuses(text: str) -> tuple[str, ...]:
    """Reads `finished`, `all` or a comma-separated list of statuses, in any case."""
    if text.strip().lower() == "all":
        return STATUSES
    return tuple(dict.fromkeys(part.strip().upper() for part in text.split(",") if part.strip()))


class NoRunsError(LookupError):
    """No run matches the selection; the message says which selection that was."""


@dataclass(frozen=True)
class Selection:
    """Which runs a report reads.

    `experiment_names` empty means the active experiment ($MLFLOW_EXPERIMENT_NAME or
    $MLFLOW_EXPERIMENT_ID, else MLflow's Default). `filter_string` is MLflow's search
    syntax (`params.units = '8' and metrics.test_accuracy > 0.7`). `children` says whether
    sweep trials (child runs) are in; seed repeats are always in, since they are the runs a
    mean ± std is made of. `statuses` lists the run statuses shown.
    """

    experiment_names: tuple[str, ...] = ()
    filter_string: str = ""
    children: str = "exclude"
    statuses: tuple[str, ...] = ("FINISHED",)

    def __post_init__(self) -> None:
        if self.children not in CHILDREN:
            raise ValueError(
                f"children: got {self.children!r}; valid values are {', '.join(CHILDREN)}."
            )
        bad = [status for status in self.statuses if status not in STATUSES]
        if bad or not self.statuses:
            raise ValueError(
                f"status: got {(bad or [''])[0].lower()!r}; valid values are 'all' or a "
                f"comma-separated list of {', '.join(s.lower() for s in STATUSES)}."
            )

    def describe(self) -> str:
        """Says in words which runs were selected, for headers and error messages."""
        names = ", ".join(repr(name) for name in self.experiment_names) or "the active one"
        statuses = (
            "any status"
            if set(self.statuses) == set(STATUSES)
            else "status " + ", ".join(status.lower() for status in self.statuses)
        )
        parts = [f"experiment(s) {names}", statuses]
        if self.filter_string:
            parts.append(f"filter {self.filter_string!r}")
        parts.append(f"sweep child runs {self.children}d")
        return "; ".join(parts)


def is_shown_run(run: Run, selection: Selection, own_run_id: str | None) -> bool:
    """Says whether a searched run belongs in the table.

    Reports (this one included) and seed-repeat parents are never rows: a parent trained
    no model, its children did. Child runs are sweep trials unless they are seed repeats.
    """
    tags = run.data.tags
    if run.info.run_id == own_run_id or tags.get(REPORT_KIND_TAG) == REPORT_KIND:
        return False
    if tags.get(ENTRY_POINT_TAG) == REPORT_KIND or SEED_REPEATS_TAG in tags:
        return False
    is_sweep_child = PARENT_RUN_TAG in tags and SEED_REPEAT_OF_TAG not in tags
    return selection.children == "include" or not is_sweep_child


def select_runs(selection: Selection, client: MlflowClient | None = None) -> list[Run]:
    """Returns the runs a selection names, oldest first; raises NoRunsError if none."""
    client = client or MlflowClient()
    experiments = resolve_experiment_ids(selection.experiment_names, client)
    # MLflow's filter compares the status with one value only; several are kept below.
    conditions = []
    if len(selection.statuses) == 1:
        conditions.append(f"attributes.status = '{selection.statuses[0]}'")
    if selection.filter_string.strip():
        conditions.append(selection.filter_string.strip())
    try:
        runs = list(
            search_runs_paged(experiments.values(), " and ".join(conditions), client=client)
        )
    except mlflow.exceptions.MlflowException as error:
        message = str(error.message).splitlines()[0]
        raise ValueError(
            f"filter: MLflow cannot read {selection.filter_string!r} ({message}); valid values "
            "are MLflow search filters such as \"params.arch = 'lstm'\"."
        ) from None
    own_run_id = launcher_run_id()
    shown = [
        run
        for run in runs
        if run.info.status in selection.statuses and is_shown_run(run, selection, own_run_id)
    ]
    if not shown:
        raise NoRunsError(f"no runs match: {selection.describe()}.")
    return shown
