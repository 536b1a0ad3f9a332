"""Pretrained word vectors: reading word2vec and GloVe files, and the embedding matrix.

Three formats are read, told apart by their first line:

- word2vec text: a header `COUNT DIMENSION`, then one `word v1 ... vD` line per word;
- word2vec binary: the same header, then per word `word ` and D little-endian float32s
  (optionally followed by a newline, as older writers add);
- GloVe text: no header, every line `word v1 ... vD`.

A `.gz` file is read through gzip. Only the words of the vocabulary are kept, so a large
file costs one pass, not its size in memory. NumPy only: no gensim is needed to read.

The matrix follows the `keras.datasets.imdb` index conventions of `rnn_tracking.encoding`
(0 pads, 1 starts, 2 is out of vocabulary, the word of rank r is row r + 3): every row
starts as a seeded random one, as Keras's own Embedding initializer would draw it, and the
words with a vector get theirs.
"""

from __future__ import annotations

import gzip
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn_tracking.encoding import INDEX_FROM

# Keras's Embedding draws its rows from uniform(-0.05, 0.05); the rows without a vector do too.
RANDOM_ROW_LIMIT = 0.05
VECTOR_FORMATS = ("word2vec text", "word2vec binary", "GloVe text")


@dataclass(frozen=True, eq=False)
class WordVectors:
    """The vectors a file holds for the wanted words: `vectors[word]` is float32 (dimension,)."""

    vectors: dict[str, np.ndarray]
    dimension: int
    format: str


@dataclass(frozen=True, eq=False)
class EmbeddingInit:
    """The rows an Embedding starts from: float32 (num_words, dimension), and how many of
    the vocabulary's words had no vector (and kept their seeded random row)."""

    matrix: np.ndarray
    missing: int
    found: int


def fail_vectors(path: str | Path, problem: str) -> ValueError:
    """Returns the one-line error of an unreadable vector file, naming `embeddings`."""
    return ValueError(
        f"embeddings: {problem} in {str(path)!r}; valid values are 'none', a word2vec (text or "
        "binary) or GloVe file, or runs:/RUN_ID/PATH."
    )


def read_file_bytes(path: Path) -> bytes:
    """Returns the file's bytes, through gzip for a `.gz` file."""
    if not path.is_file():
        raise fail_vectors(path, "no such file")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        return stream.read()


def parse_header(line: bytes) -> tuple[int, int] | None:
    """Returns (count, dimension) of a word2vec header line, or None for a GloVe line."""
    fields = line.split()
    if len(fields) != 2 or not all(field.isdigit() for field in fields):
        return None
    return int(fields[0]), int(fields[1])


def read_word_vectors(path: str | Path, wanted: Collection[str] | None = None) -> WordVectors:
    """Reads a word2vec (text or binary) or GloVe text file; keeps only `wanted` words (all
    when None). Raises a one-line ValueError naming `embeddings` for a file it cannot read."""
    path = Path(path)
    content = read_file_bytes(path)
    first_end = content.find(b"\n")
    first_line = content if first_end < 0 else content[:first_end]
    header = parse_header(first_line)
    if header is None:
        return parse_text_vectors(path, content, wanted, has_header=False)
    count, dimension = header
    if dimension < 1:
        raise fail_vectors(path, f"the header says dimension {dimension}")
    body = content[first_end + 1 :]
    if count == 0 or is_vector_line(body.split(b"\n", 1)[0], dimension):
        return parse_text_vectors(path, content, wanted, has_header=True, dimension=dimension)
    return parse_binary_vectors(path, body, count, dimension, wanted)


def is_vector_line(line: bytes, dimension: int) -> bool:
    """Returns True when a line reads as text: a word and `dimension` numbers.

    A binary file's first entry fails this: its float32 bytes are not numbers in text (and
    most are not UTF-8 at all).
    """
    try:
        fields = line.decode("utf-8").split()
        np.asarray(fields[1:], dtype=np.float64)
    except (UnicodeDecodeError, ValueError):
        return False
    return len(fields) == dimension + 1


