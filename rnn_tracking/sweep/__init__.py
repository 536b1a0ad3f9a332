"""Hyperparameter studies: an Optuna study whose trials are nested MLflow runs.

`run_sweep` runs (or continues) the study that a space file describes. A study is one
MLflow parent run; each trial trains through `tracking.track_training` in a nested run,
reports its validation metric every epoch so the pruner can stop it, and is linked both
ways: the trial holds its run's id (user attribute `mlflow_run_id`) and the run holds the
trial's number (tag `trial_number`).

Trials live in an Optuna storage, separate from MLflow's store: by default a journal file
beside the SQLite tracking database, which several processes on one machine can share; or
any database URL (PostgreSQL, MySQL) that workers on several machines share. `n_trials` is
the study's total: a second sweep of the same study continues it up to that total. A
worker records a heartbeat while it trains; a trial whose heartbeat stops (its worker was
killed) is failed and queued again, and so is a trial interrupted with Ctrl-C, so neither
counts toward the total.

The rooms, in import order:

| module | owns |
|---|---|
| `params` | the tuned parameters of a space file: ranges and choices (no optuna) |
| `methods` | the sampler and pruner a space file names, and their options (no optuna) |
| `space` | the space file: reading and validating it (no optuna) |
| `parent_run` | the MLflow side: the study's parent run, session runs, trial-run tags (no optuna) |
| `sampling` | samplers reseeded per trial, pruners, `load_space` |
| `storage` | journal and database storages with heartbeats, stale trials |
| `trials` | the objective: data cache, reporter, runner, the tally |
| `study` | loading or creating the study and naming its parent run; progress, table, plots |
| `warm_start` | configs tried first: the space's `enqueue:` list, `--warm-start STUDY`'s best |
| `opening` | a session's start: options checked, data loaded, stores, study and parent run |
| `session` | one worker's loop, its progress lines, `run_sweep` |
| `workers` | `--workers N`: child worker processes on one study, their merged lines |

This is the only package that imports optuna; `parent_run` is its only room that calls
MLflow itself (trial runs are `tracking`'s). Its names are re-exported here and loaded
on first use, so `import rnn_tracking.sweep.space` reads space files without importing
optuna.
"""

from __future__ import annotations

from rnn_tracking import export_lazily

# Each public name and the module of this package that holds it.
_HOMES = {
    "params": (
        "CHOICE_KEYS",
        "PARAM_TYPES",
        "RANGE_KEYS",
        "ParamSpec",
        "read_enqueue",
        "read_params",
        "space_error",
    ),
    "methods": (
        "DEFAULT_PRUNER",
        "DEFAULT_SAMPLER",
        "PRUNER_OPTIONS",
        "read_choice",
        "sampler_options",
    ),
    "space": (
        "METRICS",
        "OBJECTIVES",
        "SPACE_KEYS",
        "SPLIT_FIELDS",
        "SearchSpace",
        "read_space",
    ),
    "sampling": (
        "TrialSeededSampler",
        "sampler_class",
        "describe_pruner",
        "load_space",
        "make_pruner",
        "make_sampler",
    ),
    "storage": (
        "DEFAULT_JOURNAL_NAME",
        "GRACE_HEARTBEATS",
        "HEARTBEAT_ATTR",
        "MAX_RETRIES",
        "RUN_ATTR",
        "HeartbeatJournalStorage",
        "StaleTrialHandler",
        "default_storage",
        "is_database_url",
        "make_retry_callback",
        "open_database",
        "open_storage",
        "redact_storage",
    ),
    "trials": (
        "JIT_BREAK_EVEN_BATCHES",
        "choose_jit_compile",
        "SplitsCache",
        "Tally",
        "TrialReporter",
        "TrialRunner",
        "find_trial",
        "record_failed_run",
        "tally_trials",
    ),
    "study": (
        "PARENT_ATTR",
        "PARENT_WAIT_SECONDS",
        "MULTI_OBJECTIVE_PLOTS",
        "PLOTS",
        "SPACE_ATTR",
        "StudyProgress",
        "attach_study",
        "best_trial",
        "check_same_space",
        "load_study_if_exists",
        "param_importances",
        "pareto_trials",
        "read_progress",
        "study_figures",
        "trials_table",
        "wait_for_parent",
    ),
    "session": (
        "DEFAULT_HEARTBEAT_INTERVAL",
        "DEFAULT_N_TRIALS",
        "STATE_NAMES",
        "Sweep",
        "SweepOutcome",
        "describe_objectives",
        "describe_params",
        "format_elapsed",
        "run_sweep",
    ),
    "opening": (
        "OpenedStudy",
        "check_sweep_options",
        "open_study",
    ),
    "workers": (
        "Worker",
        "WorkersFailed",
        "build_child_command",
        "read_warm_start",
        "run_workers",
    ),
    "warm_start": (
        "DEFAULT_WARM_START_TOP",
        "collect_configs",
        "enqueue_configs",
        "find_warm_start_configs",
        "fit_params",
        "rank_trials",
    ),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_MODULE_OF)


__getattr__, __dir__ = export_lazily(__name__, _MODULE_OF)
