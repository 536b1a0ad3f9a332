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

Rooms: `fields.py` (shared help texts, `parse_option`, `parse_count`, `options_from_mapping`),
`training.py` (train, rerun), `sweep.py`, `report.py`, `baseline.py` (baseline, embed) and
`serving.py` (promote, evaluate, predict). Every public name is re-exported here.
"""

from rnn_tracking.options.baseline import EMBED_DATA_FIELDS, BaselineOptions, EmbedOptions
from rnn_tracking.options.fields import (
    EXPERIMENT_HELP,
    SYSTEM_METRICS_HELP,
    VERBOSE_HELP,
    VERBOSITIES,
    is_empty,
    options_from_mapping,
    parse_count,
    parse_option,
)
from rnn_tracking.options.report import ReportOptions
from rnn_tracking.options.serving import (
    MODEL_URI_HELP,
    EvaluateOptions,
    PredictOptions,
    PromoteOptions,
)
from rnn_tracking.options.sweep import WARM_START_HELP, WARM_START_TOP_HELP, SweepOptions
from rnn_tracking.options.training import RerunOptions, TrainOptions

__all__ = [
    "EMBED_DATA_FIELDS",
    "EXPERIMENT_HELP",
    "MODEL_URI_HELP",
    "SYSTEM_METRICS_HELP",
    "VERBOSE_HELP",
    "VERBOSITIES",
    "WARM_START_HELP",
    "WARM_START_TOP_HELP",
    "BaselineOptions",
    "EmbedOptions",
    "EvaluateOptions",
    "PredictOptions",
    "PromoteOptions",
    "ReportOptions",
    "RerunOptions",
    "SweepOptions",
    "TrainOptions",
    "is_empty",
    "options_from_mapping",
    "parse_count",
    "parse_option",
]
