"""Sweeps without training: space files, sampling, pruning, heartbeats, counting, the CLI."""

import sys
import textwrap
import time
from pathlib import Path

import mlflow
import optuna
import pytest
import yaml
from helpers import print_in_fresh_python

from rnn_tracking import cli, sweep

ROOT = Path(__file__).resolve().parents[2]

VALID = """\
study_name: toy
metric: val_accuracy
direction: maximize
sampler: {name: tpe, seed: 7, n_startup_trials: 3}
pruner: {name: median, n_startup_trials: 1, n_warmup_steps: 1}
fixed:
  arch: gru
  epochs: 2
params:
  units: {type: int, low: 4, high: 128, log: true}
  dropout: {type: float, low: 0.0, high: 0.5}
  learning_rate: {type: float, low: 1e-4, high: 1e-2, log: true}
"""


def write_space(tmp_path: Path, text: str, name: str = "space.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def replace_in_valid(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


# --- Space files ----------------------------------------------------------------------------


def test_valid_space_reads_typed_fixed_settings_and_ranges(tmp_path):
    space = sweep.load_space(write_space(tmp_path, VALID))
    assert space.study_name == "toy"
    assert space.fixed == {"arch": "gru", "epochs": 2}
    units, dropout, rate = space.params
    assert (units.name, units.type, units.low, units.high, units.log) == (
        "units",
        "int",
        4,
        128,
        True,
    )
    assert (dropout.low, dropout.high, dropout.log) == (0.0, 0.5, False)
    # PyYAML reads 1e-4 as a string; the space parses it as the number it means.
    assert (rate.low, rate.high) == (1e-4, 1e-2)
    assert space.sampler == ("tpe", {"seed": 7, "n_startup_trials": 3})
    config = space.config_for({"units": 16, "dropout": 0.25, "learning_rate": 0.003})
    assert (config.arch, config.epochs, config.units, config.dropout) == ("gru", 2, 16, 0.25)


@pytest.mark.parametrize("name", ["lstm", "gru", "arch"])
def test_shipped_spaces_tune_units_dropout_and_learning_rate_on_the_tutorial_encoding(name):
    space = sweep.load_space(ROOT / "sweeps" / f"{name}.yaml")
    params = {spec.name: spec for spec in space.params}
    assert (params["units"].low, params["units"].high, params["units"].log) == (4, 128, True)
    assert (params["dropout"].low, params["dropout"].high) == (0.0, 0.5)
    rate = params["learning_rate"]
    assert (rate.low, rate.high, rate.log) == (1e-4, 1e-2, True)
    assert space.base_config.num_words == 500 and space.base_config.maxlen == 100
    assert space.sampler[0] == "tpe" and space.pruner[0] == "median"
    if name == "arch":
        assert set(params["arch"].choices) == {"simplernn", "lstm", "gru"}
    else:
        assert space.fixed["arch"] == name and space.study_name == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (VALID + "trials: 3\n", "space.yaml: trials: unknown key; valid keys are study_name"),
        (
            replace_in_valid("  units:", "  unit:"),
            "space.yaml: params.unit: unknown parameter; valid parameters are arch, units",
        ),
        (
            replace_in_valid("  arch: gru", "  archh: gru"),
            "space.yaml: fixed.archh: unknown parameter; valid parameters are arch",
        ),
        (
            replace_in_valid("low: 0.0, high: 0.5", "low: 0.5, high: 0.5"),
            "space.yaml: params.dropout.low: 0.5 is not below high 0.5; valid ranges have low < high",
        ),
        (
            replace_in_valid("low: 0.0, high: 0.5}", "low: 0.0, high: 0.5, log: true}"),
            "space.yaml: params.dropout.log: needs a positive range, but low is 0.0",
        ),
        (
            replace_in_valid("low: 4, high: 128", "low: four, high: 128"),
            "space.yaml: params.units.low: got 'four'; valid values are integers",
        ),
        (
            replace_in_valid("low: 4, high: 128", "low: 4.5, high: 128"),
            "space.yaml: params.units.low: got 4.5; valid values are finite integers",
        ),
        (
            replace_in_valid("{type: int, low: 4", "{type: float, low: 4"),
            "space.yaml: params.units.type: units is a field of type int; valid types are int, categorical",
        ),
        (
            replace_in_valid("high: 128, log: true", "high: 128, log: yes please"),
            "space.yaml: params.units.log: got 'yes please'; valid values are true or false",
        ),
        (
            replace_in_valid("  epochs: 2", "  epochs: two"),
            "space.yaml: fixed.epochs: got 'two'; valid values are an integer.",
        ),
        (
            replace_in_valid("low: 0.0, high: 0.5", "low: 0.0, high: 1.0"),
            "space.yaml: params.dropout.high: got 1.0; valid values are numbers in [0, 1).",
        ),
        (
            replace_in_valid("  arch: gru", "  arch: gru\n  units: 8"),
            "space.yaml: params.units: is also fixed",
        ),
        (
            replace_in_valid(
                "params:\n", "params:\n  backend: {type: categorical, choices: [jax, tensorflow]}\n"
            ),
            "space.yaml: params.backend: is chosen once per process",
        ),
        (
            replace_in_valid("direction: maximize", "direction: minimize"),
            "space.yaml: direction: got 'minimize'; val_accuracy is a metric to maximize",
        ),
        (
            replace_in_valid("{name: median,", "{name: medain,"),
            "space.yaml: pruner.name: got 'medain'; valid values are median, hyperband, successive_halving, threshold, none",
        ),
        (
            replace_in_valid("n_startup_trials: 3}", "n_startup_trials: 3, gamma: 2}"),
            "space.yaml: sampler.gamma: unknown option of tpe; valid keys are name, seed",
        ),
        (
            replace_in_valid("n_warmup_steps: 1}", "n_warmup_steps: -1}"),
            "space.yaml: pruner: ",
        ),
        (
            replace_in_valid(
                "{type: int, low: 4, high: 128, log: true}", "{type: categorical, choices: []}"
            ),
            "space.yaml: params.units.choices: got []; valid values are a non-empty list",
        ),
        (
            replace_in_valid(
                "{type: int, low: 4, high: 128, log: true}", "{type: categorical, choices: [8, 0]}"
            ),
            "space.yaml: params.units.choices: got 0; valid values are integers >= 1.",
        ),
        (VALID.replace("study_name: toy\n", ""), "space.yaml: study_name: missing"),
        ("params: [units\n", "space.yaml: line 2: not valid YAML"),
    ],
)
def test_invalid_space_gets_one_line_naming_file_key_and_problem(tmp_path, text, expected):
    path = write_space(tmp_path, text)
    with pytest.raises(ValueError) as raised:
        sweep.load_space(path)
    message = str(raised.value)
    assert message.startswith(str(path.parent) + "/"), message
    assert expected in message, message
    assert "\n" not in message


