"""Reads a review data source and encodes it into padded train/validation/test arrays.

This is the only module that opens data files. It reads three kinds of source:

- `keras`: `keras.datasets.imdb`, already encoded by Keras (needs its download host).
- the Stanford aclImdb corpus, as a directory (`aclImdb` itself or its parent) or as the
  `.tar.gz` users download (`aclImdb/{train,test}/{pos,neg}/*.txt`);
- a CSV file with a text column and a label column, and optionally a train/test column.

Raw text is encoded with the `keras.datasets.imdb` conventions of `rnn_tracking.encoding`.

Encoding 50,000 raw reviews takes seconds, so the encoded arrays are cached as an .npz under
$RNN_TRACKING_CACHE (default ~/.cache/rnn-tracking), keyed on the source's content and every
setting that changes the encoding. The validation split is drawn after the cache, so
changing `val_split` never re-encodes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from rnn_tracking.config import (
    DATA_ENV_VAR,
    KERAS_SOURCE,
    TrainConfig,
    csv_split_column,
    resolve_data_source,
)
from rnn_tracking.encoding import (  # noqa: F401 - re-exported: data.tokenize, data.PAD_INDEX
    INDEX_FROM,
    OOV_INDEX,
    PAD_INDEX,
    START_INDEX,
    encode_texts,
    encode_tokens,
    pad_reviews,
    rank_words,
    tokenize,
)

logger = logging.getLogger(__name__)

CACHE_ENV_VAR = "RNN_TRACKING_CACHE"
DEFAULT_CACHE_DIR = "~/.cache/rnn-tracking"
# Bump this whenever the tokenizer, the ranking or the cache layout changes, so that old
# cache files are never read as if they were current.
CACHE_FORMAT_VERSION = 1

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
class Splits:
    """The encoded train, validation and test splits of one source, ready for Keras.

    Each `x_*` is int32 of shape (n, maxlen); each `y_*` is int32 0/1 of shape (n,).
    `vocabulary[r - 1]` is the word of frequency rank r, encoded as index r + 3; it holds at
    most num_words - 4 words, the ones whose index stays below num_words.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    vocabulary: tuple[str, ...]
    source: str
    name: str
    digest: str


@dataclass(frozen=True, eq=False)
class Corpus:
    """Raw reviews of one source: texts with 0/1 labels, per split, before encoding."""

    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    digest: str


