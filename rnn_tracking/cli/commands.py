"""What each command does once its options are read: wire the modules, print the outcome.

Heavy libraries are imported only by the command that needs them, so `--help` answers at
once. Bad input raises `UsageError` before any run is opened, so it never leaves one behind.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from rnn_tracking.cli.parser import UsageError, read_config, read_options
from rnn_tracking.config import NO_EMBEDDINGS, TrainConfig
from rnn_tracking.options import (
    BaselineOptions,
    EmbedOptions,
    EvaluateOptions,
    PredictOptions,
    PromoteOptions,
    ReportOptions,
    RerunOptions,
    SweepOptions,
    TrainOptions,
)

PROGRAM = "rnn-tracking"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def prepare_tracking_store() -> None:
    """Creates the tracking store once, under a lock, before a command's first MLflow call."""
    from rnn_tracking.runs import prepare_tracking_store as prepare

    prepare()


def record_system_metrics(enabled: bool) -> None:
    """Turns the system metrics and cost summaries of this process's runs on or off."""
    from rnn_tracking.runs import record_system_metrics as record

    record(enabled)


def end_pending_run() -> None:
    """Ends FAILED the run `mlflow run` created for us, if our code never got to open it."""
    if os.environ.get("MLFLOW_RUN_ID"):
        from rnn_tracking.runs import end_launcher_run_failed_if_pending

        end_launcher_run_failed_if_pending()


# --- the Keras backend: chosen once per process, before Keras is imported -----------------


def prepare_backend(args: argparse.Namespace) -> str:
    """Makes this process (and the workers it starts) run Keras on the command's backend.

    train: `--backend` (default: the field's); rerun: the backend the run recorded
    (tensorflow for runs made before the option existed); sweep: the space's `fixed`
    backend; predict and evaluate: $KERAS_BACKEND if set, else the default (a text model
    loads on any backend). Raises UsageError, one line, for a missing backend or a process
    whose Keras already runs on another.
    """
    from rnn_tracking.backend import BACKEND_ENV_VAR, DEFAULT_BACKEND, apply_backend

    try:
        if args.command == "train":
            name = args.backend or DEFAULT_BACKEND
        elif args.command == "rerun":
            name = read_rerun_backend(args)
        elif args.command == "sweep":
            name = read_space_backend(args.space)
        else:
            name = os.environ.get(BACKEND_ENV_VAR) or DEFAULT_BACKEND
        apply_backend(name)
    except ValueError as error:
        raise UsageError(str(error)) from error
    return name


def read_rerun_backend(args: argparse.Namespace) -> str:
    """Returns the backend the run to rerun trained on; ValueError for a bad run id."""
    from rnn_tracking import rerun

    options = read_options(args, RerunOptions)
    if len(options.run_id) != 1:
        raise ValueError(
            f"run_id: got {len(options.run_id)} ids; valid values are exactly one run id."
        )
    prepare_tracking_store()
    return rerun.config_of_run(rerun.read_training_run(options.run_id[0])).backend


