"""Per-model quirk overrides in the registry reach the dialect (no provider special cases)."""

from __future__ import annotations

import json

import msgspec
import pytest
from atoll_dialects import OpenAIChatDialect, OpenAIChatQuirks, Target, resolve_target
from atoll_registry import Registry, RegistryDataError
from atoll_wire import ServerSentEvent, StreamAccumulator


def test_a_model_override_switches_on_think_tags_for_that_model_only() -> None:
    registry = Registry.default()
    qwen = registry.resolve("groq/qwen/qwen3-32b")
    llama = registry.resolve("groq/llama-3.3-70b-versatile")
    groq = registry.provider("groq")
    qwen_quirks = Target.of(groq, qwen).quirks
    llama_quirks = Target.of(groq, llama).quirks
    assert isinstance(qwen_quirks, OpenAIChatQuirks)
    assert isinstance(llama_quirks, OpenAIChatQuirks)
    assert qwen_quirks.inline_think_tag == "think"
    assert llama_quirks.inline_think_tag is None
    assert qwen_quirks.notes[-1].startswith("Groq's default reasoning_format")


def test_think_tags_become_thinking_for_the_overridden_model() -> None:
    registry = Registry.default()
    qwen = registry.resolve("groq/qwen/qwen3-32b")
    decoder = OpenAIChatDialect().stream_decoder(Target.of(registry.provider("groq"), qwen))
    accumulator = StreamAccumulator()
    chunks = ["<think>plan", " it</think>", "Answer."]
    for text in chunks:
        data = json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})
        for event in decoder.feed(ServerSentEvent(data=data)):
            accumulator.add(event)
    for event in decoder.feed(ServerSentEvent(data="[DONE]")):
        accumulator.add(event)
    for event in decoder.finish():
        accumulator.add(event)
    response = accumulator.response()
    assert response.text == "Answer."
    kinds = [type(p).__name__ for p in response.message.parts]
    assert kinds == ["ThinkingPart", "TextPart"]
    assert response.message.parts[0].text == "plan it"  # type: ignore[union-attr]


def test_a_re_registered_model_gives_new_facts_to_new_clients() -> None:
    registry = Registry.load()
    llama = registry.resolve("groq/llama-3.3-70b-versatile")
    first = resolve_target("groq/llama-3.3-70b-versatile", registry=registry, api_key="k")
    assert first.facts.tools is True
    registry.register(
        msgspec.structs.replace(
            llama, capabilities=msgspec.structs.replace(llama.capabilities, tools=False)
        )
    )
    changed = resolve_target("groq/llama-3.3-70b-versatile", registry=registry, api_key="k")
    assert changed.facts.tools is False
    assert first.facts.tools is True  # a target already made keeps what it was made with


def test_a_quirk_the_dialect_does_not_know_fails_when_the_client_is_made() -> None:
    registry = Registry.load()
    groq = registry.provider("groq")
    registry.register_provider(
        msgspec.structs.replace(groq, quirks={**groq.quirks, "stream_include_usge": True})
    )
    with pytest.raises(RegistryDataError) as info:
        resolve_target("groq/llama-3.3-70b-versatile", registry=registry, api_key="k")
    assert "stream_include_usge" in str(info.value)
    assert "groq" in str(info.value)