@dataclass(frozen=True, eq=False)
class EncodedData:
    """What the cache holds: encoded train and test arrays before the validation split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    vocabulary: tuple[str, ...]
    digest: str


def load_splits(config: TrainConfig) -> Splits:
    """Reads, encodes and splits the configured source (see the module docstring).

    The source is `resolve_data_source(config)`: the `data` field, else $RNN_TRACKING_DATA,
    else 'keras'. The validation split is `train_test_split(x_train, y_train,
    test_size=val_split, random_state=seed)`, as in the tutorial. Raises ValueError with
    one line naming the bad parameter and its valid values.
    """
    source = resolve_data_source(config)
    if source == KERAS_SOURCE:
        encoded, name = load_keras_dataset(config), KERAS_NAME
    else:
        encoded, name = load_local_dataset(source, config)
    try:
        x_train, x_val, y_train, y_val = train_test_split(
            encoded.x_train,
            encoded.y_train,
            test_size=config.val_split,
            random_state=config.seed,
        )
    except ValueError as error:
        raise ValueError(
            f"val_split: cannot hold out {config.val_split} of {len(encoded.y_train)} "
            f"training reviews ({error}); valid values are numbers in (0, 1) that leave "
            "reviews on both sides."
        ) from None
    return Splits(
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=encoded.x_test,
        y_test=encoded.y_test,
        vocabulary=encoded.vocabulary,
        source=source,
        name=name,
        digest=encoded.digest,
    )


def sample_reviews(
    items: Sequence, labels: np.ndarray, max_reviews: int, seed: int, split: str
) -> tuple[list, np.ndarray]:
    """Keeps at most max_reviews items, stratified by label and seeded; 0 keeps all."""
    if max_reviews == 0 or len(labels) <= max_reviews:
        return list(items), labels
    try:
        kept, _ = train_test_split(
            np.arange(len(labels)), train_size=max_reviews, stratify=labels, random_state=seed
        )
    except ValueError as error:
        raise ValueError(
            f"max_reviews: cannot draw a stratified sample of {max_reviews} from the "
            f"{len(labels)} {split} reviews ({error}); valid values are 0 (all) or a larger "
            "integer."
        ) from None
    return [items[i] for i in kept], labels[kept]


def load_keras_dataset(config: TrainConfig) -> EncodedData:
    """Loads keras.datasets.imdb, which Keras has encoded already; needs the network once.

    Keras's own word ranking (over its whole dataset) is kept, so max_reviews only samples
    reviews. The digest covers the sequences and labels the loader returned.
    """
    from keras.datasets import imdb

    try:
        (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=config.num_words)
        word_index = imdb.get_word_index()
    except Exception as error:
        raise ValueError(
            f"data: could not download the Keras IMDB dataset ({type(error).__name__}); "
            f"point at a local copy with --data PATH, -P data=PATH or ${DATA_ENV_VAR}, "
            "where PATH is an aclImdb directory, its .tar.gz, or a .csv file."
        ) from error
    digest = digest_sequences([x_train, y_train, x_test, y_test])
    train, y_train = sample_reviews(x_train, y_train, config.max_reviews, config.seed, "train")
    test, y_test = sample_reviews(x_test, y_test, config.max_reviews, config.seed, "test")
    ranked = sorted(word_index, key=word_index.__getitem__)
    vocabulary = tuple(word for word in ranked if word_index[word] + INDEX_FROM < config.num_words)
    return EncodedData(
        x_train=pad_reviews(train, config.maxlen),
        y_train=np.asarray(y_train, dtype=np.int32),
        x_test=pad_reviews(test, config.maxlen),
        y_test=np.asarray(y_test, dtype=np.int32),
        vocabulary=vocabulary,
        digest=digest,
    )


def digest_sequences(parts: Sequence[Sequence]) -> str:
    """Returns the sha256 of ragged integer sequences, lengths included."""
    hasher = hashlib.sha256()
    for part in parts:
        for item in part:
            values = np.asarray(item, dtype=np.int64).ravel()
            hasher.update(np.int64(values.size).tobytes())
            hasher.update(values.tobytes())
    return hasher.hexdigest()


def load_local_dataset(source: str, config: TrainConfig) -> tuple[EncodedData, str]:
    """Returns the encoded arrays of a local path and its dataset name, using the cache.

    The cache lookup costs one sha256 pass over a file, or one stat per review file of a
    directory; the content digest of a directory is computed only when it is re-encoded.
    """
    path, kind = inspect_source(source)
    name = path.stem if kind == "csv" else ACLIMDB_NAME
    if kind == "directory":
        root = find_aclimdb_root(path)
        lookup = fingerprint_directory(root)
    else:
        lookup = hash_file(path)
    cache_path = cache_directory() / f"{name}-{make_cache_key(kind, lookup, config)}.npz"
    cached = read_cache(cache_path)
    if cached is not None:
        return cached, name
    started = time.perf_counter()
    if kind == "directory":
        corpus = make_aclimdb_corpus(read_review_directory(root), source)
    elif kind == "tar":
        corpus = make_aclimdb_corpus(read_review_tar(path), source, digest=lookup)
    else:
        corpus = read_csv_reviews(path, config, digest=lookup)
    encoded = encode_corpus(corpus, config, source)
    logger.info("encoded %s in %.1f s", source, time.perf_counter() - started)
    write_cache(cache_path, encoded)
    return encoded, name


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


def sample_corpus(
    corpus: Corpus, config: TrainConfig, source: str
) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Checks both splits hold reviews and applies `max_reviews` to each, seeded.

    Returns (train_texts, y_train, test_texts, y_test). The encoded arrays and the raw-text
    splits both come through here, so they always hold the same reviews.
    """
    for split, texts in (("train", corpus.train_texts), ("test", corpus.test_texts)):
        if not texts:
            raise fail_source(f"{source!r} has no {split} reviews")
    train_texts, y_train = sample_reviews(
        corpus.train_texts, corpus.train_labels, config.max_reviews, config.seed, "train"
    )
    test_texts, y_test = sample_reviews(
        corpus.test_texts, corpus.test_labels, config.max_reviews, config.seed, "test"
    )
    return train_texts, y_train, test_texts, y_test


def encode_corpus(corpus: Corpus, config: TrainConfig, source: str) -> EncodedData:
    """Samples, ranks the training words and encodes both splits of a raw corpus."""
    train_texts, y_train, test_texts, y_test = sample_corpus(corpus, config, source)
    train_tokens = [tokenize(text) for text in train_texts]
    vocabulary = rank_words(train_tokens, config.num_words)
    return EncodedData(
        x_train=encode_tokens(train_tokens, vocabulary, config.num_words, config.maxlen),
        y_train=np.asarray(y_train, dtype=np.int32),
        x_test=encode_texts(test_texts, vocabulary, config.num_words, config.maxlen),
        y_test=np.asarray(y_test, dtype=np.int32),
        vocabulary=vocabulary,
        digest=corpus.digest,
    )


def cache_directory() -> Path:
    """Returns the folder of cached encodings: $RNN_TRACKING_CACHE or ~/.cache/rnn-tracking."""
    return Path(os.environ.get(CACHE_ENV_VAR) or DEFAULT_CACHE_DIR).expanduser()


