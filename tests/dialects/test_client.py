"""The async Client against the real local server, on both transports and both anyio backends."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import anyio
import pytest
from atoll_dialects import (
    BadRequestError,
    Client,
    MissingAPIKeyError,
    OverloadedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamInterrupted,
    TimeoutError,
)
from atoll_registry import Registry
from atoll_testing import ChatInput, FakeLLMServer, Turn
from atoll_wire import (
    AsyncTransport,
    ConnectError,
    MessageEnd,
    StreamError,
    TextDelta,
    TransportError,
    Usage,
)

pytestmark = pytest.mark.anyio

FAST_RETRY = RetryPolicy(attempts=3, initial_backoff=0.0, max_backoff=0.0)


def _transport_factories() -> dict[str, Callable[[], AsyncTransport]]:
    from atoll_curl import CurlTransport
    from atoll_httpx import HttpxTransport

    return {"curl": CurlTransport, "httpx": HttpxTransport}


@pytest.fixture(params=["curl", "httpx"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[AsyncTransport]:
    made = _transport_factories()[request.param]()
    async with made:
        yield made


def priced_turn(request: ChatInput) -> Turn:
    return Turn(text=f"priced: {request.last_user_text}", input_tokens=1000, output_tokens=500)


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(models={"gpt-4o-mini": priced_turn}) as srv:
        yield srv


async def test_chat_returns_text_usage_and_record(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    client = Client("echo", base_url=server.base_url, transport=transport)
    reply = await client.chat("hello there world")
    assert reply.text == "hello there world"
    assert reply.usage.output_tokens == 3
    assert reply.finish_reason == "stop"
    assert reply.served_by == "custom/echo"
    assert reply.attempts == []
    assert reply.cost is None
    assert reply.cost_note is not None and "not in the registry" in reply.cost_note


async def test_chat_prices_a_registry_model(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    registry = Registry.default()
    client = Client(
        "openai/gpt-4o-mini", base_url=server.base_url, api_key="test-key", transport=transport
    )
    reply = await client.chat("what does it cost", max_tokens=50, temperature=0.1)
    assert reply.text == "priced: what does it cost"
    expected = registry.cost("openai/gpt-4o-mini", Usage(input_tokens=1000, output_tokens=500))
    assert expected is not None and reply.cost is not None
    assert reply.cost.total == expected.total
    assert reply.cost.total > Decimal(0)
    sent = server.requests[-1]
    assert b'"max_tokens":50' in sent.body or b'"max_completion_tokens":50' in sent.body
    assert "test-key" not in repr(sent.headers)


async def test_stream_yields_events_and_whole_response(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    client = Client("echo", base_url=server.base_url, transport=transport)
    texts: list[str] = []
    ends: list[MessageEnd] = []
    async with client.stream("one two three four") as stream:
        async for event in stream:
            if isinstance(event, TextDelta):
                texts.append(event.text)
            elif isinstance(event, MessageEnd):
                ends.append(event)
    assert "".join(texts) == "one two three four"
    assert len(texts) > 1, "the text should arrive in several deltas"
    assert len(ends) == 1
    assert stream.response.text == "one two three four"
    assert stream.response.incomplete is False


async def test_429_with_retry_after_is_waited_for(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("status=429; retry-after=0.3")
    client = Client("echo", base_url=server.base_url, transport=transport, retry=FAST_RETRY)
    started = time.monotonic()
    reply = await client.chat("after the limit")
    assert time.monotonic() - started >= 0.28
    assert reply.text == "after the limit"
    assert [(a.status, a.error, a.waited) for a in reply.attempts] == [
        (429, "RateLimitError", pytest.approx(0.3, abs=0.05))
    ]
    assert len(server.requests) == 2


async def test_retry_after_ms_wins_and_is_capped(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("status=503; retry-after=30; retry-after-ms=100")
    policy = RetryPolicy(attempts=2, max_retry_after=0.2)
    client = Client("echo", base_url=server.base_url, transport=transport, retry=policy)
    reply = await client.chat("x")
    assert reply.attempts[0].waited == pytest.approx(0.1)
    server.inject("status=503; retry-after=30")
    reply = await client.chat("y")
    assert reply.attempts[0].waited == pytest.approx(0.2)


async def test_overloaded_529_is_retried_then_raised(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("status=529", times=3)
    client = Client("echo", base_url=server.base_url, transport=transport, retry=FAST_RETRY)
    with pytest.raises(OverloadedError) as caught:
        await client.chat("busy?")
    assert caught.value.status == 529
    assert len(server.requests) == 3


async def test_bad_request_is_not_retried(server: FakeLLMServer, transport: AsyncTransport) -> None:
    server.inject("status=400")
    client = Client("echo", base_url=server.base_url, transport=transport, retry=FAST_RETRY)
    with pytest.raises(BadRequestError):
        await client.chat("bad")
    assert len(server.requests) == 1


async def test_should_retry_false_stops_retries(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("status=429; should-retry=false")
    client = Client("echo", base_url=server.base_url, transport=transport, retry=FAST_RETRY)
    with pytest.raises(RateLimitError):
        await client.chat("no")
    assert len(server.requests) == 1


async def test_fallback_moves_to_the_next_model(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("status=503", times=2)
    policy = RetryPolicy(attempts=2, initial_backoff=0.0)
    client = Client(
        ["stream-5", "echo"], base_url=server.base_url, transport=transport, retry=policy
    )
    reply = await client.chat("fall back")
    assert reply.served_by == "custom/echo"
    assert reply.text == "fall back"
    assert [(a.model, a.number, a.status) for a in reply.attempts] == [
        ("custom/stream-5", 1, 503),
        ("custom/stream-5", 2, 503),
    ]


async def test_the_newest_errors_headers_win(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("status=429; retry-after=0.4")
    server.inject("status=503; retry-after-ms=10")
    client = Client("echo", base_url=server.base_url, transport=transport, retry=FAST_RETRY)
    reply = await client.chat("twice refused")
    assert reply.text == "twice refused"
    assert [(a.status, a.waited) for a in reply.attempts] == [
        (429, pytest.approx(0.4)),
        (503, pytest.approx(0.01)),
    ]


async def test_the_final_error_notes_every_attempt_across_fallbacks(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("status=503", times=4)
    policy = RetryPolicy(attempts=2, initial_backoff=0.0, max_backoff=0.0)
    client = Client(["first", "echo"], base_url=server.base_url, transport=transport, retry=policy)
    with pytest.raises(ServerError) as caught:
        await client.chat("nobody home")
    assert caught.value.status == 503
    assert caught.value.model == "echo", "the error raised is the last attempt's"
    (note,) = caught.value.__notes__
    assert note.startswith("attempts: ")
    for label in ("custom/first #1", "custom/first #2", "custom/echo #1", "custom/echo #2"):
        assert f"{label} ServerError 503" in note
    assert len(server.requests) == 4


async def test_connection_refused_is_retried_then_raised_typed(transport: AsyncTransport) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Client(
        "echo", base_url=f"http://127.0.0.1:{port}/v1", transport=transport, retry=FAST_RETRY
    )
    with pytest.raises(ConnectError) as caught:
        await client.chat("anyone?")
    (note,) = caught.value.__notes__
    assert note.count("ConnectError") == 3, note


async def test_an_unsendable_request_fails_once_without_showing_the_key(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    key = "sk-from-a-file-SECRET\n"  # read with its trailing newline: not a valid header value
    client = Client(
        "echo", base_url=server.base_url, api_key=key, transport=transport, retry=FAST_RETRY
    )
    with pytest.raises(TransportError) as caught:
        await client.chat("x")
    assert type(caught.value) is TransportError, "a request that cannot be sent is not retried"
    assert not getattr(caught.value, "__notes__", None)
    assert server.requests == []
    shown = repr(caught.value) + str(caught.value) + repr(caught.value.__cause__)
    assert "SECRET" not in shown


async def test_output_schema_of_the_wrong_type_is_refused_before_sending(
    server: FakeLLMServer,
) -> None:
    async with Client("echo", base_url=server.base_url) as client:
        with pytest.raises(TypeError, match="output_schema="):
            await client.chat("x", output_schema={"type": "object"})
    assert server.requests == []


async def test_retries_are_logged_without_secrets(
    server: FakeLLMServer, transport: AsyncTransport, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-log-SECRET-9876543210"
    server.inject("status=503; retry-after-ms=5")
    client = Client(
        "echo", base_url=server.base_url, api_key=secret, transport=transport, retry=FAST_RETRY
    )
    with caplog.at_level(logging.DEBUG, logger="atoll_dialects"):
        await client.chat("logged")
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert (
        record.getMessage() == "custom/echo attempt 1 failed (ServerError 503); retrying in 0.01s"
    )
    assert secret not in caplog.text


async def test_disconnect_mid_stream_raises_with_partial(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("disconnect-events=4")
    client = Client("stream-50", base_url=server.base_url, transport=transport, retry=FAST_RETRY)
    seen: list[str] = []
    with pytest.raises(StreamInterrupted) as caught:
        async with client.stream("go") as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    seen.append(event.text)
    partial = caught.value.partial
    assert partial is not None and partial.incomplete
    assert seen and partial.text == "".join(seen)
    assert len(server.requests) == 1, "a stream that delivered events is never retried"


async def test_a_stream_broken_before_its_first_event_is_retried_then_noted(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("disconnect-events=0", times=3)
    client = Client("stream-5", base_url=server.base_url, transport=transport, retry=FAST_RETRY)
    with pytest.raises(StreamInterrupted) as caught:
        async with client.stream("go") as stream:
            async for _ in stream:
                pass
    assert len(server.requests) == 3, "nothing reached the caller, so every attempt was used"
    (note,) = caught.value.__notes__
    assert note.count("custom/stream-5 #") == 3, note
    server.inject("disconnect-events=0")
    async with client.stream("go again") as stream:
        text = "".join([e.text async for e in stream if isinstance(e, TextDelta)])
    assert text == stream.response.text and text
    assert [a.number for a in stream.response.attempts] == [1]


async def test_error_event_mid_stream_is_an_event_then_an_error(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("error-event=3")
    client = Client("stream-20", base_url=server.base_url, transport=transport)
    errors: list[StreamError] = []
    with pytest.raises(Exception) as caught:
        async with client.stream("go") as stream:
            async for event in stream:
                if isinstance(event, StreamError):
                    errors.append(event)
    assert len(errors) == 1
    partial = getattr(caught.value, "partial", None)
    assert partial is not None and partial.text


async def test_anthropic_error_event_mid_stream_raises_typed_with_partial(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("error-event=6")  # after message_start, block start, ping and text
    client = Client(
        "stream-20",
        base_url=server.base_url,
        dialect="anthropic-messages",
        api_key="k",
        transport=transport,
    )
    errors: list[StreamError] = []
    text: list[str] = []
    with pytest.raises(OverloadedError) as caught:
        async with client.stream("go", max_tokens=100) as stream:
            async for event in stream:
                if isinstance(event, StreamError):
                    errors.append(event)
                elif isinstance(event, TextDelta):
                    text.append(event.text)
    assert len(errors) == 1
    partial = caught.value.partial
    assert partial is not None and partial.incomplete
    assert text and partial.text == "".join(text)
    assert len(server.requests) == 1, "an error after events reached the caller is not retried"


async def test_stream_without_end_marker_is_incomplete(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("no-done")
    client = Client("stream-5", base_url=server.base_url, transport=transport)
    async with client.stream("go") as stream:
        async for _ in stream:
            pass
    assert stream.response.incomplete is True


async def test_deadline_bounds_the_whole_call(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("delay=3")
    client = Client("echo", base_url=server.base_url, transport=transport, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await client.chat("slow")
    assert time.monotonic() - started < 2.0


async def test_cancelling_a_stream_returns_promptly_and_the_client_still_works(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("chunk-delay=0.2")
    client = Client("stream-100", base_url=server.base_url, transport=transport)
    started = time.monotonic()
    with anyio.move_on_after(0.5):
        async with client.stream("go") as stream:
            async for _ in stream:
                pass
    assert time.monotonic() - started < 2.0, "cancellation must not wait for the stream to end"
    echo = Client("echo", base_url=server.base_url, transport=transport)
    reply = await echo.chat("still alive")
    assert reply.text == "still alive"


async def test_a_cancelled_stream_closes_its_upstream_connection(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    server.inject("chunk-delay=0.2")
    client = Client("stream-100", base_url=server.base_url, transport=transport)
    with anyio.move_on_after(0.5):
        async with client.stream("go") as stream:
            async for _ in stream:
                assert server.open_connections == 1
    # The server sees the socket close: an abandoned body is never parked in the pool.
    with anyio.fail_after(5):
        while server.open_connections:  # noqa: ASYNC110 (the server thread has no event to await)
            await anyio.sleep(0.01)
    assert len(server.requests) == 1


async def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
        Client("openai/gpt-4o-mini")


async def test_keys_never_show(server: FakeLLMServer, transport: AsyncTransport) -> None:
    secret = "sk-test-SECRET-0123456789abcdef"
    async with FakeLLMServer(api_key="the-right-key") as guarded:
        client = Client("echo", base_url=guarded.base_url, api_key=secret, transport=transport)
        assert secret not in repr(client)
        assert secret not in repr(client.targets)
        with pytest.raises(Exception) as caught:
            await client.chat("let me in")
        assert getattr(caught.value, "status", None) == 401
        assert secret not in str(caught.value) and secret not in repr(caught.value)
        assert secret not in str(getattr(caught.value, "headers", ""))


async def test_unknown_option_is_a_type_error(server: FakeLLMServer) -> None:
    client = Client("echo", base_url=server.base_url)
    with pytest.raises(TypeError, match="temprature"):
        # A type checker refuses it too (Unpack[ChatOptions]): the ignore proves that.
        await client.chat("x", temprature=0.5)  # pyright: ignore[reportCallIssue]
    await client.aclose()


async def test_embed_returns_one_vector_per_input(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    client = Client("text-embedding-3-small", base_url=server.base_url, transport=transport)
    result = await client.embed(["a", "b", "a"], dimensions=4)
    assert len(result.vectors) == 3
    assert all(len(v) == 4 for v in result.vectors)
    assert result.vectors[0] == result.vectors[2] != result.vectors[1]


async def test_anthropic_dialect_round_trip(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    client = Client(
        "echo",
        base_url=server.base_url,
        dialect="anthropic-messages",
        api_key="k",
        transport=transport,
    )
    reply = await client.chat("hi claude", system="be brief")
    assert reply.text == "hi claude"
    assert server.requests[-1].path == "/v1/messages"
    async with client.stream("streamed claude") as stream:
        text = "".join([e.text async for e in stream if isinstance(e, TextDelta)])
    assert text == "streamed claude"
    assert stream.response.usage.input_tokens is not None


async def test_structured_output_through_a_forced_tool_comes_back_as_text(
    transport: AsyncTransport,
) -> None:
    from atoll_registry import ModelSpec
    from atoll_testing import ToolCall
    from atoll_wire import OutputSchema

    def answer(request: ChatInput) -> Turn:
        # A model without native JSON-schema output answers through the forced tool.
        name = request.tool_names[0]
        return Turn(tool_calls=[ToolCall(name=name, arguments={"city": "Tarawa"})])

    registry = Registry.load()
    registry.register(ModelSpec(id="forced-tool-model", provider="anthropic"))
    async with FakeLLMServer(models={"forced-tool-model": answer}) as srv:
        client = Client(
            "anthropic/forced-tool-model",
            base_url=srv.base_url,
            api_key="k",
            transport=transport,
            registry=registry,
        )
        schema = OutputSchema(
            name="place", schema={"type": "object", "properties": {"city": {"type": "string"}}}
        )
        reply = await client.chat("where?", output_schema=schema, max_tokens=50)
        assert reply.text.replace(" ", "") == '{"city":"Tarawa"}'
        assert reply.message.tool_calls == [], "the forced tool is an implementation detail"
