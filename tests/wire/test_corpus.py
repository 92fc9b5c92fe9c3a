"""Conformance: every recorded OpenAI-chat and Anthropic Messages case decodes into the structs.

SSE bodies are fed to ``SSEDecoder`` in random-sized chunks and must give the number of events
that ``../shared/corpus/check_corpus.py`` counts.
"""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest
from atoll_wire import ServerSentEvent, SSEDecoder
from atoll_wire import anthropic as an
from atoll_wire import openai as oa
from msgspec import UnsetType

_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def _cases(dialect: str) -> list[Any]:
    """One parameter per case file; when there are none, one skipped parameter saying why.

    (An empty list would make pytest skip with a bare "got empty parameter set".)
    """
    folder = _CORPUS / dialect
    if not _CORPUS.is_dir():
        reason = (
            f"shared corpus not found at {_CORPUS}: the {dialect} conformance cases are read "
            "from ../shared/corpus next to the project root"
        )
    elif not folder.is_dir():
        reason = f"the shared corpus at {_CORPUS} has no {dialect}/ folder"
    else:
        names = sorted(p.name for p in folder.glob("*.json"))
        if names:
            return names
        reason = f"no {dialect} cases (*.json) in {folder}"
    return [pytest.param("<no corpus>", marks=pytest.mark.skip(reason=reason))]


def _load(corpus_dir: Path, dialect: str, name: str) -> dict[str, Any]:
    return json.loads((corpus_dir / dialect / name).read_text(encoding="utf-8"))


def _checker(corpus_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_corpus", corpus_dir / "check_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sse(body: str, seed: int) -> list[ServerSentEvent]:
    raw = body.encode()
    rng = random.Random(seed)
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    pos = 0
    while pos < len(raw):
        step = rng.randint(1, 64)
        events.extend(decoder.feed(raw[pos : pos + step]))
        pos += step
    events.extend(decoder.flush())
    return events


def _openai_text(content: str | list[oa.ContentPart] | UnsetType | None) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.text or "" for p in content or [] if p.type == "text")


@pytest.mark.parametrize("name", _cases("openai-chat"))
def test_openai_case_decodes(corpus_dir: Path, name: str) -> None:
    case = _load(corpus_dir, "openai-chat", name)
    if case["request"] is not None:
        request = oa.decode_request(json.dumps(case["request"]))
        assert request.model == case["request"]["model"]
    body: str = case["response"]["body"]
    expect = case["expect"]
    if case["response"]["status"] >= 400:
        error = oa.decode_error(body).error
        assert error.message == expect["error"]["message"]
        return
    if not case["stream"]:
        completion = oa.decode_completion(body)
        message = completion.choices[0].message
        assert (_openai_text(message.content) or None) == expect["text"]
        calls = [(c.id, c.function.name) for c in message.tool_calls or []]
        assert calls == [(c["id"], c["name"]) for c in expect["tool_calls"]]
        return
    events = _sse(body, seed=len(name))
    counted, problems = _checker(corpus_dir).parse_event_stream(body)
    assert problems == []
    assert len(events) == len(counted)
    text: list[str] = []
    names: dict[int, str] = {}
    for event in events:
        if event.data == "[DONE]":
            continue
        if event.event == "error":
            assert oa.decode_error(event.data).error.message == expect["error"]["message"]
            continue
        chunk = oa.decode_chunk(event.data)
        for choice in chunk.choices:
            text.append(_openai_text(choice.delta.content))
            for call in choice.delta.tool_calls or []:
                if call.function is not None and call.function.name:
                    names.setdefault(call.index or 0, call.function.name)
    assert ("".join(text) or None) == expect["text"]
    assert list(names.values()) == [c["name"] for c in expect["tool_calls"]]


def _anthropic_text(blocks: list[an.ContentBlock]) -> str:
    return "".join(b.text for b in blocks if isinstance(b, an.TextBlock))


@pytest.mark.parametrize("name", _cases("anthropic-messages"))
def test_anthropic_case_decodes(corpus_dir: Path, name: str) -> None:
    case = _load(corpus_dir, "anthropic-messages", name)
    endpoint = case.get("endpoint") or ""
    if case["request"] is not None and endpoint.endswith("/v1/messages"):
        request = an.decode_request(json.dumps(case["request"]))
        assert request.model == case["request"]["model"]
    body: str = case["response"]["body"]
    expect = case["expect"]
    if case["response"]["status"] >= 400:
        error = an.decode_error(body)
        assert error.error.message == expect["error"]["message"]
        assert error.error.type == expect["error"]["type"]
        return
    if not case["stream"]:
        message = an.decode_response(body)
        assert not any(isinstance(b, an.UnknownBlock) for b in message.content)
        assert (_anthropic_text(message.content) or None) == expect["text"]
        calls = [(b.id, b.name) for b in message.content if isinstance(b, an.ToolUseBlock)]
        assert calls == [(c["id"], c["name"]) for c in expect["tool_calls"]]
        assert message.stop_reason == expect["finish_reason"]
        return
    events = _sse(body, seed=len(name))
    counted, problems = _checker(corpus_dir).parse_event_stream(body)
    assert problems == []
    assert len(events) == len(counted)
    text: list[str] = []
    stop_reason: str | None = None
    for sse in events:
        event = an.decode_event(sse.data)
        assert not isinstance(event, an.UnknownEvent), sse.data
        assert event.__struct_config__.tag == sse.event
        if isinstance(event, an.ContentBlockStartEvent):
            assert not isinstance(event.content_block, an.UnknownBlock), sse.data
        elif isinstance(event, an.ContentBlockDeltaEvent):
            assert not isinstance(event.delta, an.UnknownDelta), sse.data
            if isinstance(event.delta, an.TextDelta):
                text.append(event.delta.text)
        elif isinstance(event, an.MessageDeltaEvent):
            stop_reason = event.delta.stop_reason or stop_reason
    assert ("".join(text) or None) == expect["text"]
    assert stop_reason == expect["finish_reason"]


