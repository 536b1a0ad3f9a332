"""Short error bodies from MLflow's scoring server: never the request quoted back, no traceback.

MLflow's scoring server (`mlflow models serve`, 3.17) answers a body that is not JSON with a
400 that quotes the whole body (`Input: <4.8 MB>`), a bad `text/csv` body with a 400 that
carries a Python traceback (`stack_trace`), and an error from `predict` with the whole request
prefixed (`Failed to predict data '<input>'`). Its app (FastAPI) is made by
`mlflow.pyfunc.scoring_server.app` after the model is loaded, and offers no option or hook
for its error bodies.

What the text model controls is its own loading, which runs in that server process before the
first request. There, `bound_scoring_server_errors` wraps the scoring server's module-level
`invocations` function (which its request handler looks up at each request) so that every
error it answers, whatever the content type, becomes `{"error_code": ..., "message": ...}`
with a one-line message of at most MAX_MESSAGE_CHARS characters: the request quoted back is
cut, and tracebacks are left out (the server's log keeps them). The JSON body then stays under
MAX_ERROR_BODY_CHARS. Successful answers pass unchanged. Outside the scoring server (the
`predict` command, `evaluate`) nothing is changed.

This module ships inside every logged model with the text model, so it imports nothing from
this package (a test checks it), and it is tested over real HTTP on loopback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import ErrorCode

# The bound the serving docs promise for any error body, in characters.
MAX_ERROR_BODY_CHARS = 1000
# The message inside it, as JSON-encoded characters (non-ASCII text grows sixfold when
# escaped): room left for the error code and the braces.
MAX_MESSAGE_CHARS = 600
# The module that builds the scoring server's app; present while the server loads the model.
SERVER_APP_MODULE = "mlflow.pyfunc.scoring_server.app"
SERVER_MODULE = "mlflow.pyfunc.scoring_server"
# Where MLflow's messages start quoting the request.
QUOTE_MARKERS = ("\nInput:", "\nInput :")
PREDICT_PREFIX = "Failed to predict data '"
PREDICT_ERROR_MARK = "\nError: "

_logger = logging.getLogger(__name__)


def shorten_message(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Returns `message` without any quoted request, on one line, JSON-encoded within `limit`.

    `Failed to predict data '<input>'. Error: <why>` keeps only `<why>`; `... Input: <body>`
    loses the body; its lines are joined by one space; a longer rest is cut with `...`.
    """
    if message.startswith(PREDICT_PREFIX) and PREDICT_ERROR_MARK in message:
        message = message.split(PREDICT_ERROR_MARK, 1)[1]
    for marker in QUOTE_MARKERS:
        message = message.split(marker, 1)[0]
    text = " ".join(line.strip() for line in message.strip().splitlines() if line.strip())
    if len(json.dumps(text)) <= limit:
        return text
    # Cut to a length whose JSON encoding fits, leaving room for the ellipsis.
    cut = text[: limit - 5]
    while len(json.dumps(cut + "...")) > limit:
        cut = cut[: max(0, int(len(cut) * 0.8))]
    return cut + "..."


def short_exception(error: BaseException) -> MlflowException:
    """Returns an MlflowException with `error`'s code and shortened message, no traceback;
    BAD_REQUEST for an error that is not MLflow's."""
    if isinstance(error, MlflowException):
        # The exception keeps its code's name; a new one takes the code's number.
        code = ErrorCode.Value(error.error_code)
        return MlflowException(shorten_message(error.message), error_code=code)
    # MLflow wraps the model's own errors; any other comes from reading the request body
    # (a Parquet body that is not Parquet): the client's error.
    message = shorten_message(f"cannot read the request: {type(error).__name__}: {error}")
    return MlflowException(message, error_code=ErrorCode.Value("BAD_REQUEST"))


def bound_invocations(invocations: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps the scoring server's `invocations(data, content_type, model, schema)`.

    Errors it raises are raised again shortened (`short_exception`); an error response it
    returns (status 400 or more) gets its text cut to MAX_MESSAGE_CHARS.
    """

    def bounded(*args: Any, **kwargs: Any) -> Any:
        try:
            result = invocations(*args, **kwargs)
        except Exception as error:
            short = short_exception(error)
            _logger.info("answered an error: %s", short.message)
            raise short from None
        if getattr(result, "status", 200) >= 400 and isinstance(result.response, str):
            # MLflow's InvocationsResponse is a NamedTuple.
            return result._replace(response=shorten_message(result.response))
        return result

    bounded.bounds_errors = True  # type: ignore[attr-defined]
    return bounded


def bound_scoring_server_errors() -> bool:
    """Makes the scoring server that is loading this model answer short errors; see module doc.

    Returns whether it did: False outside the scoring server, or if MLflow's server no longer
    has the function this wraps (then a warning says so, and errors are left as MLflow makes
    them). Idempotent.
    """
    server = sys.modules.get(SERVER_MODULE)
    if SERVER_APP_MODULE not in sys.modules or server is None:
        return False
    invocations = getattr(server, "invocations", None)
    if invocations is None:
        _logger.warning("%s has no invocations(); error bodies are not shortened", SERVER_MODULE)
        return False
    if not getattr(invocations, "bounds_errors", False):
        server.invocations = bound_invocations(invocations)
    return True
