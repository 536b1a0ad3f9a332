"""Regenerates the locked dependency files from pyproject.toml: `python tools/lock.py`.

Three files come out of one resolution, so they can never disagree:

- `constraints.txt`: every package that the project and each of its extras may install,
  pinned, for every platform and for Python 3.10 and later (uv's universal resolution).
  The set-up command installs through it: `pip install -c constraints.txt -e '.[dev]'`.
- `python_env.yaml`: the environment `mlflow run .` builds with its virtualenv or uv
  manager: the project's runtime dependencies only, at the pins of `constraints.txt`.
- `conda.yaml`: the same pins, for users who run the project with conda.

`tests/unit/test_dependencies.py` checks that the three agree with each other and with
pyproject.toml, so an edit to one without the others fails the fast test tier.

Run it after changing a dependency in pyproject.toml, or to move every pin to the newest
releases that fit (`--upgrade`). It needs uv (`pip install uv`), and a package registry.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
PYTHON_ENV = ROOT / "python_env.yaml"
CONDA_ENV = ROOT / "conda.yaml"

# The oldest Python that pyproject.toml admits: the universal lock must hold from there on.
OLDEST_PYTHON = "3.10"
# The Python of the environment `mlflow run .` builds: the version CI and the machines
# that recorded the benchmarks run, so a project run reproduces them. A full version, since
# MLflow's virtualenv manager resolves "3.11" to the newest 3.11 release that pyenv knows,
# and downloads it when it is not installed.
PROJECT_PYTHON = "3.11.7"

HEADER = (
    "# Made by `python tools/lock.py` from constraints.txt; do not edit by hand.\n# {purpose}\n"
)


def compile_requirements(arguments: list[str]) -> str:
    """Runs `uv pip compile pyproject.toml ARGUMENTS` and returns the requirement lines."""
    command = ["uv", "pip", "compile", "pyproject.toml", "--quiet", *arguments]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"uv pip compile failed: {result.stderr.strip()}")
    return result.stdout


def read_pins(text: str) -> list[str]:
    """Returns the requirement lines of a compiled file (`name==version [; marker]`)."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def write_constraints(upgrade: bool) -> None:
    """Writes constraints.txt: every extra, every platform, Python 3.10 and later."""
    arguments = [
        "--all-extras",
        "--universal",
        "--python-version",
        OLDEST_PYTHON,
        "--custom-compile-command",
        "python tools/lock.py",
        "-o",
        str(CONSTRAINTS),
    ]
    if upgrade:
        arguments.append("--upgrade")
    compile_requirements(arguments)


def compile_runtime_pins() -> list[str]:
    """Returns the runtime dependencies' pins for PROJECT_PYTHON, held to constraints.txt."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "runtime.txt"
        compile_requirements(
            [
                "--universal",
                "--python-version",
                PROJECT_PYTHON,
                "--constraint",
                str(CONSTRAINTS),
                "--no-header",
                "--no-annotate",
                "-o",
                str(output),
            ]
        )
        return read_pins(output.read_text())


def render_python_env(pins: list[str]) -> str:
    """Returns python_env.yaml's text for MLflow's virtualenv and uv environment managers."""
    lines = [
        HEADER.format(purpose="The environment `mlflow run .` builds (virtualenv or uv)."),
        f'python: "{PROJECT_PYTHON}"',
        "build_dependencies:",
        "  - pip",
        "dependencies:",
        *(f'  - "{pin}"' for pin in pins),
    ]
    return "\n".join(lines) + "\n"


def render_conda_env(pins: list[str]) -> str:
    """Returns conda.yaml's text: the same pins, installed by pip inside a conda Python."""
    lines = [
        HEADER.format(
            purpose="For conda: `conda env create -f conda.yaml`, then `pip install -e .` and `mlflow run . --env-manager local`."
        ),
        "name: rnn-tracking",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={PROJECT_PYTHON}",
        "  - pip",
        "  - pip:",
        *(f'      - "{pin}"' for pin in pins),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Regenerates the three files; `--upgrade` moves every pin to the newest release."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--upgrade", action="store_true", help="move every pin to the newest release that fits"
    )
    arguments = parser.parse_args(argv)
    write_constraints(arguments.upgrade)
    pins = compile_runtime_pins()
    PYTHON_ENV.write_text(render_python_env(pins))
    CONDA_ENV.write_text(render_conda_env(pins))
    print(f"wrote {CONSTRAINTS.name}, {PYTHON_ENV.name} and {CONDA_ENV.name} ({len(pins)} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
