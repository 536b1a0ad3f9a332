"""The classes of a source: their order, the label indices, and the checks on them.

A source's labels are class names (`neg`, `spam`, `3`). The model sees class indices: the
position of each name in the class order, which is the `classes` option when given, else
the names sorted (numerically when every name is an integer). With two classes, index 1 is
the positive class of the sigmoid output; aclImdb's sorted `neg, pos` keeps the tutorial's
0/1. Every class must have training reviews, and every split two classes or more.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable

import numpy as np

from rnn_tracking.config import TrainConfig, parse_classes
from rnn_tracking.data.sources import Corpus
from rnn_tracking.encoding import IMDB_CLASSES, tokenize

logger = logging.getLogger(__name__)

# The tutorial's classes in model order, for sources that are encoded already (Keras).
BINARY_CLASSES = IMDB_CLASSES
INTEGER = re.compile(r"[+-]?\d+")


def sort_class_names(names: Iterable[str]) -> tuple[str, ...]:
    """Sorts class names: as integers when every name is one (`2` before `10`), else as text."""
    unique = set(names)
    if unique and all(INTEGER.fullmatch(name) for name in unique):
        return tuple(sorted(unique, key=int))
    return tuple(sorted(unique))


def quote_names(names: Iterable[str], limit: int = 20) -> str:
    """Spells class names for a message: `'ham', 'spam'`; past `limit`, `... (400 in all)`."""
    names = list(names)
    shown = ", ".join(repr(str(name)) for name in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def spell_classes_option(names: Iterable[str]) -> str:
    """Spells names as a `classes` value: `neg,pos`, or a JSON list when one holds a comma."""
    names = [str(name) for name in names]
    if any("," in name or name.startswith("[") for name in names):
        return json.dumps(names, ensure_ascii=False)
    return ",".join(names)


def spell_example(found: tuple[str, ...]) -> str:
    """Shows how to give the found labels as `classes`, when a name holds a comma."""
    spelled = spell_classes_option(found)
    return f" (as {spelled})" if spelled.startswith("[") and len(spelled) < 200 else ""


def resolve_classes(corpus: Corpus, config: TrainConfig) -> tuple[str, ...]:
    """Returns the class order of a corpus; raises ValueError naming the bad label.

    The order is `classes` when given (it must name every label of the data, each once),
    else the sorted labels. A label seen only in test, or data with one class, is an error.
    """
    train, test = set(corpus.train_labels.tolist()), set(corpus.test_labels.tolist())
    found = sort_class_names(train | test)
    given = parse_classes(config)
    if given is not None:
        for name in given:
            if name not in found:
                raise ValueError(
                    f"classes: {name!r} is not a label of the data; valid values are the "
                    f"labels found: {quote_names(found)}{spell_example(found)}."
                )
        for name in found:
            if name not in given:
                raise ValueError(
                    f"classes: the label {name!r} of the data is missing; valid values name "
                    f"every label found: {quote_names(found)}{spell_example(found)}."
                )
    classes = given or found
    parameter, origin = corpus.label_parameter, corpus.label_origin
    if len(classes) < 2:
        raise ValueError(
            f"{parameter}: {origin} holds one class only ({quote_names(classes)}); valid values "
            "are data with two classes or more."
        )
    for name in classes:
        if name not in train:
            raise ValueError(
                f"{parameter}: {origin} holds the label {name!r} only in test reviews; valid "
                "values are labels that have training reviews."
            )
    return classes


def index_labels(names: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """Maps class names to their int32 index in `classes`."""
    index = {name: position for position, name in enumerate(classes)}
    return np.asarray([index[name] for name in names.tolist()], dtype=np.int32)


def drop_wordless_reviews(corpus: Corpus, source: str) -> Corpus:
    """Drops reviews without a word (empty, blank, only punctuation), with a warning.

    Such a review would reach the model as the start mark alone, and a label learned from
    nothing is noise; serving refuses them likewise. The warning gives the count per split.
    """
    kept, dropped = {}, {}
    for split in ("train", "test"):
        texts = getattr(corpus, f"{split}_texts")
        labels = getattr(corpus, f"{split}_labels")
        keep = np.asarray([bool(tokenize(text)) for text in texts], dtype=bool)
        dropped[split] = int((~keep).sum())
        kept[split] = ([t for t, k in zip(texts, keep, strict=True) if k], labels[keep])
    if not any(dropped.values()):
        return corpus
    logger.warning(
        "data: dropped %d reviews without words from %r (%d train, %d test)",
        sum(dropped.values()),
        source,
        dropped["train"],
        dropped["test"],
    )
    return Corpus(
        train_texts=kept["train"][0],
        train_labels=kept["train"][1],
        test_texts=kept["test"][0],
        test_labels=kept["test"][1],
        digest=corpus.digest,
        label_parameter=corpus.label_parameter,
        label_origin=corpus.label_origin,
    )


def check_split_classes(
    labels: np.ndarray, classes: tuple[str, ...], split: str, parameter: str
) -> None:
    """Checks a split after sampling: train must hold every class, test two classes or more.

    A validation split with one class (possible only on tiny data, since it is drawn at
    random as in the tutorial) is a warning: training still works, its metrics mean little.
    """
    present = set(np.unique(labels).tolist())
    if split == "train":
        for position, name in enumerate(classes):
            if position not in present:
                raise ValueError(
                    f"{parameter}: the class {name!r} has no training review left; valid "
                    "values are data (and max_reviews) that leave every class training reviews."
                )
    elif len(present) < 2:
        only = quote_names(classes[position] for position in sorted(present))
        message = f"the {split} reviews hold one class only ({only or 'none'})"
        if split == "validation":
            logger.warning("data: %s; its metrics say little", message)
            return
        raise ValueError(
            f"{parameter}: {message}; valid values are data with two classes or more in {split}."
        )
