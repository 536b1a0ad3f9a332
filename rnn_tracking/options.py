"""The options of every command but the training config: the only home of their defaults.

Each command's options are one frozen dataclass whose fields carry their default and the
reason for it, as `TrainConfig` does for training. The command line is built from these
fields (`rnn_tracking.cli.parser`), and a test checks MLproject against them. One name per
option end to end: the field, the MLproject parameter and the CLI flag (`--n-trials`, also
accepted as `--n_trials`).

Field metadata beyond `help` says how the command line spells an option that is not a
plain `--name VALUE`: `required`, `choices`, `minimum` (of a whole number), `repeatable`
(given several times or comma-separated), `positional`, `metavar`.

Values are read by `options_from_mapping`: an empty value (as `mlflow run` passes an
unset parameter) means the field's default, unless the option is required.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rnn_tracking.config import FIELDS, _knob, parse_bool

VERBOSITIES = ("0", "1", "2")
EXPERIMENT_HELP = (
    "MLflow experiment to record into; unset means $MLFLOW_EXPERIMENT_NAME, else MLflow's Default."
)
VERBOSE_HELP = "Keras fit output: 0 silent, 1 progress bar, 2 one line per epoch."
SYSTEM_METRICS_HELP = (
    "Record MLflow's system metrics (CPU, memory, disk, network, GPU; one sample per 10 s) "
    "and the cost summaries cpu_seconds and peak_rss_mb on each run: on by default, so the "
    "report can weigh accuracy against cost. Changes nothing in the model."
)

WARM_START_HELP = "Try first the best configs of this storage's study STUDY that fit the space."
WARM_START_TOP_HELP = "Configs --warm-start queues: 3 leaves 7 of TPE's 10 start-up trials random."


@dataclass(frozen=True)
class TrainOptions:
    """How `train` runs a config: not what one model computes, so not config fields."""

    seeds: int = _knob(
        1,
        "Train the config under N seeds (seed, seed+1, ...): a parent run holding one nested "
        "run per seed, so reports can show mean ± std; 1 is a single run.",
        minimum=1,
        metavar="N",
    )
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")
    verbose: int = _knob(
        2, VERBOSE_HELP + " One line per epoch reads well in logs.", choices=VERBOSITIES
    )
    system_metrics: bool = _knob(True, SYSTEM_METRICS_HELP)


@dataclass(frozen=True)
class SweepOptions:
    """The options of `sweep`: one Optuna study whose trials are nested MLflow runs."""

    space: str | None = _knob(
        None, "Search-space YAML file, e.g. sweeps/lstm.yaml.", required=True, metavar="FILE"
    )
    n_trials: int = _knob(
        30,
        "The study's total of trials; a continued study runs only those still missing. "
        "30 lets TPE's model guide about 20 trials after its 10 random start-up ones.",
        minimum=1,
        metavar="N",
    )
    timeout: int = _knob(
        0, "Start no trial after this many seconds; 0 means no limit.", metavar="SECONDS"
    )
    study_name: str | None = _knob(
        None, "Study name; unset means the space file's study_name.", metavar="NAME"
    )
    storage: str | None = _knob(
        None,
        "Optuna storage: a journal file, or a database URL such as postgresql://user:pw@host/db; "
        "unset means optuna.journal beside the MLflow database.",
        metavar="URL_OR_FILE",
    )
    seed: int | None = _knob(
        None,
        "Seeds the sampler and every trial's training; unset means the space file's.",
        metavar="N",
    )
    data: str | None = _knob(
        None,
        "Data source, as for train; unset means the space file's, else $RNN_TRACKING_DATA, else keras.",
        metavar="SOURCE",
    )
    heartbeat_interval: int = _knob(
        10,
        "Seconds between a running trial's heartbeats; a trial silent for 3 of them is retried. "
        "10 s finds a dead worker within a minute at a negligible cost to the storage.",
        minimum=1,
        metavar="SECONDS",
    )
    workers: int = _knob(
        1,
        "Local worker processes on this study, sharing its stores: one command uses N cores "
        "and stops them all on Ctrl-C. 1 trains in this process; each worker trains one trial "
        "at a time, so N suits a machine with N cores to spare. More than the usable CPUs is refused "
        "(each worker is a whole TensorFlow process); more than the trials still to run starts "
        "one per trial, with a warning, so the same command keeps continuing a study.",
        minimum=1,
        metavar="N",
    )
    warm_start: str | None = _knob(None, WARM_START_HELP, metavar="STUDY")
    warm_start_top: int = _knob(3, WARM_START_TOP_HELP, minimum=1, metavar="K")
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")
    verbose: int = _knob(
        0,
        VERBOSE_HELP + " Trials train silently: the sweep prints one line per trial instead.",
        choices=VERBOSITIES,
    )
    system_metrics: bool = _knob(True, SYSTEM_METRICS_HELP)


@dataclass(frozen=True)
class ReportOptions:
    """The options of `report`: which runs, how the table is laid out, and where it goes."""

    experiment_name: tuple[str, ...] = _knob(
        (),
        "Experiment to read; repeat it or separate names with commas. Unset means "
        "$MLFLOW_EXPERIMENT_NAME, else MLflow's Default.",
        repeatable=True,
        metavar="NAME",
        group="which runs",
    )
    filter: str = _knob(
        "",
        "MLflow search filter, e.g. \"params.units = '8' and metrics.test_accuracy > 0.7\"; "
        "empty selects every run.",
        group="which runs",
    )
    children: str = _knob(
        "exclude",
        "exclude or include: whether sweep trials (child runs) are rows; seed repeats always "
        "are. Trials are excluded because a sweep's parent run already summarizes them.",
        group="which runs",
    )
    status: str = _knob(
        "finished",
        "Run statuses shown: 'all' or a comma-separated list of finished, failed, killed, "
        "running, scheduled; runs other than finished ones get a status column. Finished "
        "runs are the ones with final metrics.",
        group="which runs",
    )
    group_by: tuple[str, ...] = _knob(
        (),
        "Comma-separated params (or arch) to group by; groups show mean ± std and n. "
        "Unset shows one row per run.",
        repeatable=True,
        metavar="KEYS",
        group="the table",
    )
    metrics: tuple[str, ...] = _knob(
        (
            "param_count",
            "best_epoch",
            "best_val_accuracy",
            "test_accuracy",
            "train_seconds",
            "seconds_per_epoch",
        ),
        "Comma-separated metric columns; by default the model's size, when it stopped, how "
        "well it did and how fast it was.",
        repeatable=True,
        metavar="NAMES",
        group="the table",
    )
    sort_by: str | None = _knob(
        None,
        "Metric to sort by; unset means test_accuracy, else the first metric column.",
        metavar="METRIC",
        group="the table",
    )
    order: str = _knob(
        "desc",
        "Sort order; desc puts the best accuracy first.",
        choices=("desc", "asc"),
        group="the table",
    )
    top_k: int = _knob(
        0, "Keep the first K rows or groups; 0 keeps all.", metavar="K", group="the table"
    )
    max_curves: int = _knob(
        50,
        "Learning curves drawn at most, best first; only their histories are read. 50 "
        "curves still tell apart on one plot.",
        metavar="N",
        group="the table",
    )
    markdown: str | None = _knob(
        None, "Write the table as Markdown.", metavar="FILE", group="outputs"
    )
    csv: str | None = _knob(
        None, "Write the numeric table as CSV.", metavar="FILE", group="outputs"
    )
    html: str | None = _knob(
        None, "Write one self-contained HTML page with the plots.", metavar="FILE", group="outputs"
    )
    plots_dir: str | None = _knob(
        None, "Write the plots as PNG files.", metavar="DIR", group="outputs"
    )
    output_dir: str | None = _knob(
        None,
        "Write all of them (report.md, report.csv, report.html, plots/) into DIR.",
        metavar="DIR",
        group="outputs",
    )
    log_to_mlflow: bool = _knob(
        False,
        "Also log the outputs as artifacts of a run named 'report' (always inside mlflow run).",
        flag=True,
        group="outputs",
    )


@dataclass(frozen=True)
class BaselineOptions:
    """The options of `baseline` besides the data fields it shares with `TrainConfig`."""

    budgets: str = _knob(
        "neural,full",
        "Comma-separated: 'neural' sees only what the recurrent models see (the num_words "
        "vocabulary, the last maxlen tokens); 'full' sees the whole text. Both by default, "
        "to tell the model's limits from the input's.",
    )
    models: str = _knob(
        "tfidf_logreg,nbsvm",
        "Comma-separated: tfidf_logreg (TF-IDF + logistic regression), nbsvm (NB log-count "
        "ratios + logistic regression). Both: NBSVM is the stronger published baseline.",
    )
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")


# The config fields `embed` reads: the ones that decide which reviews are the training split.
EMBED_DATA_FIELDS = (
    "data",
    "val_split",
    "test_split",
    "text_column",
    "label_column",
    "split_column",
    "classes",
    "max_reviews",
    "seed",
)


@dataclass(frozen=True)
class EmbedOptions:
    """The options of `embed`: word2vec (gensim) on the training split's reviews only."""

    sg: bool = _knob(
        True,
        "Skip-gram (true) or CBOW (false): skip-gram learns better vectors for rare words, "
        "which most of a review vocabulary is; CBOW is faster.",
    )
    vector_size: int = _knob(
        100,
        "Dimension of each vector; the embedding_dim of the runs that use them. 100 is "
        "word2vec's and gensim's default.",
        minimum=1,
        metavar="N",
    )
    window: int = _knob(
        5, "Words of context on each side; 5, word2vec's default.", minimum=1, metavar="N"
    )
    epochs: int = _knob(
        5, "Passes over the training reviews; 5, gensim's default.", minimum=1, metavar="N"
    )
    min_count: int = _knob(
        5,
        "Words seen fewer times get no vector (they keep a seeded random row); 5, gensim's "
        "default: rarer words have too few contexts to place.",
        minimum=1,
        metavar="N",
    )
    workers: int = _knob(
        1,
        "gensim threads; 1 makes the vectors a function of the seed (threads race), more is faster.",
        minimum=1,
        metavar="N",
    )
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")


