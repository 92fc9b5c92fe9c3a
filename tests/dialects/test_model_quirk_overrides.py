"""Per-model quirk overrides in the registry reach the dialect (no provider special cases)."""

from __future__ import annotations

import json

import msgspec
from atoll_dialects import OpenAIChatDialect
from atoll_dialects._quirks import quirks_for
from atoll_registry import Registry
from atoll_wire import ServerSentEvent, StreamAccumulator


def test_a_model_override_switches_on_think_tags_for_that_model_only() -> None:
    registry = Registry.default()
    qwen = registry.resolve("groq/qwen/qwen3-32b")
    llama = registry.resolve("groq/llama-3.3-70b-versatile")
    groq = registry.provider("groq")
    assert quirks_for(groq, qwen).think_tag == "think"
    assert quirks_for(groq, llama).think_tag is None


def test_think_tags_become_thinking_for_the_overridden_model() -> None:
    registry = Registry.default()
    qwen = registry.resolve("groq/qwen/qwen3-32b")
    decoder = OpenAIChatDialect().stream_decoder(registry.provider("groq"), qwen)
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


def test_quirks_are_remembered_per_entry_and_follow_a_re_registered_model() -> None:
    registry = Registry.load()
    groq = registry.provider("groq")
    llama = registry.resolve("groq/llama-3.3-70b-versatile")
    first = quirks_for(groq, llama)
    assert quirks_for(groq, llama) is first, "the same entries give the remembered record"
    assert first.tools is True
    registry.register(
        msgspec.structs.replace(
            llama, capabilities=msgspec.structs.replace(llama.capabilities, tools=False)
        )
    )
    changed = registry.resolve("groq/llama-3.3-70b-versatile")
    assert changed is not llama
    assert quirks_for(groq, changed).tools is False
    assert quirks_for(groq, llama) is first
