"""MLproject's declared parameters match the metadata: one name and one default per knob."""

import dataclasses
import shlex
from pathlib import Path

import pytest
import yaml

from rnn_tracking.baseline import DATA_FIELDS
from rnn_tracking.cli import COMMANDS, build_parser, list_parameters
from rnn_tracking.config import FIELDS, TrainConfig, parse_value
from rnn_tracking.options import parse_option

ROOT = Path(__file__).resolve().parents[2]
# Options of a run that are not config fields, with their defaults: `seeds` says how many
# models to train (one per seed), not what one model computes.
RUN_OPTIONS = {"seeds": "1"}


def load_entry_point(name):
    project = yaml.safe_load((ROOT / "MLproject").read_text())
    return project["entry_points"][name]


def test_main_entry_point_declares_every_config_field_with_its_default():
    parameters = load_entry_point("main")["parameters"]
    # Exactly the config fields, plus the documented run options (how many models to
    # train, not what one model computes).
    assert set(parameters) == set(FIELDS) | set(RUN_OPTIONS)
    defaults = TrainConfig()
    for name, spec in parameters.items():
        if name in RUN_OPTIONS:
            assert str(spec["default"]) == RUN_OPTIONS[name], name
        else:
            assert parse_value(name, spec["default"]) == getattr(defaults, name), name


def test_main_entry_point_passes_each_parameter_to_its_flag():
    command = load_entry_point("main")["command"]
    assert command.startswith("python -m rnn_tracking train")
    for name in [*FIELDS, *RUN_OPTIONS]:
        assert f"--{name} {{{name}}}" in command, name


def test_baseline_entry_point_declares_its_data_fields_with_the_config_defaults():
    parameters = load_entry_point("baseline")["parameters"]
    assert set(parameters) == set(DATA_FIELDS) | {"budgets", "models"}
    defaults = TrainConfig()
    for name in DATA_FIELDS:
        assert parse_value(name, parameters[name]["default"]) == getattr(defaults, name), name


@pytest.mark.parametrize("entry_point", ["main", "report", "baseline", "embed"])
def test_entry_point_command_with_its_defaults_is_accepted_by_the_cli(entry_point):
    spec = load_entry_point(entry_point)
    values = {name: shlex.quote(str(p["default"])) for name, p in spec["parameters"].items()}
    argv = shlex.split(spec["command"].format(**values))
    assert argv[:3] == ["python", "-m", "rnn_tracking"]
    args = build_parser().parse_args(argv[3:])
    for name in spec["parameters"]:
        assert any(f"{{{name}}}" in part for part in spec["command"].split()), name
    assert args.command == entry_point.replace("main", "train")


def test_mlproject_builds_its_environment_from_the_locked_python_env_file():
    # A python_env project runs bare (`mlflow run .`) on a machine without conda: MLflow
    # builds it with virtualenv or uv. conda.yaml stays for `--env-manager conda`.
    project = yaml.safe_load((ROOT / "MLproject").read_text())
    assert project["python_env"] == "python_env.yaml"
    assert "conda_env" not in project
    assert (ROOT / "python_env.yaml").exists()


ENTRY_POINTS = ["main", "sweep", "report", "baseline", "evaluate", "embed"]


def find_command(entry_point):
    name = "train" if entry_point == "main" else entry_point
    return next(command for command in COMMANDS if command.name == name)


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_every_entry_point_parameter_is_a_field_with_the_fields_default(entry_point):
    command = find_command(entry_point)
    option_fields = {spec.name: spec for spec in dataclasses.fields(command.options)}
    for name, spec in load_entry_point(entry_point)["parameters"].items():
        assert name in list_parameters(command), name
        if name in command.config_fields:
            assert parse_value(name, spec["default"]) == FIELDS[name].default, name
        elif "default" not in spec:
            assert option_fields[name].metadata.get("required"), name
        else:
            parsed = parse_option(command.options, name, spec["default"])
            assert parsed == option_fields[name].default, name


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_every_entry_point_passes_each_parameter_to_the_option_of_its_name(entry_point):
    spec = load_entry_point(entry_point)
    command = spec["command"]
    for name in spec["parameters"]:
        assert f"--{name} {{{name}}}" in command, name
    # Each placeholder lands in the option of the same name when the CLI parses it.
    values = {name: f"value-of-{name}" for name in spec["parameters"]}
    argv = shlex.split(command.format(**values))
    args = build_parser().parse_args(argv[3:])
    for name, value in values.items():
        given = getattr(args, name)
        assert given == value or given == [value], name


def test_readme_lists_every_training_parameter_with_its_default():
    from rnn_tracking.config import format_value

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    defaults = TrainConfig()
    for name in FIELDS:
        assert f"| `{name}` | `{format_value(getattr(defaults, name))}` |" in readme, name
