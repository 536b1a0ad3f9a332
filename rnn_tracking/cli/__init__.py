"""The command line: the only reader of argv, and the only place that sets exit codes.

`rnn-tracking train --arch gru --units 16` (also `python -m rnn_tracking train ...`) parses
argv into a validated `TrainConfig`, loads the data, and trains inside one MLflow run. Heavy
libraries are imported only by the command that needs them, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rnn_tracking.config import FIELDS, TrainConfig, config_from_mapping


def prepare_tracking_store() -> None:
    """Creates the tracking store once, under a lock, before a command's first MLflow call."""
    from rnn_tracking.runs import prepare_tracking_store as prepare

    prepare()


PROGRAM = "rnn-tracking"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(ValueError):
    """Bad input from the user: reported as one line with exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and raise instead of exiting."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse's hook.
        raise UsageError(message)


def quiet_tensorflow() -> None:
    """Keeps TensorFlow's C++ start-up chatter out of the terminal unless asked for."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def add_config_options(
    parser: argparse.ArgumentParser, names: Sequence[str] = tuple(FIELDS)
) -> None:
    """Adds one `--name` option per config field (or per field in `names`), with the field's
    default and reason.

    Values stay strings here; `config_from_mapping` converts and validates them, so argv,
    MLflow params and sweep files share one parser of values.
    """
    defaults = TrainConfig()
    group = parser.add_argument_group("training config (each is also an MLflow param)")
    for name in names:
        spec = FIELDS[name]
        default = getattr(defaults, name)
        shown = repr(default) if isinstance(default, str) else default
        group.add_argument(
            f"--{name}",
            dest=name,
            default=None,
            metavar=spec.type.upper(),
            help=f"{spec.metadata['help']} (default: {shown})".replace("%", "%%"),
        )


def add_tracking_options(parser: argparse.ArgumentParser, verbose_default: int = 2) -> None:
    """Adds the options that choose where runs are recorded and how chatty training is."""
    parser.add_argument(
        "--experiment-name",
        default=None,
        help="MLflow experiment to record into (default: $MLFLOW_EXPERIMENT_NAME, else MLflow's Default).",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=verbose_default,
        help="Keras fit output: 0 silent, 1 progress bar, 2 one line per epoch "
        f"(default: {verbose_default}).",
    )


def read_config(args: argparse.Namespace) -> TrainConfig:
    """Builds the config from the options the user gave; the rest keep their defaults."""
    given = {name: getattr(args, name) for name in FIELDS if getattr(args, name, None) is not None}
    return config_from_mapping(given)


def command_train(args: argparse.Namespace) -> int:
    """Trains one model in one MLflow run and prints its summary metrics."""
    from rnn_tracking import tracking
    from rnn_tracking.data import load_splits

    # Everything is validated and the data loaded before a run is opened, so bad input
    # never leaves a run behind.
    # With --seeds N, each seed's data is loaded here too (the encoding comes from the cache
    # after the first), because the seed also draws the validation split.
    try:
        config = read_config(args)
        loaded = [(each, load_splits(each)) for each in seed_configs(config, args.seeds)]
    except ValueError as error:
        raise UsageError(str(error)) from error
    tracking.select_experiment(args.experiment_name)
    if len(loaded) == 1:
        run_id, result = tracking.track_training(config, loaded[0][1], verbose=args.verbose)
        print(describe_result(run_id, result))
        return EXIT_OK
    parent_id, results = tracking.track_seed_repeats(loaded, verbose=args.verbose)
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
        f"{result.train_seconds:.1f} s"
    )


def seed_configs(config: TrainConfig, seeds: str) -> list[TrainConfig]:
    """Returns the configs of `--seeds N`: seeds seed, seed+1, ..., seed+N-1.

    `seeds` is a run option, not a config field: it says how many models to train, not
    what one model computes. Raises ValueError naming `seeds` or `seed`.
    """
    try:
        count = float(seeds)
        if not count.is_integer() or count < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"seeds: got {seeds!r}; valid values are integers >= 1.") from None
    return [dataclasses.replace(config, seed=config.seed + offset) for offset in range(int(count))]


