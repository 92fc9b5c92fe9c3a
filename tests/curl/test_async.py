"""CurlTransport on asyncio and trio: the exchange, headers, reuse, timeouts, limits, closing."""

from __future__ import annotations

from contextlib import aclosing

import anyio
import pycurl
import pytest
from atoll_curl import CurlTransport
from atoll_wire import (
    ConnectError,
    HttpRequest,
    PoolTimeout,
    ReadTimeout,
    ResponseTooLarge,
    Timeout,
    TransportError,
    WriteTimeout,
)

from tests.curl._server import GZIP_TEXT, PATTERN, Server
from tests.curl.conftest import TEST_TIMEOUT, body_of

pytestmark = pytest.mark.anyio


def transport(**options: object) -> CurlTransport:
    options.setdefault("timeout", TEST_TIMEOUT)
    options.setdefault("trust_env", False)
    return CurlTransport(**options)  # type: ignore[arg-type]


async def test_post_round_trip_sends_exact_headers_and_body(server: Server) -> None:
    async with transport() as t:
        request = HttpRequest("POST", server.url("/echo"), {"X-Custom": "v", "X-Empty": ""}, b"hi")
        async with await t.send(request) as response:
            body = await response.aread()
    assert (response.status, body) == (200, b"hi")
    assert response.headers["x-method"] == "POST"
    assert response.headers["x-seen-x-custom"] == "v"
    assert response.headers["x-seen-x-empty"] == ""
    # No libcurl-invented form content type, no Expect: 100-continue, our user agent.
    assert "x-seen-content-type" not in response.headers
    assert "x-seen-expect" not in response.headers
    assert response.headers["x-seen-user-agent"].startswith("atoll-curl/")
    assert response.elapsed > 0


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "HEAD"])
async def test_methods_reach_the_server_unchanged(server: Server, method: str) -> None:
    body = b"" if method in ("GET", "HEAD", "DELETE") else b"payload"
    async with transport() as t:
        response = await t.send(HttpRequest(method, server.url("/echo"), body=body))
        data = await response.aread()
    assert response.headers["x-method"] == method
    assert data == (b"" if method == "HEAD" else body)


async def test_interim_responses_are_skipped(server: Server) -> None:
    async with transport() as t:
        response = await t.send(HttpRequest("GET", server.url("/continue")))
        assert await response.aread() == b"created"
    assert response.status == 201
    assert response.headers["x-final"] == "yes"
    assert "link" not in response.headers


async def test_folded_and_repeated_headers(server: Server) -> None:
    async with transport() as t:
        response = await t.send(HttpRequest("GET", server.url("/folded")))
        await response.aread()
    assert response.headers["x-fold"] == "first second"
    assert response.headers["x-rep"] == "1, 2"


async def test_connections_are_reused_and_easy_handles_pooled(server: Server) -> None:
    async with transport() as t:
        for _ in range(20):
            response = await t.send(HttpRequest("GET", server.url("/echo")))
            await response.aread()
        idle = len(t._reactor._idle)  # pyright: ignore[reportPrivateUsage]
    assert server.accepted == 1
    assert idle == 1  # one handle served all twenty requests


async def test_headers_return_before_the_body_arrives(server: Server) -> None:
    async with transport() as t:
        async with await t.send(HttpRequest("GET", server.url("/chunks?n=3"))) as response:
            body = response.aiter_bytes()
            first = await body.__anext__()  # chunk 1 waits behind the gate
            server.open_gate()
            rest = [chunk async for chunk in body]
    assert first == b"A"
    assert b"".join(rest) == b"BC"


async def test_read_timeout_on_a_silent_server(server: Server) -> None:
    async with transport() as t:
        request = HttpRequest(
            "GET", server.url("/sleep-headers?seconds=5"), timeout=Timeout(read=0.2)
        )
        with anyio.fail_after(3):
            with pytest.raises(ReadTimeout):
                await t.send(request)


async def test_write_timeout_when_the_server_never_reads(server: Server) -> None:
    body = b"x" * (64 * 1024 * 1024)  # far more than the socket buffers hold
    async with transport() as t:
        request = HttpRequest(
            "POST", server.url("/stall-request"), body=body, timeout=Timeout(write=0.3)
        )
        with anyio.fail_after(5):
            with pytest.raises(WriteTimeout):
                await t.send(request)


async def test_body_limit_from_the_running_count(server: Server) -> None:
    async with transport(max_body_bytes=100_000) as t:
        response = await t.send(HttpRequest("GET", server.url("/infinite")))
        with pytest.raises(ResponseTooLarge) as caught:
            await response.aread()
    assert caught.value.limit == 100_000
    assert caught.value.size > 100_000
    assert isinstance(caught.value.__cause__, pycurl.error)


