"""How a study searches: samplers and pruners, multi-objective mode, parameter importances."""

import dataclasses
import json
import sys
import textwrap
from pathlib import Path

import mlflow
import optuna
import pytest
from mlflow.tracking import MlflowClient

from rnn_tracking import sweep
from rnn_tracking.sweep import parent_run

BASE = """\
study_name: toy
fixed: {arch: gru, epochs: 4}
params:
  units: {type: int, low: 4, high: 64}
  dropout: {type: float, low: 0.0, high: 0.5}
"""
MULTI = BASE + "objectives: [val_accuracy, train_seconds]\n"


def write_space(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    """Loads a space that must be refused; returns its one-line message."""
    path = write_space(tmp_path, text)
    with pytest.raises(ValueError) as raised:
        sweep.load_space(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    return message


# --- Pruners and samplers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pruner", "kind"),
    [
        ("successive_halving", optuna.pruners.SuccessiveHalvingPruner),
        (
            "{name: successive_halving, min_resource: 1, reduction_factor: 3, "
            "min_early_stopping_rate: 0, bootstrap_count: 0}",
            optuna.pruners.SuccessiveHalvingPruner,
        ),
        ("hyperband", optuna.pruners.HyperbandPruner),
        (
            "{name: hyperband, min_resource: 1, reduction_factor: 3, bootstrap_count: 0}",
            optuna.pruners.HyperbandPruner,
        ),
        ("median", optuna.pruners.MedianPruner),
        ("none", optuna.pruners.NopPruner),
    ],
)
def test_each_pruner_of_the_space_file_builds_its_optuna_pruner(tmp_path, pruner, kind):
    space = sweep.load_space(write_space(tmp_path, BASE + f"pruner: {pruner}\n"))
    assert isinstance(sweep.make_pruner(space), kind)


@pytest.mark.parametrize(
    ("pruner", "expected"),
    [
        (
            "{name: successive_halving, max_resource: 4}",
            "pruner.max_resource: unknown option of successive_halving; valid keys are name, "
            "min_resource, reduction_factor, min_early_stopping_rate, bootstrap_count",
        ),
        (
            "{name: successive_halving, reduction_factor: 1}",
            "pruner: ",
        ),
        (
            "{name: successive_halving, min_resource: two}",
            "pruner.min_resource: got 'two'; valid values are integers",
        ),
    ],
)
def test_bad_pruner_option_gets_one_line(tmp_path, pruner, expected):
    assert expected in load_error(tmp_path, BASE + f"pruner: {pruner}\n")


@pytest.mark.parametrize(
    ("sampler", "kind", "attributes"),
    [
        (
            "{name: tpe, multivariate: true, group: true}",
            optuna.samplers.TPESampler,
            {"_multivariate": True, "_group": True},
        ),
        ("{name: tpe, multivariate: true}", optuna.samplers.TPESampler, {"_group": False}),
        ("random", optuna.samplers.RandomSampler, {}),
    ],
)
def test_each_sampler_passes_its_options_to_optuna(tmp_path, sampler, kind, attributes):
    space = sweep.load_space(write_space(tmp_path, BASE + f"sampler: {sampler}\n"))
    built = sweep.make_sampler(space)._sampler
    assert isinstance(built, kind)
    for name, value in attributes.items():
        assert getattr(built, name) == value


def test_tpe_group_with_multivariate_off_is_refused_by_optuna_in_one_line(tmp_path):
    text = BASE + "sampler: {name: tpe, multivariate: false, group: true}\n"
    message = load_error(tmp_path, text)
    assert "sampler: ``group`` option can only be enabled when ``multivariate``" in message


def test_tpe_group_alone_is_multivariate_tpe_with_groups(tmp_path):
    space = sweep.load_space(write_space(tmp_path, BASE + "sampler: {name: tpe, group: true}\n"))
    assert sweep.make_sampler(space)._sampler._group


def test_tpe_group_must_be_true_or_false(tmp_path):
    message = load_error(tmp_path, BASE + "sampler: {name: tpe, group: 1}\n")
    assert "sampler.group: got 1; valid values are true or false" in message


def test_gp_sampler_without_torch_names_the_missing_extra_dependency(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    message = load_error(tmp_path, BASE + "sampler: {name: gp, seed: 3}\n")
    assert message.endswith(
        "sampler: gp needs the extra dependency torch (pip install torch); valid samplers "
        "without it are tpe, random"
    )


def test_gp_sampler_is_optunas_gpsampler_where_torch_is_installed(tmp_path):
    pytest.importorskip("torch")
    space = sweep.load_space(write_space(tmp_path, BASE + "sampler: {name: gp, seed: 3}\n"))
    assert isinstance(sweep.make_sampler(space)._sampler, optuna.samplers.GPSampler)


# --- Multi-objective mode --------------------------------------------------------------------


def test_objectives_make_a_multi_objective_space_without_pruning(tmp_path):
    space = sweep.load_space(write_space(tmp_path, MULTI))
    assert space.multi_objective and space.objectives == ("val_accuracy", "train_seconds")
    assert space.directions == ["maximize", "minimize"]
    assert space.objective_names == ("best_val_accuracy", "train_seconds")
    assert space.pruner == ("none", {})
    assert space.describe()["objectives"] == ["val_accuracy", "train_seconds"]


def test_a_single_objective_space_describes_itself_as_before(tmp_path):
    space = sweep.load_space(write_space(tmp_path, BASE))
    assert not space.multi_objective and space.directions == ["maximize"]
    assert space.objective_names == ("best_val_accuracy",)
    assert "objectives" not in space.describe()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MULTI + "pruner: median\n",
            "pruner.name: got 'median', but Optuna cannot prune multi-objective trials; "
            "valid values with objectives are none",
        ),
        (
            MULTI + "metric: val_loss\n",
            "metric: cannot be combined with objectives; valid is one of them",
        ),
        (
            BASE + "objectives: [val_accuracy]\n",
            "objectives: got ['val_accuracy']; valid values are a list of at least two distinct "
            "names of val_accuracy (maximize), val_loss (minimize), val_macro_f1 (maximize), train_seconds (minimize), "
            "param_count (minimize)",
        ),
        (
            BASE + "objectives: [val_accuracy, val_accuracy]\n",
            "objectives: got ['val_accuracy', 'val_accuracy']; valid values are a list",
        ),
        (
            BASE + "objectives: [val_accuracy, test_accuracy]\n",
            "objectives: got 'test_accuracy'; valid names are val_accuracy (maximize)",
        ),
    ],
)
def test_bad_objectives_get_one_line(tmp_path, text, expected):
    assert expected in load_error(tmp_path, text)


