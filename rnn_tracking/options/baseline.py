"""The options of the models trained without Keras: `baseline` (linear) and `embed` (word2vec)."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_tracking.config import DATA_FIELDS, _knob
from rnn_tracking.options.fields import EXPERIMENT_HELP


@dataclass(frozen=True)
class BaselineOptions:
    """The options of `baseline` besides the data fields it shares with `TrainConfig`."""

    budgets: str = _knob(
        "neural,full",
        "Comma-separated: 'neural' sees only what the recurrent models see (the num_words "
        "vocabulary, the last maxlen tokens); 'full' sees the whole text. Both by default, "
        "to tell the model's limits from the input's.",
    )
    models: str = _knob(
        "tfidf_logreg,nbsvm",
        "Comma-separated: tfidf_logreg (TF-IDF + logistic regression), nbsvm (NB log-count "
        "ratios + logistic regression). Both: NBSVM is the stronger published baseline.",
    )
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")


# The config fields `embed` reads: those of DATA_FIELDS that decide which reviews are the
# training split, not how they are encoded (word vectors are trained on the raw text).
EMBED_DATA_FIELDS = tuple(
    name for name in DATA_FIELDS if name not in ("num_words", "maxlen", "padding", "truncating")
)


@dataclass(frozen=True)
class EmbedOptions:
    """The options of `embed`: word2vec (gensim) on the training split's reviews only."""

    sg: bool = _knob(
        True,
        "Skip-gram (true) or CBOW (false): skip-gram learns better vectors for rare words, "
        "which most of a review vocabulary is; CBOW is faster.",
    )
    vector_size: int = _knob(
        100,
        "Dimension of each vector; the embedding_dim of the runs that use them. 100 is "
        "word2vec's and gensim's default.",
        minimum=1,
        metavar="N",
    )
    window: int = _knob(
        5, "Words of context on each side; 5, word2vec's default.", minimum=1, metavar="N"
    )
    epochs: int = _knob(
        5, "Passes over the training reviews; 5, gensim's default.", minimum=1, metavar="N"
    )
    min_count: int = _knob(
        5,
        "Words seen fewer times get no vector (they keep a seeded random row); 5, gensim's "
        "default: rarer words have too few contexts to place.",
        minimum=1,
        metavar="N",
    )
    workers: int = _knob(
        1,
        "gensim threads; 1 makes the vectors a function of the seed (threads race), more is faster.",
        minimum=1,
        metavar="N",
    )
    experiment_name: str | None = _knob(None, EXPERIMENT_HELP, metavar="NAME")
