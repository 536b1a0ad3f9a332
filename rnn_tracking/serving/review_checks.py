"""The checks of served reviews: which inputs the text model scores, and how it refuses the rest.

A review must be a string with at least one word and at most MAX_REVIEW_CHARS characters;
a refusal names the review's position and quotes it in at most about QUOTED_CHARS
characters, so that a server's error body stays short whatever a client sends. It ships
inside every logged model with `text_model`, so it imports only `rnn_tracking.encoding` of
this package (a test checks it).
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from rnn_tracking.encoding import tokenize

# The longest review of aclImdb has about 13,700 characters; 100,000 leaves room for any
# real review while keeping one request from tying up a server worker.
MAX_REVIEW_CHARS = 100_000
# The most characters of a bad review that an error message quotes.
QUOTED_CHARS = 80


def check_reviews(reviews: Sequence[Any]) -> list[str]:
    """Returns the reviews if each is a string with a word and at most MAX_REVIEW_CHARS.

    Raises ValueError naming the first bad review by its 0-based position, quoting at most
    QUOTED_CHARS characters of it (see `quote_review`).
    """
    for position, review in enumerate(reviews):
        if not isinstance(review, str):
            raise ValueError(
                f"review {position}: got {quote_review(review)}; valid values are strings of "
                "review text."
            )
        if len(review) > MAX_REVIEW_CHARS:
            raise ValueError(
                f"review {position}: got {quote_review(review)}; valid values are reviews of at "
                f"most {MAX_REVIEW_CHARS:,} characters."
            )
        if not tokenize(review):
            raise ValueError(
                f"review {position}: got {quote_review(review)}, which has no words; valid "
                "values are texts with at least one word."
            )
    return list(reviews)


def quote_review(review: Any) -> str:
    """Quotes a bad review for an error message, in at most about QUOTED_CHARS characters.

    A short string is quoted whole (`'  '`); a longer one is cut, with its length:
    `'word word ...'... (150,000 characters)`. Anything else is its type and a shortened
    repr (`int 5`, `list ['x...', 2]`). A server answers with this message, so its body stays
    short whatever a client sends.
    """
    if isinstance(review, str):
        if len(review) <= QUOTED_CHARS:
            return repr(review)
        return f"{review[:QUOTED_CHARS]!r}... ({len(review):,} characters)"
    if review is None:
        return "None"
    # reprlib shortens the repr as it builds it: a few items, each cut short.
    shortener = reprlib.Repr()
    shortener.maxlevel, shortener.maxstring, shortener.maxother = 2, 20, 20
    shortener.maxlist = shortener.maxtuple = shortener.maxdict = shortener.maxset = 4
    return f"{type(review).__name__} {shortener.repr(review)[:QUOTED_CHARS]}"


class ReviewRefused(MlflowException):
    """A refused review (HTTP 400 in the scoring server) whose message stays as written.

    MLflow's scoring server prefixes the message of any MlflowException from `predict` with
    the whole request (`Failed to predict data '<input>'`), so a 5 MB review would come back
    in a 5 MB error body. This exception keeps its first message, which quotes a bad review
    by a short prefix and its length (`quote_review`).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)

    @property
    def message(self) -> str:
        return self._message

    @message.setter
    def message(self, value: str) -> None:
        if not hasattr(self, "_message"):
            self._message = value
