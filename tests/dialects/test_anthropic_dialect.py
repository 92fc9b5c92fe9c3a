"""AnthropicMessagesDialect: request bodies, thinking round trips, cache_control, streams."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from atoll_dialects import (
    AnthropicMessagesDialect,
    CapabilityError,
    OverloadedError,
    Target,
    UnsupportedRequestError,
)
from atoll_dialects._error_bodies import error_from_stream_event
from atoll_registry import Capabilities, ModelSpec, ProviderQuirks, ProviderSpec
from atoll_wire import (
    AudioPart,
    ChatRequest,
    DocumentPart,
    ImagePart,
    Message,
    MessageEnd,
    MessageStart,
    OutputSchema,
    RedactedThinkingPart,
    ServerSentEvent,
    SSEDecoder,
    StreamAccumulator,
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

DIALECT = AnthropicMessagesDialect()
KEY = "sk-ant-test-0123456789abcdef"
WEATHER = ToolSpec(
    name="get_weather", parameters={"type": "object", "properties": {"city": {"type": "string"}}}
)


def anthropic(**headers: str) -> ProviderSpec:
    return ProviderSpec(
        name="anthropic",
        dialect="anthropic-messages",
        auth="x-api-key",
        source="test",
        as_of=date(2026, 1, 1),
        base_url="https://api.anthropic.test/v1",
        headers=headers,
        quirks=ProviderQuirks(max_tokens_required=True, cache_tokens_in_input=False),
    )


def model(max_output: int | None = None, **caps: Any) -> ModelSpec:
    return ModelSpec(
        id="claude-x",
        provider="anthropic",
        max_output_tokens=max_output,
        capabilities=Capabilities(**caps),
    )


def body_of(request: ChatRequest, spec: ModelSpec | None = None) -> dict[str, Any]:
    return json.loads(
        DIALECT.build(
            request, Target.of(anthropic(), spec, api_key=KEY, base_url="https://h/v1")
        ).body
    )


def test_url_version_header_and_key_only_in_x_api_key() -> None:
    target = Target.of(anthropic(), api_key=KEY, base_url="https://h/v1/")
    http = DIALECT.build(ChatRequest(model="claude-x", messages=[Message.user("hi")]), target)
    assert http.url == "https://h/v1/messages"
    assert dict(target.auth.headers()) == {"x-api-key": KEY}
    assert "x-api-key" not in http.headers
    assert http.headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in http.headers
    assert KEY.encode() not in http.body
    assert KEY not in repr(http)
    pinned = DIALECT.build(
        ChatRequest(model="c", messages=[Message.user("hi")]),
        Target.of(
            anthropic(**{"anthropic-version": "2099-01-01"}), api_key=KEY, base_url="https://h/v1"
        ),
    )
    assert pinned.headers["anthropic-version"] == "2099-01-01"


def test_system_hoisted_turns_merged_and_max_tokens_defaulted() -> None:
    request = ChatRequest(
        model="claude-x",
        messages=[
            Message.system("a"),
            Message.system("b"),
            Message.user("one"),
            Message.user("two"),
            Message.assistant("ok"),
        ],
        stop=["END"],
        temperature=0.1,
    )
    body = body_of(request, model(max_output=64000))
    assert body["system"] == "a\n\nb"
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
    ]
    assert body["max_tokens"] == 8192
    assert body["stop_sequences"] == ["END"]
    assert body["temperature"] == 0.1
    assert (
        body_of(ChatRequest(model="c", messages=[Message.user("x")], max_tokens=10))["max_tokens"]
        == 10
    )


def test_tool_use_and_parallel_results_in_one_user_turn() -> None:
    calls = [
        ToolCallPart(id="t1", name="get_weather", arguments={"city": "Paris"}),
        ToolCallPart(id="t2", name="get_weather", arguments={"city": "Rome"}),
    ]
    messages = [
        Message.user("weather?"),
        Message(role="assistant", parts=[TextPart(text="checking"), *calls]),
        Message(role="tool", parts=[ToolResultPart.from_text("t1", "sunny")]),
        Message(
            role="tool",
            parts=[ToolResultPart(call_id="t2", content=[TextPart(text="boom")], is_error=True)],
        ),
    ]
    body = body_of(
        ChatRequest(
            model="c", messages=messages, tools=[WEATHER], tool_choice=ToolChoice(mode="required")
        )
    )
    assert body["messages"][1]["content"][1] == {
        "type": "tool_use",
        "id": "t1",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    results = body["messages"][2]
    assert results["role"] == "user"
    assert [b["tool_use_id"] for b in results["content"]] == ["t1", "t2"]
    assert results["content"][1]["is_error"] is True
    assert body["tools"] == [{"name": "get_weather", "input_schema": WEATHER.parameters}]
    assert body["tool_choice"] == {"type": "any"}


def test_thinking_signatures_and_redacted_thinking_round_trip() -> None:
    assistant = Message(
        role="assistant",
        parts=[
            ThinkingPart(text="reasoning", signature="SIG=="),
            RedactedThinkingPart(data="OPAQUE"),
            ThinkingPart(text="unsigned, from another provider"),
            TextPart(text="answer"),
        ],
    )
    body = body_of(
        ChatRequest(model="c", messages=[Message.user("q"), assistant, Message.user("more")])
    )
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "reasoning", "signature": "SIG=="},
        {"type": "redacted_thinking", "data": "OPAQUE"},
        {"type": "text", "text": "answer"},
    ]


def test_media_blocks() -> None:
    message = Message(
        role="user",
        parts=[
            ImagePart(data=b"\x89PNG", media_type="image/png"),
            ImagePart(url="data:image/jpeg;base64,AAAA"),
            ImagePart(url="https://x/y.png"),
            DocumentPart(data=b"%PDF", title="doc"),
            DocumentPart(url="https://x/d.pdf"),
        ],
    )
    content = body_of(ChatRequest(model="c", messages=[message]))["messages"][0]["content"]
    assert content[0]["source"] == {"type": "base64", "media_type": "image/png", "data": "iVBORw=="}
    assert content[1]["source"] == {"type": "base64", "media_type": "image/jpeg", "data": "AAAA"}
    assert content[2]["source"] == {"type": "url", "url": "https://x/y.png"}
    assert content[3] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERg=="},
        "title": "doc",
    }
    assert content[4]["source"] == {"type": "url", "url": "https://x/d.pdf"}


def test_audio_and_seed_are_refused_before_sending() -> None:
    with pytest.raises(UnsupportedRequestError, match="audio"):
        body_of(
            ChatRequest(
                model="c",
                messages=[
                    Message(role="user", parts=[AudioPart(data=b"x", media_type="audio/wav")])
                ],
            )
        )
    with pytest.raises(UnsupportedRequestError, match="seed"):
        body_of(ChatRequest(model="c", messages=[Message.user("x")], seed=1))


def test_vision_capability_checked() -> None:
    with pytest.raises(CapabilityError):
        body_of(
            ChatRequest(
                model="c", messages=[Message(role="user", parts=[ImagePart(url="https://x")])]
            ),
            model(vision=False),
        )


def test_cache_control_marks_system_tools_and_last_block() -> None:
    request = ChatRequest(
        model="c",
        messages=[Message.system("long prompt"), Message.user("q")],
        tools=[WEATHER],
        extra={"cache_control": {"type": "ephemeral"}},
    )
    body = body_of(request)
    mark = {"type": "ephemeral"}
    assert body["system"] == [{"type": "text", "text": "long prompt", "cache_control": mark}]
    assert body["tools"][-1]["cache_control"] == mark
    assert body["messages"][-1]["content"][-1]["cache_control"] == mark
    assert "cache_control" not in body


def test_structured_output_native_or_forced_tool() -> None:
    schema = OutputSchema(name="City", schema={"type": "object"})
    request = ChatRequest(model="c", messages=[Message.user("x")], output_schema=schema)
    native = body_of(request, model(json_schema=True))
    # Anthropic requires every object closed; the dialect fits the schema (see _schema_fit).
    assert native["output_config"] == {
        "format": {
            "type": "json_schema",
            "schema": {"type": "object", "additionalProperties": False},
        }
    }
    forced = body_of(request, model(json_schema=False))
    assert forced["tool_choice"] == {"type": "tool", "name": "City"}
    assert forced["tools"][-1]["name"] == "City"
    reply = {
        "id": "m",
        "content": [{"type": "tool_use", "id": "t", "name": "City", "input": {"n": 1}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    parsed = DIALECT.parse(
        json.dumps(reply).encode(), Target.of(anthropic(), model(json_schema=False)), request
    )
    assert parsed.message.parts == [TextPart(text='{"n":1}')]
    with pytest.raises(CapabilityError):
        body_of(request, model(json_schema=False, tools=False))


def test_parse_usage_includes_cache_tokens_and_error_envelope_raises() -> None:
    reply = {
        "id": "m",
        "model": "claude",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 10,
            "output_tokens": 3,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 20,
        },
    }
    parsed = DIALECT.parse(json.dumps(reply).encode())
    assert parsed.usage == Usage(
        input_tokens=130, output_tokens=3, cache_read_tokens=100, cache_write_tokens=20
    )
    assert parsed.finish_reason == "stop"
    with pytest.raises(OverloadedError):
        DIALECT.parse(
            b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
        )


# ---------------------------------------------------------------- streams


def ev(kind: str, **data: Any) -> ServerSentEvent:
    return ServerSentEvent(event=kind, data=json.dumps({"type": kind, **data}))


def run(events: list[ServerSentEvent]) -> list[StreamEvent]:
    decoder = DIALECT.stream_decoder()
    out: list[StreamEvent] = []
    for event in events:
        out.extend(decoder.feed(event))
    return out + decoder.finish()


START = ev(
    "message_start",
    message={
        "id": "msg",
        "model": "claude",
        "usage": {
            "input_tokens": 5,
            "output_tokens": 1,
            "cache_read_input_tokens": 7,
            "cache_creation_input_tokens": 0,
        },
    },
)


def test_stream_thinking_signature_tool_and_usage() -> None:
    events = run(
        [
            START,
            ev("content_block_start", index=0, content_block={"type": "thinking", "thinking": ""}),
            ev("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "hmm"}),
            ev(
                "content_block_delta",
                index=0,
                delta={"type": "signature_delta", "signature": "SIG"},
            ),
            ev("content_block_stop", index=0),
            ev(
                "content_block_start",
                index=1,
                content_block={"type": "tool_use", "id": "t", "name": "f", "input": {}},
            ),
            ev(
                "content_block_delta",
                index=1,
                delta={"type": "input_json_delta", "partial_json": '{"a":'},
            ),
            ev("ping"),
            ev(
                "content_block_delta",
                index=1,
                delta={"type": "input_json_delta", "partial_json": "1}"},
            ),
            ev("content_block_stop", index=1),
            ev("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 9}),
            ev("message_stop"),
        ]
    )
    assert events[0] == MessageStart(id="msg", model="claude")
    assert events[1] == UsageUpdate(
        usage=Usage(input_tokens=12, output_tokens=1, cache_read_tokens=7, cache_write_tokens=0)
    )
    assert ThinkingDelta(index=0, signature="SIG") in events
    assert [e for e in events if isinstance(e, ToolCallStart | ToolCallDelta | ToolCallEnd)] == [
        ToolCallStart(index=1, id="t", name="f"),
        ToolCallDelta(index=1, arguments='{"a":'),
        ToolCallDelta(index=1, arguments="1}"),
        ToolCallEnd(index=1),
    ]
    # message_delta's usage omits input and cache counts: they carry over, nothing is summed.
    assert (
        UsageUpdate(
            usage=Usage(input_tokens=12, output_tokens=9, cache_read_tokens=7, cache_write_tokens=0)
        )
        in events
    )
    assert events[-1] == MessageEnd(finish_reason="tool_calls", raw_finish_reason="tool_use")


def test_stream_without_message_stop_is_incomplete_and_closes_open_tools() -> None:
    events = run(
        [
            START,
            ev(
                "content_block_start",
                index=0,
                content_block={"type": "tool_use", "id": "t", "name": "f", "input": {}},
            ),
            ev(
                "content_block_delta",
                index=0,
                delta={"type": "input_json_delta", "partial_json": '{"a'},
            ),
        ]
    )
    assert not any(isinstance(e, MessageEnd) for e in events)
    assert events[-1] == ToolCallEnd(index=0)


def test_stream_error_event() -> None:
    events = run([START, ev("error", error={"type": "overloaded_error", "message": "Overloaded"})])
    errors = [e for e in events if isinstance(e, StreamError)]
    assert [(e.type, e.message) for e in errors] == [("overloaded_error", "Overloaded")]


def test_mid_stream_error_then_typed_error_carrying_the_partial_response() -> None:
    """Anthropic's ``event: error`` after some text: a StreamError, then OverloadedError.

    The body goes through the real SSE decoder; no ``message_stop`` follows the error, so the
    partial response is incomplete and keeps the text and usage that arrived before it.
    """
    body = (
        b"event: message_start\n"
        b'data: {"type":"message_start","message":{"id":"msg_1","model":"claude",'
        b'"usage":{"input_tokens":9,"output_tokens":1}}}\n\n'
        b"event: content_block_start\n"
        b'data: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n'
        b'event: ping\ndata: {"type": "ping"}\n\n'
        b"event: content_block_delta\n"
        b'data: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"Hello, wor"}}\n\n'
        b"event: error\n"
        b'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    sse, decoder = SSEDecoder(), DIALECT.stream_decoder(Target.of(anthropic()))
    events: list[StreamEvent] = []
    for event in sse.feed(body):
        events.extend(decoder.feed(event))
    events.extend(decoder.finish())
    errors = [e for e in events if isinstance(e, StreamError)]
    assert [(e.type, e.message) for e in errors] == [("overloaded_error", "Overloaded")]
    assert not decoder.done
    acc = StreamAccumulator()
    for event in events:
        acc.add(event)
    partial = acc.response()
    assert partial.incomplete
    assert partial.message.text == "Hello, wor"
    assert partial.usage == Usage(input_tokens=9, output_tokens=1)
    assert partial.error is not None
    assert partial.error == errors[0]
    error = error_from_stream_event(partial.error, partial, provider="anthropic", model="claude")
    assert type(error) is OverloadedError
    assert error.partial is partial
    assert (error.provider, error.model, error.message) == ("anthropic", "claude", "Overloaded")


def test_server_tool_blocks_and_unknown_events_are_skipped() -> None:
    events = run(
        [
            START,
            ev(
                "content_block_start",
                index=0,
                content_block={
                    "type": "server_tool_use",
                    "id": "s",
                    "name": "web_search",
                    "input": {},
                },
            ),
            ev(
                "content_block_delta",
                index=0,
                delta={"type": "input_json_delta", "partial_json": '{"q":1}'},
            ),
            ev("content_block_stop", index=0),
            ev("content_block_start", index=1, content_block={"type": "text", "text": ""}),
            ev("content_block_delta", index=1, delta={"type": "text_delta", "text": "hi"}),
            ev("some_future_event", index=1),
            ev("message_stop"),
        ]
    )
    assert [e for e in events if isinstance(e, TextDelta | ToolCallStart | ToolCallDelta)] == [
        TextDelta(index=1, text="hi")
    ]