# --- report: compare tracked runs (rnn_tracking.report) -----------------------------------


def add_report_command(commands: Any) -> None:
    """Registers `report`: select runs, build the table, write the outputs.

    The report module (MLflow, pandas) is imported only when the command runs; its defaults
    are applied there, so `--help` stays fast.
    """
    report = commands.add_parser(
        "report",
        help="Compare tracked runs in a table, grouped, with plots.",
        description="Compare tracked runs: a table (one row per run or per group, mean ± std), "
        "a significance test of the best two groups, plots, and Markdown/CSV/HTML files.",
        allow_abbrev=False,
    )
    select = report.add_argument_group("which runs")
    select.add_argument(
        "--experiment-name",
        action="append",
        default=[],
        metavar="NAME",
        help="Experiment to read; repeat it or separate names with commas (default: "
        "$MLFLOW_EXPERIMENT_NAME, else MLflow's Default).",
    )
    select.add_argument(
        "--filter",
        default="",
        help="MLflow search filter, e.g. \"params.units = '8' and metrics.test_accuracy > 0.7\".",
    )
    select.add_argument(
        "--children",
        default="exclude",
        help="exclude or include: whether sweep trials (child runs) are rows; seed repeats "
        "always are (default: exclude).",
    )
    select.add_argument(
        "--status",
        default="finished",
        help="Run statuses shown: 'all' or a comma-separated list of finished, failed, "
        "killed, running, scheduled; runs other than finished ones get a status column "
        "(default: finished).",
    )
    table = report.add_argument_group("the table")
    table.add_argument(
        "--group-by",
        default="",
        metavar="KEYS",
        help="Comma-separated params (or arch) to group by; groups show mean ± std and n.",
    )
    table.add_argument(
        "--metrics",
        default="",
        help="Comma-separated metric columns (default: param_count, best_epoch, "
        "best_val_accuracy, test_accuracy, train_seconds, seconds_per_epoch).",
    )
    table.add_argument(
        "--sort-by",
        default="",
        metavar="METRIC",
        help="Metric to sort by (default: test_accuracy).",
    )
    table.add_argument(
        "--order", default="desc", choices=("desc", "asc"), help="Sort order (default: desc)."
    )
    table.add_argument(
        "--top-k",
        type=whole_number,
        default=0,
        metavar="K",
        help="Keep the first K rows or groups (default: all).",
    )
    table.add_argument(
        "--max-curves",
        type=whole_number,
        default=None,
        metavar="N",
        help="Learning curves drawn at most, best first; only their histories are read "
        "(default: 50).",
    )
    out = report.add_argument_group("outputs (the table is always printed)")
    out.add_argument("--markdown", default="", metavar="FILE", help="Write the table as Markdown.")
    out.add_argument("--csv", default="", metavar="FILE", help="Write the numeric table as CSV.")
    out.add_argument(
        "--html",
        default="",
        metavar="FILE",
        help="Write one self-contained HTML page with the plots.",
    )
    out.add_argument("--plots-dir", default="", metavar="DIR", help="Write the plots as PNG files.")
    out.add_argument(
        "--output-dir",
        default="",
        metavar="DIR",
        help="Write all of them (report.md, report.csv, report.html, plots/) into DIR.",
    )
    out.add_argument(
        "--log-to-mlflow",
        action="store_true",
        help="Also log the outputs as artifacts of a run named 'report' (always inside "
        "mlflow run).",
    )
    report.set_defaults(handler=command_report)


def whole_number(text: str) -> int:
    """Reads an integer >= 0, also as MLflow passes it (`5.0`); argparse names the option."""
    try:
        number = float(text)
        if not number.is_integer() or number < 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; valid values are integers >= 0") from None
    return int(number)