@dataclass(frozen=True)
class PromoteOptions:
    """The options of `promote`: which run's text model becomes the champion."""

    name: str | None = _knob(None, "Registered-model name.", required=True)
    experiment_name: tuple[str, ...] = _knob(
        (),
        "Experiment to search; repeat it or separate names with commas. Unset means "
        "$MLFLOW_EXPERIMENT_NAME, else Default.",
        repeatable=True,
        metavar="NAME",
    )
    filter: str = _knob(
        "", "MLflow search filter, e.g. \"params.arch = 'gru'\"; empty searches every run."
    )
    metric: str = _knob(
        "best_val_accuracy",
        "Validation metric that picks the best run: best_val_* or val_*; losses are "
        "minimized, the rest maximized. Validation, so that the test split stays unseen.",
    )
    alpha: float = _knob(
        0.05,
        "Significance level of the gate's McNemar test: the challenger must beat the champion "
        "on the paired test reviews at p < alpha. 0.05, the usual level: a promotion by "
        "chance at most once in twenty when the two models are equally good.",
        metavar="P",
    )
    force: bool = _knob(
        False,
        "Skip the gate (champion on the same test reviews, McNemar test, linear baseline) and "
        "promote anyway; the model version is tagged gate=forced.",
        flag=True,
    )


