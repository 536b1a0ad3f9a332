"""Parallel and failing trials without real data: `--workers N`, the constant liar, divergence."""

import dataclasses
import queue
import re
import signal
import sys
import textwrap
from pathlib import Path

import mlflow
import optuna
import pytest
from helpers import make_toy_splits
from mlflow.tracking import MlflowClient

from rnn_tracking import cli, runs, sweep, tracking
from rnn_tracking.options import SweepOptions
from rnn_tracking.sweep import trials as trials_room
from rnn_tracking.sweep import workers as workers_room

TOY_SPACE = """\
study_name: toy
sampler: {name: tpe, seed: 3, n_startup_trials: 2}
pruner: none
fixed: {arch: gru, num_words: 10, maxlen: 3, embedding_dim: 2, epochs: 2, batch_size: 1,
        steps_per_execution: 1, optimizer: adam}
params:
  units: {type: int, low: 1, high: 3}
"""


def write_space(tmp_path: Path, text: str = TOY_SPACE) -> Path:
    path = tmp_path / "toy.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_tpe_sampler_always_runs_with_the_constant_liar(tmp_path):
    space = sweep.load_space(write_space(tmp_path))
    sampler = sweep.make_sampler(space)
    assert sampler._sampler._constant_liar is True
    # Reseeding per trial keeps it.
    study = optuna.create_study(sampler=sampler)
    study.ask()
    assert sampler._sampler._constant_liar is True


@pytest.mark.slow
def test_unreadable_data_is_refused_before_any_study_or_run_even_when_the_encoding_is_tuned(
    tmp_path, tracking_uri
):
    tuned = TOY_SPACE + "  truncating: {type: categorical, choices: [pre, post]}\n"
    space = sweep.load_space(write_space(tmp_path, tuned), data=str(tmp_path / "missing.csv"))
    assert space.tunes_data
    with pytest.raises(ValueError, match=r"^data: path .*missing\.csv' does not exist"):
        sweep.run_sweep(space, n_trials=1, echo=lambda line: None)
    assert not (tmp_path / "optuna.journal").exists()
    experiments = MlflowClient().search_experiments()
    assert MlflowClient().search_runs([e.experiment_id for e in experiments]) == []


@pytest.mark.slow
def test_diverged_trial_fails_and_the_study_goes_on_without_it_as_best(
    tmp_path, tracking_uri, monkeypatch
):
    monkeypatch.setattr(trials_room.SplitsCache, "get", lambda self, config: make_toy_splits())
    real_track_training = tracking.track_training

    def diverge_first_trial(config, splits, **options):
        if options["tags"][runs.TRIAL_TAG] == "0":
            config = dataclasses.replace(config, learning_rate=1e38)
        return real_track_training(config, splits, **options)

    monkeypatch.setattr(tracking, "track_training", diverge_first_trial)
    lines = []
    outcome = sweep.run_sweep(
        sweep.load_space(write_space(tmp_path)), n_trials=2, echo=lines.append
    )

    journal = optuna.storages.journal.JournalFileBackend(str(tmp_path / "optuna.journal"))
    study = optuna.load_study(study_name="toy", storage=optuna.storages.JournalStorage(journal))
    states = [trial.state for trial in study.trials]
    TrialState = optuna.trial.TrialState
    assert states == [TrialState.FAIL, TrialState.COMPLETE]
    assert outcome.tally.done == 2 and outcome.tally.failed == 1
    assert outcome.best_trial.number == 1
    [line] = [line for line in lines if " trial 0 " in line]
    assert "failed: TrainingDiverged: the loss became non-finite" in line

    run = MlflowClient().get_run(study.trials[0].user_attrs["mlflow_run_id"])
    assert run.info.status == "FAILED"
    assert run.data.tags["error"].startswith("TrainingDiverged:")
    assert int(run.data.tags[runs.DIVERGED_TAG]) >= 1
    assert run.data.tags[runs.TRIAL_STATE_TAG] == "failed"
    parent = mlflow.get_run(outcome.parent_run_id)
    assert parent.info.status == "FINISHED" and parent.data.metrics["failed_trials"] == 1


def test_child_command_joins_the_resolved_study_as_one_worker_with_every_option_given():
    options = SweepOptions(
        space="sweeps/gru.yaml", n_trials=12, seed=5, data="reviews.csv", workers=3, verbose=2
    )
    command = workers_room.build_child_command(options, "gru", "/tmp/optuna.journal")
    assert command[:4] == [sys.executable, "-m", "rnn_tracking", "sweep"]
    args = cli.build_parser().parse_args(command[3:])
    given = cli.parser.read_options(args, SweepOptions)
    assert given == dataclasses.replace(
        options, study_name="gru", storage="/tmp/optuna.journal", workers=1
    )


def test_child_environment_has_no_launcher_run_and_names_the_tracking_store(monkeypatch):
    monkeypatch.setenv(runs.LAUNCHER_RUN_ENV_VAR, "abc")
    environment = workers_room.build_child_environment("sqlite:////tmp/x/mlflow.db")
    assert runs.LAUNCHER_RUN_ENV_VAR not in environment
    assert environment["MLFLOW_TRACKING_URI"] == "sqlite:////tmp/x/mlflow.db"