def split_list(text: str) -> tuple[str, ...]:
    """Splits a comma-separated option into its non-empty, stripped parts."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def command_report(args: argparse.Namespace) -> int:
    """Builds the report, prints the table and writes the requested outputs."""
    import tempfile
    from pathlib import Path

    from rnn_tracking import report

    def path(text: str) -> Path | None:
        return Path(text).expanduser() if text else None

    inside_mlflow_run = bool(os.environ.get("MLFLOW_RUN_ID"))
    try:
        selection = report.Selection(
            experiment_names=tuple(name.strip() for name in args.experiment_name if name.strip()),
            filter_string=args.filter,
            children=args.children,
            statuses=report.parse_statuses(args.status),
        )
        options = report.TableOptions(
            metrics=split_list(args.metrics) or report.DEFAULT_METRICS,
            group_by=split_list(args.group_by),
            sort_by=args.sort_by or None,
            ascending=args.order == "asc",
            top_k=args.top_k,
            max_curves=report.MAX_CURVES if args.max_curves is None else args.max_curves,
        )
        outputs = report.Outputs(
            markdown=path(args.markdown),
            csv=path(args.csv),
            html=path(args.html),
            plots_dir=path(args.plots_dir),
            output_dir=path(args.output_dir),
            log_to_mlflow=args.log_to_mlflow or inside_mlflow_run,
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


# --- baseline: TF-IDF + logistic regression (rnn_tracking.baseline) -----------------------


def add_baseline_command(commands: Any) -> None:
    """Registers `baseline`: the linear model on the neural runs' split, one run per budget."""
    from rnn_tracking.baseline import DATA_FIELDS

    baseline = commands.add_parser(
        "baseline",
        help="Train TF-IDF + logistic regression on the same split, as comparable runs.",
        description="Train TF-IDF + LogisticRegression on exactly the train/validation/test "
        "split of the neural runs (C chosen on validation, test scored once); log one run "
        "per budget with arch=tfidf_logreg.",
        allow_abbrev=False,
    )
    add_config_options(baseline, DATA_FIELDS)
    baseline.add_argument(
        "--budgets",
        default="neural,full",
        help="Comma-separated: 'neural' sees only what the recurrent models see (the num_words "
        "vocabulary, the last maxlen tokens); 'full' sees the whole text (default: %(default)s).",
    )
    baseline.add_argument(
        "--experiment-name",
        default=None,
        help="MLflow experiment to record into (default: $MLFLOW_EXPERIMENT_NAME, else "
        "MLflow's Default).",
    )
    baseline.set_defaults(handler=command_baseline)


def command_baseline(args: argparse.Namespace) -> int:
    """Fits every budget first, then logs one run per budget and prints its metrics."""
    from rnn_tracking import baseline, tracking

    try:
        config = read_config(args)
        fitted = baseline.run_baselines(config, baseline.parse_budgets(args.budgets))
    except ValueError as error:
        raise UsageError(str(error)) from error
    tracking.select_experiment(args.experiment_name)
    for data, result in fitted:
        run_id = baseline.track_baseline(config, data, result)
        print(
            f"run {run_id}: {baseline.BASELINE_ARCH} at the {result.budget} budget, "
            f"C {result.best_c:g}, val_accuracy {result.best_val_accuracy:.4f}, "
            f"test_accuracy {result.test_accuracy:.4f}, {result.train_seconds:.1f} s"
        )
    return EXIT_OK


# --- predict, promote, evaluate: the text model (rnn_tracking.serving) ---------------------


