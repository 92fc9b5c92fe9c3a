"""Typed usage of the public API: pyright checks these annotations, pytest runs them."""

from __future__ import annotations

from typing import Any, assert_type

import pytest
from atoll import (
    MODEL_ALIASES,
    MODEL_REGISTRY,
    AbstractMessage,
    AICall,
    AIGenerate,
    AIMessage,
    AITemplateMetadata,
    AnthropicSchema,
    CompatError,
    CustomOpenAISchema,
    DataMessage,
    ModelSpec,
    OllamaSchema,
    OpenAISchema,
    RetryConfig,
    SystemMessage,
    TracerSchema,
    UserMessage,
    aiembed,
    aigenerate,
    aigenerate_async,
    airetry_,
    aitemplates,
    create_template,
    load_conversation,
    register_model,
    run_,
    save_conversation,
    to_neutral,
)
from atoll_testing import FakeLLMServer
from atoll_wire import AtollError, Message

pytestmark = pytest.mark.anyio


async def test_typed_usage(server: FakeLLMServer, tmp_path: Any) -> None:
    schema = TracerSchema(CustomOpenAISchema())
    options: dict[str, Any] = {"model": "gpt-4o-mini", "api_kwargs": {"url": server.base_url}}
    reply = aigenerate(schema, "Hi {{name}}", name="Ann", verbose=False, **options)
    assert reply.content == "echo: Hi Ann"
    again = await aigenerate_async("Hi", verbose=False, **options)
    assert isinstance(again, AIMessage)
    template = create_template("Be {{tone}}.", "Say {{word}}.")
    assert_type(template, list[AbstractMessage])
    found = aitemplates("Assistant")
    assert_type(found, list[AITemplateMetadata])
    call = AIGenerate(CustomOpenAISchema(), "x", config=RetryConfig(max_retries=1), **options)
    assert_type(call, AICall)
    assert_type(run_(call), AICall)
    assert_type(airetry_(lambda c: c.isvalid(), call), AICall)
    spec = MODEL_REGISTRY["gpt4om"]
    assert_type(spec, ModelSpec)
    assert_type(MODEL_ALIASES["gpt4om"], str)
    stored = register_model("local-model", schema=OllamaSchema(), cost_of_token_prompt=0.0)
    assert_type(stored, ModelSpec)
    conversation: list[AbstractMessage] = [SystemMessage("s"), UserMessage("u")]
    save_conversation(tmp_path / "c.json", conversation)
    assert_type(load_conversation(tmp_path / "c.json"), list[AbstractMessage])
    neutral = to_neutral(UserMessage("u"))
    assert_type(neutral, Message | None)
    assert issubclass(CompatError, AtollError)
    assert OpenAISchema() != AnthropicSchema()
    embedded = aiembed(
        CustomOpenAISchema(),
        ["a"],
        model="echo-custom",
        api_kwargs={"url": server.base_url},
        verbose=False,
    )
    assert_type(embedded, DataMessage)
