"""Conformance: every openai-chat, anthropic-messages and gemini case of ../shared/corpus.

Each case's body goes through the real SSEDecoder (whole, and in random-sized chunks) and the
dialect's stream decoder, or through ``parse`` for JSON bodies, or through ``parse_error`` for
HTTP errors; the normalised result must equal the case's ``expect``. Anthropic's ``expect``
counts input tokens without cache reads and writes, while the neutral Usage includes them, so
the comparison subtracts them back.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from atoll_curl import SyncCurlTransport
from atoll_dialects import (
    AnthropicMessagesDialect,
    APIError,
    BadRequestError,
    Client,
    Dialect,
    GeminiDialect,
    NotFoundError,
    OpenAIChatDialect,
    RateLimitError,
    RetryPolicy,
    Target,
)
from atoll_dialects._error_bodies import error_from_stream_event
from atoll_registry import ProviderQuirks, ProviderSpec, Registry
from atoll_testing import FakeLLMServer, GeminiServer, registered_server_dialects
from atoll_wire import (
    ChatRequest,
    ChatResponse,
    Message,
    SSEDecoder,
    StreamAccumulator,
    StreamError,
    StreamEvent,
    ToolCallPart,
)

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
DIALECTS: dict[str, Dialect] = {
    "openai-chat": OpenAIChatDialect(),
    "anthropic-messages": AnthropicMessagesDialect(),
}
# The event that says a stream is complete; a body without it must decode as incomplete.
END_MARKERS = {"openai-chat": "data: [DONE]", "anthropic-messages": "event: message_stop"}
ERROR_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    404: NotFoundError,
    429: RateLimitError,
}


def _case_names(dialect: str) -> list[str]:
    folder = CORPUS / dialect
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def _load(corpus_dir: Path, dialect: str, name: str) -> dict[str, Any]:
    return json.loads((corpus_dir / dialect / name).read_text(encoding="utf-8"))


def _sse_events(body: bytes, sizes: random.Random | None) -> list[Any]:
    decoder = SSEDecoder()
    events: list[Any] = []
    if sizes is None:
        events.extend(decoder.feed(body))
    else:
        at = 0
        while at < len(body):
            step = sizes.randint(1, 97)
            events.extend(decoder.feed(body[at : at + step]))
            at += step
    events.extend(decoder.flush())  # some recorded bodies end without the final blank line
    return events


def _stream(dialect: Dialect, body: bytes, sizes: random.Random | None) -> list[StreamEvent]:
    decoder = dialect.stream_decoder()
    out: list[StreamEvent] = []
    for sse in _sse_events(body, sizes):
        out.extend(decoder.feed(sse))
    out.extend(decoder.finish())
    return out


def _accumulate(events: list[StreamEvent]) -> ChatResponse:
    acc = StreamAccumulator()
    for event in events:
        acc.add(event)
    return acc.response()


def _arguments(call: ToolCallPart) -> Any:
    return call.arguments if call.arguments_error is None else call.raw_arguments


def _normalise(response: ChatResponse, *, anthropic: bool) -> dict[str, Any]:
    usage = response.usage
    expected_usage: dict[str, int | None] | None = None
    if usage.input_tokens is not None or usage.output_tokens is not None:
        input_tokens = usage.input_tokens
        if anthropic and input_tokens is not None:
            input_tokens -= (usage.cache_read_tokens or 0) + (usage.cache_write_tokens or 0)
        expected_usage = {"input_tokens": input_tokens, "output_tokens": usage.output_tokens}
    return {
        "text": response.message.text or None,
        "tool_calls": [
            {"id": c.id, "name": c.name, "arguments": _arguments(c)}
            for c in response.message.tool_calls
        ],
        "finish_reason": response.raw_finish_reason,
        "usage": expected_usage,
        "reasoning": response.message.thinking,
    }


def _check(case: dict[str, Any], response: ChatResponse, *, anthropic: bool) -> None:
    expect = case["expect"]
    got = _normalise(response, anthropic=anthropic)
    for key in ("text", "tool_calls", "finish_reason", "usage"):
        assert got[key] == expect[key], key
    assert got["reasoning"] == expect.get("reasoning", "")


def _check_stream_error(case: dict[str, Any], events: list[StreamEvent]) -> None:
    expected = case["expect"].get("error")
    errors = [e for e in events if isinstance(e, StreamError)]
    if expected is None:
        assert errors == []
        return
    assert expected["in_stream"]
    assert len(errors) == 1
    error = errors[0]
    assert (error.type or None) == expected["type"]
    assert error.code == (None if expected["code"] is None else str(expected["code"]))
    assert error.message == expected["message"]


def _run_case(corpus_dir: Path, dialect_name: str, name: str) -> None:
    case = _load(corpus_dir, dialect_name, name)
    dialect = DIALECTS[dialect_name]
    anthropic = dialect_name == "anthropic-messages"
    body = case["response"]["body"].encode("utf-8")
    status = case["response"]["status"]
    if status >= 400:
        error = dialect.parse_error(
            status, {}, body, Target.of(name=case["provider"], dialect=dialect_name)
        )
        expected = case["expect"]["error"]
        assert type(error) is ERROR_CLASSES[status]
        assert error.status == status
        assert error.error_type == expected["type"]
        assert error.code == expected["code"]
        assert error.message == expected["message"]
        return
    if not case["stream"]:
        _check(case, dialect.parse(body), anthropic=anthropic)
        return
    whole = _stream(dialect, body, None)
    _check_stream_error(case, whole)
    response = _accumulate(whole)
    _check(case, response, anthropic=anthropic)
    assert response.incomplete == (END_MARKERS[dialect_name] not in case["response"]["body"])
    for seed in range(3):
        chunked = _stream(dialect, body, random.Random(seed))
        assert chunked == whole


@pytest.mark.parametrize("name", _case_names("openai-chat"))
def test_openai_chat_case(corpus_dir: Path, name: str) -> None:
    _run_case(corpus_dir, "openai-chat", name)


@pytest.mark.parametrize("name", _case_names("anthropic-messages"))
def test_anthropic_messages_case(corpus_dir: Path, name: str) -> None:
    _run_case(corpus_dir, "anthropic-messages", name)


@pytest.mark.parametrize(
    ("dialect_name", "name", "cls"),
    [
        ("openai-chat", "groq-stream-error-event-midstream.json", BadRequestError),
        ("openai-chat", "openrouter-stream-error-in-chunk.json", BadRequestError),
    ],
)
def test_mid_stream_error_becomes_typed_error_with_partial(
    corpus_dir: Path, dialect_name: str, name: str, cls: type[APIError]
) -> None:
    case = _load(corpus_dir, dialect_name, name)
    events = _stream(DIALECTS[dialect_name], case["response"]["body"].encode(), None)
    partial = _accumulate(events)
    assert partial.error is not None
    error = error_from_stream_event(partial.error, partial, provider=case["provider"])
    assert type(error) is cls
    assert error.partial is partial
    assert error.message == case["expect"]["error"]["message"]
    # Groq ends with the error and no [DONE]: incomplete. OpenRouter still sends [DONE].
    assert partial.incomplete == ("data: [DONE]" not in case["response"]["body"])
    assert partial.message.thinking == case["expect"]["reasoning"]


# ---------------------------------------------------------------- with the registry's quirks

# Corpus provider names that the registry spells differently.
REGISTRY_NAMES = {"google-openai-compat": "gemini-openai"}


def _registry_cases() -> list[tuple[str, str]]:
    registry = Registry.default()
    known = {p.name for p in registry.providers()}
    found: list[tuple[str, str]] = []
    for dialect in DIALECTS:
        for name in _case_names(dialect):
            case = json.loads((CORPUS / dialect / name).read_text(encoding="utf-8"))
            provider = REGISTRY_NAMES.get(case["provider"], case["provider"])
            if provider in known and case["response"]["status"] < 400:
                found.append((dialect, name))
    return found


@pytest.mark.parametrize(("dialect_name", "name"), _registry_cases())
def test_case_with_the_recorded_providers_registry_quirks(
    corpus_dir: Path, dialect_name: str, name: str
) -> None:
    """The packaged registry's provider and model data do not break real recorded traffic.

    The only intended difference from ``expect``: where the provider's quirk says tool-call ids
    may be empty, ``""`` is replaced by a unique id (results must be matched to calls).
    """
    case = _load(corpus_dir, dialect_name, name)
    registry = Registry.default()
    recorded: str = case["provider"]
    provider = registry.provider(REGISTRY_NAMES.get(recorded, recorded))
    model_name = (case.get("request") or {}).get("model")
    model = registry.resolve(f"{provider.name}/{model_name}") if model_name else None
    dialect = DIALECTS[dialect_name]
    body = case["response"]["body"].encode("utf-8")
    if case["stream"]:
        decoder = dialect.stream_decoder(Target.of(provider, model))
        events: list[StreamEvent] = []
        for sse in _sse_events(body, None):
            events.extend(decoder.feed(sse))
        events.extend(decoder.finish())
        response = _accumulate(events)
    else:
        response = dialect.parse(body, Target.of(provider, model))
    expected = case["expect"]["tool_calls"]
    calls = response.message.tool_calls
    for want, got in zip(expected, calls, strict=True):
        if want["id"] == "" and provider.quirks.get("empty_tool_call_ids"):
            assert got.id.startswith("call_")
            want["id"] = got.id
    assert len({c.id for c in calls}) == len(calls)
    _check(case, response, anthropic=dialect_name == "anthropic-messages")


# ---------------------------------------------------------------- over a real socket


@pytest.fixture(scope="module")
def replay_server() -> Iterator[FakeLLMServer]:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    server = FakeLLMServer(cases=[CORPUS / "openai-chat", CORPUS / "anthropic-messages"])
    with server.run_in_thread() as running:
        yield running


def _stream_case_names() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for dialect in DIALECTS:
        for name in _case_names(dialect):
            case = json.loads((CORPUS / dialect / name).read_text(encoding="utf-8"))
            if case["stream"] and case["response"]["status"] < 400:
                found.append((dialect, name))
    return found


@pytest.mark.parametrize(("dialect_name", "name"), _stream_case_names())
def test_stream_case_over_http(
    replay_server: FakeLLMServer, corpus_dir: Path, dialect_name: str, name: str
) -> None:
    """The built request reaches a real server; the streamed reply decodes to ``expect``."""
    case = _load(corpus_dir, dialect_name, name)
    dialect = DIALECTS[dialect_name]
    spec = ProviderSpec(
        name="replay",
        dialect="anthropic-messages" if dialect_name == "anthropic-messages" else "openai-chat",
        auth="bearer",
        source="test",
        as_of=date(2026, 1, 1),
        quirks=ProviderQuirks(cache_tokens_in_input=dialect_name != "anthropic-messages"),
    )
    request = ChatRequest(
        model=name.removesuffix(".json"), messages=[Message.user("x")], stream=True
    )
    http = dialect.build(
        request, Target.of(spec, api_key="test-key", base_url=replay_server.base_url)
    )
    decoder, sse, acc = dialect.stream_decoder(Target.of(spec)), SSEDecoder(), StreamAccumulator()
    events: list[StreamEvent] = []
    with SyncCurlTransport() as transport, transport.send(http) as response:
        assert response.status == 200
        for data in response.iter_bytes():
            for event in sse.feed(data):
                events.extend(decoder.feed(event))
    for event in sse.flush():
        events.extend(decoder.feed(event))
    events.extend(decoder.finish())
    for event in events:
        acc.add(event)
    _check_stream_error(case, events)
    _check(case, acc.response(), anthropic=dialect_name == "anthropic-messages")


# ---------------------------------------------------------------- native Gemini
#
# Every native Gemini case through the Gemini dialect (whole and in random-sized chunks) and,
# over a real socket, through ``Client`` against the local server replaying it. The corpus
# counts ``output_tokens`` as ``candidatesTokenCount`` only; the neutral usage adds the thinking
# tokens (reported apart as ``reasoning_tokens``), so the comparison takes them back out. Calls
# recorded without an id get a stable ``atoll_fc_`` id.

GEMINI = GeminiDialect()


def _gemini_names() -> list[str]:
    folder = CORPUS / "gemini"
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def _gemini_load(corpus_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((corpus_dir / "gemini" / name).read_text(encoding="utf-8"))


def _gemini_stream(body: bytes, sizes: random.Random | None) -> list[StreamEvent]:
    sse, decoder = SSEDecoder(), GEMINI.stream_decoder()
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


def _gemini_accumulate(events: list[StreamEvent]) -> ChatResponse:
    acc = StreamAccumulator()
    for event in events:
        acc.add(event)
    return acc.response()


def _gemini_check(case: dict[str, Any], response: ChatResponse) -> None:
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


@pytest.mark.parametrize("name", _gemini_names())
def test_gemini_case_through_the_dialect(corpus_dir: Path, name: str) -> None:
    case = _gemini_load(corpus_dir, name)
    body = case["response"]["body"].encode()
    if not case["stream"]:
        _gemini_check(case, GEMINI.parse(body))
        return
    whole = _gemini_stream(body, None)
    response = _gemini_accumulate(whole)
    _gemini_check(case, response)
    assert not response.incomplete  # the last chunk carried a finishReason
    for seed in range(3):
        assert _gemini_stream(body, random.Random(seed)) == whole


def test_gemini_signatures_stay_on_their_parts(corpus_dir: Path) -> None:
    case = _gemini_load(corpus_dir, "google-stream-function-call-thought-signature.json")
    response = _gemini_accumulate(_gemini_stream(case["response"]["body"].encode(), None))
    # The last chunk's empty text part carries no signature here, so it makes no part.
    [call] = response.message.parts
    assert isinstance(call, ToolCallPart)
    assert call.signature is not None and call.signature.startswith("EpwICpkI")
    assert response.finish_reason == "tool_calls"


@pytest.fixture(scope="module")
def gemini_replay() -> Iterator[FakeLLMServer]:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    dialects = [*registered_server_dialects(), GeminiServer()]
    server = FakeLLMServer(cases=[CORPUS / "gemini"], dialects=dialects, api_key="gk-test")
    with server.run_in_thread() as running:
        yield running


@pytest.mark.anyio
@pytest.mark.parametrize("name", _gemini_names())
async def test_gemini_case_through_the_client(
    gemini_replay: FakeLLMServer, corpus_dir: Path, name: str
) -> None:
    """The recorded reply, served byte for byte, comes out of ``Client`` as recorded."""
    case = _gemini_load(corpus_dir, name)
    stem = name.removesuffix(".json")
    async with Client(
        f"gemini/{stem}",
        base_url=gemini_replay.url + "/v1beta",
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
    _gemini_check(case, response)
    logged = gemini_replay.requests[-1]
    assert logged.headers["x-goog-api-key"] == "[redacted]"
    assert "key=" not in logged.query
    suffix = ":streamGenerateContent" if case["stream"] else ":generateContent"
    assert logged.path == f"/v1beta/models/{stem}{suffix}"
    assert logged.query == ("alt=sse" if case["stream"] else "")