async def test_body_limit_per_request_extension(server: Server) -> None:
    async with transport(max_body_bytes=None) as t:
        request = HttpRequest(
            "POST", server.url("/echo"), body=b"x" * 5000, extensions={"max_body_bytes": 4000}
        )
        with pytest.raises(ResponseTooLarge) as caught:
            response = await t.send(request)
            await response.aread()
    assert caught.value.size >= 5000  # the declared Content-Length is refused up front


async def test_connection_refused_maps_to_connect_error() -> None:
    with anyio.fail_after(5):
        async with transport() as t:
            with pytest.raises(ConnectError) as caught:
                await t.send(HttpRequest("GET", "http://127.0.0.1:9/"))
    assert isinstance(caught.value.__cause__, pycurl.error)
    assert caught.value.__cause__.args[0] == pycurl.E_COULDNT_CONNECT


async def test_pool_timeout_when_every_slot_is_held(server: Server) -> None:
    async with transport(max_connections=1) as t:
        held = await t.send(HttpRequest("GET", server.url("/infinite")))
        request = HttpRequest("GET", server.url("/echo"), timeout=Timeout(pool=0.2))
        with pytest.raises(PoolTimeout):
            await t.send(request)
        await held.aclose()  # frees the slot
        response = await t.send(request)
        assert await response.aread() == b""


async def test_slot_waiters_are_served_in_turn(server: Server) -> None:
    results: list[int] = []
    async with transport(max_connections=2) as t:

        async def one(i: int) -> None:
            response = await t.send(HttpRequest("POST", server.url("/echo"), body=b"%d" % i))
            results.append(int(await response.aread()))

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(one, i)
    assert sorted(results) == list(range(50))
    assert server.accepted <= 2


async def test_many_concurrent_streams_interleave(server: Server) -> None:
    sizes: list[int] = []
    async with transport() as t:

        async def stream() -> None:
            async with await t.send(HttpRequest("GET", server.url("/infinite"))) as response:
                got = bytearray()
                async with aclosing(body_of(response)) as body:
                    async for chunk in body:
                        got += chunk
                        if len(got) >= 200_000:
                            break
            assert got[:200_000] == (PATTERN * 13)[:200_000]
            sizes.append(len(got))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(40):
                    tg.start_soon(stream)
    assert len(sizes) == 40


async def test_closing_the_transport_fails_waiting_readers(server: Server) -> None:
    t = transport()
    response = await t.send(HttpRequest("GET", server.url("/sleep-headers?seconds=0")))
    await response.aread()
    stream = await t.send(HttpRequest("GET", server.url("/chunks?n=3")))
    body = stream.aiter_bytes()
    assert await body.__anext__() == b"A"
    await t.aclose()
    with pytest.raises(TransportError, match="closed"):
        await body.__anext__()
    with pytest.raises(TransportError, match="closed"):
        await t.send(HttpRequest("GET", server.url("/echo")))
    await t.aclose()  # idempotent


async def test_transport_closed_while_a_task_waits_on_it(server: Server) -> None:
    t = transport()
    caught: list[BaseException] = []

    async def wait_for_headers() -> None:
        try:
            await t.send(HttpRequest("GET", server.url("/sleep-headers?seconds=5")))
        except TransportError as exc:
            caught.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait_for_headers)
            await anyio.sleep(0.2)
            await t.aclose()
    assert len(caught) == 1


async def test_compressed_bodies_are_decoded(server: Server) -> None:
    async with transport() as t:
        response = await t.send(HttpRequest("GET", server.url("/gzip")))
        assert await response.aread() == GZIP_TEXT
    assert response.headers["content-encoding"] == "gzip"


async def test_every_waiting_task_gets_its_own_read_timeout(server: Server) -> None:
    """Only one task sleeps on the reactor; the others' deadlines must still fire on time."""
    timed_out: list[float] = []
    async with transport() as t:

        async def slow(seconds: float) -> None:
            request = HttpRequest(
                "GET", server.url("/sleep-headers?seconds=5"), timeout=Timeout(read=seconds)
            )
            started = anyio.current_time()
            with pytest.raises(ReadTimeout):
                await t.send(request)
            timed_out.append(anyio.current_time() - started)

        with anyio.fail_after(4):
            async with anyio.create_task_group() as tg:
                tg.start_soon(slow, 1.2)  # likely the leader: sleeps long
                await anyio.sleep(0.05)
                for _ in range(4):
                    tg.start_soon(slow, 0.2)
    assert len(timed_out) == 5
    assert sorted(timed_out)[3] < 0.8  # the short ones did not wait for the long one