def make_cache_key(kind: str, lookup: str, config: TrainConfig) -> str:
    """Returns a hex key covering the source's content and every setting of its encoding.

    Only the settings that change the encoded arrays are part of the key, so for instance
    a seed sweep over the whole aclImdb corpus encodes it once.
    """
    settings = {
        "format": CACHE_FORMAT_VERSION,
        "kind": kind,
        "lookup": lookup,
        "num_words": config.num_words,
        "maxlen": config.maxlen,
        "max_reviews": config.max_reviews,
    }
    holds_out_test = kind == "csv" and not csv_split_column(config)
    if kind == "csv":
        settings |= {
            "text_column": config.text_column,
            "label_column": config.label_column,
            "split_column": config.split_column,
        }
    if holds_out_test:
        settings["test_split"] = config.test_split
    if holds_out_test or config.max_reviews:
        settings["seed"] = config.seed
    text = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read_cache(path: Path) -> EncodedData | None:
    """Returns a cached encoding, or None when it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return EncodedData(
                x_train=archive["x_train"],
                y_train=archive["y_train"],
                x_test=archive["x_test"],
                y_test=archive["y_test"],
                vocabulary=tuple(archive["vocabulary"].tolist()),
                digest=str(archive["digest"]),
            )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        logger.warning("ignoring the unreadable cache file %s (%s); rebuilding it", path, error)
        return None


def write_cache(path: Path, encoded: EncodedData) -> None:
    """Writes an encoding atomically: a temporary file in the same folder, then a rename.

    A process killed midway leaves at most a stray temporary file, never a half-written
    cache entry. A cache that cannot be written is only a warning: the run goes on.
    """
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp", delete=False
        ) as handle:
            temporary = handle.name
            np.savez(
                handle,
                x_train=encoded.x_train,
                y_train=encoded.y_train,
                x_test=encoded.x_test,
                y_test=encoded.y_test,
                vocabulary=np.asarray(encoded.vocabulary, dtype=str),
                digest=np.asarray(encoded.digest),
            )
        os.replace(temporary, path)
    except OSError as error:
        logger.warning("could not write the cache file %s (%s)", path, error)
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)


# --- Raw review texts ---------------------------------------------------------------------
# Evaluation, scoring files of reviews and text baselines need the reviews as text. These
# functions reuse the readers above, so the texts are the very rows `load_splits` encodes.


@dataclass(frozen=True, eq=False)
class TextSplits:
    """The raw reviews behind `load_splits(config)`: the same rows, in the same order.

    `train_texts[i]` is the review that `load_splits(config).x_train[i]` encodes, and likewise
    for validation and test; each `y_*` is int32 0/1 of shape (n,).
    """

    train_texts: list[str]
    y_train: np.ndarray
    val_texts: list[str]
    y_val: np.ndarray
    test_texts: list[str]
    y_test: np.ndarray
    source: str
    name: str
    digest: str


def load_text_splits(config: TrainConfig) -> TextSplits:
    """Reads the configured local source and splits its raw texts exactly as `load_splits`.

    The same sampling (`max_reviews`, `seed`) and the same validation split
    (`train_test_split(test_size=val_split, random_state=seed)`) are applied, so the texts
    line up row for row with the encoded arrays. The 'keras' source ships reviews already
    encoded, so it has no texts: that is a ValueError naming `data`.
    """
    source = resolve_data_source(config)
    if source == KERAS_SOURCE:
        raise ValueError(
            "data: the 'keras' source holds encoded reviews, not their texts; valid values "
            "for raw texts are an aclImdb directory or .tar.gz, or a .csv file."
        )
    path, kind = inspect_source(source)
    if kind == "directory":
        corpus = make_aclimdb_corpus(read_review_directory(find_aclimdb_root(path)), source)
    elif kind == "tar":
        corpus = make_aclimdb_corpus(read_review_tar(path), source, digest=hash_file(path))
    else:
        corpus = read_csv_reviews(path, config, digest=hash_file(path))
    train_texts, y_train, test_texts, y_test = sample_corpus(corpus, config, source)
    try:
        train_texts, val_texts, y_train, y_val = train_test_split(
            train_texts, y_train, test_size=config.val_split, random_state=config.seed
        )
    except ValueError as error:
        raise ValueError(
            f"val_split: cannot hold out {config.val_split} of {len(y_train)} training "
            f"reviews ({error}); valid values are numbers in (0, 1) that leave reviews on "
            "both sides."
        ) from None
    return TextSplits(
        train_texts=list(train_texts),
        y_train=np.asarray(y_train, dtype=np.int32),
        val_texts=list(val_texts),
        y_val=np.asarray(y_val, dtype=np.int32),
        test_texts=list(test_texts),
        y_test=np.asarray(y_test, dtype=np.int32),
        source=source,
        name=path.stem if kind == "csv" else ACLIMDB_NAME,
        digest=corpus.digest,
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
