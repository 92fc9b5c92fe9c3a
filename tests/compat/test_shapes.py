"""Golden tests of what the ai* functions return: ``return_all``, ``dry_run``, samples."""

from __future__ import annotations

from typing import Any

import pytest
from atoll import (
    AIMessage,
    AnthropicSchema,
    ChatMLSchema,
    CustomOpenAISchema,
    NoSchema,
    OpenAISchema,
    SchemaError,
    SystemMessage,
    UserMessage,
    UserMessageWithImages,
    aigenerate,
    aigenerate_async,
)
from atoll_testing import FakeLLMServer

pytestmark = pytest.mark.anyio


def _local(server: FakeLLMServer, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "api_kwargs": {"url": server.base_url, **extra}}


def test_dry_run_returns_nothing() -> None:
    assert aigenerate("Hi {{name}}", name="Ann", dry_run=True) is None


def test_dry_run_return_all_is_the_openai_wire_conversation() -> None:
    rendered = aigenerate(
        OpenAISchema(), "Hi {{name}}", name="Ann", model="gpt4om", dry_run=True, return_all=True
    )
    assert rendered == [
        {"role": "system", "content": "Act as a helpful AI assistant"},
        {"role": "user", "content": "Hi Ann"},
    ]


def test_dry_run_return_all_is_the_anthropic_wire_conversation() -> None:
    rendered = aigenerate(
        AnthropicSchema(),
        [SystemMessage("Be {{tone}}."), UserMessage("Hi")],
        tone="brief",
        model="claude-haiku-4-5",
        dry_run=True,
        return_all=True,
    )
    assert rendered == {
        "system": "Be brief.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
    }


def test_dry_run_images_render_as_the_dialect_sends_them() -> None:
    message = UserMessageWithImages("What is it?", image_url="https://x.test/a.png")
    rendered = aigenerate(OpenAISchema(), message, model="gpt-4o", dry_run=True, return_all=True)
    assert rendered[-1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is it?"},
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        ],
    }


