"""Conformance: TLS verification against a throwaway CA, and proxies from the environment."""

from __future__ import annotations

import pytest
from atoll_wire import ConnectError, HttpRequest

from tests.transports._peer import PlainServer
from tests.transports.conftest import Options, TLSMaterial, TransportKind

pytestmark = pytest.mark.anyio


async def test_tls_is_verified_by_default(kind: TransportKind, tls_server: PlainServer) -> None:
    # The server's certificate comes from a CA nobody trusts: the handshake must fail.
    async with kind.make_async(Options()) as transport:
        with pytest.raises(ConnectError) as caught:
            await transport.send(HttpRequest("GET", tls_server.url("/status/200")))
    assert caught.value.__cause__ is not None
    assert "certificate" in str(caught.value).lower()


async def test_tls_with_a_custom_ca_bundle(
    kind: TransportKind, tls_server: PlainServer, tls: TLSMaterial
) -> None:
    async with kind.make_async(Options(ca_bundle=str(tls.ca_file))) as transport:
        for _ in range(3):
            response = await transport.send(
                HttpRequest("POST", tls_server.url("/echo"), body=b"over tls")
            )
            assert response.status == 200
            assert await response.aread() == b"over tls"
    assert tls_server.accepted == 1  # TLS connections are pooled too


async def test_tls_verification_can_be_turned_off(
    kind: TransportKind, tls_server: PlainServer
) -> None:
    async with kind.make_async(Options(verify=False)) as transport:
        response = await transport.send(HttpRequest("GET", tls_server.url("/status/200")))
        assert await response.aread() == b"status 200"


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch, server: PlainServer) -> PlainServer:
    """Point the proxy variables (both spellings: libcurl reads only lowercase) at ``server``."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, server.base_url)
    return server


async def test_proxy_from_the_environment(
    kind: TransportKind, proxy_env: PlainServer, refused_url: str
) -> None:
    # Nothing listens at refused_url; only a proxy can answer, and the plain server plays it.
    target = refused_url + "echo"
    async with kind.make_async(Options(trust_env=True)) as transport:
        response = await transport.send(HttpRequest("POST", target, body=b"via proxy"))
        assert await response.aread() == b"via proxy"
    # A proxy is asked for the absolute URL.
    assert response.headers["x-target"] == target
    assert proxy_env.requests[-1].target == target


async def test_environment_is_ignored_without_trust_env(
    kind: TransportKind, proxy_env: PlainServer, refused_url: str
) -> None:
    async with kind.make_async(Options(trust_env=False)) as transport:
        with pytest.raises(ConnectError):
            await transport.send(HttpRequest("GET", refused_url + "echo"))
    assert proxy_env.requests == []


async def test_no_proxy_from_the_environment(
    kind: TransportKind, monkeypatch: pytest.MonkeyPatch, server: PlainServer, refused_url: str
) -> None:
    # The proxy is dead; NO_PROXY sends 127.0.0.1 around it, straight to the server.
    for name in ("ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, refused_url.rstrip("/"))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "localhost,127.0.0.1")
    async with kind.make_async(Options(trust_env=True)) as transport:
        response = await transport.send(HttpRequest("POST", server.url("/echo"), body=b"direct"))
        assert await response.aread() == b"direct"
    assert server.requests[-1].target == "/echo"  # origin form: no proxy in between


@pytest.mark.parametrize("spelling", ["HTTPS_PROXY", "https_proxy"])
async def test_https_through_a_proxy_tunnel_from_the_environment(
    kind: TransportKind,
    monkeypatch: pytest.MonkeyPatch,
    server: PlainServer,
    tls_server: PlainServer,
    tls: TLSMaterial,
    spelling: str,
) -> None:
    # The plain server is the proxy: it gets a CONNECT and tunnels TLS, verified end to end.
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(spelling, server.base_url)
    target = tls_server.url("/echo")
    async with kind.make_async(Options(trust_env=True, ca_bundle=str(tls.ca_file))) as transport:
        response = await transport.send(HttpRequest("POST", target, body=b"tunnelled"))
        assert await response.aread() == b"tunnelled"
    assert [(r.method, r.target) for r in server.requests] == [
        ("CONNECT", f"127.0.0.1:{tls_server.port}")
    ]
    assert tls_server.requests[-1].target == "/echo"


def test_sync_proxy_from_the_environment(
    kind: TransportKind, proxy_env: PlainServer, refused_url: str
) -> None:
    target = refused_url + "echo"
    with kind.make_sync(Options(trust_env=True)) as transport:
        response = transport.send(HttpRequest("POST", target, body=b"via proxy"))
        assert response.read() == b"via proxy"
    assert proxy_env.requests[-1].target == target
