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
    OpenAIChatQuirks,
    OpenAIResponsesQuirks,
    Target,
    UnsupportedRequestError,
    registered_dialects,
)
from atoll_dialects._dialects import dialect_named
from atoll_registry import ModelSpec, ProviderSpec
from atoll_wire import ChatRequest, Message, TextPart, ThinkingPart, ToolCallPart

Check = Callable[[], None]


def _provider(dialect: str, **quirks: Any) -> ProviderSpec:
    return ProviderSpec(
        name="acme",
        dialect=dialect,
        source="test",
        as_of=date(2026, 1, 1),
        base_url="http://127.0.0.1:9/v1",
        quirks=quirks,
    )


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


CHECKS: dict[type[DialectQuirks], dict[str, Check]] = {
    OpenAIChatQuirks: {
        "stream_include_usage": _stream_include_usage,
        "reasoning_field": _reasoning_field,
        "think_tag": _think_tag,
        "max_tokens_field": _max_tokens_field,
        "empty_tool_call_ids": _empty_tool_call_ids,
        "cache_tokens_in_input": _cache_tokens_in_input,
        "parallel_tool_calls_param": _parallel_tool_calls_param,
    },
    AnthropicQuirks: {
        "max_tokens_required": _max_tokens_required,
        "cache_tokens_in_input": _anthropic_cache_tokens_in_input,
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
