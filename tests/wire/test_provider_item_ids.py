"""Neutral parts and events carry a provider's item ids and phase, and nothing else changes.

OpenAI's Responses API sends output items with ids that must go back with the next turn
(``msg_``, ``fc_`` apart from the ``call_`` id, ``rs_`` with encrypted reasoning) and a
``phase`` on assistant messages; the neutral types keep them, the accumulator folds them in.
"""

from __future__ import annotations

import msgspec
from atoll_wire import (
    ChatResponse,
    Message,
    MessageEnd,
    RedactedThinkingDelta,
    RedactedThinkingPart,
    StreamAccumulator,
    StreamEvent,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallPart,
    ToolCallStart,
)
from hypothesis import given
from hypothesis import strategies as st


def _fold(events: list[StreamEvent]) -> Message:
    acc = StreamAccumulator()
    for event in events:
        acc.add(event)
    return acc.message()


def test_ids_and_phase_land_on_their_parts() -> None:
    message = _fold(
        [
            RedactedThinkingDelta(index=0, data="ENC", id="rs_1"),
            ThinkingDelta(index=1, text="pl", id="rs_1"),
            ThinkingDelta(index=1, text="an"),
            TextDelta(index=2, text="Hi", id="msg_1", phase="commentary"),
            TextDelta(index=2, text=" there"),
            ToolCallStart(index=3, id="call_1", name="f", item_id="fc_1"),
            ToolCallDelta(index=3, arguments="{}"),
            ToolCallEnd(index=3),
            MessageEnd(finish_reason="tool_calls"),
        ]
    )
    assert message.parts == [
        RedactedThinkingPart(data="ENC", id="rs_1"),
        ThinkingPart(text="plan", id="rs_1"),
        TextPart(text="Hi there", id="msg_1", phase="commentary"),
        ToolCallPart(id="call_1", name="f", raw_arguments="{}", item_id="fc_1"),
    ]


def test_a_late_id_or_phase_fills_in_and_a_repeated_start_keeps_the_item_id() -> None:
    message = _fold(
        [
            TextDelta(index=0, text="Hi"),
            TextDelta(index=0, text="", phase="final_answer"),
            TextDelta(index=0, text="", id="msg_1"),
            ToolCallStart(index=1, id="", name="f", item_id="fc_1"),
            ToolCallStart(index=1, id="call_1", name="f"),
        ]
    )
    assert message.parts[0] == TextPart(text="Hi", id="msg_1", phase="final_answer")
    assert message.parts[1] == ToolCallPart(id="call_1", name="f", item_id="fc_1")


def test_empty_parts_are_kept_only_when_they_carry_an_id() -> None:
    message = _fold(
        [
            ThinkingDelta(index=0, id="rs_1"),  # a stored reasoning item: the id alone goes back
            TextDelta(index=1, text="", id="msg_1"),
            TextDelta(index=2, text=""),
            ThinkingDelta(index=3, text=""),
        ]
    )
    assert message.parts == [ThinkingPart(text="", id="rs_1"), TextPart(text="", id="msg_1")]


def test_parts_without_ids_encode_as_before() -> None:
    parts = [
        TextPart(text="a"),
        ThinkingPart(text="t", signature="s"),
        RedactedThinkingPart(data="d"),
    ]
    assert msgspec.json.encode(parts) == (
        b'[{"type":"text","text":"a"},{"type":"thinking","text":"t","signature":"s"},'
        b'{"type":"redacted_thinking","data":"d"}]'
    )
    assert msgspec.json.encode(TextDelta(index=0, text="x")) == (
        b'{"type":"text_delta","index":0,"text":"x"}'
    )


_ids = st.none() | st.text(min_size=1, max_size=12)


@given(
    text_id=_ids,
    phase=st.none() | st.sampled_from(["commentary", "final_answer"]),
    item_id=_ids,
    reasoning_id=_ids,
)
def test_responses_with_ids_round_trip_through_json(
    text_id: str | None, phase: str | None, item_id: str | None, reasoning_id: str | None
) -> None:
    response = ChatResponse(
        message=Message(
            role="assistant",
            parts=[
                RedactedThinkingPart(data="e", id=reasoning_id),
                ThinkingPart(text="t", id=reasoning_id),
                TextPart(text="x", id=text_id, phase=phase),
                ToolCallPart(id="call", name="f", item_id=item_id),
            ],
        )
    )
    again = msgspec.json.decode(msgspec.json.encode(response), type=ChatResponse)
    assert again == response
