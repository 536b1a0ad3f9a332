"""Reads the local review sources into raw texts: review folders and .tar.gz, table files.

Every reader here opens data files, and only the `data` package does. A source becomes a
`Corpus` of raw texts and label names per split; `rnn_tracking.data.labels` orders the
classes and `rnn_tracking.data.splits` encodes it. `read_review_file` reads the reviews a
user asks to score.

Sources:
- a folder of `.txt` reviews, one subfolder per class, the layout
  `keras.utils.text_dataset_from_directory` reads: `DIR/train/<class>/*.txt` and
  `DIR/test/<class>/*.txt`, or one level of class folders with `test_split` held out. The
  aclImdb tree (`aclImdb/{train,test}/{neg,pos}`, in the folder or in an `aclImdb` folder
  inside it) is one; its `unsup` folder of unlabeled reviews is skipped. A `.tar.gz` of a
  train/test tree reads the same.
- a table file, `.csv`, `.parquet` or `.jsonl` (JSON Lines), with `text_column`,
  `label_column` and optionally `split_column`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from rnn_tracking.config import TrainConfig, csv_split_column
from rnn_tracking.data.columns import (
    CSV_SPLITS,
    check_label_counts,
    check_text_column,
    find_bad_json_line,
    parse_labels,
    parse_split_column,
)

logger = logging.getLogger(__name__)

VALID_SOURCES = (
    "'keras', an aclImdb directory or any folder of .txt reviews with one subfolder per class "
    "(or its .tar.gz), or a .csv, .parquet or .jsonl file"
)
TAR_SUFFIXES = (".tar.gz", ".tgz")
# The table files pandas reads, by suffix, and how messages name each kind.
TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}
TABLE_KINDS = {"csv": "CSV", "parquet": "Parquet file", "jsonl": "JSON Lines file"}
ACLIMDB_NAME = "aclImdb"
KERAS_NAME = "imdb"
# The tutorial's two classes, in model order: index 1 is the positive review.
ACLIMDB_LABELS = {"neg": 0, "pos": 1}
# Folders of unlabeled reviews that sit beside the class folders (aclImdb's train/unsup).
UNLABELED_FOLDERS = ("unsup",)

# A review file inside a train/test tree, wherever the tree's top folder is; group 1 is the
# path relative to that top folder, e.g. `train/pos/0_9.txt`, and group 3 its class.
REVIEW_PATH = re.compile(r"(?:^|/)((train|test)/([^/]+)/[^/]+\.txt)$")


@dataclass(frozen=True, eq=False)
class Corpus:
    """Raw reviews of one source, per split, before encoding.

    Labels are class names (strings), as the source spells them. `label_parameter` is the
    option a label problem is reported under (`label_column` for tables, `data` for
    folders), and `label_origin` says where the labels come from (`column 'stars'`).
    """

    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    digest: str
    label_parameter: str = "data"
    label_origin: str = "the folder"


def fail_source(problem: str) -> ValueError:
    """Builds the one-line error for a bad `data` value."""
    return ValueError(f"data: {problem}; valid values are {VALID_SOURCES}.")


def inspect_source(source: str) -> tuple[Path, str]:
    """Checks that a local source exists and returns it with its kind.

    Kinds: directory, tar, csv, parquet, jsonl.
    """
    path = Path(source).expanduser()
    if not path.exists():
        raise fail_source(f"path {source!r} does not exist")
    if path.is_dir():
        return path, "directory"
    if path.stat().st_size == 0:
        raise fail_source(f"file {source!r} is empty")
    lowered = path.name.lower()
    if lowered.endswith(TAR_SUFFIXES):
        return path, "tar"
    if path.suffix.lower() in TABLE_SUFFIXES:
        return path, TABLE_SUFFIXES[path.suffix.lower()]
    raise fail_source(f"file {source!r} is neither a .tar.gz nor a .csv, .parquet or .jsonl file")


def find_aclimdb_root(path: Path) -> Path | None:
    """Returns the folder holding train/ and test/ (the path or its aclImdb child), or None."""
    for root in (path, path / ACLIMDB_NAME):
        if (root / "train").is_dir() and (root / "test").is_dir():
            return root
    return None


def find_review_root(path: Path) -> tuple[Path, bool]:
    """Returns the root of a review folder and whether it has a train/test level.

    Without train/ and test/, the folder's own subfolders of .txt files are the classes.
    """
    root = find_aclimdb_root(path)
    if root is not None:
        return root, True
    if not any(path.iterdir()):
        raise fail_source(f"directory '{path}' is empty")
    if list_class_folders(path):
        return path, False
    raise fail_source(
        f"directory '{path}' has no aclImdb layout (train/<class> and test/<class> folders of "
        ".txt reviews, in it or in an aclImdb folder inside it) and no class folders of .txt "
        "reviews"
    )


def list_class_folders(folder: Path) -> list[tuple[str, str]]:
    """Returns (class name, path) of each subfolder holding .txt files, sorted by name."""
    if not folder.is_dir():
        return []
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir() and entry.name not in UNLABELED_FOLDERS and holds_text(entry.path):
                found.append((entry.name, entry.path))
    return sorted(found)


def holds_text(folder: str) -> bool:
    """Tells whether a folder holds at least one .txt file."""
    with os.scandir(folder) as entries:
        return any(entry.name.endswith(".txt") and entry.is_file() for entry in entries)


def list_review_files(root: Path, has_splits: bool = True) -> list[tuple[str, str]]:
    """Returns (relative path, full path) of every review file under a review root, sorted.

    Relative paths are `train/<class>/<file>` with a train/test level, else `<class>/<file>`.
    It uses `os.scandir` rather than `Path.glob`: with 50,000 files, this listing is most of
    the cost of a cache lookup.
    """
    files = []
    for split in CSV_SPLITS if has_splits else ("",):
        for label, folder in list_class_folders(root / split):
            prefix = f"{split}/{label}" if split else label
            with os.scandir(folder) as entries:
                files.extend(
                    (f"{prefix}/{entry.name}", entry.path)
                    for entry in entries
                    if entry.name.endswith(".txt") and entry.is_file()
                )
    return sorted(files)


def fingerprint_directory(root: Path, has_splits: bool = True) -> str:
    """Returns a cheap cache key of a review tree: sha256 of sorted (path, size, mtime_ns).

    An edit that keeps a file's size and modification time exactly is not noticed; any
    ordinary edit, addition, removal or rename is.
    """
    hasher = hashlib.sha256()
    for relative, path in list_review_files(root, has_splits):
        stat = os.stat(path)
        hasher.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return hasher.hexdigest()


def hash_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Returns the sha256 of a file's bytes, read in chunks."""
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            hasher.update(chunk)
    return hasher.hexdigest()


