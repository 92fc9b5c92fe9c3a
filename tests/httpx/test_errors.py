"""The error table: every httpx and httpx2 exception lands on the right atoll_wire class."""

from __future__ import annotations

import asyncio
import importlib
import ssl

import pytest
from atoll_httpx._backend import BackendName, load_backend
from atoll_httpx._errors import translate
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

EXPECTED: list[tuple[str, type[TransportError]]] = [
    ("ConnectTimeout", ConnectTimeout),
    ("ReadTimeout", ReadTimeout),
    ("WriteTimeout", WriteTimeout),
    ("PoolTimeout", PoolTimeout),
    ("ConnectError", ConnectError),
    ("ProxyError", ConnectError),
    ("RemoteProtocolError", RemoteProtocolError),
    ("ReadError", RemoteProtocolError),
    ("WriteError", RemoteProtocolError),
    ("DecodingError", RemoteProtocolError),
    ("CloseError", TransportError),
    ("LocalProtocolError", TransportError),
    ("UnsupportedProtocol", TransportError),
    ("InvalidURL", TransportError),
    ("TooManyRedirects", TransportError),
]

REQUEST = HttpRequest("POST", "https://api.example.test/v1/chat?key=sk-in-url")
BACKENDS: list[BackendName] = ["httpx", "httpx2"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("native_name", "ours"), EXPECTED)
def test_each_native_error_maps_to_one_of_ours(
    backend: BackendName, native_name: str, ours: type[TransportError]
) -> None:
    errors = load_backend(backend).errors
    native_class = getattr(importlib.import_module(backend), native_name)
    native = native_class("boom")
    assert isinstance(native, errors.native), "the transport must catch it"
    mapped = translate(native, REQUEST, errors)
    assert type(mapped) is ours
    assert mapped.method == "POST"
    assert mapped.message.endswith(": boom")
    assert "sk-in-url" not in str(mapped)


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_message_takes_the_reason_from_the_cause(backend: BackendName) -> None:
    errors = load_backend(backend).errors
    native = importlib.import_module(backend).ConnectError("")
    native.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    mapped = translate(native, REQUEST, errors)
    assert isinstance(mapped, ConnectError)
    assert "certificate verify failed" in mapped.message


def test_url_quoted_in_a_native_message_is_cut_out() -> None:
    errors = load_backend("httpx").errors
    native = importlib.import_module("httpx").UnsupportedProtocol(f"cannot fetch {REQUEST.url}")
    mapped = translate(native, REQUEST, errors)
    assert "sk-in-url" not in mapped.message
    assert mapped.message == "unsupported URL scheme: cannot fetch <url>"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("native_name", "ours", "said"),
    [
        ("ConnectTimeout", ConnectTimeout, "timed out connecting after 5 s"),
        ("ReadTimeout", ReadTimeout, "no bytes from the server for 0.3 s"),
        ("WriteTimeout", WriteTimeout, "no progress sending the request body for 7 s"),
        (
            "PoolTimeout",
            PoolTimeout,
            "timed out after 2 s waiting for a free connection in the pool",
        ),
    ],
)
def test_timeouts_name_their_limit_not_the_event_loops_cancellation(
    backend: BackendName, native_name: str, ours: type[TransportError], said: str
) -> None:
    # What httpcore raises under anyio: an empty timeout whose context is the loop's cancel.
    errors = load_backend(backend).errors
    native = getattr(importlib.import_module(backend), native_name)("")
    timeout_error = TimeoutError()
    timeout_error.__context__ = asyncio.CancelledError("Cancelled via cancel scope 7f55a1b2c3d4")
    native.__context__ = timeout_error
    timeouts = {"connect": 5.0, "read": 0.3, "write": 7.0, "pool": 2.0}
    mapped = translate(native, REQUEST, errors, timeouts)
    assert type(mapped) is ours
    assert mapped.message == said
    assert "cancel" not in str(mapped).lower()
