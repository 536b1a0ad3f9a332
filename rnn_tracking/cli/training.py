"""The commands that train a model in a run: `train`, `rerun` (the same params again) and
`embed` (word2vec vectors to start one from)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from rnn_tracking.cli.commands import (
    EXIT_FAILED,
    EXIT_OK,
    prepare_tracking_store,
    record_system_metrics,
)
from rnn_tracking.cli.parser import UsageError, read_config, read_options
from rnn_tracking.config import NO_EMBEDDINGS, TrainConfig
from rnn_tracking.options import EmbedOptions, RerunOptions, TrainOptions


def command_rerun(args: argparse.Namespace) -> int:
    """Trains a run again from its params on the same data; says whether its results reproduce.

    Exit code 0 when every judged metric matches, 1 when one differs (the new run is kept
    either way, tagged `rerun_of`).
    """
    import mlflow

    from rnn_tracking import rerun, runs, tracking
    from rnn_tracking.data import load_splits

    try:
        options = read_options(args, RerunOptions)
        if len(options.run_id) != 1:
            raise ValueError(
                f"run_id: got {len(options.run_id)} ids; valid values are exactly one run id."
            )
        prepare_tracking_store()
        source = rerun.read_training_run(options.run_id[0])
        config = rerun.config_of_run(source, options.data)
        splits = load_splits(config)
        rerun.check_same_data(source, splits.digest, splits.source)
    except ValueError as error:
        raise UsageError(str(error)) from error
    if options.experiment_name:
        tracking.select_experiment(options.experiment_name)
    else:
        mlflow.set_experiment(experiment_id=source.info.experiment_id)
    run_id, result = tracking.track_training(
        config,
        splits,
        tags={runs.RERUN_OF_TAG: source.info.run_id},
        verbose=options.verbose,
    )
    print(describe_result(run_id, result))
    deterministic = rerun.is_deterministic(config)
    comparisons = rerun.compare_results(
        source.data.metrics, result.summary_metrics(), deterministic
    )
    print(f"run {run_id} against run {source.info.run_id}:")
    print(rerun.describe_comparisons(comparisons, deterministic))
    return EXIT_OK if rerun.reproduces(comparisons) else EXIT_FAILED


def command_train(args: argparse.Namespace) -> int:
    """Trains one model in one MLflow run and prints its summary metrics."""
    from rnn_tracking import tracking
    from rnn_tracking.data import load_splits
    from rnn_tracking.embeddings import prepare_embeddings

    # Everything is validated and the data loaded before a run is opened, so bad input
    # never leaves a run behind.
    # With --seeds N, each seed's data is loaded here too (the encoding comes from the cache
    # after the first), because the seed also draws the validation split.
    try:
        config = read_config(args)
        options = read_options(args, TrainOptions)
        record_system_metrics(options.system_metrics)
        loaded = [(each, load_splits(each)) for each in seed_configs(config, options.seeds)]
        if config.embeddings != NO_EMBEDDINGS:
            prepare_tracking_store()
        embeddings = prepare_embeddings(config, loaded[0][1])
    except ValueError as error:
        raise UsageError(str(error)) from error
    tracking.select_experiment(options.experiment_name)
    if len(loaded) == 1:
        run_id, result = tracking.track_training(
            config, loaded[0][1], verbose=options.verbose, embeddings=embeddings
        )
        print(describe_result(run_id, result))
        return EXIT_OK
    parent_id, results = tracking.track_seed_repeats(loaded, verbose=options.verbose)
    for run_id, result in results:
        print(describe_result(run_id, result))
    summary = tracking.summarize_repeats([result for _, result in results])
    print(
        f"parent run {parent_id}: test_accuracy {summary['test_accuracy_mean']:.4f} ± "
        f"{summary['test_accuracy_std']:.4f} over {len(results)} seeds"
    )
    return EXIT_OK


def describe_result(run_id: str, result: Any) -> str:
    """Returns the one-line summary printed after a training run."""
    return (
        f"run {run_id}: best epoch {result.best_epoch} of {result.epochs_run}, "
        f"val_accuracy {result.best_val_accuracy:.4f}, test_accuracy {result.test_accuracy:.4f}, "
        f"test_macro_f1 {result.test_macro_f1:.4f}, {result.train_seconds:.1f} s"
    )


def seed_configs(config: TrainConfig, seeds: int) -> list[TrainConfig]:
    """Returns the configs of `--seeds N`: seeds seed, seed+1, ..., seed+N-1.

    `seeds` is a run option, not a config field: it says how many models to train, not
    what one model computes.
    """
    return [dataclasses.replace(config, seed=config.seed + offset) for offset in range(seeds)]


def command_embed(args: argparse.Namespace) -> int:
    """Trains word2vec on the training split's reviews and logs the vectors in a new run."""
    from rnn_tracking import embeddings, runs

    try:
        config = read_config(args, embeddings.SPLIT_FIELDS)
        options = read_options(args, EmbedOptions)
        prepare_tracking_store()
        runs.select_experiment(options.experiment_name)
        run_id, uri, count = embeddings.track_word2vec(config, options)
    except ValueError as error:
        raise UsageError(str(error)) from error
    print(
        f"run {run_id}: {count} word vectors of dimension {options.vector_size}; start a "
        f"model from them with --embeddings {uri} --embedding_dim {options.vector_size}"
    )
    return EXIT_OK