def read_review_directory(root: Path, has_splits: bool = True) -> dict[str, bytes]:
    """Reads every review file under a review root, keyed by relative path."""
    return {
        relative: Path(path).read_bytes() for relative, path in list_review_files(root, has_splits)
    }


def read_review_tar(path: Path) -> dict[str, bytes]:
    """Reads every review file of a train/test .tar.gz (aclImdb's) in one streaming pass.

    Files may sit under a top folder (`aclImdb/train/pos/...`) or at the top.
    """
    reviews: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                match = REVIEW_PATH.search(member.name)
                if match and member.isfile() and match.group(3) not in UNLABELED_FOLDERS:
                    reviews[match.group(1)] = archive.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise fail_source(f"file '{path}' is not a readable .tar.gz ({error})") from None
    return reviews


def make_folder_corpus(
    reviews: dict[str, bytes], source: str, config: TrainConfig, digest: str | None = None
) -> Corpus:
    """Turns {relative path: bytes} into a corpus, in sorted path order.

    Paths `train/<class>/<file>` and `test/<class>/<file>` give the splits; paths
    `<class>/<file>` (no train/test level) are split by holding out `test_split`, stratified
    by class and seeded. Without a digest (a directory), the digest is the sha256 over the
    sorted relative paths and contents, so it does not depend on file dates or on where the
    tree lives.
    """
    if not reviews:
        raise fail_source(
            f"{source!r} holds no aclImdb reviews (train/<class> and test/<class> folders of "
            ".txt files, e.g. train/pos, train/neg, test/pos, test/neg)"
        )
    hasher = hashlib.sha256()
    texts: dict[str, list[str]] = {split: [] for split in (*CSV_SPLITS, "")}
    labels: dict[str, list[str]] = {split: [] for split in (*CSV_SPLITS, "")}
    skipped: list[str] = []
    for relative in sorted(reviews):
        content = reviews[relative]
        hasher.update(f"{relative}\0{len(content)}\0".encode())
        hasher.update(content)
        text = decode_review(content)
        if text is None:
            skipped.append(relative)
            continue
        parts = relative.split("/")
        split, label = (parts[0], parts[1]) if len(parts) == 3 else ("", parts[0])
        texts[split].append(text)
        labels[split].append(label)
    if skipped:
        logger.warning(
            "data: skipped %d files of %r that are not UTF-8 text (e.g. %r)",
            len(skipped),
            source,
            skipped[0],
        )
    digest = digest or hasher.hexdigest()
    if not texts[""]:
        return Corpus(
            train_texts=texts["train"],
            train_labels=np.asarray(labels["train"], dtype=object),
            test_texts=texts["test"],
            test_labels=np.asarray(labels["test"], dtype=object),
            digest=digest,
        )
    names = np.asarray(labels[""], dtype=object)
    check_label_counts(names, "data", "the class folders", held_out=True)
    train_rows, test_rows = hold_out_test(names, config, f"the {len(names)} reviews of {source!r}")
    rows = np.asarray(texts[""], dtype=object)
    return Corpus(
        train_texts=rows[train_rows].tolist(),
        train_labels=names[train_rows],
        test_texts=rows[test_rows].tolist(),
        test_labels=names[test_rows],
        digest=digest,
    )


