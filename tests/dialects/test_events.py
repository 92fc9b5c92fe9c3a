"""Call events: in order, with their fields, for every path of a call, on asyncio and trio."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from atoll_dialects import (
    BadRequestError,
    Callbacks,
    Client,
    FallbackUsed,
    FirstToken,
    JsonlSink,
    RequestFailed,
    RequestFinished,
    RequestStarted,
    RetryPolicy,
    RetryScheduled,
    ServerError,
    StreamInterrupted,
    SyncClient,
    TelemetryEvent,
    TimeoutError,
    decode_event,
)
from atoll_testing import FakeLLMServer
from atoll_wire import AsyncTransport, Message, Usage

pytestmark = pytest.mark.anyio

FAST_RETRY = RetryPolicy(attempts=3, initial_backoff=0.0, max_backoff=0.0)


class Recorder:
    """A sync callback that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.lock = threading.Lock()

    def __call__(self, event: TelemetryEvent) -> None:
        with self.lock:
            self.events.append(event)

    @property
    def names(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer() as srv:
        yield srv


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def transport() -> AsyncIterator[AsyncTransport]:
    """One transport per test, closed after it: the clients share it."""
    from atoll_curl import CurlTransport

    async with CurlTransport() as made:
        yield made


@pytest.fixture
async def clients() -> AsyncIterator[list[Client]]:
    """Clients a test makes, closed after it (their default transports hold sockets)."""
    made: list[Client] = []
    yield made
    for client in made:
        await client.aclose()


def keep(clients: list[Client], client: Client) -> Client:
    clients.append(client)
    return client


def _same_call(events: list[Any]) -> None:
    assert len({e.call_id for e in events}) == 1
    times = [e.time for e in events]
    assert times == sorted(times)


async def test_a_chat_starts_then_finishes(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    async with Client(
        "echo", base_url=server.base_url, transport=transport, callbacks=[recorder]
    ) as client:
        reply = await client.chat("hello events")
    assert recorder.names == ["RequestStarted", "RequestFinished"]
    started, finished = recorder.events
    _same_call(recorder.events)
    assert isinstance(started, RequestStarted) and isinstance(finished, RequestFinished)
    assert (started.model, started.provider, started.operation) == ("echo", "custom", "chat")
    assert started.stream is False and started.models == ("custom/echo",)
    assert started.input is None, "content only when the Redactor captures it"
    assert started.run_id is None
    assert finished.served_by == "custom/echo" and finished.attempts == 1
    assert finished.usage == reply.usage and finished.finish_reason == "stop"
    assert finished.cost is None and finished.cost_note == reply.cost_note
    assert 0 < finished.duration < 5 and finished.time_to_first_token is None
    assert finished.output is None


async def test_a_stream_reports_its_first_token(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    client = Client(
        "stream-20", base_url=server.base_url, transport=transport, callbacks=[recorder]
    )
    async with client.stream("go") as stream:
        assert stream.call_id is not None
        async for _ in stream:
            pass
    await client.aclose()
    assert recorder.names == ["RequestStarted", "FirstToken", "RequestFinished"]
    started, first, finished = recorder.events
    _same_call(recorder.events)
    assert started.call_id == stream.call_id
    assert started.stream and finished.stream
    assert isinstance(first, FirstToken) and 0 < first.elapsed <= finished.duration
    assert finished.time_to_first_token == pytest.approx(first.elapsed)
    assert finished.usage.output_tokens == 20


async def test_a_retried_call_schedules_the_retry(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    server.inject("status=503; retry-after-ms=5")
    client = Client(
        "echo",
        base_url=server.base_url,
        transport=transport,
        retry=FAST_RETRY,
        callbacks=[recorder],
    )
    await client.chat("again")
    await client.aclose()
    assert recorder.names == ["RequestStarted", "RetryScheduled", "RequestFinished"]
    retry = recorder.events[1]
    assert isinstance(retry, RetryScheduled)
    assert (retry.attempt, retry.error, retry.status) == (1, "ServerError", 503)
    assert retry.wait == pytest.approx(0.005) and "unavailable" in retry.message
    assert recorder.events[2].attempts == 2


async def test_a_fallback_names_both_models_and_why(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    server.inject("status=503", times=3)
    client = Client(
        ["first", "echo"],
        base_url=server.base_url,
        transport=transport,
        retry=FAST_RETRY,
        callbacks=[recorder],
    )
    reply = await client.chat("fall back")
    await client.aclose()
    assert reply.served_by == "custom/echo"
    assert recorder.names == [
        "RequestStarted",
        "RetryScheduled",
        "RetryScheduled",
        "FallbackUsed",
        "RequestFinished",
    ]
    _same_call(recorder.events)
    fallback = recorder.events[3]
    assert isinstance(fallback, FallbackUsed)
    assert (fallback.from_model, fallback.to_model) == ("custom/first", "custom/echo")
    assert fallback.reason == "ServerError 503" and fallback.model == "echo"
    assert recorder.events[0].models == ("custom/first", "custom/echo")
    finished = recorder.events[-1]
    assert (finished.model, finished.served_by, finished.attempts) == ("echo", "custom/echo", 4)


async def test_a_failure_ends_with_request_failed(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    server.inject("status=400; message=no such parameter")
    client = Client(
        "echo",
        base_url=server.base_url,
        transport=transport,
        retry=FAST_RETRY,
        callbacks=[recorder],
    )
    with pytest.raises(BadRequestError):
        await client.chat("refused")
    await client.aclose()
    assert recorder.names == ["RequestStarted", "RequestFailed"]
    failed = recorder.events[1]
    assert isinstance(failed, RequestFailed)
    assert (failed.error, failed.status, failed.attempts) == ("BadRequestError", 400, 1)
    assert "no such parameter" in failed.message and not failed.cancelled


async def test_retries_spent_end_with_the_last_error(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    server.inject("status=500", times=3)
    client = Client(
        "echo",
        base_url=server.base_url,
        transport=transport,
        retry=FAST_RETRY,
        callbacks=[recorder],
    )
    with pytest.raises(ServerError):
        await client.chat("doomed")
    assert recorder.names == ["RequestStarted", "RetryScheduled", "RetryScheduled", "RequestFailed"]
    assert recorder.events[-1].attempts == 3


async def test_a_stream_broken_mid_way_fails_after_its_first_token(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    server.inject("disconnect-events=4")
    client = Client(
        "stream-40", base_url=server.base_url, transport=transport, callbacks=[recorder]
    )
    with pytest.raises(StreamInterrupted):
        async with client.stream("go") as stream:
            async for _ in stream:
                pass
    assert recorder.names == ["RequestStarted", "FirstToken", "RequestFailed"]
    assert recorder.events[-1].error == "StreamInterrupted"


async def test_a_cancelled_stream_is_reported_cancelled(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    server.inject("chunk-delay=0.2")
    client = Client(
        "stream-100", base_url=server.base_url, transport=transport, callbacks=[recorder]
    )
    with anyio.move_on_after(0.5):
        async with client.stream("go") as stream:
            async for _ in stream:
                pass
    assert recorder.names[0] == "RequestStarted" and recorder.names[-1] == "RequestFailed"
    failed = recorder.events[-1]
    assert failed.cancelled and failed.message == ""


async def test_the_deadline_fails_the_call_with_timeout(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    server.inject("delay=2")
    client = Client("echo", base_url=server.base_url, transport=transport, callbacks=[recorder])
    with pytest.raises(TimeoutError):
        await client.chat("slow", timeout=0.2)
    assert recorder.names == ["RequestStarted", "RequestFailed"]
    assert recorder.events[-1].error == "TimeoutError"


async def test_a_refused_option_makes_no_event(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    client = Client("echo", base_url=server.base_url, transport=transport, callbacks=[recorder])
    with pytest.raises(TypeError):
        await client.chat("x", temprature=1)  # type: ignore[call-arg]
    assert recorder.events == []


async def test_per_call_callbacks_join_the_clients(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    own, extra = Recorder(), Recorder()
    client = Client("echo", base_url=server.base_url, transport=transport, callbacks=[own])
    await client.chat("one", callbacks=[extra])
    await client.chat("two")
    assert own.names == ["RequestStarted", "RequestFinished"] * 2
    assert extra.names == ["RequestStarted", "RequestFinished"]
    assert extra.events == own.events[:2], "both see the very same event objects"
    bare = Client("echo", base_url=server.base_url, transport=transport)
    await bare.chat("three", callbacks=[extra])
    assert len(extra.events) == 4


async def test_a_run_view_stamps_the_run_id(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    callbacks = Callbacks([recorder])
    client = Client("echo", base_url=server.base_url, transport=transport)
    await client.chat("in a run", callbacks=callbacks.for_run("run-7"))
    assert {e.run_id for e in recorder.events} == {"run-7"}


async def test_content_is_on_events_only_when_captured(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    client = Client(
        "echo",
        base_url=server.base_url,
        transport=transport,
        callbacks=[recorder],
        capture_content=True,
    )
    await client.chat([Message.system("be brief"), Message.user("what is an atoll")])
    started, finished = recorder.events
    assert [m.text for m in started.input] == ["be brief", "what is an atoll"]
    assert finished.output is not None and finished.output.text == "what is an atoll"


async def test_embeddings_report_their_usage(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    client = Client(
        "text-embedding-3-small",
        base_url=server.base_url,
        transport=transport,
        callbacks=[recorder],
    )
    result = await client.embed(["a b", "c"])
    assert recorder.names == ["RequestStarted", "RequestFinished"]
    started, finished = recorder.events
    assert started.operation == finished.operation == "embeddings"
    assert finished.usage == result.usage and finished.usage.input_tokens == 3


async def test_the_sync_client_emits_the_same_events(
    server: FakeLLMServer, transport: AsyncTransport, recorder: Recorder
) -> None:
    async_client = Client(
        ["first", "echo"],
        base_url=server.base_url,
        transport=transport,
        retry=FAST_RETRY,
        callbacks=[recorder],
    )
    server.inject("status=503", times=3)
    await async_client.chat("fall back")
    server.inject("status=503", times=3)
    async with async_client.stream("a b c") as stream:
        async for _ in stream:
            pass
    sync_recorder = Recorder()

    def run_sync() -> None:
        client = SyncClient(
            ["first", "echo"], base_url=server.base_url, retry=FAST_RETRY, callbacks=[sync_recorder]
        )
        with client:
            server.inject("status=503", times=3)
            client.chat("fall back")
            server.inject("status=503", times=3)
            with client.stream("a b c") as sync_stream:
                for _ in sync_stream:
                    pass

    await anyio.to_thread.run_sync(run_sync)
    fallback = ["RequestStarted", "RetryScheduled", "RetryScheduled", "FallbackUsed"]
    assert recorder.names == [
        *fallback,
        "RequestFinished",
        *fallback,
        "FirstToken",
        "RequestFinished",
    ]
    assert sync_recorder.names == recorder.names
    for mine, theirs in zip(sync_recorder.events, recorder.events, strict=True):
        assert (mine.model, mine.provider) == (theirs.model, theirs.provider)


# ---------------------------------------------------------------------- the JSON Lines sink


async def test_jsonl_sink_writes_events_that_read_back(
    server: FakeLLMServer, transport: AsyncTransport, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    recorder = Recorder()
    server.inject("status=503")
    with JsonlSink(path) as sink:
        client = Client(
            "echo",
            base_url=server.base_url,
            transport=transport,
            retry=FAST_RETRY,
            callbacks=[sink, recorder],
        )
        await client.chat("to the log")
        async with client.stream("and a stream") as stream:
            async for _ in stream:
                pass
    lines = path.read_bytes().splitlines()
    assert len(lines) == len(recorder.events) == 6
    assert [msgspec.json.decode(line)["event"] for line in lines] == recorder.names
    assert list(JsonlSink.read(path)) == recorder.events
    assert [decode_event(line) for line in lines] == recorder.events


def test_jsonl_read_skips_what_is_not_an_event_unless_strict(tmp_path: Path) -> None:
    event = RequestFinished(
        call_id="c",
        model="m",
        provider="p",
        time=1.0,
        operation="chat",
        duration=0.5,
        served_by="p/m",
        usage=Usage(input_tokens=3),
    )
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b"\n".join([b'{"other": "tool"}', msgspec.json.encode(event), b"", b'{"event": "Req'])
    )
    assert list(JsonlSink.read(path)) == [event]
    with pytest.raises(ValueError, match="line 1 is not an Atoll event"):
        list(JsonlSink.read(path, strict=True))


def test_jsonl_sink_appends_and_leaves_a_given_file_open(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    event = FirstToken(call_id="c", model="m", provider="p", time=1.0, elapsed=0.1)
    for _ in range(2):
        with JsonlSink(path) as sink:
            sink(event)
    assert list(JsonlSink.read(path)) == [event, event]
    with path.open("ab") as handle:
        sink = JsonlSink(handle, flush=False)
        sink(event)
        sink.close()
        assert not handle.closed
    assert len(list(JsonlSink.read(path))) == 3


@pytest.fixture
def sync_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().run_in_thread() as srv:
        yield srv


def test_jsonl_sink_keeps_lines_whole_across_threads(
    sync_server: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "threads.jsonl"
    with JsonlSink(path) as sink:
        client = SyncClient("echo", base_url=sync_server.base_url, callbacks=[sink])

        def calls() -> None:
            for _ in range(10):
                client.chat("threaded")

        workers = [threading.Thread(target=calls) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        client.close()
    events = list(JsonlSink.read(path, strict=True))
    assert len(events) == 80
    assert sum(isinstance(e, RequestFinished) for e in events) == 40
