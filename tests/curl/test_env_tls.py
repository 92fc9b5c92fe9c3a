"""Proxies from the environment, TLS verification with a local CA, HTTP/2 negotiation."""

from __future__ import annotations

import pycurl
import pytest
from atoll_curl import CurlTransport, SyncCurlTransport
from atoll_wire import ConnectError, HttpRequest

from tests.curl._server import Server
from tests.curl.conftest import TEST_TIMEOUT, TLS

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
NO_PROXY_VARS = ("no_proxy", "NO_PROXY")
TARGET = "http://127.0.0.1:9/models"  # nothing listens there: only a proxy can answer


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*PROXY_VARS, *NO_PROXY_VARS, "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("variable", ["http_proxy", "HTTP_PROXY", "ALL_PROXY"])
def test_proxy_from_the_environment(
    server: Server, clean_env: pytest.MonkeyPatch, variable: str
) -> None:
    clean_env.setenv(variable, server.url(""))
    with SyncCurlTransport(timeout=TEST_TIMEOUT) as t:
        response = t.send(HttpRequest("GET", TARGET))
        assert response.read() == b"via proxy"
    assert response.headers["x-proxied"] == TARGET


@pytest.mark.anyio
async def test_async_proxy_from_the_environment(
    server: Server, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("http_proxy", server.url(""))
    async with CurlTransport(timeout=TEST_TIMEOUT) as t:
        response = await t.send(HttpRequest("GET", TARGET))
        assert await response.aread() == b"via proxy"


def test_no_proxy_and_trust_env_false_go_direct(
    server: Server, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("http_proxy", "http://127.0.0.1:9")  # would fail if used
    with SyncCurlTransport(timeout=TEST_TIMEOUT, trust_env=False) as t:
        assert t.send(HttpRequest("GET", server.url("/echo"))).read() == b""
    clean_env.setenv("no_proxy", "127.0.0.1")
    with SyncCurlTransport(timeout=TEST_TIMEOUT) as t:
        assert t.send(HttpRequest("GET", server.url("/echo"))).read() == b""


def test_explicit_proxy_wins(server: Server, clean_env: pytest.MonkeyPatch) -> None:
    with SyncCurlTransport(timeout=TEST_TIMEOUT, trust_env=False, proxy=server.url("")) as t:
        assert t.send(HttpRequest("GET", TARGET)).read() == b"via proxy"


def test_tls_is_verified_by_default(tls_server: Server, clean_env: pytest.MonkeyPatch) -> None:
    with SyncCurlTransport(timeout=TEST_TIMEOUT) as t:
        with pytest.raises(ConnectError) as caught:
            t.send(HttpRequest("GET", tls_server.url("/echo")))
    assert isinstance(caught.value.__cause__, pycurl.error)
    assert caught.value.__cause__.args[0] == pycurl.E_PEER_FAILED_VERIFICATION


@pytest.mark.anyio
async def test_tls_with_a_ca_bundle(tls_server: Server, tls: TLS) -> None:
    async with CurlTransport(timeout=TEST_TIMEOUT, ca_bundle=tls.ca_file, trust_env=False) as t:
        for _ in range(3):
            response = await t.send(HttpRequest("POST", tls_server.url("/echo"), body=b"secure"))
            assert await response.aread() == b"secure"
    assert tls_server.accepted == 1  # the TLS connection was reused


def test_tls_ca_from_ssl_cert_file(
    tls_server: Server, tls: TLS, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("SSL_CERT_FILE", str(tls.ca_file))
    with SyncCurlTransport(timeout=TEST_TIMEOUT) as t:
        assert t.send(HttpRequest("GET", tls_server.url("/echo"))).read() == b""


def test_verify_false_accepts_an_unknown_ca(tls_server: Server) -> None:
    with SyncCurlTransport(timeout=TEST_TIMEOUT, verify=False, trust_env=False) as t:
        assert t.send(HttpRequest("GET", tls_server.url("/echo"))).status == 200


def test_http2_offered_falls_back_to_http1_on_a_tls_http1_server(
    tls_server: Server, tls: TLS
) -> None:
    with SyncCurlTransport(
        timeout=TEST_TIMEOUT, ca_bundle=tls.ca_file, trust_env=False, http2=True
    ) as t:
        assert t.send(HttpRequest("GET", tls_server.url("/echo"))).status == 200
