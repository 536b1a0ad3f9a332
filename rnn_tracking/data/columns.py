"""The columns of a table source: labels and splits as read, and the checks on what they hold
(and where a JSON Lines file breaks).

Each check raises ValueError in one line that names the option at fault (`text_column`,
`label_column`, `split_column`) and says what was found, with at most a few examples, so a
wrong column is never blamed on another option or reported by what it later causes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

# The values of `split_column`.
CSV_SPLITS = ("train", "test")
# More distinct labels than this, all numbers and some with decimals, look like a continuous
# target (a score, a rating average) rather than classes. (Half-star ratings, 0.5 to 5.0,
# are 10 classes.)
MAX_NUMERIC_CLASSES = 20
# How many examples a message quotes, and how much of each.
EXAMPLES = 3
EXAMPLE_CHARS = 30


def quote_examples(values: list) -> str:
    """Spells up to EXAMPLES values, each cut to EXAMPLE_CHARS: `'1.5', '2.25', ...`."""
    shown = [repr(str(value)[:EXAMPLE_CHARS]) for value in values[:EXAMPLES]]
    return ", ".join(shown) + (", ..." if len(values) > EXAMPLES else "")


def check_text_column(column: pd.Series, column_name: str, path: Path) -> None:
    """Refuses a text column that holds no text at all (numbers, dates, only blanks).

    Single missing or non-text cells are read as empty reviews (dropped with a warning).
    """
    if any(isinstance(value, str) for value in column.tolist()):
        return
    kinds = sorted({type(value).__name__ for value in column.dropna().tolist()}) or ["nothing"]
    raise ValueError(
        f"text_column: column {column_name!r} of '{path}' holds no text ({len(column)} values "
        f"of type {', '.join(kinds)}, e.g. {quote_examples(column.dropna().tolist())}); valid "
        "values are a column of review strings."
    )


def find_bad_json_line(path: Path) -> str | None:
    """Returns `line N: <why>` for the first line of a JSON Lines file that is not a JSON
    object, or None if every line is one (pandas reports a byte position instead)."""
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as error:
                return f"line {number}: {error.msg} at column {error.colno}"
            if not isinstance(value, dict):
                return f"line {number}: a JSON {type(value).__name__}, not an object"
    return None


def looks_continuous(names: np.ndarray) -> bool:
    """Tells whether label names are all numbers, some with decimals."""
    try:
        numbers = np.asarray([float(name) for name in names], dtype=float)
    except ValueError:
        return False
    return bool(np.any(numbers != np.round(numbers)))


def check_label_counts(labels: np.ndarray, parameter: str, origin: str, held_out: bool) -> None:
    """Refuses labels that cannot be classes: continuous-looking numbers, or (when `test_split`
    holds out a share of each label, `held_out`) labels on one row only.

    `parameter` and `origin` name the labels' source in the message (`label_column`,
    `column 'stars'`).
    """
    names, counts = np.unique(labels.astype(str), return_counts=True)
    if len(names) > MAX_NUMERIC_CLASSES and looks_continuous(names):
        raise ValueError(
            f"{parameter}: {origin} holds {len(names)} distinct labels in {len(labels)} rows, "
            f"numbers with decimals (e.g. {quote_examples(names.tolist())}): they look "
            "continuous, not classes; valid values are class names, each on several rows "
            "(bin the numbers into classes first)."
        )
    lonely = names[counts < 2].tolist()
    if held_out and lonely:
        raise ValueError(
            f"{parameter}: {origin} holds {len(names)} distinct labels in {len(labels)} rows, "
            f"{len(lonely)} of them on one row only (e.g. {quote_examples(lonely)}); valid "
            "values are classes with 2 rows or more each, so that test_split can hold out "
            "some of each."
        )


def parse_labels(column: pd.Series, column_name: str) -> np.ndarray:
    """Returns each row's class name: the label as written, stripped, as a string.

    Integer labels keep their spelling (`2`, not `2.0`, even in a column pandas read as
    floats). Spellings that differ only in case (`Positive`, `positive`) are one class,
    named in lower case. A row without a label is a ValueError naming `label_column`.
    """
    missing = column.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"label_column: column {column_name!r} has no label in data row {row + 1}; valid "
            "values are a label on every row."
        )
    if pd.api.types.is_float_dtype(column) and (column == column.round()).all():
        column = column.astype(np.int64)
    names = column.astype(str).str.strip()
    folded = names.str.casefold()
    spellings = names.groupby(folded.to_numpy()).unique()
    canonical = {key: found[0] if len(found) == 1 else key for key, found in spellings.items()}
    return folded.map(canonical).to_numpy(dtype=object)


def parse_split_column(column: pd.Series, column_name: str) -> np.ndarray:
    """Returns a boolean array that is True for rows whose split is 'test' (any case)."""
    splits = column.astype(str).str.strip().str.lower()
    bad = ~splits.isin(CSV_SPLITS)
    if bad.any():
        raise ValueError(
            f"split_column: column {column_name!r} holds the value {str(column[bad].iloc[0])!r}; "
            "valid values are 'train' and 'test'."
        )
    return (splits == "test").to_numpy()