def decode_review(content: bytes) -> str | None:
    """Decodes a review file as UTF-8 (dropping a BOM); None if not text (not UTF-8, or a NUL
    byte): such a file is skipped with a warning, never read with replacement characters."""
    if b"\0" in content:
        return None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def hold_out_test(labels: np.ndarray, config: TrainConfig, rows: str) -> tuple[np.ndarray, ...]:
    """Returns (train rows, test rows): `test_split` of the rows, stratified by label, seeded."""
    try:
        train_rows, test_rows = train_test_split(
            np.arange(len(labels)),
            test_size=config.test_split,
            random_state=config.seed,
            stratify=labels,
        )
    except ValueError as error:
        raise ValueError(
            f"test_split: cannot hold out a stratified {config.test_split} of {rows} "
            f"({error}); valid values are numbers in (0, 1) that leave reviews of each label "
            "on both sides."
        ) from None
    return train_rows, test_rows


def read_table(path: Path, kind: str) -> pd.DataFrame:
    """Reads a .csv, .parquet or .jsonl file into a DataFrame; a bad file is a `data` error."""
    try:
        if kind == "csv":
            return pd.read_csv(path)
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_json(path, lines=True, dtype=False)
    except pd.errors.EmptyDataError:
        raise fail_source(f"file '{path}' has no CSV columns") from None
    except (ValueError, OSError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        reason = (kind == "jsonl" and find_bad_json_line(path)) or reason
        raise fail_source(
            f"file '{path}' is not a readable {TABLE_KINDS[kind]} ({reason})"
        ) from None


def read_table_reviews(path: Path, kind: str, config: TrainConfig, digest: str) -> Corpus:
    """Reads a table of reviews (.csv, .parquet, .jsonl): texts, labels and the splits.

    With `split_column`, its train/test values choose each row's split; without it,
    `test_split` of the rows is held out, stratified by label and seeded.
    """
    frame = read_table(path, kind)
    parameters = ["text_column", "label_column"] + (
        ["split_column"] if csv_split_column(config) else []
    )
    for parameter in parameters:
        column = getattr(config, parameter)
        if column not in frame.columns:
            found = ", ".join(repr(str(name)) for name in frame.columns)
            raise ValueError(
                f"{parameter}: column {column!r} is not in '{path}'; valid values are the "
                f"columns found: {found}."
            )
    check_text_column(frame[config.text_column], config.text_column, path)
    texts = np.asarray(
        [text if isinstance(text, str) else "" for text in frame[config.text_column].tolist()],
        dtype=object,
    )
    labels = parse_labels(frame[config.label_column], config.label_column)
    origin = f"column {config.label_column!r}"
    check_label_counts(labels, "label_column", origin, held_out=not csv_split_column(config))
    if csv_split_column(config):
        is_test = parse_split_column(frame[config.split_column], config.split_column)
        train_rows, test_rows = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    else:
        train_rows, test_rows = hold_out_test(labels, config, f"the {len(frame)} rows of '{path}'")
    return Corpus(
        train_texts=texts[train_rows].tolist(),
        train_labels=labels[train_rows],
        test_texts=texts[test_rows].tolist(),
        test_labels=labels[test_rows],
        digest=digest,
        label_parameter="label_column",
        label_origin=origin,
    )


def read_review_file(path: str | Path, text_column: str = "review") -> list[str]:
    """Reads reviews to score: one column of a .csv file, else one review per line.

    Blank lines of a text file are skipped; empty CSV cells become ''. Raises ValueError
    naming `file` or `text_column` and the valid values.
    """
    file = Path(path).expanduser()
    valid = "a text file with one review per line, or a .csv file with a text column"
    if not file.is_file():
        raise ValueError(f"file: {str(path)!r} is not a file; valid values are {valid}.")
    if file.name.lower().endswith(".csv"):
        try:
            frame = pd.read_csv(file, dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise ValueError(
                f"file: '{file}' has no CSV columns; valid values are {valid}."
            ) from None
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise ValueError(
                f"file: '{file}' is not a readable CSV ({error}); valid values are {valid}."
            ) from None
        if text_column not in frame.columns:
            found = ", ".join(repr(str(name)) for name in frame.columns)
            raise ValueError(
                f"text_column: column {text_column!r} is not in '{file}'; valid values are the "
                f"columns found: {found}."
            )
        return frame[text_column].tolist()
    lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if line.strip()]