MODEL_URI_HELP = "The text model: runs:/RUN_ID/text_model, models:/NAME@champion, or a local path."


@dataclass(frozen=True)
class EvaluateOptions:
    """The options of `evaluate`: one text model on the test split, in a new run."""

    model_uri: str | None = _knob(None, MODEL_URI_HELP, required=True, metavar="URI")
    data: str | None = _knob(
        None,
        "Data source to evaluate on; unset means the one the model was trained on.",
        metavar="SOURCE",
    )
    max_reviews: int | None = _knob(
        None,
        "Test reviews to sample, 0 for all; unset means as in the model's training run.",
        metavar="N",
    )
    wrong_reviews: int = _knob(
        20,
        "Rows of the table of most confidently wrong reviews; 20 fit on one screen.",
        metavar="N",
    )
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")
    system_metrics: bool = _knob(True, SYSTEM_METRICS_HELP)


@dataclass(frozen=True)
class PredictOptions:
    """The options of `predict`: review texts in, one scored line per review out."""

    model_uri: str | None = _knob(None, MODEL_URI_HELP, required=True, metavar="URI")
    reviews: tuple[str, ...] = _knob(
        (), "Review texts to score.", positional=True, metavar="REVIEW"
    )
    file: str | None = _knob(
        None,
        "Also score this file: a .csv file (its --text-column), or one review per line.",
        metavar="PATH",
    )
    text_column: str = _knob(
        FIELDS["text_column"].default,
        "CSV column holding the reviews; the training default, which fits the common "
        "50k-review IMDB CSV.",
        metavar="NAME",
    )


