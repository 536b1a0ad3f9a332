"""Imports point one way: training code never pulls in MLflow or Optuna, and the report
uses only the run vocabulary and the config of the package."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import print_in_fresh_python


@pytest.mark.slow
def test_importing_train_imports_neither_mlflow_nor_optuna():
    code = (
        "import sys, rnn_tracking.train;"
        "print(sorted(m for m in ('mlflow', 'optuna') if m in sys.modules))"
    )
    assert print_in_fresh_python(code) == "[]"


# The only modules of the package that `rnn_tracking.report` may use besides its own.
# `options` is the config of the commands: the report's defaults live there.
REPORT_MAY_IMPORT = {
    "rnn_tracking",
    "rnn_tracking.config",
    # The valid values and checks of the config, which imports them: nothing else.
    "rnn_tracking.config_checks",
    "rnn_tracking.options",
    "rnn_tracking.runs",
}


@pytest.mark.slow
def test_importing_report_loads_no_package_module_but_runs_and_config():
    code = (
        "import importlib, pkgutil, sys, rnn_tracking.report as r;"
        "[importlib.import_module(f'rnn_tracking.report.{m.name}')"
        " for m in pkgutil.iter_modules(r.__path__)];"
        "print(sorted(m for m in sys.modules if m.startswith('rnn_tracking')"
        " and not m.startswith('rnn_tracking.report')))"
    )
    loaded = set(ast.literal_eval(print_in_fresh_python(code)))
    # The rooms of `runs` and `options` come with their packages.
    rooms = ("rnn_tracking.runs.", "rnn_tracking.options.")
    outside = {m for m in loaded if not m.startswith(rooms)}
    assert outside <= REPORT_MAY_IMPORT


def test_report_source_imports_no_package_module_but_runs_and_config():
    # Also the imports inside functions, which importing the package does not run.
    package = Path(__file__).resolve().parents[2] / "rnn_tracking" / "report"
    imported = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.split(".")[0] == "rnn_tracking"}
    outside = {name for name in ours if not name.startswith("rnn_tracking.report")}
    assert outside <= REPORT_MAY_IMPORT


# The rooms of the sweep package that may import optuna. Every other module of the
# package, including `sweep/__init__`, `sweep/space` and `sweep/parent_run`, must not.
OPTUNA_ROOMS = {
    "rnn_tracking.sweep.sampling",
    "rnn_tracking.sweep.storage",
    "rnn_tracking.sweep.trials",
    "rnn_tracking.sweep.study",
    "rnn_tracking.sweep.opening",
    "rnn_tracking.sweep.session",
    "rnn_tracking.sweep.workers",
    "rnn_tracking.sweep.warm_start",
}

# Imports each module found in the package, in a fresh interpreter, and prints the first
# one after whose import optuna is loaded (or nothing). `__main__` runs the CLI: skipped.
FIND_OPTUNA_IMPORTER = """
import importlib, pkgutil, sys
import rnn_tracking
allowed = set(sys.argv[1:])
names = sorted(
    info.name
    for info in pkgutil.walk_packages(rnn_tracking.__path__, "rnn_tracking.")
    if info.name not in allowed and not info.name.endswith("__main__")
)
print("checked", len(names), "modules")
for name in names:
    importlib.import_module(name)
    if "optuna" in sys.modules:
        print("imports optuna:", name)
        break
"""


@pytest.mark.slow
def test_only_the_sweep_rooms_import_optuna():
    output = subprocess.run(
        [sys.executable, "-c", FIND_OPTUNA_IMPORTER, *sorted(OPTUNA_ROOMS)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = output.strip().splitlines()
    checked = next(line for line in lines if line.startswith("checked "))
    assert int(checked.split()[1]) >= 10, output
    assert not [line for line in lines if line.startswith("imports optuna:")], output


def imported_modules_after(statement: str) -> list[str]:
    """Runs `statement` in a fresh interpreter; returns the modules it left in sys.modules."""
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    return print_in_fresh_python(code).split()


@pytest.mark.slow
def test_text_model_imports_only_encoding_and_config_of_the_package():
    modules = imported_modules_after("import rnn_tracking.serving.text_model")
    allowed = {
        "rnn_tracking",
        "rnn_tracking.config",
        # The config's valid values and checks: imports nothing of the package (checked below).
        "rnn_tracking.config_checks",
        "rnn_tracking.encoding",
        # Predicting in fixed-size batches (numpy only): one compiled shape when serving.
        "rnn_tracking.inference",
        "rnn_tracking.serving",
        "rnn_tracking.serving.text_model",
        # Imports nothing of the package either (checked below): it ships with the model.
        "rnn_tracking.serving.error_bodies",
        # The checks of served reviews: imports only `encoding` (and its `config`), checked below.
        "rnn_tracking.serving.review_checks",
    }
    package = sorted(m for m in modules if m.split(".")[0] == "rnn_tracking")
    assert set(package) <= allowed, package
    assert "optuna" not in modules


@pytest.mark.slow
def test_error_bodies_import_nothing_of_the_package():
    modules = imported_modules_after("import rnn_tracking.serving.error_bodies")
    package = sorted(m for m in modules if m.split(".")[0] == "rnn_tracking")
    assert package == ["rnn_tracking", "rnn_tracking.serving", "rnn_tracking.serving.error_bodies"]


@pytest.mark.slow
def test_review_checks_import_only_encoding_of_the_package():
    modules = imported_modules_after("import rnn_tracking.serving.review_checks")
    package = sorted(m for m in modules if m.split(".")[0] == "rnn_tracking")
    assert package == [
        "rnn_tracking",
        "rnn_tracking.config",
        "rnn_tracking.config_checks",
        "rnn_tracking.encoding",
        "rnn_tracking.serving",
        "rnn_tracking.serving.review_checks",
    ]


@pytest.mark.slow
def test_config_checks_import_nothing_of_the_package():
    modules = imported_modules_after("import rnn_tracking.config_checks")
    package = sorted(m for m in modules if m.split(".")[0] == "rnn_tracking")
    assert package == ["rnn_tracking", "rnn_tracking.config_checks"]


@pytest.mark.slow
def test_importing_encoding_imports_neither_mlflow_optuna_nor_tensorflow():
    modules = imported_modules_after("import rnn_tracking.encoding")
    heavy = ("mlflow", "optuna", "tensorflow", "keras")
    assert [m for m in modules if m.split(".")[0] in heavy] == []


@pytest.mark.slow
def test_the_baseline_command_imports_neither_tensorflow_nor_jax(tiny_aclimdb, subprocess_env):
    env = {k: v for k, v in subprocess_env.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = (
        "import sys; from rnn_tracking.cli import main;"
        f"code = main(['baseline', '--data', {str(tiny_aclimdb)!r}, '--val_split', '0.5']);"
        "print(code, sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stderr
    # TensorFlow's start-up lines (oneDNN, CUDA probing) come through absl on stderr.
    assert "oneDNN" not in done.stderr and "absl" not in done.stderr
