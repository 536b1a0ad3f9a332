"""The search-space file of a sweep: what to tune, what to fix, and how to search.

A `sweeps/*.yaml` file asks one question. It names the study, the metric and its
direction, the sampler and the pruner, the fixed settings and the tuned parameters. Every
fixed or tuned key is a `TrainConfig` field, spelled as everywhere else. `read_space`
validates a file in full before anything starts, and names the file, the key and the
problem in a one-line ValueError. The sampler and pruner keys are read by
`rnn_tracking.sweep.methods`; `rnn_tracking.sweep` runs the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rnn_tracking.config import (
    DATA_FIELDS,
    FIELDS,
    TrainConfig,
    config_from_mapping,
    format_value,
)
from rnn_tracking.sweep.methods import (
    DEFAULT_PRUNER,
    DEFAULT_SAMPLER,
    PRUNER_OPTIONS,
    read_choice,
    sampler_options,
)
from rnn_tracking.sweep.methods import MANAGED_SAMPLER_OPTIONS as MANAGED_SAMPLER_OPTIONS
from rnn_tracking.sweep.methods import SAMPLER_CLASSES as SAMPLER_CLASSES
from rnn_tracking.sweep.methods import read_constructor_options as read_constructor_options
from rnn_tracking.sweep.params import (
    ParamSpec,
    read_enqueue,
    read_params,
    space_error,
    strip_name,
)

# The keys of a space file, in the order the docs list them.
SPACE_KEYS = (
    "study_name",
    "description",
    "metric",
    "direction",
    "objectives",
    "sampler",
    "pruner",
    "fixed",
    "params",
    "enqueue",
)
# Each metric the pruner can watch: its direction and the summary value a trial returns.
METRICS = {
    "val_accuracy": ("maximize", "best_val_accuracy"),
    "val_loss": ("minimize", "best_val_loss"),
    "val_macro_f1": ("maximize", "best_val_macro_f1"),
}
# Each value a multi-objective study can optimize: the metrics above, and two costs a trial
# knows only when it ends. Optuna cannot prune a multi-objective trial.
OBJECTIVES = {
    **METRICS,
    "train_seconds": ("minimize", "train_seconds"),
    "param_count": ("minimize", "param_count"),
}
# The fields whose values change what `load_splits` returns. A space may tune them: each
# distinct encoding is then loaded once per worker instead of once in all.
SPLIT_FIELDS = DATA_FIELDS


@dataclass(frozen=True)
class SearchSpace:
    """A validated space file: what to tune, what to fix, and how to search.

    `fixed` holds typed config values; a trial's config is `fixed` updated with the values
    it samples for `params`. `sampler` and `pruner` are (name, options) pairs. A
    multi-objective space lists its `objectives` (at least two); `metric` and `direction`
    are then its first objective's. `enqueue` holds the configs (tuned values only) the
    study tries before it samples any; it is not part of what makes two sessions one study.
    """

    path: Path
    study_name: str
    description: str
    metric: str
    direction: str
    sampler: tuple[str, dict[str, Any]]
    pruner: tuple[str, dict[str, Any]]
    fixed: dict[str, Any]
    params: tuple[ParamSpec, ...]
    objectives: tuple[str, ...] = ()
    enqueue: tuple[dict[str, Any], ...] = ()

    def config_for(self, sampled: dict[str, Any]) -> TrainConfig:
        """Returns the training config of a trial that sampled `sampled`."""
        return config_from_mapping({**self.fixed, **sampled}, base=TrainConfig())

    @property
    def base_config(self) -> TrainConfig:
        """The config of the fixed settings alone (tuned fields keep their defaults)."""
        return config_from_mapping(self.fixed, base=TrainConfig())

    @property
    def tunes_data(self) -> bool:
        """Whether some tuned parameter changes the encoded data."""
        return any(spec.name in SPLIT_FIELDS for spec in self.params)

    @property
    def objective_name(self) -> str:
        """The trial run's summary metric that the study optimizes (`best_val_accuracy`)."""
        return OBJECTIVES[self.metric][1]

    @property
    def multi_objective(self) -> bool:
        """Whether the study optimizes several objectives (and so prunes nothing)."""
        return bool(self.objectives)

    @property
    def objective_names(self) -> tuple[str, ...]:
        """The summary metrics a trial returns, in order: one, or one per objective."""
        return tuple(OBJECTIVES[name][1] for name in self.objectives or (self.metric,))

    @property
    def directions(self) -> list[str]:
        """The direction of each value a trial returns, in order."""
        return [OBJECTIVES[name][0] for name in self.objectives or (self.metric,)]

    def describe(self) -> dict[str, Any]:
        """Returns what makes two sessions the same study, as plain data.

        The data source is left out: the same study may read the same data from a different
        path on another machine.
        """
        described = {
            "metric": self.metric,
            "direction": self.direction,
            "fixed": {
                name: format_value(value) for name, value in self.fixed.items() if name != "data"
            },
            "params": {spec.name: spec.describe() for spec in self.params},
        }
        if self.objectives:
            described["objectives"] = list(self.objectives)
        return described


