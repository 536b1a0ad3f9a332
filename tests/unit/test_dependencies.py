"""The dependency lists agree: pyproject.toml, the lock (constraints.txt), python_env.yaml
(what a bare `mlflow run .` builds) and conda.yaml. tools/lock.py makes the last three."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[2]


def read_pyproject_requirements() -> list[Requirement]:
    """Returns every requirement of pyproject.toml: the dependencies and every extra's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines.extend(extra)
    return [Requirement(line) for line in lines]


def read_pins(lines: list[str]) -> dict[str, set[Version]]:
    """Returns {canonical name: pinned versions} of `name==version [; marker]` lines."""
    pins: dict[str, set[Version]] = {}
    for line in lines:
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        if specifier.operator != "==":
            raise ValueError(f"not a pin: {line!r}")
        pins.setdefault(canonicalize_name(requirement.name), set()).add(Version(specifier.version))
    return pins


def read_constraint_lines() -> list[str]:
    text = (ROOT / "constraints.txt").read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] not in "# "]


def read_python_env() -> dict:
    return yaml.safe_load((ROOT / "python_env.yaml").read_text())


def test_the_lock_pins_every_requirement_of_pyproject_within_its_range():
    pins = read_pins(read_constraint_lines())
    for requirement in read_pyproject_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is in pyproject.toml but not locked: run tools/lock.py"
        for version in pins[name]:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"constraints.txt pins {name}=={version}, outside pyproject's {requirement}"
            )


def test_the_project_environment_holds_the_runtime_requirements_at_the_locked_pins():
    locked = read_pins(read_constraint_lines())
    environment = read_pins(read_python_env()["dependencies"])
    for name, versions in environment.items():
        assert versions <= locked.get(name, set()), f"python_env.yaml pins {name} off the lock"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        name = canonicalize_name(Requirement(line).name)
        assert name in environment, f"python_env.yaml lacks the runtime dependency {name}"


def test_the_conda_environment_is_the_project_environment():
    conda = yaml.safe_load((ROOT / "conda.yaml").read_text())
    python_env = read_python_env()
    (pip_section,) = [item for item in conda["dependencies"] if isinstance(item, dict)]
    assert pip_section["pip"] == python_env["dependencies"]
    assert f"python={python_env['python']}" in conda["dependencies"]
