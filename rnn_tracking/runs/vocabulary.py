"""The MLflow run vocabulary: every tag, param, artifact and status name that more than one
module reads or writes, spelled once, so a run written by `train` reads the same in `report`,
`promote` and a sweep."""

from __future__ import annotations

from mlflow.entities import RunStatus

# Tags of a training run.
ARCH_TAG = "arch"
DATA_SOURCE_TAG = "data_source"
DATA_DIGEST_TAG = "data_digest"
# Which test reviews, in which order (`predictions.digest_test_split`); runs with the same
# one pair their `test_predictions.npz` review by review (the promotion gate does).
TEST_DIGEST_TAG = "test_digest"
# The class names in model order (`neg,pos`), and the artifact with them and their counts.
CLASS_ORDER_TAG = "class_order"
CLASSES_ARTIFACT = "classes.json"
# Why a run ended other than FINISHED: `<ExceptionType>: <message>`.
ERROR_TAG = "error"
# Set, to the epoch, on a run whose loss became non-finite; such a run ends FAILED.
DIVERGED_TAG = "diverged"
# How to make the run again: the command line that made it, and `rnn-tracking rerun <id>`.
COMMAND_LINE_TAG = "command_line"
REPRODUCE_TAG = "reproduce_command"
# On a rerun: the run it repeats.
RERUN_OF_TAG = "rerun_of"
# MLflow's own tags, spelled once.
PARENT_RUN_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
ENTRY_POINT_TAG = "mlflow.project.entryPoint"
# Seed repeats: a parent run (tag seed_repeats=N, param seeds=N) over one child per seed.
SEED_REPEATS_TAG = "seed_repeats"
SEED_REPEAT_OF_TAG = "seed_repeat_of"
SEEDS_PARAM = "seeds"
# Sweeps: the study's parent run, its trial runs and the session runs `mlflow run` makes.
STUDY_TAG = "optuna_study"
TRIAL_TAG = "trial_number"
TRIAL_STATE_TAG = "trial_state"
PRUNED_TAG = "pruned_at_epoch"
RETRY_TAG = "retry_of_trial"
WORKER_TAG = "optuna_worker"
SESSION_TAG = "sweep_session"
SUPERSEDED_BY_TAG = "superseded_by"
# Word vectors: the run `embed` made them in, and the split they were trained on.
EMBEDDINGS_RUN_TAG = "embeddings_run"
SPLIT_SEED_TAG = "split_seed"
SPLIT_TAG_PREFIX = "split."
EMBEDDINGS_MISSING_METRIC = "embeddings_missing"
# A report's own run, so that reports never list themselves.
REPORT_KIND_TAG = "rnn_tracking.kind"
REPORT_KIND = "report"

# The run `mlflow run` made for this process, if any.
LAUNCHER_RUN_ENV_VAR = "MLFLOW_RUN_ID"

FINISHED = RunStatus.to_string(RunStatus.FINISHED)
KILLED = RunStatus.to_string(RunStatus.KILLED)
FAILED = RunStatus.to_string(RunStatus.FAILED)
RUNNING = RunStatus.to_string(RunStatus.RUNNING)
