"""The config: defaults, validation messages, and parsing of raw values."""

import dataclasses

import pytest

from rnn_tracking.config import (
    FIELDS,
    TrainConfig,
    config_from_mapping,
    config_to_params,
    resolve_data_source,
)
from rnn_tracking.options import parse_count
from rnn_tracking.run_records import describe_run


def test_defaults_are_the_tutorials_values():
    config = TrainConfig()
    assert (config.arch, config.units, config.layers, config.embedding_dim) == ("lstm", 8, 1, 16)
    assert (config.dropout, config.recurrent_dropout, config.bidirectional) == (0.0, 0.0, False)
    assert (config.num_words, config.maxlen, config.val_split, config.seed) == (500, 100, 0.2, 42)
    assert (config.optimizer, config.learning_rate, config.batch_size) == ("rmsprop", 1e-4, 64)
    assert (config.epochs, config.patience) == (100, 3)


def test_every_field_documents_its_reason():
    for name, spec in FIELDS.items():
        assert len(spec.metadata.get("help", "")) > 20, name


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().units = 16


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"arch": "transformer"},
            "arch: got 'transformer'; valid values are one of simplernn, lstm, gru",
        ),
        ({"units": "0"}, "units: got 0; valid values are integers >= 1"),
        ({"layers": "-1"}, "layers: got -1; valid values are integers >= 1"),
        ({"epochs": "0"}, "epochs: got 0; valid values are integers >= 1"),
        ({"batch_size": "0"}, "batch_size: got 0; valid values are integers >= 1"),
        ({"dropout": "1.0"}, "dropout: got 1.0; valid values are numbers in [0, 1)"),
        (
            {"recurrent_dropout": "-0.1"},
            "recurrent_dropout: got -0.1; valid values are numbers in [0, 1)",
        ),
        ({"learning_rate": "0"}, "learning_rate: got 0.0; valid values are finite numbers > 0"),
        (
            {"learning_rate": "-1e-3"},
            "learning_rate: got -0.001; valid values are finite numbers > 0",
        ),
        ({"units": "8.5"}, "units: got '8.5'; valid values are an integer"),
        ({"units": "eight"}, "units: got 'eight'; valid values are an integer"),
        ({"bidirectional": "maybe"}, "bidirectional: got 'maybe'; valid values are true or false"),
        (
            {"optimizer": "adagrad"},
            "optimizer: got 'adagrad'; valid values are one of rmsprop, adam, adamw, sgd",
        ),
        ({"unitz": "16"}, "unknown parameter 'unitz'; valid parameters are arch, units,"),
        ({"pooling": "attention"}, "pooling: got 'attention'; valid values are one of last, max"),
        ({"truncating": "middle"}, "truncating: got 'middle'; valid values are one of pre, post"),
        ({"lr_schedule": "step"}, "lr_schedule: got 'step'; valid values are one of none,"),
        ({"clipnorm": "-1"}, "clipnorm: got -1.0; valid values are finite numbers >= 0"),
        ({"spatial_dropout": "1"}, "spatial_dropout: got 1.0; valid values are numbers in [0, 1)"),
    ],
)
def test_bad_values_name_the_parameter_and_valid_values(values, message):
    with pytest.raises(ValueError) as caught:
        config_from_mapping(values)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_raw_strings_are_parsed_to_field_types():
    config = config_from_mapping(
        {"units": "16", "learning_rate": "1e-3", "bidirectional": "True", "layers": "2.0"}
    )
    assert config.units == 16 and isinstance(config.units, int)
    assert config.learning_rate == pytest.approx(0.001)
    assert config.bidirectional is True
    assert config.layers == 2


def test_params_have_one_spelling_per_value():
    params = config_to_params(config_from_mapping({"learning_rate": "1e-4", "bidirectional": "1"}))
    assert params["learning_rate"] == "0.0001"
    assert params["bidirectional"] == "true"
    assert set(params) == set(FIELDS)


def test_run_name_reads_architecture_depth_width_and_dropout():
    assert describe_run(TrainConfig()) == "lstm-1x8"
    assert describe_run(TrainConfig(layers=2, dropout=0.3)) == "lstm-2x8-drop0.3"
    assert describe_run(TrainConfig(arch="gru", units=16, bidirectional=True)) == "bigru-1x16"


def test_data_source_falls_back_to_environment_then_keras(monkeypatch):
    monkeypatch.delenv("RNN_TRACKING_DATA", raising=False)
    assert resolve_data_source(TrainConfig()) == "keras"
    monkeypatch.setenv("RNN_TRACKING_DATA", "/data/aclImdb")
    assert resolve_data_source(TrainConfig()) == "/data/aclImdb"
    assert resolve_data_source(TrainConfig(data="reviews.csv")) == "reviews.csv"


@pytest.mark.parametrize("value, expected", [(20, 20), ("20", 20), ("20.0", 20), (0, 0)])
def test_count_accepts_whole_numbers_as_ints_or_strings(value, expected):
    assert parse_count("wrong_reviews", value, 0) == expected


@pytest.mark.parametrize("value", ["8.5", "abc", True, None, -1, "0"])
def test_count_refuses_anything_else_naming_the_parameter(value):
    with pytest.raises(ValueError, match=r"^repeats: got .*; valid values are integers >= 1\.$"):
        parse_count("repeats", value, 1)


def test_run_name_rounds_sampled_rates_to_two_significant_digits():
    assert describe_run(TrainConfig(dropout=0.231276)) == "lstm-1x8-drop0.23"
    assert describe_run(TrainConfig(recurrent_dropout=0.05)) == "lstm-1x8-rdrop0.05"
    assert describe_run(TrainConfig(dropout=0.3)) == "lstm-1x8-drop0.3"


@pytest.mark.parametrize(("value", "expected"), [("5", 5), ("5.0", 5), (5, 5), (0, 0)])
def test_counts_are_read_from_ints_and_whole_number_strings(value, expected):
    assert parse_count("n", value) == expected


@pytest.mark.parametrize("value", ["5.5", "five", "", None, True, "-1"])
def test_bad_counts_name_the_parameter_and_the_minimum(value):
    with pytest.raises(ValueError) as raised:
        parse_count("top_k", value)
    assert str(raised.value) == f"top_k: got {value!r}; valid values are integers >= 0."


def test_counts_below_their_minimum_are_rejected():
    with pytest.raises(ValueError, match="n_trials: got '0'; valid values are integers >= 1."):
        parse_count("n_trials", "0", minimum=1)