def toy_values(trial: optuna.Trial) -> tuple[float, float]:
    """A toy trade-off: more units score higher and take longer; dropout only adds noise."""
    units = trial.suggest_int("units", 4, 64)
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    return 0.7 + units / 640 - dropout / 1000, units * 0.5


@pytest.fixture
def toy_study(tmp_path):
    space = sweep.load_space(write_space(tmp_path, MULTI + "sampler: {name: random, seed: 5}\n"))
    study = optuna.create_study(
        directions=space.directions,
        sampler=sweep.make_sampler(space),
        pruner=sweep.make_pruner(space),
    )
    study.optimize(toy_values, n_trials=8)
    return space, study


def test_multi_objective_table_has_a_value_per_objective_and_marks_the_pareto_front(toy_study):
    space, study = toy_study
    header, *rows = sweep.trials_table(study, space).splitlines()
    assert header.startswith(
        "number,state,units,dropout,value_val_accuracy,value_train_seconds,pareto,"
    )
    front = {trial.number for trial in sweep.pareto_trials(study)}
    assert front and {int(row.split(",")[0]) for row in rows if ",True," in row} == front
    assert sweep.best_trial(study) is None


def test_multi_objective_study_plots_its_pareto_front(toy_study):
    space, study = toy_study
    figures, skipped = sweep.study_figures(study, space.objectives)
    assert "pareto_front" in figures, skipped
    assert set(figures) <= set(sweep.MULTI_OBJECTIVE_PLOTS)