def test_space_file_that_is_missing_names_the_space_option(tmp_path):
    with pytest.raises(ValueError, match=r"^space: cannot read .*nowhere.yaml"):
        sweep.load_space(tmp_path / "nowhere.yaml")


def test_seed_option_seeds_the_sampler_and_the_training(tmp_path):
    space = sweep.load_space(write_space(tmp_path, VALID), seed=5)
    assert space.sampler[1]["seed"] == 5
    assert space.base_config.seed == 5


def test_data_option_replaces_the_fixed_data_source(tmp_path):
    text = replace_in_valid("  epochs: 2", "  epochs: 2\n  data: other.csv")
    space = sweep.load_space(write_space(tmp_path, text), data="reviews.csv")
    assert space.base_config.data == "reviews.csv"


@pytest.mark.slow
def test_space_reading_needs_no_optuna():
    code = "import sys, rnn_tracking.sweep.space; print('optuna' in sys.modules)"
    assert print_in_fresh_python(code) == "False"


# --- Sampling and pruning --------------------------------------------------------------------


def sample_units(space, study, count):
    values = []
    for _ in range(count):
        trial = study.ask()
        values.append(space.params[0].suggest(trial))
        study.tell(trial, 0.5)
    return values


RANDOM = """\
study_name: toy
sampler: {name: random, seed: 3}
params:
  units: {type: int, low: 1, high: 1000000}
"""


def test_sampler_reproduces_a_study_from_its_seed(tmp_path):
    space = sweep.load_space(write_space(tmp_path, RANDOM))
    first = sample_units(space, optuna.create_study(sampler=sweep.make_sampler(space)), 4)
    second = sample_units(space, optuna.create_study(sampler=sweep.make_sampler(space)), 4)
    assert first == second


