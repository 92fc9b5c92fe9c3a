"""The openai-responses stream decoder: events in, neutral events out, equal to ``parse``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from atoll_dialects import OpenAIResponsesDialect, Target
from atoll_registry import Registry
from atoll_testing import FakeLLMServer, ToolCall, Turn
from atoll_wire import (
    ChatRequest,
    ChatResponse,
    Message,
    MessageEnd,
    OutputSchema,
    RedactedThinkingPart,
    SSEDecoder,
    StreamAccumulator,
    StreamError,
    StreamEvent,
    TextPart,
    ThinkingPart,
    ToolCallEnd,
    ToolCallPart,
    ToolCallStart,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DIALECT = OpenAIResponsesDialect()
TARGET = Target.of(dialect="openai-responses", base_url="http://127.0.0.1:9/v1", name="m")


def _sse(*events: dict[str, Any]) -> bytes:
    out = b""
    for number, event in enumerate(events):
        body = {**event, "sequence_number": number}
        out += f"event: {event['type']}\ndata: {json.dumps(body)}\n\n".encode()
    return out


def _decode(
    body: bytes, sizes: list[int] | None = None, request: ChatRequest | None = None
) -> tuple[list[StreamEvent], ChatResponse]:
    decoder = DIALECT.stream_decoder(TARGET, request)
    sse = SSEDecoder()
    acc = StreamAccumulator()
    out: list[StreamEvent] = []
    chunks = _split(body, sizes or [len(body) or 1])
    for chunk in chunks:
        for event in sse.feed(chunk):
            out.extend(decoder.feed(event))
    for event in sse.flush():
        out.extend(decoder.feed(event))
    out.extend(decoder.finish())
    for event in out:
        acc.add(event)
    return out, acc.response()


def _split(body: bytes, sizes: list[int]) -> Iterator[bytes]:
    position, turn = 0, 0
    while position < len(body):
        size = max(sizes[turn % len(sizes)], 1)
        yield body[position : position + size]
        position += size
        turn += 1


RESPONSE = {"id": "resp_1", "object": "response", "created_at": 1, "model": "gpt-5", "output": []}
USAGE = {
    "input_tokens": 9,
    "input_tokens_details": {"cached_tokens": 4},
    "output_tokens": 5,
    "output_tokens_details": {"reasoning_tokens": 2},
    "total_tokens": 14,
}


def _created() -> dict[str, Any]:
    return {"type": "response.created", "response": {**RESPONSE, "status": "in_progress"}}


def _completed(status: str = "completed", **fields: Any) -> dict[str, Any]:
    kind = "response.completed" if status == "completed" else f"response.{status}"
    return {"type": kind, "response": {**RESPONSE, "status": status, "usage": USAGE, **fields}}


def _added(index: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response.output_item.added", "output_index": index, "item": item}


def _done(index: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response.output_item.done", "output_index": index, "item": item}


def _arguments(index: int, delta: str) -> dict[str, Any]:
    return {
        "type": "response.function_call_arguments.delta",
        "item_id": "fc_1",
        "output_index": index,
        "delta": delta,
    }


def _text(index: int, delta: str, item_id: str = "msg_1", content: int = 0) -> dict[str, Any]:
    return {
        "type": "response.output_text.delta",
        "item_id": item_id,
        "output_index": index,
        "content_index": content,
        "delta": delta,
        "logprobs": [],
    }


REASONING_DONE = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "plan it"}],
    "encrypted_content": "FULL-ENCRYPTED-CONTENT",
    "status": "completed",
}
MESSAGE_DONE = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "phase": "commentary",
    "content": [{"type": "output_text", "text": "Hello", "annotations": []}],
}
CALL_DONE = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "f",
    "arguments": '{"a":1}',
    "status": "completed",
}


def test_a_full_stream_keeps_every_id_and_takes_reasoning_from_done() -> None:
    body = _sse(
        _created(),
        {"type": "response.in_progress", "response": {**RESPONSE, "status": "in_progress"}},
        _added(
            0,
            {
                **REASONING_DONE,
                "summary": [],
                "encrypted_content": "FULL-ENC",
                "status": "in_progress",
            },
        ),
        {
            "type": "response.reasoning_summary_part.added",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "part": {"type": "summary_text", "text": ""},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": "plan ",
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": "it",
        },
        _done(0, REASONING_DONE),
        _added(1, {**MESSAGE_DONE, "content": [], "status": "in_progress"}),
        _text(1, "Hel"),
        _text(1, "lo"),
        _done(1, MESSAGE_DONE),
        _added(2, {**CALL_DONE, "arguments": "", "status": "in_progress"}),
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 2,
            "delta": '{"a"',
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 2,
            "delta": ":1}",
        },
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "output_index": 2,
            "arguments": '{"a":1}',
        },
        _done(2, CALL_DONE),
        _completed(output=[REASONING_DONE, MESSAGE_DONE, CALL_DONE]),
    )
    events, response = _decode(body)
    assert response.message.parts == [
        RedactedThinkingPart(data="FULL-ENCRYPTED-CONTENT", id="rs_1"),
        ThinkingPart(text="plan it", id="rs_1"),
        TextPart(text="Hello", id="msg_1", phase="commentary"),
        ToolCallPart(
            id="call_1", name="f", arguments={"a": 1}, raw_arguments='{"a":1}', item_id="fc_1"
        ),
    ]
    assert [e for e in events if isinstance(e, ToolCallStart)] == [
        ToolCallStart(index=3, id="call_1", name="f", item_id="fc_1")  # 0 rs, 1 summary, 2 text
    ]
    assert sum(isinstance(e, ToolCallEnd) for e in events) == 1
    assert (response.id, response.model) == ("resp_1", "gpt-5")
    assert (response.finish_reason, response.raw_finish_reason) == ("tool_calls", "completed")
    usage = response.usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.reasoning_tokens) == (9, 4, 2)
    assert not response.incomplete
    parsed = DIALECT.parse(
        json.dumps(
            {**_completed()["response"], "output": [REASONING_DONE, MESSAGE_DONE, CALL_DONE]}
        ).encode(),
        TARGET,
    )
    assert parsed.message == response.message


def test_what_a_server_sends_only_in_done_is_emitted_then() -> None:
    quiet_call = {**CALL_DONE, "arguments": ""}
    body = _sse(
        _created(),
        _added(0, {"type": "reasoning", "id": "rs_1", "summary": []}),
        _done(0, REASONING_DONE),
        _added(1, {**MESSAGE_DONE, "content": [], "phase": None}),  # phase told only at done
        _done(1, MESSAGE_DONE),
        _added(2, quiet_call),
        _done(2, CALL_DONE),
        _completed(),
    )
    _, response = _decode(body)
    assert response.message.parts == [
        RedactedThinkingPart(data="FULL-ENCRYPTED-CONTENT", id="rs_1"),
        ThinkingPart(text="plan it", id="rs_1"),
        TextPart(text="Hello", id="msg_1", phase="commentary"),
        ToolCallPart(
            id="call_1", name="f", arguments={"a": 1}, raw_arguments='{"a":1}', item_id="fc_1"
        ),
    ]


def test_a_phase_told_late_fills_in_the_streamed_text() -> None:
    body = _sse(
        _created(),
        _added(0, {**MESSAGE_DONE, "content": [], "phase": None}),
        _text(0, "Hel"),
        _text(0, "lo"),
        _done(0, {**MESSAGE_DONE, "phase": "final_answer"}),
        _completed(),
    )
    _, response = _decode(body)
    assert response.message.parts == [TextPart(text="Hello", id="msg_1", phase="final_answer")]
    assert response.finish_reason == "stop"


def test_a_stored_reasoning_item_keeps_its_id_and_raw_reasoning_streams() -> None:
    body = _sse(
        _created(),
        _added(0, {"type": "reasoning", "id": "rs_1", "summary": []}),
        _done(0, {"type": "reasoning", "id": "rs_1", "summary": []}),
        _added(1, {"type": "reasoning", "id": "rs_2", "summary": []}),
        {
            "type": "response.reasoning_text.delta",
            "item_id": "rs_2",
            "output_index": 1,
            "content_index": 0,
            "delta": "raw",
        },
        _done(
            1,
            {
                "type": "reasoning",
                "id": "rs_2",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "raw"}],
            },
        ),
        _completed(),
    )
    _, response = _decode(body)
    assert response.message.parts == [
        ThinkingPart(text="", id="rs_1"),
        ThinkingPart(text="raw", id="rs_2"),
    ]


def test_built_in_tools_and_unknown_events_produce_nothing() -> None:
    web = {"type": "web_search_call", "id": "ws_1", "status": "in_progress"}
    body = _sse(
        _created(),
        _added(0, web),
        {"type": "response.web_search_call.searching", "item_id": "ws_1", "output_index": 0},
        _done(0, {**web, "status": "completed"}),
        _added(1, {**MESSAGE_DONE, "content": []}),
        _text(1, "Found it"),
        {"type": "response.something_new", "x": 1},
        _done(
            1,
            {
                **MESSAGE_DONE,
                "content": [{"type": "output_text", "text": "Found it", "annotations": []}],
            },
        ),
        _completed(),
    )
    _, response = _decode(body)
    assert response.message.parts == [TextPart(text="Found it", id="msg_1", phase="commentary")]


@pytest.mark.parametrize(
    ("reason", "finish"), [("max_output_tokens", "length"), ("content_filter", "content_filter")]
)
def test_an_incomplete_response_ends_the_stream(reason: str, finish: str) -> None:
    body = _sse(
        _created(),
        _added(0, {**CALL_DONE, "arguments": ""}),
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 0,
            "delta": '{"a',
        },
        _completed("incomplete", incomplete_details={"reason": reason}),
    )
    events, response = _decode(body)
    assert isinstance(events[-1], MessageEnd)
    assert (response.finish_reason, response.raw_finish_reason) == (finish, reason)
    call = response.message.tool_calls[0]
    assert call.raw_arguments == '{"a' and call.arguments_error is not None
    assert not response.incomplete


def test_failures_and_error_events_are_stream_errors() -> None:
    failed = _sse(
        _created(),
        _completed("failed", error={"code": "rate_limit_exceeded", "message": "slow"}),
    )
    events, response = _decode(failed)
    error = events[-1]
    assert isinstance(error, StreamError)
    assert (error.type, error.code, error.message) == (
        "rate_limit_exceeded",
        "rate_limit_exceeded",
        "slow",
    )
    assert response.finish_reason == "error" and response.incomplete
    errored = _sse(_created(), {"type": "error", "code": None, "message": "boom", "param": None})
    events, _ = _decode(errored)
    assert isinstance(events[-1], StreamError)
    assert (events[-1].type, events[-1].message) == ("server_error", "boom")


def test_a_stream_cut_before_completion_is_incomplete() -> None:
    body = _sse(_created(), _added(0, {**CALL_DONE, "arguments": ""}), _text(1, "x"))
    events, response = _decode(body)
    assert response.incomplete and not any(isinstance(e, MessageEnd) for e in events)
    assert isinstance(events[-1], ToolCallEnd)  # the open call is closed, its text kept


def test_events_after_completion_and_malformed_events() -> None:
    decoder = DIALECT.stream_decoder(TARGET)
    sse = SSEDecoder()
    out: list[StreamEvent] = []
    for event in sse.feed(_sse(_created(), _completed(), _text(0, "late"))):
        out.extend(decoder.feed(event))
    assert decoder.done and isinstance(out[-1], MessageEnd)
    assert decoder.finish() == []
    bad = DIALECT.stream_decoder(TARGET)
    (error,) = bad.feed(next(iter(SSEDecoder().feed(b'data: {"type":"response.out\n\n'))))
    assert isinstance(error, StreamError) and error.type == "invalid_event"


def test_structured_output_through_a_forced_tool_streams_as_text() -> None:
    registry = Registry.default()
    model = registry.resolve("openai/gpt-4-turbo")  # tools, no JSON-schema output: a forced tool
    target = Target.of(registry.provider("openai"), model, dialect="openai-responses")
    request = ChatRequest(
        model="m", messages=[Message.user("q")], output_schema=OutputSchema(name="Out", schema={})
    )
    out_call = {**CALL_DONE, "name": "Out"}
    body = _sse(
        _created(),
        _added(0, {**out_call, "arguments": ""}),
        _arguments(0, '{"x":'),
        _arguments(0, "1}"),
        _done(0, {**out_call, "arguments": '{"x":1}'}),
        _completed(output=[{**out_call, "arguments": '{"x":1}'}]),
    )
    decoder = DIALECT.stream_decoder(target, request)
    acc = StreamAccumulator()
    for event in SSEDecoder().feed(body):
        for neutral in decoder.feed(event):
            acc.add(neutral)
    response = acc.response()
    assert response.text == '{"x":1}' and response.finish_reason == "stop"
    assert response.message.tool_calls == []


# ---------------------------------------------------------------- property: stream == parse


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().run_in_thread() as srv:
        yield srv


_words = st.text(st.sampled_from("ab xyé\n{}\"'"), max_size=30)
_calls = st.lists(
    st.builds(
        ToolCall,
        name=st.sampled_from(["f", "g"]),
        arguments=st.dictionaries(st.sampled_from(["a", "b"]), st.integers()) | _words,
    ),
    max_size=3,
)
_turns = st.builds(
    Turn,
    text=st.none() | _words,
    thinking=st.none() | _words,
    tool_calls=_calls,
    finish_reason=st.sampled_from([None, "stop", "length", "content_filter"]),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    turn=_turns,
    sizes=st.lists(st.integers(8, 400), min_size=1, max_size=5),
    summary=st.booleans(),
)
def test_a_streamed_response_equals_the_parsed_one(
    server: FakeLLMServer, turn: Turn, sizes: list[int], summary: bool
) -> None:
    server.models["prop"] = lambda request: turn
    body: dict[str, Any] = {
        "model": "prop",
        "input": "hi",
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "stream": True,
    }
    if summary:
        body["reasoning"] = {"summary": "auto"}
    streamed = httpx.post(server.base_url + "/responses", json=body).content
    _, accumulated = _decode(streamed, sizes)
    # The final event holds the whole response, as a non-stream call returns it.
    final = [e for e in SSEDecoder().feed(streamed) if e.event.startswith("response.")][-1]
    parsed = DIALECT.parse(json.dumps(json.loads(final.data)["response"]).encode(), TARGET)
    assert accumulated.message.parts == parsed.message.parts
    assert (accumulated.finish_reason, accumulated.raw_finish_reason) == (
        parsed.finish_reason,
        parsed.raw_finish_reason,
    )
    assert accumulated.usage == parsed.usage
    assert (accumulated.id, accumulated.model) == (parsed.id, parsed.model)
    assert not accumulated.incomplete
    whole = httpx.post(server.base_url + "/responses", json={**body, "stream": False})
    again = DIALECT.parse(whole.content, TARGET)
    assert [type(p) for p in again.message.parts] == [type(p) for p in parsed.message.parts]
    assert again.text == parsed.text and again.message.thinking == parsed.message.thinking