def read_space_backend(path: str | None) -> str:
    """Returns the backend a space file fixes, else the default; the sweep's own reader
    checks the file in full afterwards (this reads YAML only, so that no Keras is imported)."""
    import yaml

    from rnn_tracking.backend import DEFAULT_BACKEND

    try:
        raw = yaml.safe_load(Path(str(path)).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return DEFAULT_BACKEND
    fixed = raw.get("fixed") if isinstance(raw, dict) else None
    name = fixed.get("backend") if isinstance(fixed, dict) else None
    return str(name) if name is not None else DEFAULT_BACKEND


# --- train ---------------------------------------------------------------------------------


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


# --- report: compare tracked runs (rnn_tracking.report) -----------------------------------


def command_report(args: argparse.Namespace) -> int:
    """Builds the report, prints the table and writes the requested outputs."""
    from rnn_tracking import report

    def path(text: str | None) -> Path | None:
        return Path(text).expanduser() if text else None

    inside_mlflow_run = bool(os.environ.get("MLFLOW_RUN_ID"))
    try:
        given = read_options(args, ReportOptions)
        selection = report.Selection(
            experiment_names=given.experiment_name,
            filter_string=given.filter,
            children=given.children,
            statuses=report.parse_statuses(given.status),
        )
        options = report.TableOptions(
            metrics=given.metrics,
            group_by=given.group_by,
            sort_by=given.sort_by,
            ascending=given.order == "asc",
            top_k=given.top_k,
            max_curves=given.max_curves,
        )
        outputs = report.Outputs(
            markdown=path(given.markdown),
            csv=path(given.csv),
            html=path(given.html),
            plots_dir=path(given.plots_dir),
            output_dir=path(given.output_dir),
            log_to_mlflow=given.log_to_mlflow or inside_mlflow_run,
        )
        prepare_tracking_store()
        built = report.build_report(selection, options)
    except report.NoRunsError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        end_pending_run()
        return EXIT_FAILED
    except ValueError as error:
        raise UsageError(str(error)) from error
    print(report.render_terminal(built))
    with tempfile.TemporaryDirectory() as scratch:
        files = report.write_outputs(built, outputs.resolved(Path(scratch)))
        if outputs.log_to_mlflow:
            names = selection.experiment_names
            run_id = report.log_report(built, files, names[0] if names else None)
            print(f"logged the report as run {run_id}")
        if outputs.output_dir or not outputs.log_to_mlflow:
            for written in files:
                print(f"wrote {written}")
    return EXIT_OK


# --- baseline: TF-IDF + logistic regression, NBSVM (rnn_tracking.baseline) ----------------


def command_baseline(args: argparse.Namespace) -> int:
    """Fits every model and budget first, then logs one run each and prints its metrics."""
    # `runs`, not `tracking`: the baseline needs no Keras, and imports none.
    from rnn_tracking import baseline, runs
    from rnn_tracking.baseline.record import track_baseline

    try:
        config = read_config(args, baseline.DATA_FIELDS)
        options = read_options(args, BaselineOptions)
        budgets = baseline.parse_budgets(options.budgets)
        fitted = baseline.run_baselines(config, budgets, baseline.parse_models(options.models))
    except ValueError as error:
        raise UsageError(str(error)) from error
    runs.select_experiment(options.experiment_name)
    for data, result in fitted:
        run_id = track_baseline(config, data, result)
        print(
            f"run {run_id}: {result.arch} at the {result.budget} budget, "
            f"C {result.best_c:g}, val_accuracy {result.best_val_accuracy:.4f}, "
            f"test_accuracy {result.test_accuracy:.4f}, {result.train_seconds:.1f} s"
        )
    return EXIT_OK


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


# --- predict, promote, evaluate: the text model (rnn_tracking.serving) ---------------------


def command_predict(args: argparse.Namespace) -> int:
    """Scores reviews given as arguments or in a file; prints one line per review."""
    from rnn_tracking import serving
    from rnn_tracking.data import read_review_file

    try:
        options = read_options(args, PredictOptions)
        reviews = list(options.reviews)
        if options.file:
            reviews += read_review_file(options.file, options.text_column)
        if not reviews:
            raise ValueError(
                "reviews: got none; valid values are review texts as arguments, or --file PATH."
            )
        prepare_tracking_store()
        scores = serving.predict_reviews(options.model_uri, reviews)
    except ValueError as error:
        raise UsageError(str(error)) from error
    binary = "class_name" in scores.columns
    print("label\tsentiment\tprobability\treview" if binary else "label\tprobability\treview")
    for review, probability, label in zip(
        reviews, scores["probability"], scores["label"], strict=True
    ):
        snippet = " ".join(review.split())
        snippet = snippet if len(snippet) <= 60 else snippet[:57] + "..."
        if binary:
            sentiment = "positive" if label == 1 else "negative"
            print(f"{label}\t{sentiment}\t{probability:.4f}\t{snippet}")
        else:
            print(f"{label}\t{probability:.4f}\t{snippet}")
    return EXIT_OK


def command_promote(args: argparse.Namespace) -> int:
    """Registers the best run's text model and points the `champion` alias at it, if it
    passes the gate (or `--force`); a refused challenger prints the gate's table and exits 1."""
    from rnn_tracking import serving

    try:
        options = read_options(args, PromoteOptions)
        prepare_tracking_store()
        promotion = serving.promote_best_model(
            options.name,
            experiment_names=list(options.experiment_name) or None,
            filter_string=options.filter,
            metric=options.metric,
            alpha=options.alpha,
            force=options.force,
        )
    except serving.PromotionRefused as refused:
        print(refused.decision.describe_table())
        print(f"{PROGRAM} promote: refused: {refused}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as error:
        raise UsageError(str(error)) from error
    if promotion.decision is not None:
        print(promotion.decision.describe_table())
    gate = "gate skipped (--force); " if promotion.forced else ""
    print(
        f"registered {promotion.name} version {promotion.version} from run {promotion.run_id} "
        f"({promotion.metric} {promotion.value:.4f}); {gate}alias {serving.CHAMPION_ALIAS} -> "
        f"{promotion.model_uri}"
    )
    return EXIT_OK


def command_evaluate(args: argparse.Namespace) -> int:
    """Evaluates a text model on its test split in a new MLflow run; prints the key metrics."""
    from rnn_tracking import serving, tracking

    try:
        options = read_options(args, EvaluateOptions)
        record_system_metrics(options.system_metrics)
    except ValueError as error:
        raise UsageError(str(error)) from error
    tracking.select_experiment(options.experiment_name)
    try:
        prepare_tracking_store()
        evaluation = serving.evaluate_model(
            options.model_uri,
            data_source=options.data,
            max_reviews=options.max_reviews,
            wrong_reviews=options.wrong_reviews,
        )
    except ValueError as error:
        raise UsageError(str(error)) from error
    shown = [
        "accuracy_score",
        "f1_score",
        "macro_f1",
        "roc_auc",
        "roc_auc_ovr",
        "average_precision",
    ]
    shown += [f"accuracy_{bucket}" for bucket, _, _ in serving.LENGTH_BUCKETS]
    values = ", ".join(
        f"{name} {evaluation.metrics[name]:.4f}" for name in shown if name in evaluation.metrics
    )
    print(f"run {evaluation.run_id}: {evaluation.reviews} test reviews, {values}")
    return EXIT_OK


# --- sweep: an Optuna study (rnn_tracking.sweep) --------------------------------------------


def command_sweep(args: argparse.Namespace) -> int:
    """Runs or continues a study and prints its best trial."""
    from rnn_tracking import sweep

    def echo(line: str) -> None:
        print(line, flush=True)

    try:
        options = read_options(args, SweepOptions)
        record_system_metrics(options.system_metrics)
        space = sweep.load_space(options.space, data=options.data, seed=options.seed)
        if options.workers > 1:
            outcome = sweep.run_workers(space, options, echo=echo)
        else:
            outcome = sweep.run_sweep(
                space,
                n_trials=options.n_trials,
                timeout=options.timeout or None,
                study_name=options.study_name,
                storage=options.storage,
                experiment_name=options.experiment_name,
                verbose=options.verbose,
                heartbeat_interval=options.heartbeat_interval,
                echo=echo,
                warm_start=sweep.read_warm_start(options),
            )
    except ValueError as error:
        raise UsageError(str(error)) from error
    tally, best = outcome.tally, outcome.best_trial
    best_text = (
        f"best {space.metric} {best.value:.4f} (trial {best.number}: {sweep.describe_params(best.params)})"
        if best
        else "no complete trial"
    )
    if outcome.pareto_trials:
        numbers = ", ".join(str(trial.number) for trial in outcome.pareto_trials)
        best_text = f"Pareto front: trials {numbers} (trials.csv, plots/pareto_front.png)"
    print(
        f"study {outcome.study_name!r}: {tally.done} of {outcome.n_trials} trials done "
        f"({tally.complete} complete, {tally.pruned} pruned, {tally.failed - tally.retried} failed); "
        f"{best_text}; parent run {outcome.parent_run_id}"
    )
    for failure in outcome.failed_workers:
        print(f"{PROGRAM}: error: {failure}", file=sys.stderr)
    return EXIT_FAILED if outcome.failed_workers else EXIT_OK
