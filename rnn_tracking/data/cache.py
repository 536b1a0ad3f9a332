"""The cache of encoded arrays: one .npz per source content and encoding settings.

Encoding 50,000 raw reviews takes seconds, so the encoded arrays are cached under
$RNN_TRACKING_CACHE (default ~/.cache/rnn-tracking), keyed on the source's content and every
setting that changes the encoding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn_tracking.config import TrainConfig, csv_split_column, parse_classes
from rnn_tracking.encoding import IMDB_CLASSES

logger = logging.getLogger(__name__)

CACHE_ENV_VAR = "RNN_TRACKING_CACHE"
DEFAULT_CACHE_DIR = "~/.cache/rnn-tracking"
# Bump this whenever the tokenizer, the ranking or the cache layout changes, so that old
# cache files are never read as if they were current.
CACHE_FORMAT_VERSION = 1
# A temporary file this old is a killed write's leftover: writing an encoding takes seconds.
STALE_TEMPORARY_SECONDS = 3600.0


@dataclass(frozen=True, eq=False)
class EncodedData:
    """What the cache holds: encoded train and test arrays before the validation split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    vocabulary: tuple[str, ...]
    digest: str
    classes: tuple[str, ...] = IMDB_CLASSES


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
    # Keys of the tutorial's pre-padding and pre-truncating stay as they were before these
    # two settings existed, so the encodings already cached keep being found.
    for name in ("padding", "truncating"):
        if getattr(config, name) != "pre":
            settings[name] = getattr(config, name)
    tables = ("csv", "parquet", "jsonl")
    holds_out_test = kind == "folder" or (kind in tables and not csv_split_column(config))
    if kind in tables:
        settings |= {
            "text_column": config.text_column,
            "label_column": config.label_column,
            "split_column": config.split_column,
        }
    if holds_out_test:
        settings["test_split"] = config.test_split
    # The class order changes the labels; the default (sorted) keeps the keys made before
    # `classes` existed.
    if parse_classes(config) is not None:
        settings["classes"] = list(parse_classes(config))
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
                classes=tuple(archive["classes"].tolist()),
            )
    except FileNotFoundError:
        return None
    except KeyError:
        # A file written before class names were cached: encode again and replace it.
        return None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        logger.warning("ignoring the unreadable cache file %s (%s); rebuilding it", path, error)
        return None


def remove_stale_temporaries(folder: Path, max_age: float = STALE_TEMPORARY_SECONDS) -> int:
    """Removes the temporary files (`.<key>-*.tmp`) older than `max_age` seconds; returns how
    many. Younger ones may be another process's write in progress, so they stay."""
    removed = 0
    now = time.time()
    for temporary in folder.glob(".*.tmp"):
        try:
            if now - temporary.stat().st_mtime > max_age:
                temporary.unlink()
                removed += 1
        except OSError:
            continue  # Another process removed or renamed it first.
    return removed


def write_cache(path: Path, encoded: EncodedData) -> None:
    """Writes an encoding atomically: a temporary file in the same folder, then a rename.

    A process killed midway leaves at most a stray temporary file, never a half-written
    cache entry; the next write removes such files once they are stale. A cache that cannot
    be written is only a warning: the run goes on.
    """
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path.parent)
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
                classes=np.asarray(encoded.classes, dtype=str),
            )
        os.replace(temporary, path)
    except OSError as error:
        logger.warning("could not write the cache file %s (%s)", path, error)
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)
