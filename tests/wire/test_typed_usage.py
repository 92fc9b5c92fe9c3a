"""Typed usage of atoll_wire as a user writes it (checked by pyright, run by pytest)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from atoll_wire import (
    AsyncTransport,
    ChatResponse,
    HttpRequest,
    HttpResponse,
    Message,
    Part,
    ServerSentEvent,
    SSEDecoder,
    StreamAccumulator,
    StreamEvent,
    TextDelta,
    TextPart,
    Timeout,
    ToolCallPart,
    TransportError,
    Usage,
)
from atoll_wire import anthropic as an
from atoll_wire import openai as oa


def openai_stream_to_events(body: bytes) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    decoder = SSEDecoder()
    sse: list[ServerSentEvent] = decoder.feed(body) + decoder.flush()
    for event in sse:
        if event.data == "[DONE]":
            continue
        chunk: oa.ChatCompletionChunk = oa.decode_chunk(event.data)
        for choice in chunk.choices:
            content = choice.delta.content
            if isinstance(content, str) and content:
                events.append(TextDelta(index=choice.index, text=content))
    return events


def fold(events: list[StreamEvent]) -> ChatResponse:
    acc = StreamAccumulator(provider="openai")
    for event in events:
        acc.add(event)
    return acc.response()


def tool_names(message: Message) -> list[str]:
    calls: list[ToolCallPart] = message.tool_calls
    return [c.name for c in calls]


def joined_text(parts: list[Part]) -> str:
    return "".join(p.text for p in parts if isinstance(p, TextPart))


def anthropic_text(data: bytes) -> str:
    event: an.StreamEvent = an.decode_event(data)
    if isinstance(event, an.ContentBlockDeltaEvent) and isinstance(event.delta, an.TextDelta):
        return event.delta.text
    return ""


class MemoryTransport(AsyncTransport):
    """Answers every request with the same body, in pieces."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def send(self, request: HttpRequest) -> HttpResponse:
        async def pieces() -> AsyncIterator[bytes]:
            for i in range(0, len(self.body), 7):
                yield self.body[i : i + 7]

        return HttpResponse(200, {"content-type": "text/event-stream"}, request, pieces())

    async def aclose(self) -> None:
        return None


BODY = b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n'


@pytest.mark.anyio
async def test_end_to_end_in_memory() -> None:
    request = HttpRequest("POST", "https://example.invalid/v1/chat", timeout=Timeout(read=5))
    async with MemoryTransport(BODY) as transport:
        response = await transport.send(request)
        decoder = SSEDecoder()
        acc = StreamAccumulator()
        async with response:
            async for chunk in response.aiter_bytes():
                for sse in decoder.feed(chunk):
                    if sse.data != "[DONE]":
                        for ev in openai_stream_to_events(f"data: {sse.data}\n\n".encode()):
                            acc.add(ev)
    result: ChatResponse = acc.response()
    assert result.message.text == "Hi"
    assert result.incomplete
    assert result.usage == Usage()


def test_helpers() -> None:
    assert fold(openai_stream_to_events(BODY)).message.text == "Hi"
    assert tool_names(Message.user("x")) == []
    assert joined_text(Message.user("ab").parts) == "ab"
    assert (
        anthropic_text(
            b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}'
        )
        == "a"
    )
    err: TransportError = TransportError("x")
    assert err.message == "x"
