"""The SDK transport's error table: every SDK and HTTP-library failure, on atoll_wire's tree."""

from __future__ import annotations

import asyncio
import ssl

import httpx2
import openai
import pytest
from atoll_openai_sdk._errors import is_native, translate
from atoll_wire import (
    ConnectError,
    ConnectTimeout,
    HttpRequest,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    WriteTimeout,
)

REQUEST = HttpRequest("POST", "https://api.example.test/v1/chat?key=sk-in-url")
NATIVE_REQUEST = httpx2.Request("POST", "https://api.example.test/v1/chat")

# What the HTTP library raises, bare while a body streams or wrapped by the SDK while sending.
LIBRARY: list[tuple[type[Exception], type[TransportError]]] = [
    (httpx2.ConnectTimeout, ConnectTimeout),
    (httpx2.ReadTimeout, ReadTimeout),
    (httpx2.WriteTimeout, WriteTimeout),
    (httpx2.PoolTimeout, PoolTimeout),
    (httpx2.ConnectError, ConnectError),
    (httpx2.ProxyError, ConnectError),
    (httpx2.RemoteProtocolError, RemoteProtocolError),
    (httpx2.ReadError, RemoteProtocolError),
    (httpx2.WriteError, RemoteProtocolError),
    (httpx2.DecodingError, RemoteProtocolError),
    (httpx2.CloseError, TransportError),
    (httpx2.LocalProtocolError, TransportError),
    (httpx2.UnsupportedProtocol, TransportError),
    (httpx2.InvalidURL, TransportError),
]


@pytest.mark.parametrize(("native_class", "ours"), LIBRARY, ids=lambda c: c.__name__)
def test_the_http_librarys_errors(
    native_class: type[Exception], ours: type[TransportError]
) -> None:
    native = native_class("boom")
    assert is_native(native)
    mapped = translate(native, REQUEST)
    assert type(mapped) is ours
    assert mapped.method == "POST"
    assert mapped.message.endswith(": boom")
    assert "sk-in-url" not in str(mapped)


@pytest.mark.parametrize(("native_class", "ours"), LIBRARY, ids=lambda c: c.__name__)
def test_the_same_errors_wrapped_by_the_sdk(
    native_class: type[Exception], ours: type[TransportError]
) -> None:
    native = native_class("boom")
    wrapper_class = (
        openai.APITimeoutError
        if isinstance(native, httpx2.TimeoutException)
        else openai.APIConnectionError
    )
    try:
        try:
            raise native
        except Exception as exc:
            if wrapper_class is openai.APITimeoutError:
                raise openai.APITimeoutError(request=NATIVE_REQUEST) from exc
            raise openai.APIConnectionError(request=NATIVE_REQUEST) from exc
    except openai.APIConnectionError as wrapped:
        mapped = translate(wrapped, REQUEST)
    assert type(mapped) is ours
    assert "boom" in mapped.message


def test_a_tls_failure_wrapped_by_the_sdk_is_a_connect_error() -> None:
    wrapped = openai.APIConnectionError(request=NATIVE_REQUEST)
    wrapped.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    mapped = translate(wrapped, REQUEST)
    assert type(mapped) is ConnectError
    assert "certificate verify failed" in mapped.message


def test_a_timeout_names_its_limit_not_the_loops_cancellation() -> None:
    native = httpx2.ReadTimeout("")
    timeout_error = TimeoutError()
    timeout_error.__context__ = asyncio.CancelledError("Cancelled via cancel scope 7f55a1b2c3d4")
    native.__context__ = timeout_error
    wrapped = openai.APITimeoutError(request=NATIVE_REQUEST)
    wrapped.__cause__ = native
    mapped = translate(wrapped, REQUEST, {"connect": 5, "read": 0.3, "write": 5, "pool": 5})
    assert type(mapped) is ReadTimeout
    assert mapped.message == "no bytes from the server for 0.3 s"


def test_other_sdk_failures_are_plain_transport_errors() -> None:
    failure = openai.OpenAIError("the Azure AD token provider failed")
    assert is_native(failure)
    mapped = translate(failure, REQUEST)
    assert type(mapped) is TransportError
    assert "token provider failed" in mapped.message


def test_foreign_exceptions_are_not_translated() -> None:
    assert not is_native(ValueError("a bug of ours"))
    assert not is_native(RuntimeError("Event loop is closed"))