def parse_text_vectors(
    path: Path,
    content: bytes,
    wanted: Collection[str] | None,
    *,
    has_header: bool,
    dimension: int | None = None,
) -> WordVectors:
    """Parses `word v1 ... vD` lines; the dimension is the header's, else the first line's.

    The word is everything before the last D fields, so a GloVe token with a space in it
    stays whole.
    """
    lines = content.decode("utf-8", errors="replace").splitlines()[1 if has_header else 0 :]
    vectors: dict[str, np.ndarray] = {}
    for number, line in enumerate(lines, start=2 if has_header else 1):
        line = line.rstrip()
        if not line:
            continue
        if dimension is None:
            dimension = len(line.split()) - 1
            if dimension < 1:
                raise fail_vectors(path, f"line {number} holds no vector")
        parts = line.rsplit(maxsplit=dimension)
        if len(parts) != dimension + 1:
            raise fail_vectors(path, f"line {number} has {len(parts) - 1} values, not {dimension}")
        if wanted is not None and parts[0] not in wanted:
            continue
        try:
            vectors[parts[0]] = np.asarray(parts[1:], dtype=np.float32)
        except ValueError:
            raise fail_vectors(path, f"line {number} holds a value that is not a number") from None
    if dimension is None:
        raise fail_vectors(path, "no vectors")
    return WordVectors(vectors, dimension, VECTOR_FORMATS[0 if has_header else 2])


def parse_binary_vectors(
    path: Path, body: bytes, count: int, dimension: int, wanted: Collection[str] | None
) -> WordVectors:
    """Parses `count` entries of `word ` followed by `dimension` little-endian float32s."""
    width = 4 * dimension
    vectors: dict[str, np.ndarray] = {}
    position = 0
    for entry in range(count):
        # Older writers end each vector with a newline; skip it before the next word.
        while position < len(body) and body[position : position + 1] in (b"\n", b"\r"):
            position += 1
        space = body.find(b" ", position)
        if space < 0 or space + 1 + width > len(body):
            raise fail_vectors(path, f"entry {entry + 1} of {count} is cut short")
        word = body[position:space].decode("utf-8", errors="replace")
        start = space + 1
        if wanted is None or word in wanted:
            vectors[word] = np.frombuffer(body[start : start + width], dtype="<f4").copy()
        position = start + width
    return WordVectors(vectors, dimension, VECTOR_FORMATS[1])


def build_embedding_matrix(
    vectors: WordVectors, vocabulary: Sequence[str], num_words: int, dimension: int, seed: int
) -> EmbeddingInit:
    """Returns the (num_words, dimension) float32 rows in the vocabulary's index order.

    Row `rank + 3` holds the vector of `vocabulary[rank - 1]`; rows 0-2 (pad, start, OOV)
    and the words without a vector keep seeded uniform(-0.05, 0.05) rows. A dimension other
    than the file's is a one-line ValueError naming `embedding_dim` and both values.
    """
    if dimension != vectors.dimension:
        raise ValueError(
            f"embedding_dim: got {dimension} but the vectors have dimension {vectors.dimension}; "
            f"valid values with these embeddings are {vectors.dimension}."
        )
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(-RANDOM_ROW_LIMIT, RANDOM_ROW_LIMIT, (num_words, dimension))
    matrix = matrix.astype(np.float32)
    found = 0
    words = list(vocabulary)[: max(0, num_words - INDEX_FROM - 1)]
    for rank, word in enumerate(words, start=1):
        vector = vectors.vectors.get(word)
        if vector is not None:
            matrix[rank + INDEX_FROM] = vector
            found += 1
    return EmbeddingInit(matrix=matrix, missing=len(words) - found, found=found)


def load_embedding_matrix(
    path: str | Path, vocabulary: Sequence[str], num_words: int, dimension: int, seed: int
) -> EmbeddingInit:
    """Reads a vector file and returns its embedding matrix for the vocabulary (see above)."""
    words = set(vocabulary)
    return build_embedding_matrix(
        read_word_vectors(path, words), vocabulary, num_words, dimension, seed
    )


def write_word2vec_text(path: str | Path, words: Sequence[str], matrix: np.ndarray) -> Path:
    """Writes vectors in word2vec text format: the header, then `word v1 ... vD` per word."""
    path = Path(path)
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(f"{len(words)} {matrix.shape[1]}\n")
        for word, row in zip(words, matrix, strict=True):
            stream.write(word + " " + " ".join(f"{value:.6g}" for value in row) + "\n")
    return path
