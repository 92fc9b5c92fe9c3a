"""The typed error tree: mapping from status/body/headers, redaction, retry-after parsing."""

from __future__ import annotations

import builtins
import email.utils
import json

import atoll_dialects as ad
import pytest
from atoll_dialects._error_bodies import (
    error_from_response,
    error_from_stream_error,
    parse_retry_after,
)
from atoll_wire import redact_headers, redact_text
from hypothesis import given
from hypothesis import strategies as st

OPENAI_400 = (
    b'{"error": {"message": "Unsupported value: \'messages[0].role\'", '
    b'"type": "invalid_request_error", "param": "messages[0].role", "code": "unsupported_value"}}'
)
ANTHROPIC_529 = (
    b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
    b'"request_id":"req_011CUb"}'
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ad.BadRequestError),
        (401, ad.AuthenticationError),
        (403, ad.PermissionDeniedError),
        (404, ad.NotFoundError),
        (408, ad.TimeoutError),
        (409, ad.ConflictError),
        (413, ad.BadRequestError),
        (422, ad.BadRequestError),
        (429, ad.RateLimitError),
        (500, ad.ServerError),
        (502, ad.ServerError),
        (503, ad.ServerError),
        (529, ad.OverloadedError),
        (418, ad.ClientError),
    ],
)
def test_status_picks_the_class(status: int, cls: type[ad.APIError]) -> None:
    error = error_from_response(status, {}, b"not json", provider="p", model="m")
    assert type(error) is cls
    assert error.status == status
    assert (error.provider, error.model) == ("p", "m")
    assert error.body == "not json"


def test_openai_body_fields_are_structured() -> None:
    error = error_from_response(
        400, {"X-Request-Id": "req_abc", "Authorization": "Bearer sk-secretsecret"}, OPENAI_400
    )
    assert isinstance(error, ad.BadRequestError)
    assert error.error_type == "invalid_request_error"
    assert error.code == "unsupported_value"
    assert error.message.startswith("Unsupported value")
    assert error.request_id == "req_abc"
    assert error.headers.get("authorization") == "[redacted]"
    assert error.headers["x-request-id"] == "req_abc"
    assert "req_abc" in str(error)


def test_anthropic_envelope_and_overloaded_type_on_5xx() -> None:
    error = error_from_response(503, {}, ANTHROPIC_529)
    assert isinstance(error, ad.OverloadedError)
    assert error.request_id == "req_011CUb"
    assert error.message == "Overloaded"


def test_rate_limit_carries_retry_after() -> None:
    error = error_from_response(429, {"retry-after": "7"}, b"{}")
    assert isinstance(error, ad.RateLimitError)
    assert error.retry_after == 7.0
    ms = error_from_response(429, {"retry-after-ms": "250", "retry-after": "7"}, b"{}")
    assert ms.retry_after == 0.25


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(30.0)
    assert parse_retry_after({"retry-after": "garbage"}) is None
    assert parse_retry_after({}) is None
    # Unusable values are ignored (the policy's backoff applies), never a crash in sleep().
    for unusable in ("-5", "nan", "inf", "-inf", "NaN", "1e999"):
        assert parse_retry_after({"retry-after": unusable}) is None, unusable
        assert parse_retry_after({"retry-after-ms": unusable}) is None, unusable


def test_openrouter_numeric_code_is_kept() -> None:
    body = b'{"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"x"}}}'
    error = error_from_response(429, {}, body)
    assert isinstance(error, ad.RateLimitError)
    assert error.code == 429
    assert error.error_type is None


def test_timeout_is_also_the_builtin() -> None:
    error = error_from_response(408, {}, b"")
    assert isinstance(error, builtins.TimeoutError)
    with pytest.raises(TimeoutError):
        raise error


def test_secrets_never_appear() -> None:
    body = b'{"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnop1234"}}'
    error = error_from_response(
        401, {"x-api-key": "sk-ant-abcdefghijkl", "authorization": "Bearer abc.def.ghijklmn"}, body
    )
    rendered = f"{error} {error!r} {error.body} {error.headers}"
    assert "abcdefghijklmnop1234" not in rendered
    assert "sk-ant-abcdefghijkl" not in rendered
    assert "ghijklmn" not in rendered
    assert isinstance(error, ad.AuthenticationError)


@given(st.text(max_size=5000))
def test_redact_text_is_bounded(text: str) -> None:
    assert len(redact_text(text)) <= 2001


def test_redact_headers_masks_credentials_in_any_case() -> None:
    clean = redact_headers({"X-Api-Key": "k", "Cookie": "c", "Content-Type": "json"})
    assert clean == {"X-Api-Key": "[redacted]", "Cookie": "[redacted]", "Content-Type": "json"}


def test_api_error_headers_mask_a_secret_by_its_look_whatever_the_name() -> None:
    error = error_from_response(
        500,
        {"X-Echo-Auth": "Bearer sk-abcdefghijklmnop1234", "X-Trace": "sk-proj-abcdefgh12345678"},
        b"{}",
    )
    assert "sk-" not in repr(error.headers)
    assert error.headers["x-echo-auth"] == "[redacted]"
    assert error.headers["x-trace"] == "[redacted]"


def test_stream_error_maps_by_status_or_interrupts() -> None:
    bad = error_from_stream_error(
        error_type="invalid_request_error", message="bad", status=400, code="tool_use_failed"
    )
    assert isinstance(bad, ad.BadRequestError)
    overloaded = error_from_stream_error(
        error_type="overloaded_error", message="Overloaded", status=None, code=None
    )
    assert isinstance(overloaded, ad.OverloadedError)
    unknown = error_from_stream_error(error_type="", message="boom", status=None, code=None)
    assert isinstance(unknown, ad.StreamInterrupted)


def test_missing_key_names_the_variable() -> None:
    error = ad.MissingAPIKeyError("openai", "OPENAI_API_KEY")
    assert "OPENAI_API_KEY" in str(error)
    assert error.env_var == "OPENAI_API_KEY"


def test_capability_error_is_a_value_error() -> None:
    error = ad.CapabilityError("vision", "no images", provider="groq", model="llama")
    assert isinstance(error, ValueError)
    assert isinstance(error, ad.UnsupportedRequestError)
    assert error.capability == "vision"
    assert "groq" in str(error)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["error", "type", "message", "code", "request_id"]), inner, max_size=4
        )
    ),
    max_leaves=10,
)


@given(status=st.integers(min_value=400, max_value=599), body=JSONISH)
def test_any_error_body_shape_maps_without_raising(status: int, body: object) -> None:
    error = error_from_response(status, {"retry-after": "x"}, json.dumps(body).encode())
    assert isinstance(error, ad.APIError)
    assert error.status == status
    assert error.retry_after is None
    assert isinstance(error.message, str) and error.message


@given(body=st.binary(max_size=300))
def test_any_bytes_map_without_raising(body: bytes) -> None:
    error = error_from_response(502, {}, body)
    assert isinstance(error, ad.ServerError)
