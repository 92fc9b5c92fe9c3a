"""StreamAccumulator: lossless folding of neutral stream events into a ChatResponse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from atoll_wire import (
    ChatResponse,
    MessageEnd,
    MessageStart,
    RedactedThinkingDelta,
    RedactedThinkingPart,
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
    Usage,
    UsageUpdate,
    parse_tool_arguments,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def _fold(events: list[StreamEvent], provider: str | None = None) -> ChatResponse:
    acc = StreamAccumulator(provider=provider)
    for event in events:
        acc.add(event)
    return acc.response()


def test_anthropic_like_stream_keeps_order_signatures_and_redacted_thinking() -> None:
    resp = _fold(
        [
            MessageStart(id="msg_1", model="claude"),
            UsageUpdate(usage=Usage(input_tokens=100, output_tokens=1)),
            ThinkingDelta(index=0, text="Let me "),
            ThinkingDelta(index=0, text=""),
            ThinkingDelta(index=0, text="think."),
            ThinkingDelta(index=0, signature="sig=="),
            RedactedThinkingDelta(index=1, data="opaque"),
            TextDelta(index=2, text="Calling "),
            TextDelta(index=2, text="a tool."),
            ToolCallStart(index=3, id="toolu_1", name="get_weather"),
            ToolCallDelta(index=3, arguments=""),
            ToolCallDelta(index=3, arguments='{"city": '),
            ToolCallDelta(index=3, arguments='"Paris"}'),
            ToolCallEnd(index=3),
            UsageUpdate(usage=Usage(output_tokens=42)),
            MessageEnd(finish_reason="tool_calls", raw_finish_reason="tool_use"),
        ],
        provider="anthropic",
    )
    assert resp.message.role == "assistant"
    assert resp.message.parts == [
        ThinkingPart(text="Let me think.", signature="sig=="),
        RedactedThinkingPart(data="opaque"),
        TextPart(text="Calling a tool."),
        ToolCallPart(
            id="toolu_1",
            name="get_weather",
            arguments={"city": "Paris"},
            raw_arguments='{"city": "Paris"}',
        ),
    ]
    assert (resp.id, resp.model, resp.provider) == ("msg_1", "claude", "anthropic")
    assert resp.finish_reason == "tool_calls"
    assert resp.raw_finish_reason == "tool_use"
    # Usage snapshots replace field by field; they are never summed.
    assert resp.usage == Usage(input_tokens=100, output_tokens=42)
    assert not resp.incomplete
    assert resp.error is None


def test_openai_like_indexes_may_overlap_across_kinds() -> None:
    resp = _fold(
        [
            ThinkingDelta(index=0, text="hmm"),
            TextDelta(index=0, text="Sure."),
            ToolCallStart(index=0, id="call_a", name="f"),
            ToolCallStart(index=1, id="call_b", name="g"),
            ToolCallDelta(index=1, arguments="{}"),
            ToolCallDelta(index=0, arguments='{"x":'),
            ToolCallDelta(index=0, arguments="1}"),
            MessageEnd(finish_reason="tool_calls", raw_finish_reason="tool_calls"),
        ]
    )
    assert resp.message.text == "Sure."
    assert resp.message.thinking == "hmm"
    calls = resp.message.tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_a", "f", {"x": 1}),
        ("call_b", "g", {}),
    ]


def test_truncated_arguments_are_kept_raw_with_an_error() -> None:
    acc = StreamAccumulator()
    for event in [
        MessageStart(id="m", model="x"),
        ToolCallStart(index=1, id="toolu_9", name="write"),
        ToolCallDelta(index=1, arguments='{"path": "a.txt", "content": "hel'),
        MessageEnd(finish_reason="length", raw_finish_reason="max_tokens"),
    ]:
        acc.add(event)
    call = acc.response().message.tool_calls[0]
    assert call.raw_arguments == '{"path": "a.txt", "content": "hel'
    assert call.arguments == {}
    assert call.arguments_error is not None and "invalid JSON" in call.arguments_error


def test_missing_message_end_marks_incomplete_and_keeps_partial_state() -> None:
    acc = StreamAccumulator()
    acc.add(TextDelta(index=0, text="partial"))
    acc.add(ToolCallStart(index=1, id="c", name="f"))
    acc.add(ToolCallDelta(index=1, arguments='{"a": [1, 2'))
    first = acc.response()
    assert first.incomplete
    assert first.finish_reason is None
    assert first.message.text == "partial"
    assert first.message.tool_calls[0].raw_arguments == '{"a": [1, 2'
    # A snapshot does not freeze the accumulator.
    acc.add(ToolCallDelta(index=1, arguments="]}"))
    acc.add(MessageEnd(finish_reason="tool_calls", raw_finish_reason="tool_calls"))
    second = acc.response()
    assert not second.incomplete
    assert second.message.tool_calls[0].arguments == {"a": [1, 2]}
    assert acc.ended
    assert acc.events == 5


def test_stream_error_is_recorded() -> None:
    error = StreamError(type="overloaded_error", message="busy", status=529, raw={"t": 1})
    resp = _fold([TextDelta(index=0, text="so far"), error])
    assert resp.error == error
    assert resp.finish_reason == "error"
    assert resp.incomplete
    assert resp.message.text == "so far"
    # A finish reason the provider did give is not overwritten by the error.
    resp = _fold(
        [MessageEnd(finish_reason="length", raw_finish_reason="length"), error],
    )
    assert resp.finish_reason == "length"
    assert resp.error == error


def test_empty_text_and_signature_only_thinking() -> None:
    resp = _fold(
        [
            TextDelta(index=0, text=""),
            ThinkingDelta(index=1, signature="only-sig"),
            MessageEnd(finish_reason="stop", raw_finish_reason="end_turn"),
        ]
    )
    # An empty text part carries nothing; a signature alone must survive.
    assert resp.message.parts == [ThinkingPart(text="", signature="only-sig")]


def test_rejects_non_events() -> None:
    acc = StreamAccumulator()
    with pytest.raises(TypeError, match="not a stream event"):
        acc.add(TextPart(text="x"))  # type: ignore[arg-type]
    assert acc.events == 0


@pytest.mark.parametrize(
    ("raw", "arguments", "error"),
    [
        ("", {}, None),
        ("  ", {}, None),
        ('{"a": 1}', {"a": 1}, None),
        ("[1]", {}, "arguments must be a JSON object, got list"),
        ('{"a": ', {}, "invalid JSON"),
    ],
)
def test_parse_tool_arguments(raw: str, arguments: dict[str, Any], error: str | None) -> None:
    got_args, got_error = parse_tool_arguments(raw)
    assert got_args == arguments
    if error is None:
        assert got_error is None
    else:
        assert got_error is not None and error in got_error


_fragment = st.text(max_size=8)
_json_obj = st.dictionaries(
    st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.booleans()), max_size=4
)


@st.composite
def _streams(draw: st.DrawFn) -> tuple[list[StreamEvent], dict[str, Any]]:
    """A random interleaving of text, thinking and tool calls, with the expected result."""
    n_tools = draw(st.integers(0, 3))
    texts = draw(st.lists(_fragment, max_size=6))
    thinking = draw(st.lists(_fragment, max_size=6))
    tools = [draw(_json_obj) for _ in range(n_tools)]
    cut_tool = draw(st.booleans())
    queues: list[list[StreamEvent]] = [
        [ThinkingDelta(index=0, text=t) for t in thinking],
        [TextDelta(index=1, text=t) for t in texts],
    ]
    raws: list[str] = []
    for i, args in enumerate(tools):
        raw = json.dumps(args)
        if cut_tool and i == n_tools - 1 and len(raw) > 1:
            raw = raw[: draw(st.integers(1, len(raw) - 1))]
        raws.append(raw)
        cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=4)))
        pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
        queue: list[StreamEvent] = [ToolCallStart(index=2 + i, id=f"c{i}", name=f"t{i}")]
        queue += [ToolCallDelta(index=2 + i, arguments=p) for p in pieces]
        queue.append(ToolCallEnd(index=2 + i))
        queues.append(queue)
    events: list[StreamEvent] = [MessageStart(id="r", model="m")]
    while any(queues):
        live = [q for q in queues if q]
        events.append(draw(st.sampled_from(live)).pop(0))
    ended = draw(st.booleans())
    if ended:
        events.append(MessageEnd(finish_reason="stop", raw_finish_reason="stop"))
    expected = {
        "text": "".join(texts),
        "thinking": "".join(thinking),
        "raws": raws,
        "tools": tools,
        "ended": ended,
    }
    return events, expected


@settings(max_examples=150, deadline=None)
@given(_streams())
def test_any_interleaving_is_folded_losslessly(
    case: tuple[list[StreamEvent], dict[str, Any]],
) -> None:
    events, expected = case
    resp = _fold(events)
    assert resp.message.text == expected["text"]
    assert resp.message.thinking == expected["thinking"]
    calls = resp.message.tool_calls
    assert [c.raw_arguments for c in calls] == expected["raws"]
    assert [c.id for c in calls] == [f"c{i}" for i in range(len(calls))]
    for call, raw, args in zip(calls, expected["raws"], expected["tools"], strict=True):
        if call.arguments_error is None:
            assert call.arguments == json.loads(raw) == args
        else:
            assert call.arguments == {}
            with pytest.raises(ValueError):
                json.loads(raw)
    assert resp.incomplete is not expected["ended"]
