"""Samplers and pruners of a study, built from its space file.

The sampler is reseeded for each trial from (the study's seed, the trial number), so a
one-worker study is reproducible and parallel or resumed workers draw new values. The
pruner watches the trial's metric per 1-based epoch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from rnn_tracking.sweep.space import SearchSpace, read_space, space_error


def load_space(
    path: str | Path, *, data: str | None = None, seed: int | None = None
) -> SearchSpace:
    """Reads and validates a space file in full (see `rnn_tracking.sweep.space.read_space`).

    Optuna checks the sampler's and the pruner's option values here, so a bad value fails
    with the file and the key before anything starts.
    """
    space = read_space(path, data=data, seed=seed)
    for key, build in (("sampler", make_sampler), ("pruner", make_pruner)):
        try:
            build(space)
        except (TypeError, ValueError) as error:
            raise space_error(space.path, key, str(error)) from None
    return space


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """Runs a sampler seeded afresh for each trial, from (the study's seed, the trial number).

    A sampler seeded once per process repeats its random draws in every process: two workers
    started together, or a study resumed later, would propose the same first trials again.
    Trial numbers are unique within a study, so seeding from them keeps a one-worker study
    reproducible and gives every trial its own draws.
    """

    def __init__(self, make: Callable[[int], optuna.samplers.BaseSampler], seed: int) -> None:
        self._make = make
        self._seed = seed
        self._sampler = make(seed)

    def __str__(self) -> str:
        return f"{type(self._sampler).__name__}(seed={self._seed}, reseeded per trial)"

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        state = np.random.SeedSequence([self._seed, trial.number]).generate_state(1)[0]
        self._sampler = self._make(int(state))
        self._sampler.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict:
        return self._sampler.infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, search_space: dict) -> dict:
        return self._sampler.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: Any
    ) -> Any:
        return self._sampler.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._sampler.reseed_rng()


def make_sampler(space: SearchSpace) -> TrialSeededSampler:
    """Builds the space's sampler (TPE by default, with the constant liar), seeded per trial."""
    name, options = space.sampler
    options = dict(options)
    seed = int(options.pop("seed"))
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed: got {seed}; valid values are integers in [0, 2**32)")
    kind = sampler_class(name)
    if name == "tpe":
        # Parallel workers (`--workers N`, or several `&` workers) would otherwise propose
        # points near each other's running trials; the constant liar counts those as bad
        # results. With one worker there is no running trial to lie about, so it is harmless.
        options["constant_liar"] = True

    def make(trial_seed: int) -> optuna.samplers.BaseSampler:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return kind(seed=trial_seed, **options)

    return TrialSeededSampler(make, seed)


def sampler_class(name: str) -> type[optuna.samplers.BaseSampler]:
    """Returns the Optuna sampler class of a space file's sampler name.

    `tpe` takes `multivariate` and `group` as they are: `group: true` (with
    `multivariate: true`) models the parameters that appear together as one group, which
    pays where the space is conditional. `gp` is Optuna's GPSampler, which needs PyTorch, an
    extra dependency: without it the name is refused here, before anything starts.
    """
    if name == "gp":
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ValueError(
                "gp needs the extra dependency torch (pip install torch); valid samplers "
                "without it are tpe, random"
            ) from None
        return optuna.samplers.GPSampler
    return {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler}[name]


def make_pruner(space: SearchSpace) -> optuna.pruners.BasePruner:
    """Builds the space's pruner (median by default). Steps are 1-based epochs.

    Hyperband's largest budget defaults to the trials' `epochs`, which the space fixes.
    """
    name, options = space.pruner
    if name == "median":
        return optuna.pruners.MedianPruner(**options)
    if name == "hyperband":
        options = {"max_resource": space.base_config.epochs, **options}
        return optuna.pruners.HyperbandPruner(**options)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(**options)
    if name == "threshold":
        return optuna.pruners.ThresholdPruner(**options)
    return optuna.pruners.NopPruner()


def describe_pruner(space: SearchSpace, pruner: optuna.pruners.BasePruner | None = None) -> str:
    """Spells the pruner and its options for the parent run's tag (`MedianPruner(...)`).

    `pruner` is the space's pruner where the caller has built it already.
    """
    pruner = pruner or make_pruner(space)
    options = ", ".join(f"{key}={value}" for key, value in space.pruner[1].items())
    return f"{type(pruner).__name__}({options})"
