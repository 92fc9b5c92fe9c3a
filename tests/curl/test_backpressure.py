"""A slow consumer pauses its transfer (WRITEFUNC_PAUSE) instead of buffering without bound."""

from __future__ import annotations

from contextlib import aclosing

import anyio
import pytest
from atoll_curl import CurlTransport, SyncCurlTransport
from atoll_curl._transfer import Transfer
from atoll_wire import HttpRequest, HttpResponse

from tests.curl._server import PATTERN, Server
from tests.curl.conftest import TEST_TIMEOUT, body_of

HIGH_WATER = 64 * 1024
CHUNK_MAX = 64 * 1024  # the BUFFERSIZE atoll_curl sets: the most one write callback delivers
STREAM = PATTERN * 200  # the /infinite body is PATTERN repeated


def active(reactor_owner: CurlTransport | SyncCurlTransport) -> list[Transfer]:
    engine = getattr(reactor_owner, "_engine", reactor_owner)
    reactor = engine._reactor if hasattr(engine, "_reactor") else engine.reactor  # type: ignore[attr-defined]
    return list(reactor._active.values())  # type: ignore[no-any-return]


def slow_transfer(owner: CurlTransport | SyncCurlTransport, url_part: str) -> Transfer:
    (found,) = [t for t in active(owner) if url_part in t.request.url]
    return found


@pytest.mark.anyio
async def test_a_slow_stream_pauses_while_another_drives(server: Server) -> None:
    async with CurlTransport(timeout=TEST_TIMEOUT, trust_env=False, buffer_bytes=HIGH_WATER) as t:
        slow = await t.send(HttpRequest("GET", server.url("/infinite?slow=1")))
        slow_body = body_of(slow)
        got = bytearray(await slow_body.__anext__())
        transfer = slow_transfer(t, "slow=1")
        peak = 0

        async def fast() -> None:
            # This consumer drives libcurl for everyone while the slow one sleeps.
            nonlocal peak
            read = 0
            async with await t.send(HttpRequest("GET", server.url("/infinite?fast=1"))) as r:
                async with aclosing(body_of(r)) as body:
                    async for chunk in body:
                        read += len(chunk)
                        peak = max(peak, transfer.buffered)
                        if read > 8 * 1024 * 1024:
                            break

        with anyio.fail_after(20):
            await fast()
        assert transfer.paused, "the slow stream was never paused"
        assert HIGH_WATER <= transfer.buffered < HIGH_WATER + CHUNK_MAX
        assert peak < HIGH_WATER + CHUNK_MAX

        # Resuming loses and repeats nothing: the held-back chunk comes first, in order.
        async with aclosing(slow_body):
            async for chunk in slow_body:
                got += chunk
                if len(got) >= 2 * 1024 * 1024:
                    break
            # (Checked before the iterator closes: closing it closes the response.)
            assert not transfer.paused or transfer.buffered >= HIGH_WATER
        assert got == STREAM[: len(got)]
        await slow.aclose()


@pytest.mark.anyio
async def test_nobody_reading_means_nothing_is_read(server: Server) -> None:
    """With no task waiting, the transport reads nothing: TCP itself pushes back on the server."""
    async with CurlTransport(timeout=TEST_TIMEOUT, trust_env=False) as t:
        response: HttpResponse = await t.send(HttpRequest("GET", server.url("/infinite")))
        transfer = slow_transfer(t, "/infinite")
        # The server is soon blocked on a full socket: its count stops growing. Under load the
        # kernel's buffers take a while to fill, so wait for two equal readings (bounded); a
        # transport that kept reading an endless body would never give them.
        before, after, waited = -1, server.pushed_bytes(), 0.0
        while after != before and waited < 10.0:
            await anyio.sleep(0.3)
            waited += 0.3
            before, after = after, server.pushed_bytes()
        assert after == before, f"the server was never blocked: {after} bytes pushed and counting"
        # Only what arrived with the headers was buffered, and within the limit.
        assert transfer.buffered < 256 * 1024 + CHUNK_MAX
        await response.aclose()


def test_sync_slow_stream_pauses_while_another_is_read(server: Server) -> None:
    with SyncCurlTransport(timeout=TEST_TIMEOUT, trust_env=False, buffer_bytes=HIGH_WATER) as t:
        slow = t.send(HttpRequest("GET", server.url("/infinite?slow=1")))
        slow_body = slow.iter_bytes()
        got = bytearray(next(slow_body))
        transfer = slow_transfer(t, "slow=1")
        with t.send(HttpRequest("GET", server.url("/infinite?fast=1"))) as fast:
            read = 0
            for chunk in fast.iter_bytes():
                read += len(chunk)
                assert transfer.buffered < HIGH_WATER + CHUNK_MAX
                if read > 8 * 1024 * 1024:
                    break
        assert transfer.paused
        for chunk in slow_body:
            got += chunk
            if len(got) >= 2 * 1024 * 1024:
                break
        assert got == STREAM[: len(got)]
        slow.close()