def quiet_mlflow_downloads() -> None:
    """Keeps MLflow's artifact download progress bars out of command output."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def command_predict(args: argparse.Namespace) -> int:
    """Scores reviews given as arguments or in a file; prints one line per review."""
    from rnn_tracking import serving
    from rnn_tracking.data import read_review_file

    quiet_mlflow_downloads()
    try:
        reviews = list(args.reviews)
        if args.file:
            reviews += read_review_file(args.file, args.text_column)
        if not reviews:
            raise ValueError(
                "reviews: got none; valid values are review texts as arguments, or --file PATH."
            )
        prepare_tracking_store()
        scores = serving.predict_reviews(args.model_uri, reviews)
    except ValueError as error:
        raise UsageError(str(error)) from error
    print("label\tsentiment\tprobability\treview")
    for review, probability, label in zip(
        reviews, scores["probability"], scores["label"], strict=True
    ):
        snippet = " ".join(review.split())
        snippet = snippet if len(snippet) <= 60 else snippet[:57] + "..."
        sentiment = "positive" if label == 1 else "negative"
        print(f"{label}\t{sentiment}\t{probability:.4f}\t{snippet}")
    return EXIT_OK


def command_promote(args: argparse.Namespace) -> int:
    """Registers the best run's text model and points the `champion` alias at it."""
    from rnn_tracking import serving

    quiet_mlflow_downloads()
    try:
        prepare_tracking_store()
        promotion = serving.promote_best_model(
            args.name,
            experiment_names=args.experiment_name,
            filter_string=args.filter,
            metric=args.metric,
        )
    except ValueError as error:
        raise UsageError(str(error)) from error
    print(
        f"registered {promotion.name} version {promotion.version} from run {promotion.run_id} "
        f"({promotion.metric} {promotion.value:.4f}); alias {serving.CHAMPION_ALIAS} -> "
        f"{promotion.model_uri}"
    )
    return EXIT_OK


def command_evaluate(args: argparse.Namespace) -> int:
    """Evaluates a text model on its test split in a new MLflow run; prints the key metrics."""
    from rnn_tracking import serving, tracking

    quiet_mlflow_downloads()
    tracking.select_experiment(args.experiment_name)
    try:
        prepare_tracking_store()
        evaluation = serving.evaluate_model(
            args.model_uri,
            data_source=args.data or None,
            max_reviews=args.max_reviews or None,
            wrong_reviews=args.wrong_reviews,
        )
    except ValueError as error:
        raise UsageError(str(error)) from error
    shown = ["accuracy_score", "f1_score", "roc_auc", "average_precision"]
    shown += [f"accuracy_{bucket}" for bucket, _, _ in serving.LENGTH_BUCKETS]
    values = ", ".join(
        f"{name} {evaluation.metrics[name]:.4f}" for name in shown if name in evaluation.metrics
    )
    print(f"run {evaluation.run_id}: {evaluation.reviews} test reviews, {values}")
    return EXIT_OK


def add_model_uri_option(parser: argparse.ArgumentParser) -> None:
    """Adds the required `--model-uri` option of the commands that use a text model."""
    parser.add_argument(
        "--model-uri",
        "--model_uri",
        dest="model_uri",
        required=True,
        help="The text model: runs:/RUN_ID/text_model, models:/NAME@champion, or a local path.",
    )


def add_serving_commands(commands: Any) -> None:
    """Registers `predict`, `promote` and `evaluate`, the commands of the text model."""
    predict = commands.add_parser(
        "predict",
        help="Score review texts with a text model.",
        description="Score review texts with a text model; prints label, sentiment, "
        "probability and the start of each review, tab-separated.",
        allow_abbrev=False,
    )
    add_model_uri_option(predict)
    predict.add_argument("reviews", nargs="*", metavar="REVIEW", help="Review texts to score.")
    predict.add_argument(
        "--file",
        default=None,
        help="Also score this file: a .csv file (its --text_column), or one review per line.",
    )
    predict.add_argument(
        "--text_column",
        "--text-column",
        dest="text_column",
        default=TrainConfig().text_column,
        help=f"CSV column holding the reviews (default: {TrainConfig().text_column!r}).",
    )
    predict.set_defaults(handler=command_predict)

    promote = commands.add_parser(
        "promote",
        help="Register the best run's text model with the alias champion.",
        description="Pick the finished run with the best validation metric, register its text "
        "model under NAME and point the alias 'champion' at it (models:/NAME@champion).",
        allow_abbrev=False,
    )
    promote.add_argument("--name", required=True, help="Registered-model name.")
    promote.add_argument(
        "--experiment-name",
        action="append",
        default=None,
        help="Experiment to search; repeat for several (default: $MLFLOW_EXPERIMENT_NAME, "
        "else Default).",
    )
    promote.add_argument(
        "--filter",
        default="",
        help="MLflow search filter, e.g. \"params.arch = 'gru'\" (default: none).",
    )
    promote.add_argument(
        "--metric",
        default="best_val_accuracy",
        help="Validation metric that picks the best run: best_val_* or val_*; losses are "
        "minimized, the rest maximized (default: best_val_accuracy).",
    )
    promote.set_defaults(handler=command_promote)

    evaluate = commands.add_parser(
        "evaluate",
        help="Evaluate a text model on the test split, in a new MLflow run.",
        description="Evaluate a text model on the test split of its training data with "
        "mlflow.models.evaluate: classifier metrics, confusion matrix, ROC and PR curves, "
        "accuracy by review length and the most confidently wrong reviews.",
        allow_abbrev=False,
    )
    add_model_uri_option(evaluate)
    evaluate.add_argument(
        "--data",
        default=None,
        help="Data source to evaluate on (default: the one the model was trained on).",
    )
    evaluate.add_argument(
        "--max_reviews",
        default=None,
        help="Test reviews to sample, 0 for all (default: as in the model's training run).",
    )
    evaluate.add_argument(
        "--wrong-reviews",
        default="20",
        help="Rows of the table of most confidently wrong reviews (default: 20).",
    )
    evaluate.add_argument(
        "--experiment-name",
        default=None,
        help="MLflow experiment of the evaluation run (default: $MLFLOW_EXPERIMENT_NAME, "
        "else MLflow's Default).",
    )
    evaluate.set_defaults(handler=command_evaluate)


