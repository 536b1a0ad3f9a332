"""Reads a review data source and encodes it into padded train/validation/test arrays.

This is the only package that opens data files. It reads three kinds of source:

- `keras`: `keras.datasets.imdb`, already encoded by Keras (needs its download host).
- a folder of `.txt` reviews with one subfolder per class, as
  `keras.utils.text_dataset_from_directory` reads it: `DIR/{train,test}/<class>/*.txt`, or
  class folders alone with `test_split` held out. The Stanford aclImdb corpus is one, as a
  directory (`aclImdb` itself or its parent) or as the `.tar.gz` users download;
- a table file (`.csv`, `.parquet`, `.jsonl`) with a text column and a label column, and
  optionally a train/test column.

Labels are any class names; `labels` orders them (the `classes` option, else sorted) and
turns them into class indices.

Raw text is encoded with the `keras.datasets.imdb` conventions of `rnn_tracking.encoding`.

Encoding 50,000 raw reviews takes seconds, so the encoded arrays are cached as an .npz under
$RNN_TRACKING_CACHE (default ~/.cache/rnn-tracking), keyed on the source's content and every
setting that changes the encoding. The validation split is drawn after the cache, so
changing `val_split` never re-encodes. Rooms: `sources` (readers), `labels` (class order
and checks), `cache` (the .npz cache), `splits` (what training and evaluation load), `vectors` (pretrained word vectors).
"""

from rnn_tracking.data.cache import (
    CACHE_ENV_VAR,
    CACHE_FORMAT_VERSION,
    DEFAULT_CACHE_DIR,
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
    sort_class_names,
)
from rnn_tracking.data.sources import (
    ACLIMDB_LABELS,
    ACLIMDB_NAME,
    CSV_SPLITS,
    KERAS_NAME,
    REVIEW_PATH,
    TABLE_SUFFIXES,
    TAR_SUFFIXES,
    VALID_SOURCES,
    Corpus,
    fail_source,
    find_aclimdb_root,
    find_review_root,
    fingerprint_directory,
    hash_file,
    inspect_source,
    list_review_files,
    make_folder_corpus,
    parse_labels,
    parse_split_column,
    read_review_directory,
    read_review_file,
    read_review_tar,
    read_table,
    read_table_reviews,
)
from rnn_tracking.data.splits import (
    Splits,
    TextSplits,
    digest_sequences,
    encode_corpus,
    load_keras_dataset,
    load_local_dataset,
    load_splits,
    load_text_splits,
    load_training_tokens,
    read_corpus,
    sample_corpus,
    sample_reviews,
)
from rnn_tracking.data.vectors import (
    EmbeddingInit,
    WordVectors,
    build_embedding_matrix,
    load_embedding_matrix,
    read_word_vectors,
    write_word2vec_text,
)
from rnn_tracking.encoding import (
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

__all__ = [
    "ACLIMDB_LABELS",
    "ACLIMDB_NAME",
    "CACHE_ENV_VAR",
    "CACHE_FORMAT_VERSION",
    "BINARY_CLASSES",
    "CSV_SPLITS",
    "Corpus",
    "DEFAULT_CACHE_DIR",
    "EmbeddingInit",
    "EncodedData",
    "INDEX_FROM",
    "KERAS_NAME",
    "OOV_INDEX",
    "PAD_INDEX",
    "REVIEW_PATH",
    "START_INDEX",
    "Splits",
    "TABLE_SUFFIXES",
    "TAR_SUFFIXES",
    "TextSplits",
    "VALID_SOURCES",
    "WordVectors",
    "build_embedding_matrix",
    "cache_directory",
    "check_split_classes",
    "digest_sequences",
    "drop_wordless_reviews",
    "encode_corpus",
    "encode_texts",
    "encode_tokens",
    "fail_source",
    "find_aclimdb_root",
    "find_review_root",
    "fingerprint_directory",
    "hash_file",
    "inspect_source",
    "list_review_files",
    "load_embedding_matrix",
    "load_keras_dataset",
    "load_local_dataset",
    "load_splits",
    "load_text_splits",
    "load_training_tokens",
    "index_labels",
    "make_folder_corpus",
    "make_cache_key",
    "pad_reviews",
    "parse_labels",
    "parse_split_column",
    "rank_words",
    "read_cache",
    "read_corpus",
    "read_review_directory",
    "read_review_file",
    "read_review_tar",
    "read_table",
    "read_table_reviews",
    "read_word_vectors",
    "resolve_classes",
    "sample_corpus",
    "sample_reviews",
    "sort_class_names",
    "tokenize",
    "write_cache",
    "write_word2vec_text",
]