def test_resumed_or_parallel_samplers_with_one_seed_draw_new_values(tmp_path):
    space = sweep.load_space(write_space(tmp_path, RANDOM))
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(study_name="s", storage=storage, sampler=sweep.make_sampler(space))
    first_session = sample_units(space, study, 3)
    # A second process seeded the same way (a resumed session, or another worker).
    again = optuna.load_study(study_name="s", storage=storage, sampler=sweep.make_sampler(space))
    second_session = sample_units(space, again, 3)
    assert len(set(first_session + second_session)) == 6


def report_epochs(study, values):
    """Runs a trial that reports `values` per epoch through the reporter; returns it."""
    trial = study.ask()
    reporter = sweep.TrialReporter(trial, "val_accuracy")
    reporter.on_train_begin()
    try:
        for epoch, value in enumerate(values):
            reporter.on_epoch_end(epoch, {"val_accuracy": value, "loss": 0.1})
    except optuna.TrialPruned:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        return reporter
    study.tell(trial, values[-1])
    return reporter


def test_reporter_reports_each_epoch_and_prunes_below_the_median():
    study = optuna.create_study(
        direction="maximize",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=2),
    )
    good = report_epochs(study, [0.70, 0.80, 0.85])
    assert good.pruned_at_epoch is None
    bad = report_epochs(study, [0.55, 0.60, 0.90])
    assert bad.pruned_at_epoch == 2
    first, second = study.trials
    assert first.intermediate_values == {1: 0.70, 2: 0.80, 3: 0.85}
    assert second.state == optuna.trial.TrialState.PRUNED
    assert second.intermediate_values == {1: 0.55, 2: 0.60}


# --- Heartbeats and counting -----------------------------------------------------------------


# What `HeartbeatJournalStorage` implements of Optuna's private heartbeat base class, and
# the parameters Optuna calls each method with.
HEARTBEAT_METHODS = {
    "record_heartbeat": ["self", "trial_id"],
    "_get_stale_trial_ids": ["self", "study_id"],
    "get_heartbeat_interval": ["self"],
    "get_heartbeat_stale_trial_callback": ["self"],
}


def test_optuna_keeps_the_private_heartbeat_interface_the_journal_storage_implements():
    import inspect

    where = (
        f"Optuna {optuna.__version__} changed optuna.storages._heartbeat.BaseHeartbeat, "
        "which rnn_tracking/sweep/storage.py subclasses to give journal storages heartbeats "
        "(Optuna has no public API for it)"
    )
    try:
        from optuna.storages._heartbeat import BaseHeartbeat
    except ImportError as error:
        pytest.fail(f"{where}: it cannot be imported ({error})")
    for name, parameters in HEARTBEAT_METHODS.items():
        method = getattr(BaseHeartbeat, name, None)
        assert method is not None, f"{where}: it has no method {name}"
        found = list(inspect.signature(method).parameters)
        assert found == parameters, f"{where}: {name} takes {found}, not {parameters}"
    unknown = set(BaseHeartbeat.__abstractmethods__) - set(HEARTBEAT_METHODS)
    assert not unknown, f"{where}: it has new abstract methods {sorted(unknown)}"
    assert issubclass(sweep.HeartbeatJournalStorage, BaseHeartbeat)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_journal_trial_without_heartbeat_is_failed_and_queued_again(tmp_path):
    said = []
    storage = sweep.HeartbeatJournalStorage(
        tmp_path / "optuna.journal",
        heartbeat_interval=1,
        grace_period=1,
        stale_trial_callback=sweep.StaleTrialHandler(grace_period=1, echo=said.append),
    )
    study = optuna.create_study(study_name="s", storage=storage)
    # A RUNNING trial whose worker stamped it once and then died.
    trial_id = storage.create_new_trial(study._study_id)
    storage.set_trial_param(trial_id, "units", 8, optuna.distributions.IntDistribution(4, 16))
    storage.record_heartbeat(trial_id)
    optuna.storages.fail_stale_trials(study)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.RUNNING]
    time.sleep(1.5)
    optuna.storages.fail_stale_trials(study)
    stale, retry = study.trials
    assert stale.state == optuna.trial.TrialState.FAIL
    assert retry.state == optuna.trial.TrialState.WAITING
    assert retry.params == {"units": 8} and retry.system_attrs["failed_trial"] == 0
    tally = sweep.tally_trials(study.trials)
    assert (tally.failed, tally.retried, tally.done, tally.waiting) == (1, 1, 0, 1)
    assert said and "no heartbeat" in said[0]