SWEEP_DEFAULT_N_TRIALS = 30
SWEEP_DEFAULT_HEARTBEAT_INTERVAL = 10


def add_sweep_command(commands: Any) -> None:
    """Registers `sweep`: an Optuna study whose trials are nested MLflow runs.

    The defaults are written out, so `--help` need not import optuna; a unit test checks
    them against `rnn_tracking.sweep`.
    """
    sweep = commands.add_parser(
        "sweep",
        help="Run or continue an Optuna study: one parent run, one nested run per trial.",
        description="Run or continue an Optuna study over a search-space file (sweeps/*.yaml). "
        "Several workers may share one study through its storage.",
        allow_abbrev=False,
    )
    sweep.add_argument(
        "--space",
        required=True,
        metavar="FILE",
        help="Search-space YAML file, e.g. sweeps/lstm.yaml.",
    )
    sweep.add_argument(
        "--n_trials",
        default=str(SWEEP_DEFAULT_N_TRIALS),
        metavar="N",
        help="The study's total of trials: a continued study runs only those still missing "
        f"(default: {SWEEP_DEFAULT_N_TRIALS}).",
    )
    sweep.add_argument(
        "--timeout",
        default="",
        metavar="SECONDS",
        help="Start no trial after this many seconds (default: 0, none).",
    )
    sweep.add_argument(
        "--study_name",
        default="",
        metavar="NAME",
        help="Study name (default: the file's study_name).",
    )
    sweep.add_argument(
        "--storage",
        default="",
        metavar="URL_OR_FILE",
        help="Optuna storage: a journal file, or a database URL such as postgresql://user:pw@host/db "
        "(default: optuna.journal beside the MLflow database).",
    )
    sweep.add_argument(
        "--seed",
        default="",
        metavar="N",
        help="Seeds the sampler and every trial's training (default: the file's).",
    )
    sweep.add_argument(
        "--data",
        default="",
        metavar="SOURCE",
        help="Data source, as for train (default: the file's, else $RNN_TRACKING_DATA, else keras).",
    )
    sweep.add_argument(
        "--heartbeat_interval",
        default=str(SWEEP_DEFAULT_HEARTBEAT_INTERVAL),
        metavar="SECONDS",
        help="Seconds between a running trial's heartbeats; a trial silent for 3 of them is "
        f"retried (default: {SWEEP_DEFAULT_HEARTBEAT_INTERVAL}).",
    )
    # Trials train quietly: the sweep prints one line per trial instead.
    add_tracking_options(sweep, verbose_default=0)
    sweep.set_defaults(handler=command_sweep)


def read_whole_number(name: str, text: str, minimum: int) -> int | None:
    """Reads an optional whole number given as text (`30`, `30.0`); empty means None."""
    if not str(text).strip():
        return None
    try:
        number = float(text)
        if not number.is_integer() or number < minimum:
            raise ValueError
    except ValueError:
        raise UsageError(f"{name}: got {text!r}; valid values are integers >= {minimum}") from None
    return int(number)


