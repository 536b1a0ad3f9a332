"""Bad input: one clear line naming the parameter and valid values, and no run left behind."""

import subprocess

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from rnn_tracking.cli import main

pytestmark = pytest.mark.integration


def all_runs():
    experiments = [e.experiment_id for e in MlflowClient().search_experiments()]
    return MlflowClient().search_runs(experiments) if experiments else []


@pytest.fixture
def csv_without_columns(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("text,label\nGreat film,1\nBad film,0\n")
    return path


@pytest.fixture
def corrupt_tar(tmp_path):
    path = tmp_path / "aclImdb.tar.gz"
    path.write_bytes(b"this is not a gzip file")
    return path


@pytest.fixture
def empty_dir(tmp_path):
    path = tmp_path / "empty"
    path.mkdir()
    return path


CASES = [
    (
        ["--arch", "transformer"],
        "arch: got 'transformer'; valid values are one of simplernn, lstm, gru",
    ),
    (["--units", "0"], "units: got 0; valid values are integers >= 1"),
    (["--layers", "0"], "layers: got 0; valid values are integers >= 1"),
    (["--epochs", "-2"], "epochs: got -2; valid values are integers >= 1"),
    (["--batch_size", "0"], "batch_size: got 0; valid values are integers >= 1"),
    (["--dropout", "1"], "dropout: got 1.0; valid values are numbers in [0, 1)"),
    (["--dropout", "-0.5"], "dropout: got -0.5; valid values are numbers in [0, 1)"),
    (["--learning_rate", "0"], "learning_rate: got 0.0; valid values are finite numbers > 0"),
    (["--unitz", "16"], "unknown parameter 'unitz'; valid parameters are arch, units"),
]


@pytest.mark.parametrize(("args", "message"), CASES)
def test_bad_value_is_one_line_naming_parameter_and_no_run_is_made(
    args, message, tracking_uri, capsys
):
    assert main(["train", "--data", "keras", *args]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"rnn-tracking: error: {message}")
    assert error.count("\n") == 1
    assert all_runs() == []


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("missing", "data: path"),
        ("empty_dir", "data:"),
        ("corrupt_tar", "data:"),
        ("csv_without_columns", "text_column: column 'review'"),
    ],
)
def test_bad_data_source_is_one_line_and_no_run_is_made(
    fixture, message, request, tmp_path, tracking_uri, capsys
):
    path = tmp_path / "nope" if fixture == "missing" else request.getfixturevalue(fixture)
    assert main(["train", "--data", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"rnn-tracking: error: {message}"), error
    assert error.count("\n") == 1
    assert all_runs() == []


def test_run_created_by_mlflow_run_ends_failed_on_bad_input(tracking_uri, monkeypatch, capsys):
    run = MlflowClient().create_run(mlflow.get_experiment_by_name("Default").experiment_id)
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    assert main(["train", "--units", "0"]) == 2
    assert MlflowClient().get_run(run.info.run_id).info.status == "FAILED"


def test_console_script_reports_bad_arch_with_exit_code_2(subprocess_env):
    finished = subprocess.run(
        ["rnn-tracking", "train", "--arch", "rnn"],
        capture_output=True,
        text=True,
        env=subprocess_env,
    )
    assert finished.returncode == 2
    assert (
        finished.stderr.strip().splitlines()[-1].startswith("rnn-tracking: error: arch: got 'rnn'")
    )
