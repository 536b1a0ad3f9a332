"""Turns a source into train/validation/test splits: encoded arrays, or the raw texts.

The Keras source comes encoded already; a local source is read (`sources`), sampled, ranked
and encoded (`rnn_tracking.encoding`), through the cache (`cache`). The validation split is
drawn after the cache, so changing `val_split` never re-encodes.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from rnn_tracking.config import DATA_ENV_VAR, KERAS_SOURCE, TrainConfig, resolve_data_source
from rnn_tracking.data.cache import (
    EncodedData,
    cache_directory,
    make_cache_key,
    read_cache,
    write_cache,
)
from rnn_tracking.data.labels import (
    BINARY_CLASSES,
    check_split_classes,
    drop_wordless_reviews,
    index_labels,
    resolve_classes,
)
from rnn_tracking.data.sources import (
    ACLIMDB_NAME,
    KERAS_NAME,
    Corpus,
    fail_source,
    find_review_root,
    fingerprint_directory,
    hash_file,
    inspect_source,
    make_folder_corpus,
    read_review_directory,
    read_review_tar,
    read_table_reviews,
)
from rnn_tracking.encoding import (
    INDEX_FROM,
    encode_texts,
    encode_tokens,
    pad_reviews,
    rank_words,
    tokenize,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Splits:
    """The encoded train, validation and test splits of one source, ready for Keras.

    Each `x_*` is int32 of shape (n, maxlen); each `y_*` is int32 of shape (n,), the index
    of each review's class in `classes` (0/1 for two classes: neg, pos for aclImdb).
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
    classes: tuple[str, ...] = BINARY_CLASSES

    @property
    def num_classes(self) -> int:
        """The number of classes K: the model has one sigmoid output for 2, K softmax outputs else."""
        return len(self.classes)


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
    x_train, x_val, y_train, y_val = hold_out_validation(encoded.x_train, encoded.y_train, config)
    check_split_classes(y_val, encoded.classes, "validation", "val_split")
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
        classes=encoded.classes,
    )


def hold_out_validation(items, labels: np.ndarray, config: TrainConfig) -> list:
    """Splits training items as the tutorial does: `train_test_split(test_size=val_split,
    random_state=seed)`, not stratified. Returns (train, val, y_train, y_val)."""
    try:
        return train_test_split(items, labels, test_size=config.val_split, random_state=config.seed)
    except ValueError as error:
        raise ValueError(
            f"val_split: cannot hold out {config.val_split} of {len(labels)} training reviews "
            f"({error}); valid values are numbers in (0, 1) that leave reviews on both sides."
        ) from None


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
    classes = order_keras_classes(config)
    # Keras labels 0/1 mean neg/pos; `classes` may order them otherwise.
    y_train = index_labels(np.asarray(BINARY_CLASSES, dtype=object)[y_train], classes)
    y_test = index_labels(np.asarray(BINARY_CLASSES, dtype=object)[y_test], classes)
    train, y_train = sample_reviews(x_train, y_train, config.max_reviews, config.seed, "train")
    test, y_test = sample_reviews(x_test, y_test, config.max_reviews, config.seed, "test")
    ranked = sorted(word_index, key=word_index.__getitem__)
    vocabulary = tuple(word for word in ranked if word_index[word] + INDEX_FROM < config.num_words)
    return EncodedData(
        x_train=pad_reviews(train, config.maxlen, **sequence_ends(config)),
        y_train=np.asarray(y_train, dtype=np.int32),
        x_test=pad_reviews(test, config.maxlen, **sequence_ends(config)),
        y_test=np.asarray(y_test, dtype=np.int32),
        vocabulary=vocabulary,
        digest=digest,
        classes=classes,
    )


def sequence_ends(config: TrainConfig) -> dict[str, str]:
    """Returns the `padding` and `truncating` keywords of the config's encoding."""
    return {"padding": config.padding, "truncating": config.truncating}


def order_keras_classes(config: TrainConfig) -> tuple[str, ...]:
    """Returns the class order of the Keras source: neg, pos unless `classes` reorders them."""
    corpus = Corpus([], np.asarray(BINARY_CLASSES, dtype=object), [], np.asarray([]), "")
    return resolve_classes(corpus, config)


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
    if kind == "directory":
        root, has_splits = find_review_root(path)
        # A folder without a train/test level holds out test_split, like a table without a
        # split column; its cache key says so.
        kind = "directory" if has_splits else "folder"
        lookup = fingerprint_directory(root, has_splits)
        name = ACLIMDB_NAME if has_splits else path.name
    else:
        lookup = hash_file(path)
        name = ACLIMDB_NAME if kind == "tar" else path.stem
    cache_path = cache_directory() / f"{name}-{make_cache_key(kind, lookup, config)}.npz"
    cached = read_cache(cache_path)
    if cached is not None:
        return cached, name
    started = time.perf_counter()
    corpus = read_corpus(path, kind, config, source, lookup)
    encoded = encode_corpus(corpus, config, source)
    logger.info("encoded %s in %.1f s", source, time.perf_counter() - started)
    write_cache(cache_path, encoded)
    return encoded, name


