"""MLproject's declared parameters match the config: one name and one default per knob."""

from pathlib import Path

import yaml

from rnn_tracking.config import FIELDS, TrainConfig, parse_value

ROOT = Path(__file__).resolve().parents[2]


def load_entry_point(name):
    project = yaml.safe_load((ROOT / "MLproject").read_text())
    return project["entry_points"][name]


def test_main_entry_point_declares_every_config_field_with_its_default():
    parameters = load_entry_point("main")["parameters"]
    assert set(parameters) == set(FIELDS)
    defaults = TrainConfig()
    for name, spec in parameters.items():
        assert parse_value(name, spec["default"]) == getattr(defaults, name), name


def test_main_entry_point_passes_each_parameter_to_its_flag():
    command = load_entry_point("main")["command"]
    assert command.startswith("python -m rnn_tracking train")
    for name in FIELDS:
        assert f"--{name} {{{name}}}" in command, name


def test_mlproject_uses_the_conda_environment_file():
    project = yaml.safe_load((ROOT / "MLproject").read_text())
    assert project["conda_env"] == "conda.yaml"
    assert (ROOT / "conda.yaml").exists()
