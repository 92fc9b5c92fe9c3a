"""Conformance: every native Gemini case of ../shared/corpus, through the dialect and the Client.

Each case's body goes through the real SSEDecoder (whole and in random-sized chunks) and the
Gemini stream decoder, or ``parse``; and, over a real socket, through ``Client`` against the
local server replaying it. The result must give the recorded text, calls, finish reason and
usage. The corpus counts ``output_tokens`` as ``candidatesTokenCount`` only; the neutral usage
adds the thinking tokens (reported apart as ``reasoning_tokens``), so the comparison takes them
back out. Calls recorded without an id get a stable ``atoll_fc_`` id.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from atoll_dialects import Client, GeminiDialect, RetryPolicy
from atoll_testing import FakeLLMServer, GeminiServer, registered_server_dialects
from atoll_wire import ChatResponse, SSEDecoder, StreamAccumulator, StreamEvent, ToolCallPart

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
DIALECT = GeminiDialect()


def _names() -> list[str]:
    folder = CORPUS / "gemini"
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def _load(corpus_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((corpus_dir / "gemini" / name).read_text(encoding="utf-8"))


def _stream(body: bytes, sizes: random.Random | None) -> list[StreamEvent]:
    sse, decoder = SSEDecoder(), DIALECT.stream_decoder()
    pieces = [body]
    if sizes is not None:
        pieces, at = [], 0
        while at < len(body):
            step = sizes.randint(1, 97)
            pieces.append(body[at : at + step])
            at += step
    events: list[StreamEvent] = []
    for piece in pieces:
        for event in sse.feed(piece):
            events.extend(decoder.feed(event))
    for event in sse.flush():
        events.extend(decoder.feed(event))
    return events + decoder.finish()


def _accumulate(events: list[StreamEvent]) -> ChatResponse:
    acc = StreamAccumulator()
    for event in events:
        acc.add(event)
    return acc.response()


def _check(case: dict[str, Any], response: ChatResponse) -> None:
    expect = case["expect"]
    assert (response.text or None) == expect["text"]
    calls = response.message.tool_calls
    assert [(c.name, c.arguments) for c in calls] == [
        (c["name"], c["arguments"]) for c in expect["tool_calls"]
    ]
    for call, want in zip(calls, expect["tool_calls"], strict=True):
        assert call.id == want["id"] if want["id"] else call.id.startswith("atoll_fc_")
    assert response.raw_finish_reason == expect["finish_reason"]
    usage = response.usage
    assert usage.input_tokens == expect["usage"]["input_tokens"]
    visible = (usage.output_tokens or 0) - (usage.reasoning_tokens or 0)
    assert (visible or None) == expect["usage"]["output_tokens"]
    assert response.message.thinking == expect.get("reasoning", "")


@pytest.mark.parametrize("name", _names())
def test_case_through_the_dialect(corpus_dir: Path, name: str) -> None:
    case = _load(corpus_dir, name)
    body = case["response"]["body"].encode()
    if not case["stream"]:
        _check(case, DIALECT.parse(body))
        return
    whole = _stream(body, None)
    response = _accumulate(whole)
    _check(case, response)
    assert not response.incomplete  # the last chunk carried a finishReason
    for seed in range(3):
        assert _stream(body, random.Random(seed)) == whole


def test_signatures_stay_on_their_parts(corpus_dir: Path) -> None:
    case = _load(corpus_dir, "google-stream-function-call-thought-signature.json")
    response = _accumulate(_stream(case["response"]["body"].encode(), None))
    # The last chunk's empty text part carries no signature here, so it makes no part.
    [call] = response.message.parts
    assert isinstance(call, ToolCallPart)
    assert call.signature is not None and call.signature.startswith("EpwICpkI")
    assert response.finish_reason == "tool_calls"


@pytest.fixture(scope="module")
def replay() -> Iterator[FakeLLMServer]:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    dialects = [*registered_server_dialects(), GeminiServer()]
    server = FakeLLMServer(cases=[CORPUS / "gemini"], dialects=dialects, api_key="gk-test")
    with server.run_in_thread() as running:
        yield running


@pytest.mark.anyio
@pytest.mark.parametrize("name", _names())
async def test_case_through_the_client(replay: FakeLLMServer, corpus_dir: Path, name: str) -> None:
    """The recorded reply, served byte for byte, comes out of ``Client`` as recorded."""
    case = _load(corpus_dir, name)
    stem = name.removesuffix(".json")
    async with Client(
        f"gemini/{stem}",
        base_url=replay.url + "/v1beta",
        api_key="gk-test",
        retry=RetryPolicy(attempts=1),
    ) as client:
        if case["stream"]:
            async with client.stream("x") as stream:
                async for _ in stream:
                    pass
            response = stream.response
        else:
            response = await client.chat("x")
    _check(case, response)
    logged = replay.requests[-1]
    assert logged.headers["x-goog-api-key"] == "[redacted]"
    assert "key=" not in logged.query
    suffix = ":streamGenerateContent" if case["stream"] else ":generateContent"
    assert logged.path == f"/v1beta/models/{stem}{suffix}"
    assert logged.query == ("alt=sse" if case["stream"] else "")