def test_done_trials_exclude_the_failures_that_were_queued_again():
    def make(number, state, retry_history=()):
        system_attrs = {"retry_history": list(retry_history)} if retry_history else {}
        return optuna.trial.FrozenTrial(
            number=number,
            state=state,
            value=0.5 if state == optuna.trial.TrialState.COMPLETE else None,
            values=None,
            datetime_start=None,
            datetime_complete=None,
            params={},
            distributions={},
            user_attrs={},
            system_attrs=system_attrs,
            intermediate_values={},
            trial_id=number,
        )

    TrialState = optuna.trial.TrialState
    tally = sweep.tally_trials(
        [
            make(0, TrialState.COMPLETE),
            make(1, TrialState.FAIL),  # its worker died: retried as trial 3
            make(2, TrialState.PRUNED),
            make(3, TrialState.COMPLETE, retry_history=[1]),
            make(4, TrialState.FAIL),  # a real failure
            make(5, TrialState.RUNNING),
        ]
    )
    assert (tally.complete, tally.pruned, tally.failed, tally.retried) == (2, 1, 2, 1)
    assert tally.done == 4 and tally.running == 1


def test_storage_that_cannot_be_opened_gets_one_line_without_its_password():
    with pytest.raises(ValueError) as raised:
        sweep.open_storage(
            "postgresql+psycopg2://user:secret@127.0.0.1:1/optuna",
            heartbeat_interval=1,
            stale_trial_callback=lambda study, trial: None,
        )
    message = str(raised.value)
    assert message.startswith(
        "storage: cannot open postgresql+psycopg2://user:***@127.0.0.1:1/optuna"
    )
    assert "secret" not in message and "\n" not in message


# --- The command line and MLproject --------------------------------------------------------


@pytest.mark.slow
def test_bad_space_exits_2_with_one_line_and_creates_nothing(tmp_path, tracking_uri, capsys):
    path = write_space(tmp_path, replace_in_valid("  units:", "  unit:"))
    code = cli.main(["sweep", "--space", str(path), "--n_trials", "2"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.count("\n") == 1 and "params.unit: unknown parameter" in err
    assert not (tmp_path / "optuna.journal").exists()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--n_trials", "0", "n_trials: got '0'; valid values are integers >= 1"),
        ("--timeout", "soon", "timeout: got 'soon'; valid values are integers >= 0"),
        ("--heartbeat_interval", "0.5", "heartbeat_interval: got '0.5'"),
    ],
)
def test_bad_sweep_option_exits_2_naming_it(option, value, expected, capsys):
    code = cli.main(["sweep", "--space", str(ROOT / "sweeps" / "lstm.yaml"), option, value])
    assert code == cli.EXIT_USAGE
    assert expected in capsys.readouterr().err


@pytest.mark.slow
def test_building_the_cli_parser_imports_no_optuna():
    code = (
        "import sys, rnn_tracking.cli as cli; cli.build_parser();"
        "print(sorted(m for m in ('optuna', 'tensorflow') if m in sys.modules))"
    )
    assert print_in_fresh_python(code) == "[]"


def test_mlproject_sweep_entry_passes_each_option_with_the_cli_default():
    entry = yaml.safe_load((ROOT / "MLproject").read_text())["entry_points"]["sweep"]
    parameters, command = entry["parameters"], entry["command"]
    assert command.startswith("python -m rnn_tracking sweep")
    assert set(parameters) == {
        "space",
        "n_trials",
        "timeout",
        "study_name",
        "storage",
        "seed",
        "data",
        "heartbeat_interval",
        "workers",
        "warm_start",
        "warm_start_top",
    }
    for name in parameters:
        assert f"--{name} {{{name}}}" in command, name
    assert "default" not in parameters["space"]
    assert float(parameters["n_trials"]["default"]) == sweep.DEFAULT_N_TRIALS
    assert float(parameters["heartbeat_interval"]["default"]) == sweep.DEFAULT_HEARTBEAT_INTERVAL
    assert parameters["timeout"]["default"] == 0