def test_multi_objective_trials_report_nothing_to_the_pruner():
    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    reporter = sweep.TrialReporter(trial, "val_accuracy", prunable=False)
    reporter.on_epoch_end(0, {"val_accuracy": 0.7})
    assert study.trials[0].intermediate_values == {}


# --- Parameter importances -------------------------------------------------------------------


def test_importances_are_numbers_per_objective_summing_to_one(toy_study):
    space, study = toy_study
    importances = sweep.param_importances(study, space)
    assert list(importances) == ["val_accuracy", "train_seconds"]
    for values in importances.values():
        assert set(values) == {"units", "dropout"}
        assert sum(values.values()) == pytest.approx(1.0)
    assert importances["train_seconds"]["units"] > importances["train_seconds"]["dropout"]


def test_importances_wait_for_two_complete_trials_that_differ(tmp_path):
    space = sweep.load_space(write_space(tmp_path, BASE))
    study = optuna.create_study(direction="maximize")
    assert sweep.param_importances(study, space) == {}
    study.enqueue_trial({"units": 8, "dropout": 0.1})
    study.enqueue_trial({"units": 8, "dropout": 0.1})
    study.optimize(lambda trial: trial.suggest_int("units", 4, 64) / 64, n_trials=2)
    assert sweep.param_importances(study, space) == {}


@pytest.mark.slow
def test_parent_run_logs_importances_as_metrics_and_json(tracking_uri):
    importances = {
        "val_accuracy": {"units": 0.75, "dropout": 0.25},
        "train_seconds": {"units": 1.0},
    }
    with mlflow.start_run() as run:
        pass
    logged = parent_run.log_study_importances(run.info.run_id, importances, step=4)
    metrics = MlflowClient().get_run(run.info.run_id).data.metrics
    assert (
        metrics
        == logged
        == {
            "importance_units": 0.75,
            "importance_dropout": 0.25,
            "importance_train_seconds_units": 1.0,
        }
    )
    document = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/importances.json")
    assert json.loads(document) == importances


@pytest.mark.slow
def test_no_importances_log_nothing(tracking_uri):
    with mlflow.start_run() as run:
        pass
    assert parent_run.log_study_importances(run.info.run_id, {}, step=1) == {}
    assert MlflowClient().get_run(run.info.run_id).data.metrics == {}


# --- Per-trial fixed cost --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epochs", "train_size", "expected"),
    [(3, 4000, False), (20, 4000, True), (3, 20000, False), (4, 20000, True)],
)
def test_xla_is_on_only_for_tensorflow_trials_long_enough_to_pay_for_its_compile(
    tmp_path, epochs, train_size, expected
):
    space = sweep.load_space(write_space(tmp_path, BASE))
    config = space.config_for({"units": 8, "dropout": 0.0})
    config = dataclasses.replace(config, epochs=epochs, backend="tensorflow")
    assert sweep.choose_jit_compile(space, config, train_size).jit_compile is expected


@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.parametrize(("epochs", "train_size"), [(3, 4000), (4, 20000)])
def test_trials_off_tensorflow_keep_the_compiled_step_however_short(
    tmp_path, backend, epochs, train_size
):
    # Without jit_compile JAX runs each step op by op: a short trial would crawl, not save.
    space = sweep.load_space(write_space(tmp_path, BASE))
    config = space.config_for({"units": 8, "dropout": 0.0})
    config = dataclasses.replace(config, epochs=epochs, backend=backend)
    assert sweep.choose_jit_compile(space, config, train_size).jit_compile is True


@pytest.mark.parametrize("fixed", [True, False])
def test_a_space_that_fixes_jit_compile_keeps_it(tmp_path, fixed):
    text = BASE.replace("epochs: 4}", f"epochs: 4, jit_compile: {str(fixed).lower()}}}")
    space = sweep.load_space(write_space(tmp_path, text))
    config = space.config_for({"units": 8, "dropout": 0.0})
    assert sweep.choose_jit_compile(space, config, 10**6).jit_compile is fixed
    assert sweep.choose_jit_compile(space, config, 10).jit_compile is fixed
