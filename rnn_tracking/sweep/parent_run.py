"""The MLflow side of a study: its parent run, the session runs and the trial runs' tags.

A study is one parent run; each trial is a nested run made by `tracking.track_training`.
These helpers keep the sweep's own MLflow calls in one room, so the Optuna side of the
package (`study`, `session`, `storage`, `trials`) never imports mlflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

from rnn_tracking import runs


def tracking_store_directory() -> Path:
    """Returns the folder of the SQLite tracking database in use, else the working folder."""
    database = runs.sqlite_database_path(mlflow.get_tracking_uri())
    return database.parent if database is not None else Path.cwd()


def start_study_parent(
    study_name: str, tags: dict[str, str], launcher_run_id: str | None = None
) -> str:
    """Starts the candidate parent run of a new study and makes it active; returns its id.

    Inside `mlflow run`, the run it made becomes the candidate, renamed after the study.
    """
    run = mlflow.start_run(run_id=launcher_run_id, run_name=study_name, tags=tags)
    return run.info.run_id


def discard_run(run_id: str, superseded_by: str) -> None:
    """Ends and deletes a candidate parent run that lost the race to create the study.

    Deleted runs stay in the store (`mlflow gc` removes them) but leave the UI, so a study
    shows one parent. Only runs the sweep made itself are deleted: `mlflow run` fails when
    the run it made is gone by the end (see `keep_as_session`).
    """
    client = MlflowClient()
    client.set_tag(run_id, runs.SUPERSEDED_BY_TAG, superseded_by)
    active = mlflow.active_run()
    if active is not None and active.info.run_id == run_id:
        runs.end_active_run(runs.FINISHED)
    else:
        client.set_terminated(run_id, runs.FINISHED)
    client.delete_run(run_id)


def keep_as_session(run_id: str, parent_run_id: str, study_name: str) -> None:
    """Nests the run that `mlflow run` made for a worker under the study's existing parent.

    A worker that joins or continues a study cannot make `mlflow run`'s run the study's
    parent (the study has one), and must not delete it (`mlflow run` ends it after the
    worker exits), so the run stays as a record of that session: its params are the
    `-P` values, its tag `sweep_session` says what it is, and it holds no trial.
    """
    set_run_tags(
        run_id,
        {
            runs.PARENT_RUN_TAG: parent_run_id,
            runs.RUN_NAME_TAG: f"{study_name}-session",
            runs.SESSION_TAG: "true",
            runs.STUDY_TAG: study_name,
        },
    )
    active = mlflow.active_run()
    if active is not None and active.info.run_id == run_id:
        runs.end_active_run(runs.FINISHED)


def resume_study_parent(run_id: str) -> None:
    """Makes a study's existing parent run the active run, so that trial runs nest under it.

    Trial runs go to the parent's experiment whatever experiment is selected, since a child
    must live beside its parent. Raises ValueError when this tracking store lacks the run.
    """
    active = mlflow.active_run()
    if active is not None and active.info.run_id == run_id:
        return
    from mlflow.exceptions import MlflowException

    try:
        run = MlflowClient().get_run(run_id)
    except MlflowException:
        run = None
    if run is None or run.info.lifecycle_stage == "deleted":
        raise ValueError(
            f"storage: the study's parent run {run_id} is not in the tracking store "
            f"{mlflow.get_tracking_uri()}; valid values are the storage and tracking store "
            "(MLFLOW_TRACKING_URI) used together when the study began, or a new study_name."
        )
    mlflow.set_experiment(experiment_id=run.info.experiment_id)
    mlflow.start_run(run_id=run_id)


def end_study_parent(
    status: str, error: BaseException | None = None, *, still_running: bool = False
) -> None:
    """Ends the active parent run by the one status policy (`runs.end_active_run`).

    `status` is FINISHED, KILLED (Ctrl-C or SIGTERM) or FAILED; the latter two come with the
    `error` that is tagged. While other workers still run trials of the study
    (`still_running`), the run is only popped from this process and left RUNNING for them,
    untagged: it has not ended, and the last worker ends it.
    """
    if still_running:
        runs.end_active_run(runs.RUNNING)
    else:
        runs.end_active_run(status, error)


def active_run_id() -> str | None:
    """Returns the id of the innermost active run (a trial's run, during its training)."""
    run = mlflow.active_run()
    return run.info.run_id if run is not None else None


def find_child_run(parent_run_id: str, tag: str, value: str) -> str | None:
    """Returns the id of a child of `parent_run_id` whose tag `tag` equals `value`, if any."""
    client = MlflowClient()
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.{runs.PARENT_RUN_TAG} = '{parent_run_id}' and tags.{tag} = '{value}'",
        max_results=1,
    )
    return found[0].info.run_id if found else None


