"""Reads the local review sources into raw texts: aclImdb directories and .tar.gz, CSV files.

Every reader here opens data files, and only the `data` package does. A source becomes a
`Corpus` of raw texts and labels per split; `rnn_tracking.data.splits` encodes it.
`read_review_file` reads the reviews a user asks to score.
"""

from __future__ import annotations

import hashlib
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

VALID_SOURCES = "'keras', an aclImdb directory or .tar.gz, or a .csv file"
TAR_SUFFIXES = (".tar.gz", ".tgz")
ACLIMDB_NAME = "aclImdb"
KERAS_NAME = "imdb"
ACLIMDB_LABELS = {"neg": 0, "pos": 1}
CSV_LABELS = {"0": 0, "1": 1, "negative": 0, "positive": 1}
CSV_SPLITS = ("train", "test")

# A review file inside an aclImdb tree, wherever the tree's top folder is; group 1 is the
# path relative to that top folder, e.g. `train/pos/0_9.txt`.
REVIEW_PATH = re.compile(r"(?:^|/)((train|test)/(pos|neg)/[^/]+\.txt)$")


@dataclass(frozen=True, eq=False)
class Corpus:
    """Raw reviews of one source: texts with 0/1 labels, per split, before encoding."""

    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    digest: str


def fail_source(problem: str) -> ValueError:
    """Builds the one-line error for a bad `data` value."""
    return ValueError(f"data: {problem}; valid values are {VALID_SOURCES}.")


def inspect_source(source: str) -> tuple[Path, str]:
    """Checks that a local source exists and returns it with its kind: directory, tar or csv."""
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
    if lowered.endswith(".csv"):
        return path, "csv"
    raise fail_source(f"file {source!r} is neither a .tar.gz nor a .csv file")


def find_aclimdb_root(path: Path) -> Path:
    """Returns the folder holding train/ and test/: the path itself or its aclImdb child."""
    for root in (path, path / ACLIMDB_NAME):
        if (root / "train").is_dir() and (root / "test").is_dir():
            return root
    if not any(path.iterdir()):
        raise fail_source(f"directory '{path}' is empty")
    raise fail_source(
        f"directory '{path}' has no aclImdb layout (train/pos, train/neg, test/pos, test/neg "
        "folders of .txt reviews, in it or in an aclImdb folder inside it)"
    )


def list_review_files(root: Path) -> list[tuple[str, str]]:
    """Returns (relative path, full path) of every review file under an aclImdb root, sorted.

    It uses `os.scandir` rather than `Path.glob`: with 50,000 files, this listing is most of
    the cost of a cache lookup.
    """
    files = []
    for split in CSV_SPLITS:
        for label in ACLIMDB_LABELS:
            folder = root / split / label
            if not folder.is_dir():
                continue
            with os.scandir(folder) as entries:
                files.extend(
                    (f"{split}/{label}/{entry.name}", entry.path)
                    for entry in entries
                    if entry.name.endswith(".txt") and entry.is_file()
                )
    return sorted(files)


def fingerprint_directory(root: Path) -> str:
    """Returns a cheap cache key of a review tree: sha256 of sorted (path, size, mtime_ns).

    An edit that keeps a file's size and modification time exactly is not noticed; any
    ordinary edit, addition, removal or rename is.
    """
    hasher = hashlib.sha256()
    for relative, path in list_review_files(root):
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


def read_review_directory(root: Path) -> dict[str, bytes]:
    """Reads every review file under an aclImdb root, keyed by relative path."""
    return {relative: Path(path).read_bytes() for relative, path in list_review_files(root)}


def read_review_tar(path: Path) -> dict[str, bytes]:
    """Reads every review file of an aclImdb .tar.gz in one streaming pass.

    Files may sit under a top folder (`aclImdb/train/pos/...`) or at the top.
    """
    reviews: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                match = REVIEW_PATH.search(member.name)
                if match and member.isfile():
                    reviews[match.group(1)] = archive.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise fail_source(f"file '{path}' is not a readable .tar.gz ({error})") from None
    return reviews