def command_sweep(args: argparse.Namespace) -> int:
    """Runs or continues a study and prints its best trial."""
    from rnn_tracking import sweep

    quiet_mlflow_downloads()
    try:
        n_trials = read_whole_number("n_trials", args.n_trials, 1)
        timeout = read_whole_number("timeout", args.timeout, 0)
        seed = read_whole_number("seed", args.seed, 0)
        heartbeat = read_whole_number("heartbeat_interval", args.heartbeat_interval, 1)
        space = sweep.load_space(args.space, data=args.data or None, seed=seed)
        outcome = sweep.run_sweep(
            space,
            n_trials=n_trials or sweep.DEFAULT_N_TRIALS,
            timeout=timeout or None,
            study_name=args.study_name or None,
            storage=args.storage or None,
            experiment_name=args.experiment_name,
            verbose=args.verbose,
            heartbeat_interval=heartbeat or sweep.DEFAULT_HEARTBEAT_INTERVAL,
            echo=lambda line: print(line, flush=True),
        )
    except ValueError as error:
        raise UsageError(str(error)) from error
    tally, best = outcome.tally, outcome.best_trial
    best_text = (
        f"best {space.metric} {best.value:.4f} (trial {best.number}: {sweep.describe_params(best.params)})"
        if best
        else "no complete trial"
    )
    print(
        f"study {outcome.study_name!r}: {tally.done} of {outcome.n_trials} trials done "
        f"({tally.complete} complete, {tally.pruned} pruned, {tally.failed - tally.retried} failed); "
        f"{best_text}; parent run {outcome.parent_run_id}"
    )
    return EXIT_OK


def build_parser() -> OneLineParser:
    """Returns the parser of every subcommand."""
    parser = OneLineParser(
        prog=PROGRAM,
        description="Train, sweep and compare recurrent IMDB classifiers, tracked in MLflow.",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    train = commands.add_parser(
        "train",
        help="Train one model in one MLflow run.",
        description="Train one model in one MLflow run. Every option below is logged as an MLflow param.",
        allow_abbrev=False,
    )
    add_config_options(train)
    add_tracking_options(train)
    train.add_argument(
        "--seeds",
        default="1",
        metavar="N",
        help="Train the config under N seeds (seed, seed+1, ...): a parent run holding one "
        "nested run per seed, so reports can show mean ± std (default: 1, a single run).",
    )
    train.set_defaults(handler=command_train)
    add_report_command(commands)
    add_baseline_command(commands)
    add_serving_commands(commands)
    add_sweep_command(commands)
    return parser


def report_unknown_options(extras: Sequence[str]) -> None:
    """Raises a UsageError naming the first unknown option and the valid parameters."""
    for extra in extras:
        if extra.startswith("--"):
            name = extra[2:].split("=", 1)[0]
            raise UsageError(
                f"unknown parameter {name!r}; valid parameters are {', '.join(FIELDS)}."
            )
    raise UsageError(f"unexpected argument {extras[0]!r}")


def raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    """Turns SIGTERM into KeyboardInterrupt, so a terminated run ends KILLED like Ctrl-C."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one subcommand and returns its exit code; errors are one line on stderr."""
    quiet_tensorflow()
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            report_unknown_options(extras)
        handler: Callable[[argparse.Namespace], int] = args.handler
        signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
        return handler(args)
    except UsageError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        end_pending_run()
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted; the run was ended KILLED.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        print(f"{PROGRAM}: error: {type(error).__name__}: {error}", file=sys.stderr)
        end_pending_run()
        return EXIT_FAILED


def end_pending_run() -> None:
    """Ends FAILED the run `mlflow run` created for us, if our code never got to open it."""
    if os.environ.get("MLFLOW_RUN_ID"):
        from rnn_tracking.runs import end_launcher_run_failed_if_pending

        end_launcher_run_failed_if_pending()


if __name__ == "__main__":
    sys.exit(main())
