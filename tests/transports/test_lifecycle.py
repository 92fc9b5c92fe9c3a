"""Conformance: a closed transport, and a transport used from a second event loop.

Both fail before anything goes on the wire with a plain ``TransportError`` that says what to do
(never a bare ``RuntimeError`` from the backend's internals), and neither is retried by the
Client: they are mistakes in the calling code, not in the network.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import anyio.to_thread
import pytest
from atoll_wire import AsyncTransport, HttpRequest, TransportError

from tests.transports._peer import PlainServer
from tests.transports.conftest import Options, TransportKind

BACKENDS = ["asyncio", "trio"]


async def fetch(transport: AsyncTransport, url: str) -> bytes:
    response = await transport.send(HttpRequest("GET", url))
    return await response.aread()


@pytest.mark.anyio
async def test_a_closed_transport_refuses_requests(
    kind: TransportKind, server: PlainServer
) -> None:
    transport = kind.make_async(Options())
    assert await fetch(transport, server.url("/status/200")) == b"status 200"
    await transport.aclose()
    await transport.aclose()  # idempotent
    with pytest.raises(TransportError) as caught:
        await fetch(transport, server.url("/status/201"))
    assert type(caught.value) is TransportError
    assert "closed" in caught.value.message
    assert caught.value.method == "GET"
    assert [r.target for r in server.requests] == ["/status/200"]


def test_sync_a_closed_transport_refuses_requests(kind: TransportKind, server: PlainServer) -> None:
    transport = kind.make_sync(Options())
    with transport.send(HttpRequest("GET", server.url("/status/200"))) as response:
        assert response.read() == b"status 200"
    transport.close()
    transport.close()
    with pytest.raises(TransportError) as caught:
        transport.send(HttpRequest("GET", server.url("/status/201")))
    assert type(caught.value) is TransportError
    assert "closed" in caught.value.message
    assert [r.target for r in server.requests] == ["/status/200"]


def in_another_loop(backend: str, work: Callable[[], Awaitable[bytes]]) -> Callable[[], bytes]:
    """A blocking call running ``work`` in a new event loop (in a worker thread, say)."""
    return lambda: anyio.run(work, backend=backend)


@pytest.mark.parametrize("first", BACKENDS)
@pytest.mark.parametrize("second", BACKENDS)
def test_a_second_event_loop(
    kind: TransportKind, server: PlainServer, first: str, second: str
) -> None:
    # The first loop stays alive while a second one, in a thread, uses the transport; then the
    # first loop closes it properly, where its connections live.
    url = server.url("/status/200")

    async def main() -> None:
        async with kind.make_async(Options()) as transport:
            assert await fetch(transport, url) == b"status 200"
            other = in_another_loop(second, lambda: fetch(transport, url))
            if not kind.one_event_loop:
                assert await anyio.to_thread.run_sync(other) == b"status 200"
                assert len(server.requests) == 2
                return
            with pytest.raises(TransportError) as caught:
                await anyio.to_thread.run_sync(other)
            error = caught.value
            assert type(error) is TransportError
            assert "event loop" in error.message
            assert "inside the event loop that uses" in error.message  # says what to do
            assert error.method == "GET"
            assert len(server.requests) == 1  # refused before anything went out
            # The transport still serves its own loop.
            assert await fetch(transport, url) == b"status 200"

    anyio.run(main, backend=first)


@pytest.mark.parametrize("second", BACKENDS)
def test_a_second_event_loop_after_the_first_ended(
    kind: TransportKind, server: PlainServer, second: str
) -> None:
    # What a second asyncio.run() (or a session-wide pytest fixture) does. No connection is
    # left pooled in the dead loop, so nothing leaks whatever the outcome.
    url = server.url("/set-cookie")
    transport = kind.make_async(Options())
    headers = {"connection": "close"}

    async def once() -> bytes:
        response = await transport.send(HttpRequest("GET", url, headers=headers))
        return await response.aread()

    assert anyio.run(once) == b"cookie set"
    if kind.one_event_loop:
        with pytest.raises(TransportError, match="event loop"):
            anyio.run(once, backend=second)
        assert len(server.requests) == 1
        # Left unclosed: its loop is gone, and "connection: close" left nothing in its pool.
        # (Closing from another loop is each kind's own affair: httpx refuses, tests/httpx.)
    else:
        assert anyio.run(once, backend=second) == b"cookie set"
        anyio.run(transport.aclose, backend=second)
        assert len(server.requests) == 2
    assert server.accepted == len(server.requests)  # "connection: close" was honoured