def test_continuing_a_study_with_a_changed_space_is_refused_naming_the_change(tmp_path):
    first = sweep.load_space(write_space(tmp_path, VALID))
    study = optuna.create_study(study_name="toy", direction="maximize")
    study.set_user_attr(sweep.SPACE_ATTR, first.describe())
    sweep.check_same_space(study, first)
    changed = sweep.load_space(
        write_space(
            tmp_path, replace_in_valid("low: 4, high: 128", "low: 8, high: 128"), "new.yaml"
        )
    )
    with pytest.raises(
        ValueError, match=r"^study_name: study 'toy' was begun with a different params.units"
    ):
        sweep.check_same_space(study, changed)
    # Another data source is the same study (the same data may live elsewhere).
    sweep.check_same_space(study, sweep.load_space(first.path, data="elsewhere.csv"))


@pytest.mark.slow
def test_default_storage_is_a_journal_file_beside_the_tracking_database(tmp_path, tracking_uri):
    assert sweep.default_storage() == str(tmp_path / "optuna.journal")
    assert sweep.redact_storage("sqlite:///x.db") == "sqlite:///x.db"


# --- The study's parent run ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("status", "error", "tag"),
    [
        ("FINISHED", None, None),
        ("KILLED", KeyboardInterrupt(), "KeyboardInterrupt"),
        ("FAILED", ValueError("units: bad"), "ValueError: units: bad"),
    ],
)
def test_parent_run_ends_by_the_one_status_policy(tracking_uri, status, error, tag):
    import mlflow

    from rnn_tracking.sweep import parent_run

    run_id = parent_run.start_study_parent("toy", {"optuna_study": "toy"})
    parent_run.end_study_parent(status, error)
    run = mlflow.get_run(run_id)
    assert mlflow.active_run() is None
    assert run.info.status == status
    assert run.data.tags.get("error") == tag


@pytest.mark.slow
def test_parent_run_stays_running_untagged_while_other_workers_run_trials(tracking_uri):
    import mlflow

    from rnn_tracking.sweep import parent_run

    run_id = parent_run.start_study_parent("toy", {"optuna_study": "toy"})
    parent_run.end_study_parent("KILLED", KeyboardInterrupt(), still_running=True)
    run = mlflow.get_run(run_id)
    assert mlflow.active_run() is None
    assert run.info.status == "RUNNING" and "error" not in run.data.tags


def test_every_name_the_sweep_package_exports_resolves_to_its_room():
    for name in sweep.__all__:
        value = getattr(sweep, name)
        module = getattr(value, "__module__", None)
        if module and module.startswith("rnn_tracking.sweep."):
            assert getattr(sys.modules[module], name) is value
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = sweep.nothing_here


@pytest.mark.slow
def test_a_new_study_names_its_objective_for_the_dashboard(tmp_path, tracking_uri):
    from rnn_tracking.sweep.sampling import make_pruner, make_sampler
    from rnn_tracking.sweep.study import attach_study

    space = sweep.load_space(write_space(tmp_path, VALID))
    storage = optuna.storages.InMemoryStorage()
    search = (make_sampler(space), make_pruner(space))
    study, _ = attach_study(space, "named", storage, search, {}, lambda line: None)
    try:
        assert study.metric_names == list(space.objective_names)
    finally:
        while mlflow.active_run():
            mlflow.end_run()


def test_every_plain_keyword_of_the_optuna_sampler_passes_through(tmp_path):
    text = replace_in_valid(
        "n_startup_trials: 3}", "n_startup_trials: 3, n_ei_candidates: 48, prior_weight: 2.0}"
    )
    space = sweep.load_space(write_space(tmp_path, text))
    sampler = sweep.make_sampler(space)._sampler
    assert sampler._n_ei_candidates == 48
    assert sampler._parzen_estimator_parameters.prior_weight == 2.0


def test_an_unknown_sampler_keyword_is_refused_listing_the_valid_ones(tmp_path):
    text = replace_in_valid("n_startup_trials: 3}", "n_startup_trials: 3, n_ei: 48}")
    with pytest.raises(ValueError) as caught:
        sweep.load_space(write_space(tmp_path, text))
    assert str(caught.value).endswith(
        "space.yaml: sampler.n_ei: unknown option of tpe; valid keys are name, seed, "
        "consider_prior, prior_weight, consider_magic_clip, consider_endpoints, n_startup_trials, "
        "n_ei_candidates, multivariate, group, warn_independent_sampling"
    )
