"""The error table: every httpx and httpx2 exception lands on the right atoll_wire class."""

from __future__ import annotations

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
