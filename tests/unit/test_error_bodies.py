"""The short error bodies of the scoring server (the wrapper, without a server)."""

import json

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import BAD_REQUEST
from mlflow.pyfunc.scoring_server import InvocationsResponse

from rnn_tracking.serving import error_bodies


def test_a_quoted_request_is_cut_from_the_message():
    message = (
        "Ensure that input is a valid JSON formatted string. Error: 'x'\nInput: \n" + "y" * 10**6
    )
    assert error_bodies.shorten_message(message) == (
        "Ensure that input is a valid JSON formatted string. Error: 'x'"
    )
    predicted = "Failed to predict data '" + "z" * 10**6 + "'. \nError: review 0: got ''"
    assert error_bodies.shorten_message(predicted) == "review 0: got ''"


@pytest.mark.parametrize("character", ["a", "é", "\x00", '"'])
def test_any_long_message_fits_the_bound_once_encoded(character):
    short = error_bodies.shorten_message("why: " + character * 100_000)
    assert short.startswith("why: ") and short.endswith("...")
    assert len(json.dumps(short)) <= error_bodies.MAX_MESSAGE_CHARS


def test_raised_errors_come_back_short_without_their_traceback():
    def invocations(data, content_type, model, schema):
        raise MlflowException(
            "Failed to parse input as a Pandas DataFrame. Error: '" + "q" * 50_000 + "'",
            error_code=BAD_REQUEST,
            stack_trace="Traceback (most recent call last):\n  File ...",
        )

    with pytest.raises(MlflowException) as raised:
        error_bodies.bound_invocations(invocations)(b"", "text/csv", None, None)
    body = raised.value.serialize_as_json()
    assert len(body) < error_bodies.MAX_ERROR_BODY_CHARS
    assert "Traceback" not in body and "stack_trace" not in body
    assert json.loads(body)["error_code"] == "BAD_REQUEST"
    assert raised.value.get_http_status_code() == 400


def test_error_responses_are_cut_and_answers_pass_unchanged():
    def invocations(data, content_type, model, schema):
        status = 415 if content_type == "bad" else 200
        return InvocationsResponse(response="w" * 50_000, status=status, mimetype="text/plain")

    bounded = error_bodies.bound_invocations(invocations)
    assert len(bounded(b"", "bad", None, None).response) <= error_bodies.MAX_MESSAGE_CHARS
    assert len(bounded(b"", "application/json", None, None).response) == 50_000


def test_nothing_is_wrapped_outside_the_scoring_server():
    assert error_bodies.bound_scoring_server_errors() is False


def test_an_error_reading_the_body_is_the_clients_error():
    def invocations(data, content_type, model, schema):
        raise OSError("not a Parquet file " + "p" * 50_000)

    with pytest.raises(MlflowException) as raised:
        error_bodies.bound_invocations(invocations)(b"", "application/x-parquet", None, None)
    assert raised.value.get_http_status_code() == 400
    assert raised.value.message.startswith("cannot read the request: OSError: not a Parquet")
    assert len(raised.value.serialize_as_json()) < error_bodies.MAX_ERROR_BODY_CHARS
