"""Constructor and per-request options: validated up front, with messages naming the option."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import ssl
from pathlib import Path

import atoll_httpx._config
import pytest
from atoll_httpx import HttpxTransport, SyncHttpxTransport
from atoll_httpx._config import PoolOptions
from atoll_wire import HttpRequest, ReadTimeout, Timeout

from tests.transports._peer import PlainServer
from tests.transports.conftest import TLSMaterial

pytestmark = pytest.mark.anyio

H2_INSTALLED = importlib.util.find_spec("h2") is not None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_connections": 0}, "max_connections must be a positive int"),
        ({"max_connections": 2, "max_keepalive_connections": 3}, "max_keepalive_connections"),
        ({"keepalive_expiry": -1.0}, "keepalive_expiry"),
        ({"max_body_bytes": 0}, "max_body_bytes must be a positive int"),
        ({"timeout": -1.0}, "timeout must be a positive number"),
        ({"ca_bundle": "/nonexistent/ca.pem"}, "neither a file nor a directory"),
        ({"ca_bundle": __file__, "verify": False}, "ca_bundle cannot be combined"),
    ],
)
def test_bad_options_are_named(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HttpxTransport(**options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        SyncHttpxTransport(**options)  # type: ignore[arg-type]


def test_http2_is_opt_in() -> None:
    assert HttpxTransport().http2 is False
    assert SyncHttpxTransport().http2 is False
    if H2_INSTALLED:
        assert HttpxTransport(http2=True).http2 is True


def test_http2_without_h2_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atoll_httpx._config, "http2_available", lambda: False)
    with pytest.raises(ImportError, match=r"httpx\[http2\]"):
        HttpxTransport(http2=True)


def test_ssl_context_and_ca_directory_are_accepted(tmp_path: Path) -> None:
    context = ssl.create_default_context()
    SyncHttpxTransport(verify=context).close()
    SyncHttpxTransport(ca_bundle=tmp_path).close()


async def test_bad_body_limit_extension_is_named() -> None:
    with PlainServer() as server:
        async with HttpxTransport() as transport:
            request = HttpRequest(
                "GET", server.url("/status/200"), extensions={"max_body_bytes": "lots"}
            )
            with pytest.raises(ValueError, match=r"extensions\['max_body_bytes'\]"):
                await transport.send(request)
        # Nothing was sent.
        assert server.requests == []


async def test_transport_without_timeouts_waits() -> None:
    with PlainServer() as server:
        async with HttpxTransport(timeout=None) as transport:
            request = HttpRequest("GET", server.url("/sleep-headers?seconds=0.4"))
            response = await transport.send(request)
            assert await response.aread() == b"slept"
        # Per-request phases fill in over a transport with no limits at all.
        async with HttpxTransport(timeout=None) as transport:
            slow = HttpRequest(
                "GET", server.url("/sleep-headers?seconds=3"), timeout=Timeout(read=0.2)
            )
            with pytest.raises(ReadTimeout, match=r"no bytes from the server for 0\.2 s"):
                await transport.send(slow)


@pytest.mark.parametrize("transport_class", [HttpxTransport, SyncHttpxTransport])
def test_constructor_defaults_match_the_option_record(transport_class: type) -> None:
    # `client=` refuses any connection option that differs from its default, so the record of
    # defaults and the constructors' signatures must agree.
    parameters = inspect.signature(transport_class).parameters
    for field in dataclasses.fields(PoolOptions):
        assert parameters[field.name].default == field.default, field.name


async def test_explicit_proxy(refused_url: str) -> None:
    # The environment is ignored (trust_env=False), the explicit proxy is used.
    with PlainServer() as proxy:
        async with HttpxTransport(proxy=proxy.base_url, trust_env=False) as transport:
            response = await transport.send(HttpRequest("GET", refused_url + "echo"))
            assert await response.aread() == b""
        assert proxy.requests[-1].target == refused_url + "echo"


async def test_ssl_context_is_used_as_is(tls: TLSMaterial, tls_server: PlainServer) -> None:
    context = ssl.create_default_context(cafile=str(tls.ca_file))
    async with HttpxTransport(verify=context) as transport:
        response = await transport.send(HttpRequest("GET", tls_server.url("/status/200")))
        assert await response.aread() == b"status 200"