def make_aclimdb_corpus(
    reviews: dict[str, bytes], source: str, digest: str | None = None
) -> Corpus:
    """Turns {relative path: bytes} into a corpus, in sorted path order.

    Without a digest (a directory), the digest is the sha256 over the sorted relative
    paths and contents, so it does not depend on file dates or on where the tree lives.
    """
    if not reviews:
        raise fail_source(
            f"{source!r} holds no aclImdb reviews (train/pos, train/neg, test/pos, test/neg "
            "folders of .txt files)"
        )
    hasher = hashlib.sha256()
    texts: dict[str, list[str]] = {split: [] for split in CSV_SPLITS}
    labels: dict[str, list[int]] = {split: [] for split in CSV_SPLITS}
    for relative in sorted(reviews):
        content = reviews[relative]
        hasher.update(f"{relative}\0{len(content)}\0".encode())
        hasher.update(content)
        split, label = relative.split("/")[:2]
        texts[split].append(content.decode("utf-8", errors="replace"))
        labels[split].append(ACLIMDB_LABELS[label])
    return Corpus(
        train_texts=texts["train"],
        train_labels=np.asarray(labels["train"], dtype=np.int32),
        test_texts=texts["test"],
        test_labels=np.asarray(labels["test"], dtype=np.int32),
        digest=digest or hasher.hexdigest(),
    )


def read_csv_reviews(path: Path, config: TrainConfig, digest: str) -> Corpus:
    """Reads a CSV of reviews: texts, 0/1 or negative/positive labels, and the splits.

    With `split_column`, its train/test values choose each row's split; without it,
    `test_split` of the rows is held out, stratified by label and seeded.
    """
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise fail_source(f"file '{path}' has no CSV columns") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise fail_source(f"file '{path}' is not a readable CSV ({error})") from None
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
    texts = frame[config.text_column].fillna("").astype(str).to_numpy()
    labels = parse_labels(frame[config.label_column], config.label_column)
    if csv_split_column(config):
        is_test = parse_split_column(frame[config.split_column], config.split_column)
        train_rows, test_rows = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    else:
        try:
            train_rows, test_rows = train_test_split(
                np.arange(len(frame)),
                test_size=config.test_split,
                random_state=config.seed,
                stratify=labels,
            )
        except ValueError as error:
            raise ValueError(
                f"test_split: cannot hold out a stratified {config.test_split} of the "
                f"{len(frame)} rows of '{path}' ({error}); valid values are numbers in (0, 1) "
                "that leave reviews of each label on both sides."
            ) from None
    return Corpus(
        train_texts=texts[train_rows].tolist(),
        train_labels=labels[train_rows],
        test_texts=texts[test_rows].tolist(),
        test_labels=labels[test_rows],
        digest=digest,
    )


def parse_labels(column: pd.Series, column_name: str) -> np.ndarray:
    """Maps 0/1 or negative/positive (any case) labels to int32 0/1."""
    labels = column.astype(str).str.strip().str.lower().map(CSV_LABELS)
    bad = labels.isna()
    if bad.any():
        raise ValueError(
            f"label_column: column {column_name!r} holds the label {column[bad].iloc[0]!r}; "
            "valid values are 0/1 or negative/positive."
        )
    return labels.to_numpy(dtype=np.int32)


def parse_split_column(column: pd.Series, column_name: str) -> np.ndarray:
    """Returns a boolean array that is True for rows whose split is 'test' (any case)."""
    splits = column.astype(str).str.strip().str.lower()
    bad = ~splits.isin(CSV_SPLITS)
    if bad.any():
        raise ValueError(
            f"split_column: column {column_name!r} holds the value {column[bad].iloc[0]!r}; "
            "valid values are 'train' and 'test'."
        )
    return (splits == "test").to_numpy()


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