def test_corpus_total_event_count_matches_checker(corpus_dir: Path) -> None:
    checker = _checker(corpus_dir)
    total = ours = 0
    for dialect in ("openai-chat", "anthropic-messages", "gemini", "cohere-v2"):
        for path in sorted((corpus_dir / dialect).glob("*.json")):
            case = json.loads(path.read_text(encoding="utf-8"))
            if not case["stream"]:
                continue
            total += len(checker.parse_event_stream(case["response"]["body"])[0])
            ours += len(_sse(case["response"]["body"], seed=7))
    assert total > 0
    assert ours == total


def test_unknown_anthropic_types_are_kept_as_raw() -> None:
    block = an.decode_event(
        b'{"type":"content_block_start","index":3,"content_block":{"type":"future","x":[1]}}'
    )
    assert isinstance(block, an.ContentBlockStartEvent)
    assert block.content_block == an.UnknownBlock(
        block_type="future", raw={"type": "future", "x": [1]}
    )
    delta = an.decode_event(
        b'{"type":"content_block_delta","index":0,"delta":{"type":"future_delta","y":2}}'
    )
    assert isinstance(delta, an.ContentBlockDeltaEvent)
    assert isinstance(delta.delta, an.UnknownDelta)
    assert delta.delta.raw == {"type": "future_delta", "y": 2}
    event = an.decode_event(b'{"type":"future_event","z":true}')
    assert event == an.UnknownEvent(
        event_type="future_event", raw={"type": "future_event", "z": True}
    )
    response = an.decode_response(
        b'{"id":"m","content":[{"type":"text","text":"a"},{"type":"future","q":1}],'
        b'"usage":{"input_tokens":1}}'
    )
    assert isinstance(response.content[0], an.TextBlock)
    assert isinstance(response.content[1], an.UnknownBlock)
    assert response.usage.input_tokens == 1
    # A known type with a malformed field is an error, not silently "unknown".
    with pytest.raises(msgspec.ValidationError):
        an.decode_event(b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}')
    with pytest.raises(msgspec.DecodeError):
        an.decode_event(b"not json")


def test_openai_lenient_and_encoding() -> None:
    chunk = oa.decode_chunk(
        b'{"id":"","choices":[{"delta":{"role":"assistant","new_field":1,'
        b'"tool_calls":[{"index":1,"function":{"arguments":"{\\"a"}}]}}],'
        b'"service_tier":"flex-tier-9","brand_new":{"x":1}}'
    )
    assert chunk.service_tier == "flex-tier-9"
    call = chunk.choices[0].delta.tool_calls
    assert call is not None and call[0].index == 1
    assert call[0].function is not None and call[0].function.arguments == '{"a'
    request = oa.ChatCompletionRequest(
        model="m",
        messages=[oa.ChatMessage(role="user", content="hi")],
        tool_choice=oa.NamedToolChoice(function=oa.NamedToolChoiceFunction(name="f")),
    )
    assert json.loads(oa.encode(request)) == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tool_choice": {"function": {"name": "f"}, "type": "function"},
    }
    merged = json.loads(oa.encode(request, {"reasoning_effort": "low", "model": "other"}))
    assert merged["reasoning_effort"] == "low"
    assert merged["model"] == "other"
    assert oa.decode_request(oa.encode(request)) == request
    models = oa.decode_model_list(b'{"object":"list","data":[{"id":"a","owned_by":"o"}]}')
    assert [m.id for m in models.data] == ["a"]
    emb = oa.decode_embedding_response(
        b'{"data":[{"embedding":[0.5,1],"index":0}],"model":"e","usage":{"prompt_tokens":2}}'
    )
    assert emb.data[0].embedding == [0.5, 1.0]


def test_anthropic_request_round_trip() -> None:
    request = an.MessagesRequest(
        model="claude",
        max_tokens=100,
        system=[an.TextBlock(text="sys", cache_control=an.CacheControl(type="ephemeral"))],
        messages=[
            an.MessageParam(role="user", content="hi"),
            an.MessageParam(
                role="assistant",
                content=[
                    an.ThinkingBlock(thinking="t", signature="s"),
                    an.RedactedThinkingBlock(data="r"),
                    an.ToolUseBlock(id="toolu_1", name="f", input={"a": 1}),
                ],
            ),
            an.MessageParam(
                role="user",
                content=[
                    an.ToolResultBlock(
                        tool_use_id="toolu_1", content=[an.TextBlock(text="ok")], is_error=False
                    ),
                    an.ImageBlock(
                        source=an.Source(type="base64", media_type="image/png", data="AA==")
                    ),
                ],
            ),
        ],
        tools=[an.ToolParam(name="f", input_schema={"type": "object"})],
        tool_choice=an.ToolChoice(type="any"),
        thinking=an.ThinkingConfig(type="enabled", budget_tokens=1024),
        metadata=an.Metadata(user_id="u"),
    )
    body = an.encode(request)
    assert an.decode_request(body) == request
    assert json.loads(body)["system"][0] == {
        "type": "text",
        "text": "sys",
        "cache_control": {"type": "ephemeral"},
    }
