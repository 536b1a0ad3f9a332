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