def read_corpus(path, kind: str, config: TrainConfig, source: str, lookup: str | None) -> Corpus:
    """Reads a local source of any kind into raw texts and labels.

    `lookup` is the file's sha256 (its digest) for files; folders compute their digest from
    their content. Pass None to have a file hashed here.
    """
    if kind in ("directory", "folder"):
        root, has_splits = find_review_root(path)
        return make_folder_corpus(read_review_directory(root, has_splits), source, config)
    digest = lookup or hash_file(path)
    if kind == "tar":
        return make_folder_corpus(read_review_tar(path), source, config, digest=digest)
    return read_table_reviews(path, kind, config, digest)


def sample_corpus(
    corpus: Corpus, config: TrainConfig, source: str
) -> tuple[list[str], np.ndarray, list[str], np.ndarray, tuple[str, ...]]:
    """Drops wordless reviews, orders the classes and applies `max_reviews` to each split.

    Returns (train_texts, y_train, test_texts, y_test, classes), with labels as class
    indices. The encoded arrays and the raw-text splits both come through here, so they
    always hold the same reviews.
    """
    corpus = drop_wordless_reviews(corpus, source)
    for split, texts in (("train", corpus.train_texts), ("test", corpus.test_texts)):
        if not texts:
            raise fail_source(f"{source!r} has no {split} reviews")
    classes = resolve_classes(corpus, config)
    train_texts, y_train = sample_reviews(
        corpus.train_texts,
        index_labels(corpus.train_labels, classes),
        config.max_reviews,
        config.seed,
        "train",
    )
    test_texts, y_test = sample_reviews(
        corpus.test_texts,
        index_labels(corpus.test_labels, classes),
        config.max_reviews,
        config.seed,
        "test",
    )
    check_split_classes(y_train, classes, "train", corpus.label_parameter)
    check_split_classes(y_test, classes, "test", corpus.label_parameter)
    return train_texts, y_train, test_texts, y_test, classes


def encode_corpus(corpus: Corpus, config: TrainConfig, source: str) -> EncodedData:
    """Samples, ranks the training words and encodes both splits of a raw corpus."""
    train_texts, y_train, test_texts, y_test, classes = sample_corpus(corpus, config, source)
    train_tokens = [tokenize(text) for text in train_texts]
    vocabulary = rank_words(train_tokens, config.num_words)
    return EncodedData(
        x_train=encode_tokens(
            train_tokens, vocabulary, config.num_words, config.maxlen, **sequence_ends(config)
        ),
        y_train=np.asarray(y_train, dtype=np.int32),
        x_test=encode_texts(
            test_texts, vocabulary, config.num_words, config.maxlen, **sequence_ends(config)
        ),
        y_test=np.asarray(y_test, dtype=np.int32),
        vocabulary=vocabulary,
        digest=corpus.digest,
        classes=classes,
    )


# --- Raw review texts ---------------------------------------------------------------------
# Evaluation, scoring files of reviews and text baselines need the reviews as text. These
# functions reuse the readers of `sources`, so the texts are the very rows `load_splits` encodes.


@dataclass(frozen=True, eq=False)
class TextSplits:
    """The raw reviews behind `load_splits(config)`: the same rows, in the same order.

    `train_texts[i]` is the review that `load_splits(config).x_train[i]` encodes, and likewise
    for validation and test; each `y_*` is int32 of shape (n,), indices into `classes`.
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
    classes: tuple[str, ...] = BINARY_CLASSES


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
            "for raw texts are an aclImdb directory or any folder of .txt reviews with one "
            "subfolder per class (or its .tar.gz), or a .csv, .parquet or .jsonl file."
        )
    path, kind = inspect_source(source)
    name = ACLIMDB_NAME if kind == "tar" else path.stem
    if kind == "directory":
        root, has_splits = find_review_root(path)
        kind = "directory" if has_splits else "folder"
        name = ACLIMDB_NAME if has_splits else path.name
    corpus = read_corpus(path, kind, config, source, None)
    train_texts, y_train, test_texts, y_test, classes = sample_corpus(corpus, config, source)
    train_texts, val_texts, y_train, y_val = hold_out_validation(train_texts, y_train, config)
    return TextSplits(
        train_texts=list(train_texts),
        y_train=np.asarray(y_train, dtype=np.int32),
        val_texts=list(val_texts),
        y_val=np.asarray(y_val, dtype=np.int32),
        test_texts=list(test_texts),
        y_test=np.asarray(y_test, dtype=np.int32),
        source=source,
        name=name,
        digest=corpus.digest,
        classes=classes,
    )


def load_training_tokens(config: TrainConfig) -> tuple[list[list[str]], str]:
    """Returns the training split's reviews as tokens (`encoding.tokenize`) and the data digest.

    Exactly the rows of `load_splits(config).x_train`, never a validation or test review:
    what word vectors may be trained on without seeing the reviews that judge the model.
    """
    texts = load_text_splits(config)
    return [tokenize(text) for text in texts.train_texts], texts.digest
