"""HTTP/2 over TLS: negotiated by ALPN, multiplexed, stream-level cancel and backpressure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing

import anyio
import pytest
from atoll_curl import CurlTransport, SyncCurlTransport
from atoll_curl._config import http2_supported
from atoll_wire import HttpRequest

from tests.curl._h2server import H2Server
from tests.curl._server import PATTERN
from tests.curl.conftest import TEST_TIMEOUT, TLS, body_of

pytestmark = pytest.mark.skipif(not http2_supported(), reason="libcurl without HTTP/2")


@pytest.fixture
def h2_server(tls: TLS) -> Iterator[H2Server]:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert_file)
    with H2Server(context) as srv:
        yield srv


def transport(tls: TLS, **options: object) -> CurlTransport:
    return CurlTransport(
        timeout=TEST_TIMEOUT,
        trust_env=False,
        ca_bundle=tls.ca_file,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.anyio
async def test_concurrent_requests_share_one_connection(h2_server: H2Server, tls: TLS) -> None:
    streams: set[str] = set()
    async with transport(tls) as t:

        async def one(i: int) -> None:
            request = HttpRequest("POST", h2_server.url("/echo"), body=b"n%d" % i)
            response = await t.send(request)
            assert await response.aread() == b"n%d" % i
            streams.add(response.headers["x-stream-id"])

        async with anyio.create_task_group() as tg:
            for i in range(30):
                tg.start_soon(one, i)
    assert h2_server.count("accepted") == 1  # multiplexed on one TLS connection
    assert len(streams) == 30


@pytest.mark.anyio
async def test_closing_a_stream_resets_it_and_keeps_the_connection(
    h2_server: H2Server, tls: TLS
) -> None:
    async with transport(tls) as t:
        for _ in range(3):
            async with await t.send(HttpRequest("GET", h2_server.url("/infinite"))) as response:
                async with aclosing(body_of(response)) as body:
                    async for _ in body:
                        break
        response = await t.send(HttpRequest("POST", h2_server.url("/echo"), body=b"after"))
        assert await response.aread() == b"after"
        with anyio.fail_after(5):
            while h2_server.count("resets") < 3:  # noqa: ASYNC110 - the server is another thread
                await anyio.sleep(0.01)
    assert h2_server.count("accepted") == 1


@pytest.mark.anyio
async def test_a_paused_stream_stops_the_server_by_flow_control(
    h2_server: H2Server, tls: TLS
) -> None:
    async with transport(tls, buffer_bytes=64 * 1024) as t:
        slow = await t.send(HttpRequest("GET", h2_server.url("/infinite")))
        slow_body = body_of(slow)
        got = bytearray(await slow_body.__anext__())
        fast = await t.send(HttpRequest("POST", h2_server.url("/echo"), body=b"x" * 10_000))
        for _ in range(20):  # other traffic drives the connection meanwhile
            response = await t.send(HttpRequest("POST", h2_server.url("/echo"), body=b"y"))
            await response.aread()
        assert await fast.aread() == b"x" * 10_000
        await anyio.sleep(0.3)
        plateau = h2_server.count("pushed")
        for _ in range(20):
            response = await t.send(HttpRequest("POST", h2_server.url("/echo"), body=b"z"))
            await response.aread()
        await anyio.sleep(0.3)
        # The paused stream's window is not reopened: the server cannot push more. (libcurl
        # itself holds what arrived before its stream window closed, a few MB at most.)
        assert h2_server.count("pushed") == plateau
        assert plateau < 64 * 1024 * 1024
        async with aclosing(slow_body):
            async for chunk in slow_body:
                got += chunk
                if len(got) > plateau + 1024 * 1024:
                    break
        expected = PATTERN * (len(got) // len(PATTERN) + 1)
        assert got == expected[: len(got)]  # nothing lost or repeated across pause and resume
        await slow.aclose()


def test_sync_over_http2(h2_server: H2Server, tls: TLS) -> None:
    with SyncCurlTransport(timeout=TEST_TIMEOUT, trust_env=False, ca_bundle=tls.ca_file) as t:
        for i in range(5):
            with t.send(HttpRequest("POST", h2_server.url("/echo"), body=b"%d" % i)) as r:
                assert r.read() == b"%d" % i
    assert h2_server.count("accepted") == 1