def test_chatml_is_render_only() -> None:
    text = aigenerate(ChatMLSchema(), "Hi {{x}}", x=1, dry_run=True, return_all=True)
    assert text == (
        "<|im_start|>system\nAct as a helpful AI assistant<|im_end|>\n"
        "<|im_start|>user\nHi 1<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    with pytest.raises(SchemaError, match="render-only"):
        aigenerate(ChatMLSchema(), "Hi")


def test_noschema_dry_run_gives_the_legacy_messages() -> None:
    rendered = aigenerate(NoSchema(), "Hi {{x}}", x=2, dry_run=True, return_all=True)
    assert rendered == [SystemMessage("Act as a helpful AI assistant"), UserMessage("Hi 2")]


def test_custom_schema_needs_a_url() -> None:
    with pytest.raises(SchemaError, match="api_kwargs"):
        aigenerate(CustomOpenAISchema(), "Hi", model="x")


def test_reply_and_return_all(server: FakeLLMServer) -> None:
    reply = aigenerate(CustomOpenAISchema(), "Hi {{n}}", n=1, verbose=False, **_local(server))
    assert isinstance(reply, AIMessage)
    assert reply.content == "echo: Hi 1"
    assert reply.status == 200 and reply.sample_id is None
    conversation = aigenerate(
        CustomOpenAISchema(), "Hi {{n}}", n=1, verbose=False, return_all=True, **_local(server)
    )
    assert conversation[:2] == [SystemMessage("Act as a helpful AI assistant"), UserMessage("Hi 1")]
    assert isinstance(conversation[2], AIMessage) and conversation[2].content == "echo: Hi 1"
    assert len(conversation) == 3


def test_samples_share_a_run_id(server: FakeLLMServer) -> None:
    replies = aigenerate(CustomOpenAISchema(), "Hi", verbose=False, **_local(server, n=3))
    assert [r.sample_id for r in replies] == [1, 2, 3]
    assert len({r.run_id for r in replies}) == 1
    assert server.counts["gpt-4o-mini"] == 3
    conversation = aigenerate(
        CustomOpenAISchema(), "Hi", verbose=False, return_all=True, **_local(server, n=2)
    )
    assert [type(m).__name__ for m in conversation] == [
        "SystemMessage",
        "UserMessage",
        "AIMessage",
        "AIMessage",
    ]


async def test_async_shapes_match(server: FakeLLMServer) -> None:
    reply = await aigenerate_async(CustomOpenAISchema(), "Hi", verbose=False, **_local(server))
    assert isinstance(reply, AIMessage) and reply.content == "echo: Hi"
    replies = await aigenerate_async(
        CustomOpenAISchema(), "Hi", verbose=False, return_all=True, **_local(server, n=2)
    )
    assert [getattr(m, "sample_id", None) for m in replies] == [None, None, 1, 2]
    assert await aigenerate_async("Hi", dry_run=True) is None


def test_reply_record_fields(server: FakeLLMServer) -> None:
    reply = aigenerate(CustomOpenAISchema(), "one two three", verbose=False, **_local(server))
    assert reply.tokens == (reply.usage.input_tokens, reply.usage.output_tokens)
    assert reply.tokens[0] > 0 and reply.tokens[1] == 4  # "echo: one two three"
    assert reply.elapsed > 0
    assert reply.finish_reason == "stop"
    assert reply.extras["served_by"] == "openai/gpt-4o-mini"
    assert reply.cost == pytest.approx(float(reply.extras["cost_usd"]))


def test_schema_without_prompt_is_an_error() -> None:
    with pytest.raises(TypeError, match="a prompt must follow the schema"):
        aigenerate(OpenAISchema())  # type: ignore[call-overload]


def test_local_server_schema_uses_the_preference_and_costs_zero(server: FakeLLMServer) -> None:
    from atoll import LocalServerOpenAISchema, set_preferences

    set_preferences(LOCAL_SERVER=server.base_url)
    reply = aigenerate(LocalServerOpenAISchema(), "Hi", model="gpt-4o-mini", verbose=False)
    assert reply.content == "echo: Hi"
    assert reply.extras["served_by"] == "llama.cpp/gpt-4o-mini"
    assert reply.cost == 0.0, "a self-hosted server's default price is zero, with its source"


def test_ollama_and_provider_schemas(server: FakeLLMServer) -> None:
    from atoll import GroqOpenAISchema, OllamaSchema

    reply = aigenerate(
        OllamaSchema(),
        "Hi",
        model="gpt-4o-mini",
        api_kwargs={"url": server.base_url},
        verbose=False,
    )
    assert reply.extras["served_by"] == "ollama/gpt-4o-mini" and reply.cost == 0.0
    assert server.requests[-1].headers.get("authorization") is None, "ollama needs no key"
    rendered = aigenerate(
        GroqOpenAISchema(), "Hi", model="llama-3.3-70b-versatile", dry_run=True, return_all=True
    )
    assert rendered[-1] == {"role": "user", "content": "Hi"}


def test_azure_sends_its_key_in_the_api_key_header(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atoll import AzureOpenAISchema

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-secret")
    monkeypatch.setenv("AZURE_OPENAI_HOST", server.url)
    reply = aigenerate(AzureOpenAISchema(), "Hi", model="gpt-4o-mini", verbose=False)
    assert reply.content == "echo: Hi"
    request = server.requests[-1]
    assert request.path == "/openai/v1/chat/completions"
    assert request.headers.get("api-key") == "[redacted]", "sent, and redacted in the log"
    assert "authorization" not in request.headers
    monkeypatch.delenv("AZURE_OPENAI_HOST")
    with pytest.raises(SchemaError, match="AZURE_OPENAI_HOST"):
        aigenerate(AzureOpenAISchema(), "Hi", model="gpt-4o-mini")
