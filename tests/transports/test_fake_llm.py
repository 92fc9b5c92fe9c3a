"""Conformance against atoll_testing's FakeLLMServer, the provider-shaped peer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anyio
import pytest
from atoll_testing import FakeLLMServer
from atoll_wire import (
    AsyncTransport,
    HttpRequest,
    ReadTimeout,
    RemoteProtocolError,
    ServerSentEvent,
    SSEDecoder,
    Timeout,
)

from tests.transports.conftest import Options, TransportKind, assert_clean_timeout

pytestmark = pytest.mark.anyio

API_KEY = "sk-fake-transport-key"


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(api_key=API_KEY).run_in_thread() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(llm: FakeLLMServer) -> None:
    llm.clear()


def chat(
    llm: FakeLLMServer,
    model: str,
    *,
    stream: bool = False,
    text: str = "hello there",
    headers: dict[str, str] | None = None,
) -> HttpRequest:
    body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}
    return HttpRequest(
        "POST",
        llm.base_url + "/chat/completions",
        headers={
            "authorization": f"Bearer {API_KEY}",
            "content-type": "application/json",
            **(headers or {}),
        },
        body=json.dumps(body).encode(),
    )


async def stream_events(transport: AsyncTransport, request: HttpRequest) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    response = await transport.send(request)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    async with response:
        async for chunk in response.aiter_bytes():
            events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def deltas(events: list[ServerSentEvent]) -> str:
    text = ""
    for event in events:
        if event.data == "[DONE]":
            continue
        for choice in json.loads(event.data)["choices"]:
            text += choice["delta"].get("content") or ""
    return text


async def test_chat_completion(kind: TransportKind, llm: FakeLLMServer) -> None:
    async with kind.make_async(Options()) as transport:
        response = await transport.send(chat(llm, "echo", text="ping pong"))
        assert response.status == 200
        assert response.headers["content-type"].startswith("application/json")
        body = json.loads(await response.aread())
    assert body["choices"][0]["message"]["content"] == "ping pong"
    # The server demands the key, so a 200 means the header went through (its log redacts it).
    assert "authorization" in llm.requests[-1].headers


async def test_streamed_chat_completion(kind: TransportKind, llm: FakeLLMServer) -> None:
    async with kind.make_async(Options()) as transport:
        events = await stream_events(transport, chat(llm, "stream-200", stream=True))
    assert events[-1].data == "[DONE]"
    assert deltas(events) == "".join(f"tok{i} " for i in range(200))


async def test_anthropic_messages_stream(kind: TransportKind, llm: FakeLLMServer) -> None:
    body = {
        "model": "stream-20",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    request = HttpRequest(
        "POST",
        llm.url + "/v1/messages",
        headers={
            "x-api-key": API_KEY,
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
        },
        body=json.dumps(body).encode(),
    )
    async with kind.make_async(Options()) as transport:
        events = await stream_events(transport, request)
    names = [event.event for event in events]
    assert names[0] == "message_start"
    assert names[-1] == "message_stop"
    assert names.count("content_block_delta") == 20


async def test_error_status_and_headers(kind: TransportKind, llm: FakeLLMServer) -> None:
    async with kind.make_async(Options()) as transport:
        limited = await transport.send(
            chat(llm, "echo", headers={"x-atoll-fault": "status=429; retry-after=2"})
        )
        assert limited.status == 429
        assert limited.headers["retry-after"] == "2"
        assert "error" in json.loads(await limited.aread())
        unauthorized = chat(llm, "echo")
        unauthorized.headers["authorization"] = "Bearer wrong"
        denied = await transport.send(unauthorized)
        assert denied.status == 401
        await denied.aclose()


async def test_disconnect_mid_stream(kind: TransportKind, llm: FakeLLMServer) -> None:
    request = chat(llm, "stream-50", stream=True, headers={"x-atoll-fault": "disconnect-events=5"})
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    async with kind.make_async(Options()) as transport:
        response = await transport.send(request)
        with pytest.raises(RemoteProtocolError):
            async with response:
                async for chunk in response.aiter_bytes():
                    events.extend(decoder.feed(chunk))
    # What arrived before the hang-up was delivered.
    assert len(events) == 5


async def test_slow_provider_read_timeout(kind: TransportKind, llm: FakeLLMServer) -> None:
    timeout = Timeout(connect=5, read=0.3, write=5, pool=5)
    async with kind.make_async(Options(timeout=timeout)) as transport:
        with pytest.raises(ReadTimeout) as caught:
            await transport.send(chat(llm, "echo", headers={"x-atoll-fault": "delay=3"}))
    assert_clean_timeout(caught.value, 0.3)  # no "Cancelled via cancel scope 7f55..."


async def test_concurrent_streams_share_pooled_connections(
    kind: TransportKind, llm: FakeLLMServer
) -> None:
    texts: list[str] = []

    async def one(transport: AsyncTransport) -> None:
        events = await stream_events(transport, chat(llm, "stream-20", stream=True))
        texts.append(deltas(events))

    async with kind.make_async(Options(max_connections=20)) as transport:
        async with anyio.create_task_group() as group:
            for _ in range(100):
                group.start_soon(one, transport)
    assert texts == ["".join(f"tok{i} " for i in range(20))] * 100
    assert llm.connections_opened <= 20


def test_sync_stream(kind: TransportKind, llm: FakeLLMServer) -> None:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    with kind.make_sync(Options()) as transport:
        for _ in range(3):
            with transport.send(chat(llm, "stream-30", stream=True)) as response:
                for chunk in response.iter_bytes():
                    events.extend(decoder.feed(chunk))
    assert deltas(events) == "".join(f"tok{i} " for i in range(30)) * 3
    assert llm.connections_opened == 1
