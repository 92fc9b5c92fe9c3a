"""HTTP/2 over TLS (opt-in, needs h2): negotiated by ALPN and multiplexed.

The peer is the h2 server the atoll_curl tests wrote (tests/curl/_h2server.py). Closing a stream
early is not tested here on purpose: httpcore forgets such a stream without resetting it, and
the data the server keeps sending exhausts the connection's flow-control window (measured: one
abandoned endless stream took the whole 16 MiB window; the next request on the connection then
failed). That is why ``http2`` is opt-in.
"""

from __future__ import annotations

import importlib.util
import ssl
from collections.abc import Iterator

import anyio
import pytest
from atoll_httpx import HttpxTransport, SyncHttpxTransport
from atoll_wire import HttpRequest

from tests.transports.conftest import TLSMaterial

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(importlib.util.find_spec("h2") is None, reason="h2 is not installed"),
]

BACKENDS = ["httpx", "httpx2"]


@pytest.fixture
def h2_server(tls: TLSMaterial) -> Iterator[object]:
    from tests.curl._h2server import H2Server

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.ca.issue_cert("127.0.0.1").configure_cert(context)
    with H2Server(context) as server:
        yield server


def make(backend: str, tls: TLSMaterial) -> HttpxTransport:
    chosen = "httpx2" if backend == "httpx2" else "httpx"
    return HttpxTransport(backend=chosen, ca_bundle=tls.ca_file, trust_env=False, http2=True)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_requests_are_multiplexed(backend: str, h2_server: object, tls: TLSMaterial) -> None:
    from tests.curl._h2server import H2Server

    assert isinstance(h2_server, H2Server)
    streams: set[str] = set()
    async with make(backend, tls) as transport:
        assert transport.http2 is True

        async def one(index: int) -> None:
            body = b"n%d" % index
            response = await transport.send(HttpRequest("POST", h2_server.url("/echo"), body=body))
            assert await response.aread() == body
            streams.add(response.headers["x-stream-id"])

        async with anyio.create_task_group() as group:
            for index in range(30):
                group.start_soon(one, index)
    assert h2_server.count("accepted") == 1
    assert len(streams) == 30


def test_sync_http2(h2_server: object, tls: TLSMaterial) -> None:
    from tests.curl._h2server import H2Server

    assert isinstance(h2_server, H2Server)
    with SyncHttpxTransport(ca_bundle=tls.ca_file, trust_env=False, http2=True) as transport:
        for index in range(3):
            request = HttpRequest("POST", h2_server.url("/echo"), body=b"s%d" % index)
            assert transport.send(request).read() == b"s%d" % index
    assert h2_server.count("accepted") == 1