def set_run_tags(run_id: str, tags: dict[str, str]) -> None:
    """Sets tags on any run, finished or not (e.g. a trial's state after its run ended)."""
    from mlflow.entities import RunTag

    MlflowClient().log_batch(run_id, tags=[RunTag(key, str(value)) for key, value in tags.items()])


# The artifact of a failed trial's run with its whole traceback (its `error` tag has one line).
TRACEBACK_ARTIFACT = "error_traceback.txt"


def log_error_traceback(run_id: str, error: BaseException) -> None:
    """Logs `error`'s whole traceback on a run as `error_traceback.txt`.

    The sweep prints one line per failed trial; the traceback a developer needs is kept here.
    """
    import traceback

    text = "".join(traceback.format_exception(error))
    MlflowClient().log_text(run_id, text, TRACEBACK_ARTIFACT)


def fail_orphaned_run(run_id: str, error: str) -> bool:
    """Ends a run FAILED with an `error` tag if it is still RUNNING; says whether it was.

    Used for the run of a trial whose worker died: nothing else would ever end it.
    """
    client = MlflowClient()
    if client.get_run(run_id).info.status != runs.RUNNING:
        return False
    client.set_tag(run_id, runs.ERROR_TAG, error)
    client.set_terminated(run_id, runs.FAILED)
    return True


def log_study_metrics(parent_run_id: str, metrics: dict[str, float], step: int) -> None:
    """Logs the study's counts and best value, with step = trials done, on its parent run."""
    mlflow.log_metrics(metrics, step=step, run_id=parent_run_id)


def log_study_table(parent_run_id: str, csv_text: str) -> None:
    """Logs (or replaces) the study's trials table as `trials.csv` on its parent run."""
    MlflowClient().log_text(parent_run_id, csv_text, "trials.csv")


def log_study_artifacts(parent_run_id: str, space_path: Path, figures: dict[str, Any]) -> None:
    """Logs the space file and each matplotlib figure as `plots/<name>.png` on the parent."""
    client = MlflowClient()
    client.log_artifact(parent_run_id, str(space_path))
    for name, figure in figures.items():
        client.log_figure(parent_run_id, figure, f"plots/{name}.png")


def log_best_params(parent_run_id: str, params: dict[str, str]) -> bool:
    """Logs the best trial's values as params; returns False if older values are in the way.

    MLflow params never change, so a study that finds a new best after its params were
    logged (a later, longer session) keeps the first ones; the caller says so.
    """
    from mlflow.entities import Param

    client = MlflowClient()
    existing = client.get_run(parent_run_id).data.params
    if any(existing.get(name, value) != value for name, value in params.items()):
        return False
    missing = [Param(name, value) for name, value in params.items() if name not in existing]
    if missing:
        client.log_batch(parent_run_id, params=missing)
    return True


def log_study_importances(
    parent_run_id: str, importances: dict[str, dict[str, float]], step: int
) -> dict[str, float]:
    """Logs parameter importances as metrics and as `importances.json`; returns the metrics.

    `importances` is {objective: {param: importance}}. The first objective's importance of
    a param is the metric `importance_<param>` (what `rnn-tracking report --metrics
    importance_units` shows); each further objective's is `importance_<objective>_<param>`.
    The JSON holds them all, most important first.
    """
    metrics = {}
    for index, (objective, values) in enumerate(importances.items()):
        prefix = "importance_" if index == 0 else f"importance_{objective}_"
        metrics |= {f"{prefix}{param}": value for param, value in values.items()}
    if metrics:
        mlflow.log_metrics(metrics, step=step, run_id=parent_run_id)
        MlflowClient().log_dict(parent_run_id, importances, "importances.json")
    return metrics
