"""Neutral types: construction, helpers, JSON round trips through the tagged unions."""

from __future__ import annotations

import msgspec
import pytest
from atoll_wire import (
    AudioPart,
    ChatRequest,
    ChatResponse,
    DocumentPart,
    ImagePart,
    Message,
    MessageEnd,
    MessageStart,
    OutputSchema,
    RedactedThinkingDelta,
    RedactedThinkingPart,
    StreamError,
    StreamEvent,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallPart,
    ToolCallStart,
    ToolChoice,
    ToolResultPart,
    ToolSpec,
    Usage,
    UsageUpdate,
)
from hypothesis import given
from hypothesis import strategies as st


def test_message_helpers() -> None:
    assert Message.user("hi") == Message(role="user", parts=[TextPart(text="hi")])
    assert Message.system("be brief").role == "system"
    assert Message.assistant("ok").text == "ok"
    msg = Message(
        role="assistant",
        parts=[
            ThinkingPart(text="hmm", signature="sig"),
            TextPart(text="a"),
            ToolCallPart(id="c1", name="f", arguments={"x": 1}, raw_arguments='{"x": 1}'),
            TextPart(text="b"),
        ],
    )
    assert msg.text == "ab"
    assert msg.thinking == "hmm"
    assert [c.id for c in msg.tool_calls] == ["c1"]
    assert Message(role="assistant", parts=[]).text == ""


def test_every_part_round_trips_through_json() -> None:
    msg = Message(
        role="user",
        parts=[
            TextPart(text="t"),
            ImagePart(url="https://example.com/a.png", detail="low"),
            ImagePart(data=b"\x89PNG", media_type="image/png"),
            AudioPart(data=b"RIFF", media_type="audio/wav"),
            DocumentPart(data=b"%PDF", title="doc"),
            ToolCallPart(id="1", name="n", raw_arguments="{", arguments_error="truncated"),
            ToolResultPart.from_text("1", "result", is_error=True, name="n"),
            ThinkingPart(text="x"),
            RedactedThinkingPart(data="opaque"),
        ],
        name="alice",
    )
    data = msgspec.json.encode(msg)
    assert b'"type":"redacted_thinking"' in data
    back = msgspec.json.decode(data, type=Message)
    assert back == msg
    assert type(back.parts[6]) is ToolResultPart
    assert back.parts[6].content == [TextPart(text="result")]


def test_defaults_are_not_shared_between_instances() -> None:
    a = ToolCallPart(id="1", name="f")
    b = ToolCallPart(id="2", name="f")
    a.arguments["x"] = 1
    assert b.arguments == {}
    r1 = ChatRequest(model="m", messages=[])
    r1.extra["k"] = 1
    assert ChatRequest(model="m", messages=[]).extra == {}


def test_document_defaults_to_pdf() -> None:
    assert DocumentPart(url="https://x/y.pdf").media_type == "application/pdf"


def test_tool_choice_requires_name_for_tool_mode() -> None:
    assert ToolChoice().mode == "auto"
    assert ToolChoice.tool("get_weather") == ToolChoice(mode="tool", name="get_weather")
    with pytest.raises(ValueError, match="tool name"):
        ToolChoice(mode="tool")


def test_chat_request_fields_and_encoding_omits_defaults() -> None:
    req = ChatRequest(
        model="gpt-4o",
        messages=[Message.user("hi")],
        tools=[ToolSpec(name="f", parameters={"type": "object"}, strict=True)],
        tool_choice=ToolChoice(mode="required"),
        output_schema=OutputSchema(name="out", schema={"type": "object"}),
        temperature=0.2,
        max_tokens=10,
        stop=["\n"],
        seed=1,
        extra={"reasoning_effort": "low"},
        metadata={"run": "1"},
    )
    back = msgspec.json.decode(msgspec.json.encode(req), type=ChatRequest)
    assert back == req
    minimal = msgspec.json.encode(ChatRequest(model="m", messages=[]))
    assert msgspec.json.decode(minimal) == {"model": "m", "messages": []}


def test_usage_add_treats_none_as_unknown() -> None:
    a = Usage(input_tokens=10, output_tokens=None, reasoning_tokens=2)
    b = Usage(input_tokens=5, output_tokens=7)
    total = a + b
    assert total == Usage(input_tokens=15, output_tokens=7, reasoning_tokens=2)
    assert (Usage() + Usage()) == Usage()
    assert Usage().input_tokens is None
    assert total.total_tokens == 22
    assert Usage(input_tokens=1).total_tokens is None


def test_usage_merge_overlays_known_fields() -> None:
    first = Usage(input_tokens=10, output_tokens=1)
    assert first.merge(Usage(output_tokens=30)) == Usage(input_tokens=10, output_tokens=30)


@given(
    st.lists(st.one_of(st.none(), st.integers(0, 10**9)), min_size=10, max_size=10),
)
def test_usage_add_is_commutative_and_none_is_identity(values: list[int | None]) -> None:
    a = Usage(
        input_tokens=values[0],
        output_tokens=values[1],
        cache_read_tokens=values[2],
        cache_write_tokens=values[3],
        reasoning_tokens=values[4],
    )
    b = Usage(
        input_tokens=values[5],
        output_tokens=values[6],
        cache_read_tokens=values[7],
        cache_write_tokens=values[8],
        reasoning_tokens=values[9],
    )
    assert a + b == b + a
    assert a + Usage() == a


def test_chat_response_defaults() -> None:
    resp = ChatResponse(message=Message.assistant("hello"))
    assert resp.text == "hello"
    assert resp.usage == Usage()
    assert resp.incomplete is False
    assert resp.error is None
    assert resp.cost is None


def test_stream_events_round_trip_as_a_tagged_union() -> None:
    events: list[StreamEvent] = [
        MessageStart(id="msg_1", model="m"),
        ThinkingDelta(index=0, text="t"),
        ThinkingDelta(index=0, signature="s"),
        RedactedThinkingDelta(index=1, data="d"),
        TextDelta(index=2, text="x"),
        ToolCallStart(index=3, id="c", name="f"),
        ToolCallDelta(index=3, arguments='{"a"'),
        ToolCallEnd(index=3),
        UsageUpdate(usage=Usage(input_tokens=1)),
        MessageEnd(finish_reason="tool_calls", raw_finish_reason="tool_use"),
        StreamError(type="overloaded_error", message="busy", status=529, raw={"x": 1}),
    ]
    data = msgspec.json.encode(events)
    back = msgspec.json.decode(data, type=list[StreamEvent])
    assert back == events
    # StreamError keeps `.type` as an attribute while the JSON tag stays the union's.
    err = msgspec.json.decode(msgspec.json.encode(events[-1]))
    assert err["type"] == "error"
    assert err["error_type"] == "overloaded_error"
    assert back[-1].type == "overloaded_error"  # type: ignore[union-attr]
