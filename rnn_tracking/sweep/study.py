"""The Optuna study: loading or creating it, its one parent run, its best trial, table, plots.

A study is one MLflow parent run, recorded on the study (user attribute
`mlflow_parent_run_id`) together with the space it began with. A multi-objective study has
no single best trial but a Pareto front (`pareto_trials`), plotted and marked in the table.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from rnn_tracking import runs
from rnn_tracking.sweep import parent_run
from rnn_tracking.sweep.space import SearchSpace
from rnn_tracking.sweep.storage import RUN_ATTR
from rnn_tracking.sweep.trials import Tally, tally_trials

# How long a worker that joins a new study waits for its creator to name the parent run.
PARENT_WAIT_SECONDS = 30.0

# Names on the Optuna side (user attributes of the study).
PARENT_ATTR = "mlflow_parent_run_id"
SPACE_ATTR = "space"


def load_study_if_exists(
    name: str,
    storage: optuna.storages.BaseStorage,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study | None:
    """Loads the study called `name` with this sampler and pruner, or returns None when the
    storage has none."""
    try:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    except KeyError:
        return None


def check_same_space(study: optuna.Study, space: SearchSpace) -> None:
    """Raises ValueError when a study was begun with other params, fixed settings or metric."""
    recorded = study.user_attrs.get(SPACE_ATTR)
    if recorded is None:
        return
    current = json.loads(json.dumps(space.describe()))
    if recorded == current:
        return
    difference = next(
        (
            f"{section}.{key}"
            for section in ("params", "fixed")
            for key in sorted(set(recorded.get(section, {})) | set(current[section]))
            if recorded.get(section, {}).get(key) != current[section].get(key)
        ),
        "metric",
    )
    raise ValueError(
        f"study_name: study {study.study_name!r} was begun with a different {difference} "
        f"than {space.path} now has; valid values are a new study_name, or the space the "
        "study began with"
    )


def wait_for_parent(study: optuna.Study) -> str | None:
    """Returns the study's parent run id, waiting briefly for a creator that is naming it."""
    deadline = time.monotonic() + PARENT_WAIT_SECONDS
    while True:
        parent = study.user_attrs.get(PARENT_ATTR)
        if parent or time.monotonic() > deadline:
            return parent
        time.sleep(0.5)


def attach_study(
    space: SearchSpace,
    name: str,
    storage: optuna.storages.BaseStorage,
    search: tuple[optuna.samplers.BaseSampler, optuna.pruners.BasePruner],
    parent_tags: dict[str, str],
    echo: Callable[[str], None],
) -> tuple[optuna.Study, str]:
    """Loads or creates the study and makes its one parent run active; returns both.

    `search` is the (sampler, pruner) pair the caller built once for this start.

    Two workers may start a new study at once. Each makes a candidate parent run, then asks
    the storage to create the study: the storage lets exactly one succeed (study names are
    unique there), and that worker records its candidate as the study's parent. The other
    drops its candidate and waits for the recorded parent. A worker that joins an existing
    study reuses its parent. Under `mlflow run`, the run it made is the candidate; when it
    cannot be the parent, it is kept nested under the parent as a session run.
    """
    sampler, pruner = search
    study = load_study_if_exists(name, storage, sampler, pruner)
    if study is not None:
        check_same_space(study, space)
    launcher = runs.take_launcher_run_id()
    candidate = None
    try:
        if study is None:
            candidate = parent_run.start_study_parent(name, parent_tags, launcher)
            try:
                study = optuna.create_study(
                    study_name=name,
                    storage=storage,
                    directions=space.directions,
                    sampler=sampler,
                    pruner=pruner,
                )
            except optuna.exceptions.DuplicatedStudyError:
                study = load_study_if_exists(name, storage, sampler, pruner)
                parent = wait_for_parent(study)
                if launcher is None:
                    parent_run.discard_run(candidate, superseded_by=parent or "")
                    candidate = None
                elif parent is not None:
                    parent_run.keep_as_session(launcher, parent, name)
                    launcher = candidate = None
            else:
                # optuna-dashboard then labels the objectives by name, not "Objective 0".
                # Optuna calls the method experimental; the warning tells users nothing.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    study.set_metric_names(list(space.objective_names))
                study.set_user_attr(SPACE_ATTR, space.describe())
                study.set_user_attr(PARENT_ATTR, candidate)
                echo(f"study {name!r}: new; parent run {candidate}")
                return study, candidate
        else:
            parent = wait_for_parent(study)
        if parent is None:
            raise ValueError(
                f"study_name: study {name!r} has no parent run recorded; valid values are a "
                "study begun by `rnn-tracking sweep`, or a new study_name"
            )
        check_same_space(study, space)
        if launcher:
            parent_run.keep_as_session(launcher, parent, name)
            echo(f"the run that `mlflow run` made ({launcher}) is a session under the parent")
            launcher = None
        parent_run.resume_study_parent(parent)
        parent_run.set_run_tags(parent, parent_tags)
        return study, parent
    except BaseException as error:
        # Nothing is left RUNNING: neither `mlflow run`'s run nor a candidate parent.
        status = runs.KILLED if isinstance(error, KeyboardInterrupt) else runs.FAILED
        for run_id in {launcher, candidate} - {None}:
            if parent_run.active_run_id() == run_id:
                parent_run.end_study_parent(status, error)
            else:
                parent_run.fail_orphaned_run(run_id, runs.describe_error(error))
        raise


