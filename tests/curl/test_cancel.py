"""Cancelled, closed and failed streams release their connection at once: no fd or slot leaks."""

from __future__ import annotations

import time
from contextlib import aclosing

import anyio
import pytest
from atoll_curl import CurlTransport, SyncCurlTransport
from atoll_wire import HttpRequest, Timeout

from tests.curl._server import Server
from tests.curl.conftest import TEST_TIMEOUT, body_of, open_fds, sync_body_of

STREAMS = 1000


class ConsumerBug(Exception):
    pass


async def settle(server: Server) -> None:
    for _ in range(1000):  # up to 10 s for the server to see every hang-up
        if not server.open_connections():
            return
        await anyio.sleep(0.01)
    raise AssertionError(f"{server.open_connections()} connections still open")


@pytest.mark.anyio
async def test_fds_are_back_after_1000_cancelled_streams(server: Server) -> None:
    async with CurlTransport(timeout=TEST_TIMEOUT, trust_env=False, max_connections=50) as t:
        warm = await t.send(HttpRequest("GET", server.url("/echo")))
        await warm.aread()
        await anyio.sleep(0.05)
        before = open_fds()
        url = server.url("/infinite")

        async def by_cancel_scope() -> None:
            with anyio.CancelScope() as scope:
                async with await t.send(HttpRequest("GET", url)) as response:
                    async with aclosing(body_of(response)) as body:
                        async for _ in body:
                            scope.cancel()
                            await anyio.sleep(1)  # the cancellation lands in the consumer
            assert scope.cancelled_caught

        async def while_waiting_for_body() -> None:
            # Cancelled inside the transport's own wait, with no ``async with`` to help.
            response = await t.send(HttpRequest("GET", server.url("/stall-body")))
            body = response.aiter_bytes()
            assert await body.__anext__() == b"A"
            with anyio.move_on_after(0.01):
                await body.__anext__()

        async def by_early_close() -> None:
            async with await t.send(HttpRequest("GET", url)) as response:
                async with aclosing(body_of(response)) as body:
                    async for _ in body:
                        break

        async def by_consumer_error() -> None:
            with pytest.raises(ConsumerBug):
                async with await t.send(HttpRequest("GET", url)) as response:
                    async with aclosing(body_of(response)) as body:
                        async for _ in body:
                            raise ConsumerBug

        async def before_headers() -> None:
            with anyio.move_on_after(0.005):
                await t.send(HttpRequest("GET", server.url("/sleep-headers?seconds=5")))

        kinds = (
            by_cancel_scope,
            while_waiting_for_body,
            by_early_close,
            by_consumer_error,
            before_headers,
        )
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for i in range(STREAMS):
                    tg.start_soon(kinds[i % len(kinds)])
        await settle(server)
        after = open_fds()
        # Every slot is free again and no transfer is left inside libcurl.
        assert t._reactor.active == 0  # pyright: ignore[reportPrivateUsage]
        assert t._slots._free == 50  # pyright: ignore[reportPrivateUsage]
    assert after <= before, f"{after - before} descriptors leaked"
    # Each of the 800 streams that got a body closed its half-read connection: none was reused.
    assert server.accepted >= STREAMS * 4 // 5


def test_sync_fds_are_back_after_closed_streams(server: Server) -> None:
    with SyncCurlTransport(timeout=TEST_TIMEOUT, trust_env=False) as t:
        t.send(HttpRequest("GET", server.url("/echo"))).read()
        before = open_fds()
        for i in range(300):
            response = t.send(HttpRequest("GET", server.url("/infinite")))
            body = sync_body_of(response)
            next(body)
            if i % 2:
                body.close()  # a closed iterator...
            response.close()  # ...or just the response: both abort the transfer
        deadline = time.monotonic() + 10
        while server.open_connections() and time.monotonic() < deadline:
            time.sleep(0.01)
        after = open_fds()
        assert t._engine.reactor.active == 0  # pyright: ignore[reportPrivateUsage]
    assert after <= before


def test_sync_read_timeout_aborts_the_transfer(server: Server) -> None:
    with SyncCurlTransport(timeout=TEST_TIMEOUT, trust_env=False) as t:
        request = HttpRequest(
            "GET", server.url("/sleep-headers?seconds=5"), timeout=Timeout(read=0.2)
        )
        started = time.monotonic()
        with pytest.raises(Exception) as caught:
            t.send(request)
        assert type(caught.value).__name__ == "ReadTimeout"
        assert time.monotonic() - started < 2
        assert t._engine.reactor.active == 0  # pyright: ignore[reportPrivateUsage]


@pytest.mark.anyio
async def test_closed_transports_release_every_descriptor(server: Server) -> None:
    before = open_fds()
    for _ in range(20):
        t = CurlTransport(timeout=TEST_TIMEOUT, trust_env=False)
        response = await t.send(HttpRequest("GET", server.url("/infinite")))
        await t.aclose()  # with a response still open: its connection goes too
        with SyncCurlTransport(timeout=TEST_TIMEOUT, trust_env=False) as s:
            s.send(HttpRequest("GET", server.url("/echo"))).read()
        del response
    await settle(server)
    assert open_fds() <= before
