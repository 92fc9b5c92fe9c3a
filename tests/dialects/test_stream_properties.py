"""Property tests: however a provider fragments a reply, the folded result is the same.

Generated OpenAI-style streams vary exactly where providers do: argument text split anywhere,
ids on the first fragment only or on every fragment, each call at its own index or all at
index 0, several fragments per chunk, and the finish reason before the last fragments.
"""

from __future__ import annotations

import json
from typing import Any

from atoll_dialects import AnthropicMessagesDialect, OpenAIChatDialect
from atoll_wire import SSEDecoder, StreamAccumulator, StreamEvent, ThinkingPart
from hypothesis import given, settings
from hypothesis import strategies as st

NAMES = st.sampled_from(["get_weather", "search", "f"])
ARGS = st.dictionaries(
    st.text(alphabet="abcxyz", min_size=1, max_size=5),
    st.one_of(st.integers(), st.text(max_size=8), st.booleans()),
    max_size=3,
)


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces: list[str] = []
    start = 0
    for point in [*points, len(text)]:
        if point > start:
            pieces.append(text[start:point])
            start = point
    return pieces or [""]


def _run(body: bytes, dialect: OpenAIChatDialect | AnthropicMessagesDialect, step: int) -> Any:
    sse = SSEDecoder()
    decoder = dialect.stream_decoder()
    acc = StreamAccumulator()
    events: list[StreamEvent] = []
    for at in range(0, len(body), step):
        for event in sse.feed(body[at : at + step]):
            events.extend(decoder.feed(event))
    for event in sse.flush():
        events.extend(decoder.feed(event))
    events.extend(decoder.finish())
    for event in events:
        acc.add(event)
    return acc.response()


@settings(max_examples=40, deadline=None)
@given(
    calls=st.lists(st.tuples(NAMES, ARGS), min_size=1, max_size=3),
    text=st.text(max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6),
    same_index=st.booleans(),
    id_every_time=st.booleans(),
    per_chunk=st.integers(min_value=1, max_value=3),
    early_finish=st.booleans(),
    step=st.integers(min_value=1, max_value=400),
)
def test_openai_tool_calls_reassemble(
    calls: list[tuple[str, dict[str, Any]]],
    text: str,
    cuts: list[int],
    same_index: bool,
    id_every_time: bool,
    per_chunk: int,
    early_finish: bool,
    step: int,
) -> None:
    fragments: list[dict[str, Any]] = []
    for n, (name, args) in enumerate(calls):
        for k, piece in enumerate(_split(json.dumps(args), cuts)):
            fragment: dict[str, Any] = {
                "index": 0 if same_index else n,
                "function": {"arguments": piece},
            }
            if k == 0 or id_every_time:
                fragment["id"] = f"call_{n}"
            if k == 0:
                fragment["function"]["name"] = name
            fragments.append(fragment)
    chunks: list[dict[str, Any]] = []
    if text:
        chunks.append({"choices": [{"index": 0, "delta": {"content": text}}]})
    groups = [fragments[i : i + per_chunk] for i in range(0, len(fragments), per_chunk)]
    finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
    for g, group in enumerate(groups):
        if early_finish and g == len(groups) - 1:
            chunks.append(finish)
        chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": group}}]})
    if not early_finish:
        chunks.append(finish)
    chunks.append({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 7}})
    body = (
        b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    )

    response = _run(body, OpenAIChatDialect(), step)
    assert response.message.text == text
    got = [(c.id, c.name, c.arguments, c.arguments_error) for c in response.message.tool_calls]
    assert got == [(f"call_{n}", name, args, None) for n, (name, args) in enumerate(calls)]
    assert response.raw_finish_reason == "tool_calls"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (5, 7)
    assert not response.incomplete


@settings(max_examples=25, deadline=None)
@given(
    args=ARGS,
    thinking=st.text(max_size=20),
    answer=st.text(min_size=1, max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6),
    step=st.integers(min_value=1, max_value=400),
    stop=st.booleans(),
)
def test_anthropic_blocks_reassemble(
    args: dict[str, Any], thinking: str, answer: str, cuts: list[int], step: int, stop: bool
) -> None:
    def event(kind: str, **data: Any) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

    parts = [
        event(
            "message_start",
            message={"id": "m", "model": "c", "usage": {"input_tokens": 3, "output_tokens": 1}},
        ),
        event("content_block_start", index=0, content_block={"type": "thinking", "thinking": ""}),
        *(
            event("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": p})
            for p in _split(thinking, cuts)
        ),
        event("content_block_delta", index=0, delta={"type": "signature_delta", "signature": "S"}),
        event("content_block_stop", index=0),
        event("content_block_start", index=1, content_block={"type": "text", "text": ""}),
        *(
            event("content_block_delta", index=1, delta={"type": "text_delta", "text": p})
            for p in _split(answer, cuts)
        ),
        event("content_block_stop", index=1),
        event(
            "content_block_start",
            index=2,
            content_block={"type": "tool_use", "id": "t", "name": "f", "input": {}},
        ),
        *(
            event(
                "content_block_delta",
                index=2,
                delta={"type": "input_json_delta", "partial_json": p},
            )
            for p in _split(json.dumps(args), cuts)
        ),
        event("content_block_stop", index=2),
        event("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 9}),
    ]
    if stop:
        parts.append(event("message_stop"))
    response = _run(b"".join(parts), AnthropicMessagesDialect(), step)
    assert response.message.thinking == thinking
    first = response.message.parts[0]
    assert isinstance(first, ThinkingPart)
    assert first.signature == "S"
    assert response.message.text == answer
    assert [(c.id, c.arguments) for c in response.message.tool_calls] == [("t", args)]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (3, 9)
    assert response.incomplete is not stop
