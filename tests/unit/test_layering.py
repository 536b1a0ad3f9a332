"""Imports point one way: training code never pulls in MLflow or Optuna."""

import subprocess
import sys


def test_importing_train_imports_neither_mlflow_nor_optuna():
    code = (
        "import sys, rnn_tracking.train;"
        "print(sorted(m for m in ('mlflow', 'optuna') if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip().splitlines()[-1] == "[]"


def imported_modules_after(statement: str) -> list[str]:
    """Runs `statement` in a fresh interpreter; returns the modules it left in sys.modules."""
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return output.strip().splitlines()[-1].split()


def test_text_model_imports_only_encoding_and_config_of_the_package():
    modules = imported_modules_after("import rnn_tracking.serving.text_model")
    allowed = {
        "rnn_tracking",
        "rnn_tracking.config",
        "rnn_tracking.encoding",
        "rnn_tracking.serving",
        "rnn_tracking.serving.text_model",
    }
    package = sorted(m for m in modules if m.split(".")[0] == "rnn_tracking")
    assert set(package) <= allowed, package
    assert "optuna" not in modules


def test_importing_encoding_imports_neither_mlflow_optuna_nor_tensorflow():
    modules = imported_modules_after("import rnn_tracking.encoding")
    heavy = ("mlflow", "optuna", "tensorflow", "keras")
    assert [m for m in modules if m.split(".")[0] in heavy] == []
