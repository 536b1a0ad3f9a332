"""MLflow runs: their vocabulary, and the one way to prepare the store and to open and end them.

Every tag, param and artifact name that more than one module reads or writes lives here,
so a run written by `train` reads the same in `report`, `promote` and a sweep. The store a
process uses is prepared once, under an inter-process lock, before any run touches it
(`prepare_tracking_store`); every run the platform opens ends by one status policy
(`open_run`): FINISHED, KILLED on Ctrl-C or SIGTERM, FAILED with an `error` tag.

Rooms, one noun each; every public name of the rooms is available here (`runs.open_run`):

- `vocabulary`: the tag, param, artifact and status names;
- `launcher`: the run `mlflow run` makes for this process, and keeping its KILLED status
  (`status_guard`: the SQLite trigger);
- `store`: preparing the store under its lock, and retrying SQLite's "database is locked";
- `opening`: opening and ending runs by one status policy, and choosing the experiment;
- `cost`: system metrics and the cost summaries of runs that train or evaluate;
- `pins`: the requirement pins of logged models;
- `search`: experiments by name, and runs page by page.
"""

from __future__ import annotations

from rnn_tracking.runs.cost import (
    SYSTEM_METRICS_INTERVAL_SECONDS,
    log_run_cost,
    measure_gpu_peak_mb,
    measure_process_cost,
    record_system_metrics,
    system_metrics_enabled,
)
from rnn_tracking.runs.launcher import (
    end_launcher_run_failed_if_pending,
    end_launcher_run_if_pending,
    guard_killed_status,
    keep_launcher_status,
    launcher_run_id,
    restore_status_when_overwritten,
    take_launcher_run_id,
)
from rnn_tracking.runs.opening import (
    describe_error,
    end_active_run,
    killed_run_ids,
    open_run,
    record_command_line,
    select_experiment,
)
from rnn_tracking.runs.pins import (
    MODEL_PACKAGES,
    list_model_requirements,
)
from rnn_tracking.runs.search import (
    DEFAULT_EXPERIMENT_ID,
    SEARCH_PAGE_SIZE,
    paused_garbage_collection,
    resolve_experiment_ids,
    search_runs_paged,
)
from rnn_tracking.runs.store import (
    LOCKED_ATTEMPTS,
    LOCKED_FIRST_DELAY_SECONDS,
    STORE_LOCK_SUFFIX,
    is_database_locked,
    prepare_tracking_store,
    retry_when_locked,
    sqlite_database_path,
)
from rnn_tracking.runs.vocabulary import (
    ARCH_TAG,
    CLASS_ORDER_TAG,
    CLASSES_ARTIFACT,
    COMMAND_LINE_TAG,
    DATA_DIGEST_TAG,
    DATA_SOURCE_TAG,
    DIVERGED_TAG,
    ENTRY_POINT_TAG,
    ERROR_TAG,
    FAILED,
    FINISHED,
    KILLED,
    LAUNCHER_RUN_ENV_VAR,
    PARENT_RUN_TAG,
    PRUNED_TAG,
    REPORT_KIND,
    REPORT_KIND_TAG,
    REPRODUCE_TAG,
    RERUN_OF_TAG,
    RETRY_TAG,
    RUN_NAME_TAG,
    RUNNING,
    SEED_REPEAT_OF_TAG,
    SEED_REPEATS_TAG,
    SEEDS_PARAM,
    SESSION_TAG,
    STUDY_TAG,
    SUPERSEDED_BY_TAG,
    TEST_DIGEST_TAG,
    TRIAL_STATE_TAG,
    TRIAL_TAG,
    WORKER_TAG,
)

__all__ = [
    "guard_killed_status",
    "SYSTEM_METRICS_INTERVAL_SECONDS",
    "log_run_cost",
    "measure_gpu_peak_mb",
    "measure_process_cost",
    "record_system_metrics",
    "system_metrics_enabled",
    "TEST_DIGEST_TAG",
    "ARCH_TAG",
    "DATA_SOURCE_TAG",
    "DATA_DIGEST_TAG",
    "CLASS_ORDER_TAG",
    "CLASSES_ARTIFACT",
    "ERROR_TAG",
    "DIVERGED_TAG",
    "COMMAND_LINE_TAG",
    "REPRODUCE_TAG",
    "RERUN_OF_TAG",
    "PARENT_RUN_TAG",
    "RUN_NAME_TAG",
    "ENTRY_POINT_TAG",
    "SEED_REPEATS_TAG",
    "SEED_REPEAT_OF_TAG",
    "SEEDS_PARAM",
    "STUDY_TAG",
    "TRIAL_TAG",
    "TRIAL_STATE_TAG",
    "PRUNED_TAG",
    "RETRY_TAG",
    "WORKER_TAG",
    "SESSION_TAG",
    "SUPERSEDED_BY_TAG",
    "REPORT_KIND_TAG",
    "REPORT_KIND",
    "LAUNCHER_RUN_ENV_VAR",
    "FINISHED",
    "KILLED",
    "FAILED",
    "RUNNING",
    "launcher_run_id",
    "take_launcher_run_id",
    "end_launcher_run_failed_if_pending",
    "end_launcher_run_if_pending",
    "keep_launcher_status",
    "restore_status_when_overwritten",
    "STORE_LOCK_SUFFIX",
    "LOCKED_ATTEMPTS",
    "LOCKED_FIRST_DELAY_SECONDS",
    "sqlite_database_path",
    "is_database_locked",
    "retry_when_locked",
    "prepare_tracking_store",
    "record_command_line",
    "describe_error",
    "open_run",
    "end_active_run",
    "killed_run_ids",
    "select_experiment",
    "MODEL_PACKAGES",
    "list_model_requirements",
    "SEARCH_PAGE_SIZE",
    "DEFAULT_EXPERIMENT_ID",
    "resolve_experiment_ids",
    "paused_garbage_collection",
    "search_runs_paged",
]
