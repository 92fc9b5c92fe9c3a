"""Every quirk a dialect declares changes what the dialect does, and is tested here.

Adding a field to a dialect's quirk record without a reader and a check below fails
``test_every_quirk_field_has_a_check``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from atoll_dialects import (
    AnthropicQuirks,
    DialectQuirks,
    GeminiQuirks,
    OpenAIChatQuirks,
    OpenAIResponsesQuirks,
    Target,
    UnsupportedRequestError,
    registered_dialects,
)
from atoll_dialects._completions import CompletionRequest
from atoll_dialects._dialects import dialect_named
from atoll_registry import ModelSpec, ProviderSpec
from atoll_wire import ChatRequest, Message, OutputSchema, TextPart, ThinkingPart, ToolCallPart

Check = Callable[[], None]


_SETTINGS = {"project": "p1", "location": "europe-west4", "api_version": "v1"}


def _provider(dialect: str, **quirks: Any) -> ProviderSpec:
    return ProviderSpec(
        name="acme",
        dialect=dialect,
        source="test",
        as_of=date(2026, 1, 1),
        base_url="http://127.0.0.1:9/v1",
        quirks=quirks,
        settings=_SETTINGS,
    )


def _url(dialect: str, request: ChatRequest, **quirks: Any) -> str:
    target = Target.of(_provider(dialect, **quirks))
    return target.dialect.build(request, target).url


def _body(dialect: str, request: ChatRequest, **quirks: Any) -> dict[str, Any]:
    target = Target.of(_provider(dialect, **quirks))
    return json.loads(target.dialect.build(request, target).body)


def _parse(dialect: str, body: dict[str, Any], **quirks: Any) -> Any:
    target = Target.of(_provider(dialect, **quirks))
    return target.dialect.parse(json.dumps(body).encode(), target)


def _request(**fields: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=[Message.user("hi")], **fields)


def _openai_reply(message: dict[str, Any], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"choices": [{"index": 0, "message": message}]}
    if usage:
        reply["usage"] = usage
    return reply


# ---------------------------------------------------------------- openai-chat


def _stream_include_usage() -> None:
    asked = _body("openai-chat", _request(stream=True), stream_include_usage=True)
    silent = _body("openai-chat", _request(stream=True), stream_include_usage=False)
    assert asked["stream_options"] == {"include_usage": True}
    assert "stream_options" not in silent


def _reasoning_field() -> None:
    reply = _openai_reply({"content": "<think>plan</think>answer"})
    tagged = _parse("openai-chat", reply, reasoning_field="think_tags")
    plain = _parse("openai-chat", reply, reasoning_field="reasoning")
    assert (tagged.message.thinking, tagged.text) == ("plan", "answer")
    assert plain.text == "<think>plan</think>answer"
    turn = Message(
        role="assistant", parts=[ThinkingPart(text="why"), ToolCallPart(id="c", name="f")]
    )
    request = ChatRequest(model="m", messages=[Message.user("hi"), turn])
    echoed = _body("openai-chat", request, reasoning_field="reasoning_content")
    dropped = _body("openai-chat", request, reasoning_field="reasoning")
    assert echoed["messages"][1]["reasoning_content"] == "why"
    assert "reasoning_content" not in dropped["messages"][1]


def _think_tag() -> None:
    reply = _openai_reply({"content": "<thought>plan</thought>answer"})
    custom = _parse("openai-chat", reply, reasoning_field="think_tags", think_tag="thought")
    default = _parse("openai-chat", reply, reasoning_field="think_tags")
    assert custom.message.thinking == "plan"
    assert default.message.thinking == ""


def _max_tokens_field() -> None:
    request = _request(max_tokens=9)
    assert _body("openai-chat", request)["max_tokens"] == 9
    newer = _body("openai-chat", request, max_tokens_field="max_completion_tokens")
    assert newer["max_completion_tokens"] == 9 and "max_tokens" not in newer


def _empty_tool_call_ids() -> None:
    call = {"id": "", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    reply = _openai_reply({"tool_calls": [call]})
    made = _parse("openai-chat", reply, empty_tool_call_ids=True).message.tool_calls[0]
    kept = _parse("openai-chat", reply).message.tool_calls[0]
    assert made.id.startswith("call_") and kept.id == ""


def _cache_tokens_in_input() -> None:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 1,
        "prompt_tokens_details": {"cached_tokens": 4},
    }
    reply = _openai_reply({"content": "x"}, usage)
    assert _parse("openai-chat", reply).usage.input_tokens == 10
    assert _parse("openai-chat", reply, cache_tokens_in_input=False).usage.input_tokens == 14


def _parallel_tool_calls_param() -> None:
    request = _request(parallel_tool_calls=False)
    assert (
        _body("openai-chat", request, parallel_tool_calls_param=True)["parallel_tool_calls"]
        is False
    )
    with pytest.raises(UnsupportedRequestError, match="parallel_tool_calls"):
        _body("openai-chat", request, parallel_tool_calls_param=False)


def _strict_output(**quirks: Any) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "maxLength": 3, "format": "regex"}},
    }
    request = _request(output_schema=OutputSchema(name="o", schema=schema))
    body = _body("openai-chat", request, **quirks)
    return body["response_format"]["json_schema"]["schema"]["properties"]["code"]


def _strict_schema_rejects() -> None:
    moved = _strict_output()
    kept = _strict_output(strict_schema_rejects=[])
    assert "maxLength" not in moved and "maxLength" in moved["description"]
    assert kept["maxLength"] == 3


def _strict_schema_formats() -> None:
    moved = _strict_output()
    kept = _strict_output(strict_schema_formats=None)
    assert "format" not in moved and '"format": "regex"' in moved["description"]
    assert kept["format"] == "regex"


def _completion_body(request: CompletionRequest, **quirks: Any) -> Any:
    target = Target.of(_provider("openai-chat", **quirks))
    http = target.dialect.build_completion(request, target)
    return http.url, json.loads(http.body)


def _completions_path() -> None:
    request = CompletionRequest(model="m", prompt="def f(")
    url, body = _completion_body(request)
    assert url.endswith("/v1/completions") and body["prompt"] == "def f("
    beta, _ = _completion_body(request, completions_path="/beta/completions")
    assert beta.endswith("/v1/beta/completions")
    with pytest.raises(UnsupportedRequestError, match="completions"):
        _completion_body(request, completions_path=None)


def _completions_suffix() -> None:
    request = CompletionRequest(model="m", prompt="def f(", suffix="    return x")
    _, body = _completion_body(request)
    assert body["suffix"] == "    return x"
    with pytest.raises(UnsupportedRequestError, match="suffix"):
        _completion_body(request, completions_suffix=False)


# ---------------------------------------------------------------- anthropic-messages


def _max_tokens_required() -> None:
    required = _body("anthropic-messages", _request())
    optional = _body("anthropic-messages", _request(), max_tokens_required=False)
    assert required["max_tokens"] == 4096
    assert "max_tokens" not in optional
    spec = ModelSpec(id="m", provider="acme", max_output_tokens=2048)
    target = Target.of(_provider("anthropic-messages"), spec)
    limited = json.loads(target.dialect.build(_request(), target).body)
    assert limited["max_tokens"] == 2048


def _anthropic_cache_tokens_in_input() -> None:
    reply = {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": "x"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 4},
    }
    assert _parse("anthropic-messages", reply).usage.input_tokens == 14
    summed = _parse("anthropic-messages", reply, cache_tokens_in_input=True)
    assert summed.usage.input_tokens == 10


# ---------------------------------------------------------------- openai-responses


def _store() -> None:
    stateless = _body("openai-responses", _request())
    stored = _body("openai-responses", _request(), store=True)
    silent = _body("openai-responses", _request(), store=None)
    assert stateless["store"] is False
    assert stateless["include"] == ["reasoning.encrypted_content"]
    assert stored["store"] is True and "include" not in stored
    assert "store" not in silent and "include" not in silent


def _encrypted_reasoning() -> None:
    refused = _body("openai-responses", _request(), encrypted_reasoning=False)
    assert refused["store"] is False and "include" not in refused
    asked = _body("openai-responses", _request(), encrypted_reasoning=True)
    assert asked["include"] == ["reasoning.encrypted_content"]


def _reasoning_text_field() -> None:
    turn = Message(
        role="assistant", parts=[ThinkingPart(text="why", id="rs_1"), TextPart(text="a")]
    )
    request = ChatRequest(model="m", messages=[Message.user("hi"), turn])
    summary = _body("openai-responses", request)["input"][1]
    content = _body("openai-responses", request, reasoning_text_field="content")["input"][1]
    assert summary == {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "why"}],
    }
    assert content == {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "why"}],
    }


def _azure_deployments() -> None:
    request = _request()
    assert _url("openai-chat", request) == "http://127.0.0.1:9/v1/chat/completions"
    target = Target.of(
        _provider("openai-chat", azure_deployments=True), settings={"api_version": "2024-10-21"}
    )
    azure = target.dialect.build(request, target).url
    assert azure == "http://127.0.0.1:9/v1/deployments/m/chat/completions?api-version=2024-10-21"
    assert _url("openai-chat", request, azure_deployments=True).endswith("/v1/chat/completions")


def _anthropic_vertex_version() -> None:
    plain = _body("anthropic-messages", _request())
    vertex = _body("anthropic-messages", _request(), vertex_version="vertex-2023-10-16")
    assert plain["model"] == "m" and "anthropic_version" not in plain
    assert vertex["anthropic_version"] == "vertex-2023-10-16" and "model" not in vertex
    url = _url("anthropic-messages", _request(stream=True), vertex_version="vertex-2023-10-16")
    assert url == (
        "http://127.0.0.1:9/v1/v1/projects/p1/locations/europe-west4/publishers/anthropic"
        "/models/m:streamRawPredict"
    )


def _gemini_vertex() -> None:
    assert _url("gemini", _request()) == "http://127.0.0.1:9/v1/models/m:generateContent"
    assert _url("gemini", _request(), vertex=True) == (
        "http://127.0.0.1:9/v1/v1/projects/p1/locations/europe-west4/publishers/google"
        "/models/m:generateContent"
    )


def _gemini_openapi_schemas() -> None:
    schema = {"type": "object", "properties": {"n": {"type": ["integer", "null"]}}}
    request = _request(output_schema=OutputSchema(name="o", schema=schema))
    full = _body("gemini", request)["generationConfig"]
    subset = _body("gemini", request, openapi_schemas=True)["generationConfig"]
    assert full["responseJsonSchema"] == schema and "responseSchema" not in full
    assert subset["responseSchema"] == {
        "type": "OBJECT",
        "properties": {"n": {"type": "INTEGER", "nullable": True}},
    }


def _gemini_unsigned_call_signature() -> None:
    foreign = Message(
        role="assistant",
        parts=[ToolCallPart(id="call_1", name="f"), ToolCallPart(id="call_2", name="f")],
    )
    signed = Message(role="assistant", parts=[ToolCallPart(id="c3", name="f", signature="c2ln")])
    request = ChatRequest(
        model="m", messages=[Message.user("hi"), foreign, Message.user("x"), signed]
    )
    plain = _body("gemini", request)["contents"]
    marked = _body("gemini", request, unsigned_call_signature="skip_thought_signature_validator")
    assert "thoughtSignature" not in plain[1]["parts"][0]
    first, second = marked["contents"][1]["parts"]
    assert first["thoughtSignature"] == "skip_thought_signature_validator"
    assert "thoughtSignature" not in second  # only a turn's first call
    assert marked["contents"][3]["parts"][0]["thoughtSignature"] == "c2ln"  # never replaced


CHECKS: dict[type[DialectQuirks], dict[str, Check]] = {
    OpenAIChatQuirks: {
        "stream_include_usage": _stream_include_usage,
        "reasoning_field": _reasoning_field,
        "think_tag": _think_tag,
        "max_tokens_field": _max_tokens_field,
        "empty_tool_call_ids": _empty_tool_call_ids,
        "cache_tokens_in_input": _cache_tokens_in_input,
        "parallel_tool_calls_param": _parallel_tool_calls_param,
        "azure_deployments": _azure_deployments,
        "strict_schema_rejects": _strict_schema_rejects,
        "strict_schema_formats": _strict_schema_formats,
        "completions_path": _completions_path,
        "completions_suffix": _completions_suffix,
    },
    AnthropicQuirks: {
        "max_tokens_required": _max_tokens_required,
        "cache_tokens_in_input": _anthropic_cache_tokens_in_input,
        "vertex_version": _anthropic_vertex_version,
    },
    GeminiQuirks: {
        "vertex": _gemini_vertex,
        "openapi_schemas": _gemini_openapi_schemas,
        "unsigned_call_signature": _gemini_unsigned_call_signature,
    },
    OpenAIResponsesQuirks: {
        "store": _store,
        "encrypted_reasoning": _encrypted_reasoning,
        "reasoning_text_field": _reasoning_text_field,
    },
}

# Prose for people, read by no code on purpose (docs/registry.md shows them).
DOCUMENTATION_ONLY = {"notes"}


def test_every_quirk_field_has_a_check() -> None:
    for name in registered_dialects():
        kind = dialect_named(name).quirks_type
        fields = set(kind.__struct_fields__) - DOCUMENTATION_ONLY
        checked = set(CHECKS.get(kind, {}))
        assert fields == checked, (
            f"{kind.__name__}: fields without a reader check {sorted(fields - checked)}; "
            f"checks for missing fields {sorted(checked - fields)}"
        )


@pytest.mark.parametrize(
    "check",
    [check for checks in CHECKS.values() for check in checks.values()],
    ids=[f"{kind.__name__}.{field}" for kind, checks in CHECKS.items() for field in checks],
)
def test_quirk_changes_what_the_dialect_does(check: Check) -> None:
    check()