def read_space(
    path: str | Path, *, data: str | None = None, seed: int | None = None
) -> SearchSpace:
    """Reads and validates a space file in full; raises ValueError naming file, key, problem.

    `data` replaces the fixed data source (as `--data` does for training). `seed` replaces
    the sampler's seed and the fixed training seed, so one number seeds the whole study.

    The file holds (only `study_name` and `params` are required)::

        study_name: lstm              # the Optuna study (and the MLflow parent run) name
        description: ...              # optional; shown as the parent run's note
        metric: val_accuracy          # or val_loss
        direction: maximize           # val_accuracy is maximized, val_loss minimized
        # objectives: [val_accuracy, train_seconds]   # instead of metric: a Pareto front
        sampler: {name: tpe, seed: 42, n_startup_trials: 10}   # or random, gp
        pruner: {name: median, n_startup_trials: 5, n_warmup_steps: 2}
        # hyperband, successive_halving, threshold, none (the only one with objectives)
        fixed: {arch: lstm, epochs: 20}                        # any TrainConfig field
        params:
          units: {type: int, low: 4, high: 128, log: true}
          dropout: {type: float, low: 0.0, high: 0.5}
          arch: {type: categorical, choices: [lstm, gru]}
        enqueue:                      # optional: configs tried first, in order (warm starts)
          - {units: 64, dropout: 0.2, arch: gru}
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(
            f"space: cannot read {path} ({error.strerror}); valid values are a YAML file "
            "such as sweeps/lstm.yaml"
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        raise space_error(
            path, where, f"not valid YAML ({getattr(error, 'problem', error)})"
        ) from None
    if not isinstance(raw, dict):
        raise space_error(path, "(top level)", "expected a mapping of " + ", ".join(SPACE_KEYS))
    unknown = [key for key in raw if key not in SPACE_KEYS]
    if unknown:
        raise space_error(
            path, str(unknown[0]), "unknown key; valid keys are " + ", ".join(SPACE_KEYS)
        )
    for key in ("study_name", "params"):
        if key not in raw:
            raise space_error(path, key, "missing; every space file names its study and its params")

    study_name = raw["study_name"]
    if not isinstance(study_name, str) or not study_name.strip():
        raise space_error(
            path, "study_name", f"got {study_name!r}; valid values are non-empty strings"
        )
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise space_error(path, "description", f"got {description!r}; valid values are strings")
    objectives = read_objectives(path, raw)
    metric = raw.get("metric", objectives[0] if objectives else "val_accuracy")
    if not objectives and metric not in METRICS:
        raise space_error(path, "metric", f"got {metric!r}; valid values are " + ", ".join(METRICS))
    direction = raw.get("direction", OBJECTIVES[metric][0])
    if direction != OBJECTIVES[metric][0]:
        raise space_error(
            path,
            "direction",
            f"got {direction!r}; {metric} is a metric to {OBJECTIVES[metric][0]}",
        )

    fixed = read_fixed(path, raw.get("fixed"), data)
    params = read_params(path, raw["params"], fixed)
    tuned = {spec.name for spec in params}
    if seed is not None and "seed" not in tuned:
        fixed["seed"] = seed
    sampler = read_choice(path, "sampler", raw.get("sampler", DEFAULT_SAMPLER), sampler_options())
    sampler[1].setdefault("seed", fixed.get("seed", TrainConfig().seed))
    if seed is not None:
        sampler[1]["seed"] = seed
    pruner = read_choice(
        path, "pruner", raw.get("pruner", "none" if objectives else DEFAULT_PRUNER), PRUNER_OPTIONS
    )
    if objectives and pruner[0] != "none":
        raise space_error(
            path,
            "pruner.name",
            f"got {pruner[0]!r}, but Optuna cannot prune multi-objective trials; valid values "
            "with objectives are none",
        )
    return SearchSpace(
        path=path,
        study_name=study_name.strip(),
        description=description.strip(),
        metric=metric,
        direction=direction,
        sampler=sampler,
        pruner=pruner,
        fixed=fixed,
        params=params,
        objectives=objectives,
        enqueue=read_enqueue(path, raw.get("enqueue"), params),
    )


def read_objectives(path: Path, raw: dict[str, Any]) -> tuple[str, ...]:
    """Reads `objectives`: two or more distinct names of OBJECTIVES, or () when absent.

    Each objective's direction is its metric's, as for `metric`; `metric` and `direction`
    may not be given beside it, since the objectives replace them.
    """
    objectives = raw.get("objectives")
    if objectives is None:
        return ()
    for key in ("metric", "direction"):
        if key in raw:
            raise space_error(path, key, "cannot be combined with objectives; valid is one of them")
    valid = ", ".join(f"{name} ({direction})" for name, (direction, _) in OBJECTIVES.items())
    if (
        not isinstance(objectives, list)
        or len(objectives) < 2
        or len(set(map(str, objectives))) != len(objectives)
    ):
        raise space_error(
            path,
            "objectives",
            f"got {objectives!r}; valid values are a list of at least two distinct names of "
            + valid,
        )
    for name in objectives:
        if name not in OBJECTIVES:
            raise space_error(path, "objectives", f"got {name!r}; valid names are {valid}")
    return tuple(objectives)


def read_fixed(path: Path, raw: Any, data: str | None) -> dict[str, Any]:
    """Validates the fixed settings as a config; returns them typed."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise space_error(path, "fixed", "expected a mapping of config fields to values")
    for name, value in raw.items():
        if name not in FIELDS:
            raise space_error(
                path,
                f"fixed.{name}",
                "unknown parameter; valid parameters are " + ", ".join(FIELDS),
            )
        if value is None or isinstance(value, (dict, list)):
            raise space_error(
                path, f"fixed.{name}", f"got {value!r}; valid values are single values"
            )
    values = dict(raw)
    if data:
        values["data"] = data
    for name in values:
        try:
            config_from_mapping({name: values[name]})
        except ValueError as error:
            raise space_error(path, f"fixed.{name}", strip_name(name, str(error))) from None
    config = config_from_mapping(values)
    return {name: getattr(config, name) for name in values}