@dataclass(frozen=True)
class RerunOptions:
    """The options of `rerun`: train a run again from its params and compare the results."""

    run_id: tuple[str, ...] = _knob(
        (),
        "The run to repeat (its id, as `mlflow ui` shows it).",
        positional=True,
        metavar="RUN_ID",
    )
    data: str | None = _knob(
        None,
        "Another copy of the run's data; unset means the source the run recorded. Its content "
        "digest must match the run's.",
        metavar="SOURCE",
    )
    experiment_name: str | None = _knob(
        None, "MLflow experiment of the new run; unset means the source run's.", metavar="NAME"
    )
    verbose: int = _knob(2, VERBOSE_HELP, choices=VERBOSITIES)


def is_empty(value: Any) -> bool:
    """True for a value that means 'unset': None, '' or an empty list of repeats."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return all(is_empty(each) for each in value)
    return False


def parse_option(options: type, name: str, value: Any) -> Any:
    """Converts one raw value (argv, MLflow param) to the type of `options`' field `name`.

    An empty value means the field's default, unless the option is required or
    positional (those pass on as given, for their command to judge). Raises ValueError naming the option.
    """
    spec = {each.name: each for each in dataclasses.fields(options)}[name]
    if spec.metadata.get("positional"):
        return tuple(str(each) for each in value)
    if is_empty(value) and not spec.metadata.get("required"):
        return spec.default
    kind = str(spec.type)
    if kind.startswith("tuple"):
        parts = [value] if isinstance(value, str) else list(value)
        split = (piece.strip() for part in parts for piece in str(part).split(","))
        return tuple(piece for piece in split if piece)
    choices = spec.metadata.get("choices")
    if kind.startswith("int"):
        number = parse_count(name, value, spec.metadata.get("minimum", 0))
        if choices and str(number) not in choices:
            raise ValueError(f"{name}: got {value!r}; valid values are {', '.join(choices)}.")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        try:
            return parse_bool(value)
        except ValueError:
            raise ValueError(f"{name}: got {value!r}; valid values are true or false.") from None
    text = str(value)
    if choices and text not in choices:
        raise ValueError(f"{name}: got {text!r}; valid values are {', '.join(choices)}.")
    return text


def options_from_mapping(options: type, values: dict[str, Any]) -> Any:
    """Builds an `options` instance from raw values; unset ones keep their defaults."""
    names = [each.name for each in dataclasses.fields(options)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(
            f"unknown parameter {unknown[0]!r}; valid parameters are {', '.join(names)}."
        )
    return options(**{name: parse_option(options, name, value) for name, value in values.items()})


def parse_count(name: str, value: Any, minimum: int = 0) -> int:
    """Reads a whole number >= `minimum` from an int or a string such as '5' or '5.0'.

    `mlflow run` passes float parameters as '5.0', so those are whole numbers too; '5.5',
    booleans and words are not. Raises ValueError naming the parameter.
    """
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not number.is_integer() or number < minimum:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"{name}: got {value!r}; valid values are integers >= {minimum}."
        ) from None
    return int(number)
