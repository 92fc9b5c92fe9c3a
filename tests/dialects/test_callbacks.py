"""Callback faults never break or delay a call: raising, slow, stuck, timed out and cancelled."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from atoll_dialects import (
    Callbacks,
    Client,
    InvalidOptionError,
    RequestFinished,
    SyncClient,
    TelemetryEvent,
)
from atoll_testing import FakeLLMServer
from atoll_wire import AsyncTransport

pytestmark = pytest.mark.anyio

LOGGER = "atoll_dialects.callbacks"


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer() as srv:
        yield srv


@pytest.fixture
async def transport() -> AsyncIterator[AsyncTransport]:
    from atoll_curl import CurlTransport

    async with CurlTransport() as made:
        yield made


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


async def test_a_raising_sync_callback_is_logged_once_and_the_call_goes_on(
    server: FakeLLMServer, transport: AsyncTransport, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def broken(event: TelemetryEvent) -> None:
        raise RuntimeError(f"cannot handle {type(event).__name__}")

    callbacks = Callbacks([broken, lambda event: seen.append(type(event).__name__)])
    client = Client("echo", base_url=server.base_url, transport=transport, callbacks=callbacks)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(3):
            assert (await client.chat("still fine")).text == "still fine"
    (record,) = _warnings(caplog)
    assert "broken" in record.getMessage() and "RuntimeError" in record.getMessage()
    assert record.exc_info is not None, "the first failure is logged with its traceback"
    assert callbacks.failures == 6
    assert seen == ["RequestStarted", "RequestFinished"] * 3, "the others still hear everything"


async def test_a_raising_async_callback_is_logged_once(
    server: FakeLLMServer, transport: AsyncTransport, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(event: TelemetryEvent) -> None:
        await anyio.lowlevel.checkpoint()
        raise ValueError("async trouble")

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        async with Client(
            "echo", base_url=server.base_url, transport=transport, callbacks=[broken]
        ) as client:
            for _ in range(3):
                await client.chat("fine")
            callbacks = client.callbacks
    assert callbacks is not None and callbacks.failures == 6 and callbacks.dropped == 0
    assert len(_warnings(caplog)) == 1


async def test_a_slow_async_callback_never_delays_the_stream(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    gate = anyio.Event()
    heard: list[str] = []

    async def slow(event: TelemetryEvent) -> None:
        await gate.wait()  # slower than any stream: it waits until the test lets it go
        heard.append(type(event).__name__)

    callbacks = Callbacks([slow], close_timeout=5.0)
    async with callbacks:
        client = Client(
            "stream-30", base_url=server.base_url, transport=transport, callbacks=callbacks
        )
        count = 0
        async with client.stream("go") as stream:
            async for _ in stream:
                count += 1
        # The whole stream went by while the callback still held its first event.
        assert count > 30 and heard == []
        gate.set()
    # Leaving the block delivered everything queued, in order.
    assert heard == ["RequestStarted", "FirstToken", "RequestFinished"]
    assert callbacks.dropped == 0


async def test_a_stuck_callback_fills_its_queue_then_events_are_dropped_and_counted(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    release = anyio.Event()
    cancelled: list[bool] = []

    async def stuck(event: TelemetryEvent) -> None:
        try:
            await release.wait()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    callbacks = Callbacks([stuck], max_queue=4, timeout=None, close_timeout=0.1)
    started = time.monotonic()
    async with callbacks:
        client = Client("echo", base_url=server.base_url, transport=transport)
        for _ in range(10):
            await client.chat("x", callbacks=callbacks)
        # One event is being handled, four wait in the queue: the other fifteen were dropped.
        assert callbacks.dropped == 15
    assert time.monotonic() - started < 3.0, "closing gave up on the stuck callback"
    assert cancelled == [True], "the callback in progress was cancelled at close"
    assert callbacks.dropped == 20, "undelivered events count as dropped"


async def test_a_callback_past_its_timeout_is_cancelled_and_counted(
    server: FakeLLMServer, transport: AsyncTransport, caplog: pytest.LogCaptureFixture
) -> None:
    async def sleepy(event: TelemetryEvent) -> None:
        await anyio.sleep(10)

    callbacks = Callbacks([sleepy], timeout=0.05)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        async with callbacks:
            client = Client("echo", base_url=server.base_url, transport=transport)
            await client.chat("x", callbacks=callbacks)
    assert callbacks.failures == 2 and callbacks.dropped == 0
    (record,) = _warnings(caplog)
    assert "timed out" in record.getMessage()


async def test_async_callbacks_that_do_not_run_refuse_the_call_before_sending(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    async def listener(event: TelemetryEvent) -> None:
        return None

    client = Client("echo", base_url=server.base_url, transport=transport, callbacks=[listener])
    with pytest.raises(InvalidOptionError, match="async with Client"):
        await client.chat("x")
    with pytest.raises(InvalidOptionError):
        async with client.stream("x"):
            pass
    assert server.requests == [], "nothing was sent"
    async with client:
        assert (await client.chat("now it runs")).text == "now it runs"


async def test_a_shared_set_runs_in_its_owners_block(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    heard: list[Any] = []

    async def listener(event: TelemetryEvent) -> None:
        heard.append(event)

    async with Callbacks([listener]) as shared:
        first = Client("echo", base_url=server.base_url, transport=transport, callbacks=shared)
        second = Client("echo", base_url=server.base_url, transport=transport, callbacks=shared)
        async with first:  # the set is already running: the client leaves it to its owner
            await first.chat("one")
        assert shared.running
        await second.chat("two")
    finished = [e for e in heard if isinstance(e, RequestFinished)]
    assert [e.attempts for e in finished] == [1, 1] and len(heard) == 4


async def test_a_sync_callback_returning_a_coroutine_is_a_fault_not_a_warning(
    server: FakeLLMServer, transport: AsyncTransport, caplog: pytest.LogCaptureFixture
) -> None:
    async def later(event: TelemetryEvent) -> None:
        return None

    def hands_back(event: TelemetryEvent) -> Any:
        return later(event)  # a coroutine: closed, never left to warn

    callbacks = Callbacks([hands_back])
    assert not callbacks.has_async
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client = Client("echo", base_url=server.base_url, transport=transport, callbacks=callbacks)
        await client.chat("x")
    assert callbacks.failures == 2
    assert "is not async" in _warnings(caplog)[0].getMessage()


def test_callbacks_are_checked_when_made() -> None:
    with pytest.raises(InvalidOptionError, match="callables"):
        Callbacks([42])  # type: ignore[list-item]
    with pytest.raises(InvalidOptionError, match="max_queue"):
        Callbacks([print], max_queue=0)
    with pytest.raises(InvalidOptionError, match="callbacks"):
        Client("echo", base_url="http://127.0.0.1:9/v1", callbacks=print)  # type: ignore[arg-type]
    assert "print" in repr(Callbacks([print]))


@pytest.fixture
def sync_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().run_in_thread() as srv:
        yield srv


def test_the_sync_client_takes_sync_callbacks_only(sync_server: FakeLLMServer) -> None:
    async def listener(event: TelemetryEvent) -> None:
        return None

    with pytest.raises(InvalidOptionError, match="SyncClient"):
        SyncClient("echo", base_url=sync_server.base_url, callbacks=[listener])
    heard: list[str] = []
    with SyncClient(
        "echo", base_url=sync_server.base_url, callbacks=[lambda e: heard.append(e.call_id)]
    ) as client:
        with pytest.raises(InvalidOptionError):
            client.chat("x", callbacks=[listener])
        client.chat("x")
    assert len(heard) == 2 and len(set(heard)) == 1
