"""The `keras.datasets.imdb` text conventions: exactly what a served model depends on.

Raw text is encoded with the conventions of `keras.datasets.imdb`, so a model trained on a
local copy sees the same kind of input as the tutorial's model:

- `tokenize` lowercases, turns HTML line breaks into spaces and keeps words (see `WORD`);
- words are ranked by frequency over the training split only; ties go to the word that
  sorts first alphabetically, so the ranking does not depend on the order files are read;
- index 0 pads, 1 marks the start of each review, 2 stands for any out-of-vocabulary word,
  and the word of rank r gets index r + 3; an index >= num_words becomes 2, so
  num_words=500 keeps ranks 1..496 exactly as `imdb.load_data(num_words=500)` does;
- `keras.utils.pad_sequences(maxlen=maxlen)` pads in front and keeps the last tokens by
  default (`padding="pre"`, `truncating="pre"`, the tutorial); `post` pads at the end, or
  keeps the first tokens.

One difference from Keras: a test word never seen in training becomes 2 (Keras drops it),
because serving has no way to tell "rare" from "unseen" and must encode both the same way.

These are pure functions: no file is opened here, and importing this module imports neither
MLflow nor TensorFlow (Keras is imported only when padding; `config`, which names the
sequence ends, imports neither), so the text model that ships with every logged model
can depend on it alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from rnn_tracking.config import SEQUENCE_ENDS

# The reserved indices of keras.datasets.imdb: padding, start mark, out-of-vocabulary.
PAD_INDEX = 0
START_INDEX = 1
OOV_INDEX = 2
# The word of frequency rank r (1-based) gets index r + INDEX_FROM, as in imdb.load_data.
INDEX_FROM = 3
# imdb.load_data's labels: 0 is a negative review, 1 a positive one. The class names follow
# aclImdb's folders, so a model trained on either source answers with the same names.
IMDB_CLASSES = ("neg", "pos")

# HTML line breaks as they appear in IMDB reviews: `<br />`, `<br/>` or `<br>`.
LINE_BREAK = re.compile(r"<br\s*/?>")
# A word is a run of letters or digits (any script), with apostrophes allowed inside it:
# "don't" and "90's" stay whole, while quotes around 'words' are dropped.
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def tokenize(text: str) -> list[str]:
    """Splits one review into lowercase words, treating HTML line breaks as spaces."""
    return WORD.findall(LINE_BREAK.sub(" ", text.lower()))


def encode_texts(
    texts: Sequence[str],
    vocabulary: Sequence[str],
    num_words: int,
    maxlen: int,
    *,
    padding: str = "pre",
    truncating: str = "pre",
) -> np.ndarray:
    """Encodes raw reviews exactly as training did: int32 of shape (len(texts), maxlen).

    Serving calls this with the training vocabulary, padding and truncating, so text in
    means the same numbers in.
    """
    return encode_tokens(
        [tokenize(text) for text in texts],
        vocabulary,
        num_words,
        maxlen,
        padding=padding,
        truncating=truncating,
    )


def encode_tokens(
    token_lists: Sequence[Sequence[str]],
    vocabulary: Sequence[str],
    num_words: int,
    maxlen: int,
    *,
    padding: str = "pre",
    truncating: str = "pre",
) -> np.ndarray:
    """Maps tokenized reviews to padded index arrays of shape (n, maxlen)."""
    index_of = {
        word: rank + INDEX_FROM
        for rank, word in enumerate(vocabulary, start=1)
        if rank + INDEX_FROM < num_words
    }
    sequences = [
        [START_INDEX] + [index_of.get(word, OOV_INDEX) for word in tokens] for tokens in token_lists
    ]
    return pad_reviews(sequences, maxlen, padding=padding, truncating=truncating)


def pad_reviews(
    sequences: Sequence[Sequence[int]],
    maxlen: int,
    *,
    padding: str = "pre",
    truncating: str = "pre",
) -> np.ndarray:
    """Pads and cuts each review to maxlen indices as Keras's pad_sequences does: int32
    (n, maxlen).

    `padding="pre"` pads in front, `"post"` at the end; `truncating="pre"` keeps the last
    maxlen indices (the tutorial), `"post"` the first ones. NumPy rather than Keras's own
    function, so that commands that need no model (baseline) import no Keras backend; a test
    checks that both give the same arrays.
    """
    for name, value in (("padding", padding), ("truncating", truncating)):
        if value not in SEQUENCE_ENDS:
            raise ValueError(f"{name}: got {value!r}; valid values are " + ", ".join(SEQUENCE_ENDS))
    padded = np.full((len(sequences), maxlen), PAD_INDEX, dtype=np.int32)
    for row, sequence in enumerate(sequences):
        kept = list(sequence)[-maxlen:] if truncating == "pre" else list(sequence)[:maxlen]
        if not kept:
            continue
        if padding == "pre":
            padded[row, maxlen - len(kept) :] = kept
        else:
            padded[row, : len(kept)] = kept
    return padded


def rank_words(token_lists: Sequence[Sequence[str]], num_words: int) -> tuple[str, ...]:
    """Returns the words whose index stays below num_words, most frequent first.

    Ties are broken alphabetically, so the ranking depends only on the words' counts.
    """
    counts = Counter(word for tokens in token_lists for word in tokens)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(word for word, _ in ranked[: num_words - 1 - INDEX_FROM])
