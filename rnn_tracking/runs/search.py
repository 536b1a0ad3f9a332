"""Finding experiments by name and runs by filter, page by page."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

# Runs read per page of a search; MLflow's SQL store caps a page at 50,000.
SEARCH_PAGE_SIZE = 1000
# MLflow's Default experiment, which every store has.
DEFAULT_EXPERIMENT_ID = "0"


def resolve_experiment_ids(
    names: Sequence[str] = (), client: MlflowClient | None = None
) -> dict[str, str]:
    """Maps experiment names to ids, in order; names may also come comma-separated (`a,b`).

    With no names: $MLFLOW_EXPERIMENT_NAME, else $MLFLOW_EXPERIMENT_ID (which `mlflow run`
    sets), else MLflow's Default experiment. An unknown name is a ValueError that lists the
    experiments that exist.
    """
    client = client or MlflowClient()
    parts = [part.strip() for name in names for part in name.split(",") if part.strip()]
    if not parts:
        environment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if not environment_name:
            experiment_id = os.environ.get("MLFLOW_EXPERIMENT_ID") or DEFAULT_EXPERIMENT_ID
            experiment = client.get_experiment(experiment_id)
            return {experiment.name: experiment.experiment_id}
        parts = [environment_name]
    found = {}
    for name in parts:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            known = [each.name for each in client.search_experiments(max_results=50)]
            raise ValueError(
                f"experiment_name: no experiment named {name!r}; valid values are the "
                f"experiments in the store: {', '.join(repr(k) for k in known) or 'none'}."
            )
        found[experiment.name] = experiment.experiment_id
    return found


@contextmanager
def paused_garbage_collection() -> Iterator[None]:
    """Holds Python's cyclic garbage collector off for a block, and restores it after.

    MLflow's SQL store builds about 50 ORM objects per run it reads (params, tags, latest
    metrics), and each allocation burst sets off collections that walk every live object:
    over a page of 1,000 runs that is two thirds of the search's CPU time. The objects form
    no lasting cycles, so nothing is kept that a later collection would not free.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def search_runs_paged(
    experiment_ids: Sequence[str],
    filter_string: str = "",
    *,
    order_by: Sequence[str] = ("attributes.start_time ASC",),
    client: MlflowClient | None = None,
    page_size: int = SEARCH_PAGE_SIZE,
) -> Iterator[Run]:
    """Yields every active run that matches the filter, in order, reading page by page.

    A caller that stops early (the first good run) reads no further pages.
    """
    from mlflow.entities import ViewType

    client = client or MlflowClient()
    token = None
    while True:
        with paused_garbage_collection():
            page = client.search_runs(
                list(experiment_ids),
                filter_string=filter_string,
                run_view_type=ViewType.ACTIVE_ONLY,
                max_results=page_size,
                order_by=list(order_by),
                page_token=token,
            )
        yield from page
        token = page.token
        if not token:
            return
