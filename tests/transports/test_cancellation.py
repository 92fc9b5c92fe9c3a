"""Conformance: backpressure, prompt cancellation, and no leaks after 1,000 cancelled streams."""

from __future__ import annotations

import sys
from collections.abc import Callable

import anyio
import pytest
from atoll_wire import AsyncTransport, HttpRequest

from tests.transports._peer import PlainServer
from tests.transports.conftest import Options, TransportKind, body_of, open_fds

pytestmark = pytest.mark.anyio

MODES = ["cancelled", "cancelled-unclosed", "closed", "raised"]


class ConsumerGaveUp(Exception):
    pass


async def abandon(transport: AsyncTransport, url: str, mode: str) -> None:
    """Start streaming ``url`` and give up after the first chunk, the way ``mode`` says."""
    response = await transport.send(HttpRequest("GET", url))
    if mode == "cancelled":
        # The task is cancelled while it waits for the next chunk inside the transport.
        with anyio.CancelScope() as scope:
            async with response:
                async for _ in response.aiter_bytes():
                    scope.cancel()
        assert scope.cancelled_caught
    elif mode == "cancelled-unclosed":
        # Same, but the consumer never closes the response: the transport must still hang up.
        with anyio.CancelScope() as scope:
            async for _ in response.aiter_bytes():
                scope.cancel()
        assert scope.cancelled_caught
    elif mode == "closed":
        async with response, body_of(response) as body:
            await anext(body)
    else:
        # (aiter_bytes is an async generator: closed explicitly, as trio wants.)
        with pytest.raises(ConsumerGaveUp):
            async with response, body_of(response) as body:
                async for _ in body:
                    raise ConsumerGaveUp


async def wait_until(condition: Callable[[], bool], seconds: float = 5) -> None:
    # The server counts on its own thread; polling is the simplest way to watch it.
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110
            await anyio.sleep(0.01)


@pytest.mark.parametrize("mode", MODES)
async def test_giving_up_closes_the_connection_promptly(
    kind: TransportKind, server: PlainServer, mode: str
) -> None:
    async with kind.make_async(Options()) as transport:
        await abandon(transport, server.url("/infinite?size=1024&delay=0.02"), mode)
        # The server notices the hang-up on its next write, 20 ms later: well within a second.
        await wait_until(lambda: server.streams_ended_by_client == 1, seconds=1)
        await wait_until(lambda: server.open_connections == 0, seconds=1)
        # The transport is still usable afterwards.
        response = await transport.send(HttpRequest("GET", server.url("/status/200")))
        assert await response.aread() == b"status 200"


async def test_slow_consumer_pauses_the_server(kind: TransportKind, server: PlainServer) -> None:
    async with kind.make_async(Options()) as transport:
        response = await transport.send(HttpRequest("GET", server.url("/infinite")))
        async with response, body_of(response) as body:
            await anext(body)
            await anyio.sleep(0.5)
            first = server.stream_bytes
            await anyio.sleep(0.3)
            second = server.stream_bytes
            # Without backpressure a loopback server pushes hundreds of MB in 0.8 s. With it,
            # the server is stuck once the socket buffers (a few MB) are full.
            assert first < 32 * 1024 * 1024
            assert second - first < 512 * 1024
            # Reading again (past what the buffers held) lets the server move on.
            for _ in range(5000):
                await anext(body)
                if server.stream_bytes > second:
                    break
    assert server.stream_bytes > second


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
async def test_no_leaks_after_a_thousand_cancelled_streams(
    kind: TransportKind, server: PlainServer
) -> None:
    # A trickle rather than a flood: the in-process server must not hog the GIL.
    url = server.url("/infinite?size=512&delay=0.01")
    async with kind.make_async(Options(max_connections=20)) as transport:
        warm = await transport.send(HttpRequest("GET", server.url("/status/200")))
        await warm.aread()
        await wait_until(lambda: server.open_connections == 1)
        before = open_fds()
        tasks_before = len(anyio.get_running_tasks())

        limiter = anyio.CapacityLimiter(20)

        async def one(index: int) -> None:
            async with limiter:
                await abandon(transport, url, MODES[index % len(MODES)])

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for index in range(1000):
                    group.start_soon(one, index)
        # Every stream was given up by the client, and the server has seen each hang-up.
        await wait_until(lambda: server.streams_ended_by_client == 1000)
        await wait_until(lambda: server.open_connections <= 1)
        after = open_fds()
        # Every abandoned stream's socket is closed on both ends (the idle keep-alive
        # connection from the warm-up may or may not have been replaced).
        assert after <= before, f"{after - before} file descriptors leaked"
        # Nor did the transport leave a task behind (asyncio or trio, whoever spawned it).
        assert len(anyio.get_running_tasks()) == tasks_before
    await wait_until(lambda: server.open_connections == 0)
