"""atoll_wire.responses against the openai SDK's own types, the schema's source.

Every event, item and body the SDK can build decodes into our structs with the same values,
and what we encode validates as the SDK's models; unknown types are kept, never fatal.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import msgspec
import pytest
from atoll_wire import responses as wire
from hypothesis import given
from hypothesis import strategies as st
from openai.types import responses as sdk
from pydantic import BaseModel, TypeAdapter

M = TypeVar("M", bound=BaseModel)


def _v(model: type[M], /, **fields: Any) -> M:
    """An SDK model from plain values, validated as the SDK validates them."""
    return model.model_validate(fields)


_EVENT = TypeAdapter(sdk.ResponseStreamEvent)
_RESPONSE = TypeAdapter(sdk.Response)

MESSAGE = _v(
    sdk.ResponseOutputMessage,
    id="msg_1",
    type="message",
    role="assistant",
    status="completed",
    phase="final_answer",
    content=[
        _v(
            sdk.ResponseOutputText,
            type="output_text",
            text="Hi",
            annotations=[
                {
                    "type": "url_citation",
                    "url": "https://example.com",
                    "title": "Ex",
                    "start_index": 0,
                    "end_index": 2,
                }
            ],
        ),
        _v(sdk.ResponseOutputRefusal, type="refusal", refusal="no"),
    ],
)
REASONING = _v(
    sdk.ResponseReasoningItem,
    id="rs_1",
    type="reasoning",
    summary=[{"type": "summary_text", "text": "plan"}],
    encrypted_content="gAAAAAB",
    status="completed",
)
CALL = _v(
    sdk.ResponseFunctionToolCall,
    id="fc_1",
    call_id="call_1",
    type="function_call",
    name="f",
    arguments='{"a":1}',
)
USAGE = _v(
    sdk.ResponseUsage,
    input_tokens=10,
    input_tokens_details={"cached_tokens": 4, "cache_write_tokens": 2},
    output_tokens=7,
    output_tokens_details={"reasoning_tokens": 3},
    total_tokens=17,
)


def _response(**fields: Any) -> sdk.Response:
    base: dict[str, Any] = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1_700_000_000,
        "model": "gpt-5",
        "output": [REASONING, MESSAGE, CALL],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "status": "completed",
        "usage": USAGE,
    }
    return _v(sdk.Response, **{**base, **fields})


def _dump(model: Any) -> bytes:
    return model.model_dump_json(exclude_unset=True).encode()


def test_a_whole_response_decodes_item_by_item() -> None:
    got = wire.decode_response(_dump(_response()))
    reasoning, message, call = got.output
    assert isinstance(reasoning, wire.Reasoning)
    assert reasoning.encrypted_content == "gAAAAAB"
    assert reasoning.summary == [wire.SummaryText(text="plan")]
    assert isinstance(message, wire.Message) and message.phase == "final_answer"
    assert isinstance(message.content, list)
    text, refusal = message.content
    assert isinstance(text, wire.OutputText) and text.annotations is not None
    assert text.annotations[0]["type"] == "url_citation"
    assert refusal == wire.Refusal(refusal="no")
    assert call == wire.FunctionCall(id="fc_1", call_id="call_1", name="f", arguments='{"a":1}')
    assert got.usage is not None and got.usage.input_tokens_details is not None
    assert got.usage.input_tokens_details.cache_write_tokens == 2
    assert got.usage.output_tokens_details == wire.OutputTokensDetails(reasoning_tokens=3)


def test_incomplete_and_failed_responses() -> None:
    cut = wire.decode_response(
        _dump(_response(status="incomplete", incomplete_details={"reason": "max_output_tokens"}))
    )
    assert cut.incomplete_details == wire.IncompleteDetails(reason="max_output_tokens")
    failed = wire.decode_response(
        _dump(_response(status="failed", output=[], error={"code": "server_error", "message": "x"}))
    )
    assert failed.error == wire.ResponseError(code="server_error", message="x")


def _events() -> list[Any]:
    part = _v(sdk.ResponseOutputText, type="output_text", text="", annotations=[])
    summary = {"type": "summary_text", "text": ""}
    common = {"item_id": "msg_1", "output_index": 1}
    return [
        _v(
            sdk.ResponseCreatedEvent,
            type="response.created",
            sequence_number=0,
            response=_response(),
        ),
        _v(
            sdk.ResponseInProgressEvent,
            type="response.in_progress",
            sequence_number=1,
            response=_response(),
        ),
        _v(
            sdk.ResponseOutputItemAddedEvent,
            type="response.output_item.added",
            sequence_number=2,
            output_index=0,
            item=REASONING,
        ),
        _v(
            sdk.ResponseReasoningSummaryPartAddedEvent,
            type="response.reasoning_summary_part.added",
            sequence_number=3,
            item_id="rs_1",
            output_index=0,
            summary_index=0,
            part=summary,
        ),
        _v(
            sdk.ResponseReasoningSummaryTextDeltaEvent,
            type="response.reasoning_summary_text.delta",
            sequence_number=4,
            item_id="rs_1",
            output_index=0,
            summary_index=0,
            delta="pl",
        ),
        _v(
            sdk.ResponseReasoningSummaryTextDoneEvent,
            type="response.reasoning_summary_text.done",
            sequence_number=5,
            item_id="rs_1",
            output_index=0,
            summary_index=0,
            text="plan",
        ),
        _v(
            sdk.ResponseReasoningSummaryPartDoneEvent,
            type="response.reasoning_summary_part.done",
            sequence_number=6,
            item_id="rs_1",
            output_index=0,
            summary_index=0,
            part={"type": "summary_text", "text": "plan"},
        ),
        _v(
            sdk.ResponseReasoningTextDeltaEvent,
            type="response.reasoning_text.delta",
            sequence_number=7,
            item_id="rs_1",
            output_index=0,
            content_index=0,
            delta="th",
        ),
        _v(
            sdk.ResponseReasoningTextDoneEvent,
            type="response.reasoning_text.done",
            sequence_number=8,
            item_id="rs_1",
            output_index=0,
            content_index=0,
            text="think",
        ),
        _v(
            sdk.ResponseOutputItemDoneEvent,
            type="response.output_item.done",
            sequence_number=9,
            output_index=0,
            item=REASONING,
        ),
        _v(
            sdk.ResponseContentPartAddedEvent,
            type="response.content_part.added",
            sequence_number=10,
            content_index=0,
            part=part,
            **common,
        ),
        _v(
            sdk.ResponseTextDeltaEvent,
            type="response.output_text.delta",
            sequence_number=11,
            content_index=0,
            delta="Hi",
            logprobs=[],
            **common,
        ),
        _v(
            sdk.ResponseTextDoneEvent,
            type="response.output_text.done",
            sequence_number=12,
            content_index=0,
            text="Hi",
            logprobs=[],
            **common,
        ),
        _v(
            sdk.ResponseOutputTextAnnotationAddedEvent,
            type="response.output_text.annotation.added",
            sequence_number=13,
            content_index=0,
            annotation_index=0,
            annotation={"type": "file_path", "file_id": "f", "index": 0},
            **common,
        ),
        _v(
            sdk.ResponseRefusalDeltaEvent,
            type="response.refusal.delta",
            sequence_number=14,
            content_index=1,
            delta="n",
            **common,
        ),
        _v(
            sdk.ResponseRefusalDoneEvent,
            type="response.refusal.done",
            sequence_number=15,
            content_index=1,
            refusal="no",
            **common,
        ),
        _v(
            sdk.ResponseContentPartDoneEvent,
            type="response.content_part.done",
            sequence_number=16,
            content_index=0,
            part=part,
            **common,
        ),
        _v(
            sdk.ResponseFunctionCallArgumentsDeltaEvent,
            type="response.function_call_arguments.delta",
            sequence_number=17,
            item_id="fc_1",
            output_index=2,
            delta='{"a"',
        ),
        _v(
            sdk.ResponseFunctionCallArgumentsDoneEvent,
            type="response.function_call_arguments.done",
            sequence_number=18,
            item_id="fc_1",
            output_index=2,
            arguments='{"a":1}',
            name="f",
        ),
        _v(
            sdk.ResponseCompletedEvent,
            type="response.completed",
            sequence_number=19,
            response=_response(),
        ),
        _v(
            sdk.ResponseIncompleteEvent,
            type="response.incomplete",
            sequence_number=20,
            response=_response(
                status="incomplete", incomplete_details={"reason": "content_filter"}
            ),
        ),
        _v(
            sdk.ResponseFailedEvent,
            type="response.failed",
            sequence_number=21,
            response=_response(status="failed", error={"code": "server_error", "message": "x"}),
        ),
        _v(
            sdk.ResponseErrorEvent,
            type="error",
            sequence_number=22,
            code="rate_limit_exceeded",
            message="slow",
            param=None,
        ),
        _v(
            sdk.ResponseQueuedEvent,
            type="response.queued",
            sequence_number=23,
            response=_response(),
        ),
    ]


@pytest.mark.parametrize("event", _events(), ids=lambda e: e.type)
def test_every_sdk_event_decodes_and_encodes_back_as_the_sdk_reads_it(event: Any) -> None:
    decoded = wire.decode_event(_dump(event))
    assert not isinstance(decoded, wire.UnknownEvent)
    assert type(decoded).__struct_config__.tag == event.type
    assert decoded.sequence_number == event.sequence_number
    again = _EVENT.validate_json(msgspec.json.encode(decoded))
    assert again.type == event.type
    expected = event.model_dump(exclude_unset=True, mode="json")
    got = again.model_dump(exclude_unset=True, mode="json")
    for key, value in expected.items():
        if key != "response":  # a response echo has many fields; checked below
            assert got[key] == value, key
    if "response" in expected:
        response = expected["response"]
        assert got["response"]["output"] == response["output"]
        assert got["response"]["usage"] == response["usage"]


def test_unknown_events_items_and_parts_are_kept_whole() -> None:
    searching = {"type": "response.web_search_call.searching", "item_id": "ws_1", "output_index": 0}
    event = wire.decode_event(json.dumps({**searching, "sequence_number": 5}))
    assert isinstance(event, wire.UnknownEvent)
    assert event.event_type == "response.web_search_call.searching"
    assert event.sequence_number == 5 and event.raw["item_id"] == "ws_1"
    added = wire.decode_event(
        json.dumps(
            {
                "type": "response.output_item.added",
                "sequence_number": 2,
                "output_index": 0,
                "item": {"type": "web_search_call", "id": "ws_1", "status": "in_progress"},
            }
        )
    )
    assert isinstance(added, wire.OutputItemAddedEvent)
    assert added.item == wire.UnknownItem(
        item_type="web_search_call",
        raw={"type": "web_search_call", "id": "ws_1", "status": "in_progress"},
    )
    part = wire.decode_event(
        json.dumps(
            {
                "type": "response.content_part.added",
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "part": {"type": "output_audio", "data": "x"},
            }
        )
    )
    assert isinstance(part, wire.ContentPartAddedEvent)
    assert part.part == wire.UnknownContent(
        content_type="output_audio", raw={"type": "output_audio", "data": "x"}
    )
    body = _dump(_response()).replace(b'"type":"refusal"', b'"type":"output_audio"')
    message = wire.decode_response(body).output[1]
    assert isinstance(message, wire.Message) and isinstance(message.content, list)
    assert isinstance(message.content[1], wire.UnknownContent)


def test_a_known_event_with_a_bad_field_is_an_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        wire.decode_event(b'{"type":"response.output_text.delta","delta":5}')
    with pytest.raises(msgspec.DecodeError):
        wire.decode_event(b'{"type":"response.output_text.del')


def test_requests_decode_leniently() -> None:
    body = {
        "model": "gpt-5",
        "input": [
            {"role": "user", "content": "hi"},  # the API's short form: no type
            {"type": "item_reference", "id": "msg_0"},
            {"type": "computer_call_output", "call_id": "c", "output": {}},
            {
                "type": "function_call_output",
                "call_id": "call_1",
                "output": [{"type": "input_text", "text": "ok"}, {"type": "input_audio"}],
            },
        ],
        "tools": [{"type": "web_search"}, {"type": "function", "name": "f", "strict": True}],
        "tool_choice": {"type": "function", "name": "f"},
        "reasoning": {"effort": "high", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "store": False,
    }
    request = wire.decode_request(json.dumps(body))
    assert isinstance(request.input, list)
    user, reference, unknown, output = request.input
    assert user == wire.Message(role="user", content="hi")
    assert reference == wire.ItemReference(id="msg_0")
    assert isinstance(unknown, wire.UnknownItem) and unknown.item_type == "computer_call_output"
    assert isinstance(output, wire.FunctionCallOutput) and isinstance(output.output, list)
    assert output.output[0] == wire.InputText(text="ok")
    assert isinstance(output.output[1], wire.UnknownContent)
    assert request.tools is not None
    assert request.tools[0] == wire.UnknownTool(tool_type="web_search", raw={"type": "web_search"})
    assert request.tools[1] == wire.FunctionTool(name="f", strict=True)
    assert request.tool_choice == wire.ToolChoice(type="function", name="f")
    assert request.reasoning == wire.ReasoningConfig(effort="high", summary="auto")


def test_keys_the_api_requires_are_encoded_even_when_empty() -> None:
    body = wire.ResponsesRequest(
        model="m",
        input=[
            wire.Reasoning(id="rs_1", summary=[]),
            wire.Message(
                role="assistant",
                id="msg_1",
                status="completed",
                content=[wire.OutputText(text="", annotations=[])],
            ),
            wire.FunctionCall(call_id="call_1", name="f", arguments=""),
        ],
        tools=[wire.FunctionTool(name="f")],
    )
    sent = json.loads(wire.encode(body, {"previous_response_id": "resp_0"}))
    reasoning, message, call = sent["input"]
    assert reasoning == {"type": "reasoning", "id": "rs_1", "summary": []}
    assert message["content"] == [{"type": "output_text", "text": "", "annotations": []}]
    assert call == {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": ""}
    assert sent["tools"] == [
        {"type": "function", "name": "f", "parameters": None, "strict": None, "description": None}
    ]
    assert sent["previous_response_id"] == "resp_0"


def test_a_response_we_encode_is_a_valid_sdk_response() -> None:
    ours = wire.Response(
        id="resp_1",
        created_at=1,
        status="completed",
        model="m",
        output=[
            wire.Reasoning(id="rs_1", summary=[], encrypted_content="e", status="completed"),
            wire.Message(
                role="assistant",
                id="msg_1",
                status="completed",
                content=[wire.OutputText(text="hi", annotations=[], logprobs=[])],
            ),
            wire.FunctionCall(call_id="c", name="f", arguments="{}", id="fc_1"),
        ],
        usage=wire.Usage(
            input_tokens=1,
            input_tokens_details=wire.InputTokensDetails(cached_tokens=0, cache_write_tokens=0),
            output_tokens=1,
            output_tokens_details=wire.OutputTokensDetails(reasoning_tokens=0),
            total_tokens=2,
        ),
    )
    theirs = _RESPONSE.validate_json(msgspec.json.encode(ours))
    assert theirs.output_text == "hi"
    assert [o.type for o in theirs.output] == ["reasoning", "message", "function_call"]


_names = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz._"), min_size=1, max_size=30)


@given(kind=_names, extra=st.dictionaries(_names, st.integers() | st.text(max_size=5)))
def test_any_unknown_event_type_is_passed_through(kind: str, extra: dict[str, Any]) -> None:
    if kind in {"error"} or kind.startswith("response."):
        kind = "x." + kind
    raw = {**extra, "type": kind}
    event = wire.decode_event(json.dumps(raw))
    assert isinstance(event, wire.UnknownEvent)
    assert event.event_type == kind and event.raw == raw


_text = st.text(max_size=40)
_items = st.one_of(
    st.builds(
        wire.Message,
        role=st.sampled_from(["user", "system", "developer"]),
        content=_text | st.lists(st.builds(wire.InputText, text=_text), max_size=3),
    ),
    st.builds(
        wire.FunctionCall,
        call_id=_text,
        name=_text,
        arguments=_text,
        id=st.none() | _text,
    ),
    st.builds(
        wire.Reasoning,
        id=_text,
        summary=st.lists(st.builds(wire.SummaryText, text=_text), max_size=3),
        encrypted_content=st.none() | _text,
    ),
    st.builds(wire.FunctionCallOutput, call_id=_text, output=_text),
)


@given(items=st.lists(_items, max_size=6), instructions=st.none() | _text)
def test_requests_round_trip(items: list[wire.Item], instructions: str | None) -> None:
    request = wire.ResponsesRequest(model="m", input=items, instructions=instructions)
    assert wire.decode_request(wire.encode(request)) == request