@dataclass(frozen=True)
class StudyProgress:
    """What a study holds now, read once after each trial: its counts, its best trial (None
    before the first complete one, and for a multi-objective study), its Pareto front (only
    for a multi-objective study) and its trials table as CSV."""

    tally: Tally
    best: FrozenTrial | None
    pareto: tuple[FrozenTrial, ...]
    table: str


def read_progress(study: optuna.Study, space: SearchSpace) -> StudyProgress:
    """Reads the study's counts, best trial, Pareto front and trials table (see above)."""
    return StudyProgress(
        tally=tally_trials(study.get_trials(deepcopy=False)),
        best=best_trial(study),
        pareto=tuple(pareto_trials(study)) if space.multi_objective else (),
        table=trials_table(study, space),
    )


def trials_table(study: optuna.Study, space: SearchSpace) -> str:
    """Returns the trials as CSV: number, state, each param, value, duration, run id, ...

    A multi-objective study has a `value_<objective>` column per objective instead of
    `value`, and a `pareto` column that marks the trials of the Pareto front.
    """
    import pandas as pd

    front = {trial.number for trial in pareto_trials(study)} if space.multi_objective else None
    rows = []
    for trial in study.get_trials(deepcopy=False):
        row: dict[str, Any] = {"number": trial.number, "state": trial.state.name.lower()}
        row |= {spec.name: trial.params.get(spec.name) for spec in space.params}
        complete = trial.state == TrialState.COMPLETE
        if front is None:
            row["value"] = trial.value if complete else None
        else:
            for index, name in enumerate(space.objectives):
                row[f"value_{name}"] = trial.values[index] if complete else None
            row["pareto"] = trial.number in front
        row["duration_s"] = round(trial.duration.total_seconds(), 3) if trial.duration else None
        row["run_id"] = trial.user_attrs.get(RUN_ATTR)
        row["epochs"] = len(trial.intermediate_values)
        row["pruned_at_epoch"] = (
            max(trial.intermediate_values)
            if trial.state == TrialState.PRUNED and trial.intermediate_values
            else None
        )
        row["retry_of"] = trial.system_attrs.get("failed_trial")
        rows.append(row)
    table = pd.DataFrame(rows)
    for column in ("epochs", "pruned_at_epoch", "retry_of"):
        table[column] = table[column].astype("Int64")
    return table.to_csv(index=False)


PLOTS = ("optimization_history", "param_importances", "parallel_coordinate", "intermediate_values")
# A multi-objective study's plots: its trials' values against each other, with the Pareto
# front marked, and each parameter's importance for each objective.
MULTI_OBJECTIVE_PLOTS = ("pareto_front", "param_importances")


def study_figures(
    study: optuna.Study, objectives: Sequence[str] = ()
) -> tuple[dict[str, Any], list[str]]:
    """Draws Optuna's matplotlib plots; returns the figures and why any were skipped.

    A plot needs enough trials (importances need two complete ones that differ), so a young
    study gets fewer plots; the next session draws them again from the whole study. With
    `objectives` (a multi-objective study's names), it draws MULTI_OBJECTIVE_PLOTS.
    """
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as plots

    figures, skipped = {}, []
    # A plot without data is said once, in `skipped`; Optuna's own warning would repeat it.
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        draw_figures(study, objectives, plots, figures, skipped)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return figures, skipped


def draw_figures(
    study: optuna.Study,
    objectives: Sequence[str],
    plots: Any,
    figures: dict[str, Any],
    skipped: list[str],
) -> None:
    """Draws each plot of `study_figures` into `figures`, or says in `skipped` why not."""
    import matplotlib.pyplot as plt

    for name in MULTI_OBJECTIVE_PLOTS if objectives else PLOTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                names = {"target_names": list(objectives)} if name == "pareto_front" else {}
                axes = getattr(plots, f"plot_{name}")(study, **names)
            except Exception as error:
                skipped.append(f"{name} ({runs.describe_error(error)})")
                continue
        figure = np.ravel(axes)[0].figure
        if not any(axis.has_data() for axis in figure.axes):
            skipped.append(f"{name} (no data yet)")
            plt.close(figure)
            continue
        figure.set_size_inches(10, 6)
        figure.tight_layout()
        figures[name] = figure


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """Returns the study's best complete trial, or None before the first one.

    A multi-objective study has no single best trial: None (see `pareto_trials`).
    """
    if len(study.directions) > 1:
        return None
    try:
        return study.best_trial
    except ValueError:
        return None


def pareto_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Returns the complete trials that no other complete trial beats on every objective."""
    return sorted(study.best_trials, key=lambda trial: trial.number)


def param_importances(study: optuna.Study, space: SearchSpace) -> dict[str, dict[str, float]]:
    """Returns each objective's parameter importances (Optuna's fANOVA), summing to 1 each.

    Shape: {objective name: {param: importance}}, params most important first. Empty until
    the study holds two complete trials that differ in their params: before that there is
    nothing to compare.
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len({json.dumps(trial.params, sort_keys=True, default=str) for trial in complete}) < 2:
        return {}
    importances = {}
    for index, name in enumerate(space.objectives or (space.metric,)):
        target = (lambda trial, index=index: trial.values[index]) if space.objectives else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(study, target=target)
        importances[name] = {param: float(value) for param, value in found.items()}
    return importances