def fake_worker(code: int, *, stdout: str = "", stderr: str = "") -> list[str]:
    """Returns the argv of a child that writes `stdout` and `stderr`, then exits with `code`."""
    script = (
        f"import sys; sys.stdout.write({stdout!r}); sys.stderr.write({stderr!r}); sys.exit({code})"
    )
    return [sys.executable, "-c", script]


def test_worker_lines_are_merged_with_their_worker_and_the_study_lines_said_once():
    lines: queue.Queue = queue.Queue()
    command = fake_worker(
        0,
        stdout="data toy: 8 train\nstudy 'toy' in x: 0 of 3\n[1/3] trial 0 complete\n",
        stderr="a warning\n",
    )
    workers = workers_room.start_workers(2, command, {}, lines)
    printed, warned = [], []
    workers_room.pump_output(workers, lines, printed.append, warned.append)
    for worker in workers:
        worker.process.wait()
    assert sorted(printed) == ["[w1] [1/3] trial 0 complete", "[w2] [1/3] trial 0 complete"]
    assert sorted(warned) == ["[w1] a warning", "[w2] a warning"]
    assert [worker.describe_failure() for worker in workers] == [None, None]


def test_worker_failure_names_the_worker_and_its_last_error_line():
    lines: queue.Queue = queue.Queue()
    command = fake_worker(1, stderr="Traceback ...\nrnn-tracking: error: OSError: disk full\n")
    [worker] = workers_room.start_workers(1, command, {}, lines)
    workers_room.pump_output([worker], lines, lambda line: None, lambda line: None)
    worker.process.wait()
    assert worker.describe_failure() == (
        "worker w1 exited with code 1: rnn-tracking: error: OSError: disk full"
    )
    worker.process.returncode = -signal.SIGKILL
    assert worker.describe_failure().startswith("worker w1 was killed by SIGKILL")


def test_more_workers_than_cpus_are_refused_in_one_line_naming_the_bound(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(workers_room, "count_usable_cpus", lambda: 2)
    monkeypatch.chdir(tmp_path)
    code = cli.main(
        ["sweep", "--space", str(write_space(tmp_path)), "--workers", "64", "--n-trials", "2"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "rnn-tracking: error: workers: got 64; this machine has 2 usable CPUs, "
        "so valid values are 1 to 2\n"
    )
    assert not (tmp_path / "optuna.journal").exists()


def test_workers_are_capped_with_one_warning_at_the_trials_still_to_run():
    warned = []
    assert workers_room.cap_worker_count(4, 2, warned.append) == 2
    assert warned == ["workers: starting 2 of 4, one per trial still to run"]
    assert workers_room.cap_worker_count(2, 5, warned.append) == 2
    assert workers_room.cap_worker_count(3, 0, warned.append) == 1
    assert len(warned) == 2


def test_usable_cpus_is_at_least_one():
    assert workers_room.count_usable_cpus() >= 1


@pytest.mark.slow
def test_a_session_whose_every_trial_failed_exits_1_and_ends_its_parent_failed(
    tmp_path, tracking_uri, monkeypatch, capfd
):
    monkeypatch.setattr(trials_room.SplitsCache, "get", lambda self, config: make_toy_splits())

    def fail(config, splits, *, run_name, nested, tags, **options):
        # Every trial's training fails inside its run, which then ends FAILED.
        with tracking.start_tracked_run(config, run_name=run_name, nested=nested, tags=tags):
            raise ValueError(f"no trial can train (units={config.units})")

    monkeypatch.setattr(tracking, "track_training", fail)
    code = cli.main(["sweep", "--space", str(write_space(tmp_path)), "--n-trials", "2"])
    out, err = capfd.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    # One line per failed trial, and one error line for the session.
    assert len(re.findall(r"^\[\d/2\] trial \d failed: ValueError: no trial can", out, re.M)) == 2
    # (A fresh store's creation lines, from MLflow, are the only others.)
    lines = [line for line in err.splitlines() if "mlflow.store.db.utils" not in line]
    [error_line] = lines
    assert error_line.startswith(
        "rnn-tracking: error: TrialsFailed: all 2 trials of this session failed, none complete "
        "or pruned (the first: ValueError: no trial can train (units="
    )
    assert error_line.endswith("ended FAILED")

    client = MlflowClient()
    experiments = [e.experiment_id for e in client.search_experiments()]
    found = client.search_runs(experiments)
    [parent] = [run for run in found if runs.PARENT_RUN_TAG not in run.data.tags]
    assert parent.info.status == "FAILED"
    assert parent.data.tags["error"].startswith("TrialsFailed: all 2 trials")
    trial_runs = [run for run in found if runs.PARENT_RUN_TAG in run.data.tags]
    assert [run.info.status for run in trial_runs] == ["FAILED", "FAILED"]
    for run in trial_runs:
        traceback_text = client.download_artifacts(run.info.run_id, "error_traceback.txt")
        text = Path(traceback_text).read_text()
        assert text.startswith("Traceback") and "ValueError: no trial can train" in text
