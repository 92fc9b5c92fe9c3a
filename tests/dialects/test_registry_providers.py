"""build() against the packaged registry: every provider's quirks reach the request body."""

from __future__ import annotations

import json

import pytest
from atoll_dialects import (
    AnthropicMessagesDialect,
    CapabilityError,
    Dialect,
    OpenAIChatDialect,
    OpenAIChatQuirks,
    Target,
)
from atoll_registry import Registry
from atoll_wire import ChatRequest, ImagePart, Message, OutputSchema, ToolSpec

DIALECTS: dict[str, Dialect] = {
    "openai-chat": OpenAIChatDialect(),
    "anthropic-messages": AnthropicMessagesDialect(),
}


def _providers() -> list[str]:
    # Providers whose URL comes from endpoint settings (Azure, Vertex) are built in
    # tests/dialects/test_gemini_endpoints.py, with the settings they need.
    return sorted(
        p.name for p in Registry.default().providers() if p.dialect in DIALECTS and not p.settings
    )


@pytest.mark.parametrize("name", _providers())
def test_every_provider_builds_a_streaming_request(name: str) -> None:
    registry = Registry.default()
    provider = registry.provider(name)
    models = registry.models(name)
    model = models[0] if models else None
    base_url = provider.base_url or "http://127.0.0.1:8000/v1"
    request = ChatRequest(
        model=model.request_name if model else "local-model",
        messages=[Message.system("s"), Message.user("hi")],
        max_tokens=64,
        stream=True,
    )
    target = Target.of(provider, model, api_key="secret-key-123456", base_url=base_url)
    http = DIALECTS[provider.dialect].build(request, target)
    body = json.loads(http.body)
    assert b"secret-key-123456" not in http.body
    assert "secret-key-123456" not in str(http.headers), "dialects never see the key"
    assert body["stream"] is True
    quirks = target.quirks
    if provider.dialect == "anthropic-messages":
        assert http.url.endswith("/messages")
        assert http.headers["anthropic-version"]
        assert body["system"] == "s"
        assert body["max_tokens"] == 64
    else:
        assert http.url == base_url.rstrip("/") + "/chat/completions"
        assert isinstance(quirks, OpenAIChatQuirks)
        assert body[quirks.max_tokens_field] == 64
        assert ("stream_options" in body) == quirks.stream_include_usage
    auth = dict(target.auth.headers())
    if provider.auth == "bearer":
        assert auth == {"Authorization": "Bearer secret-key-123456"}
    elif provider.auth == "x-api-key":
        assert auth == {"x-api-key": "secret-key-123456"}
    elif provider.auth == "none":
        assert auth == {}
    else:
        assert "Authorization" not in http.headers


def test_registry_quirks_drive_parsing() -> None:
    registry = Registry.default()
    together = registry.provider("together")
    body = json.dumps(
        {
            "choices": [
                {"index": 0, "message": {"content": "<think>r</think>a"}, "finish_reason": "stop"}
            ]
        }
    ).encode()
    parsed = OpenAIChatDialect().parse(body, Target.of(together))
    assert (parsed.message.thinking, parsed.message.text) == ("r", "a")
    gemini = registry.provider("gemini-openai")
    calls = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "tool_calls": [{"id": "", "function": {"name": "f", "arguments": "{}"}}]
                },
            }
        ]
    }
    parsed = OpenAIChatDialect().parse(json.dumps(calls).encode(), Target.of(gemini))
    assert parsed.message.tool_calls[0].id.startswith("call_")


def _schema_request(model: str) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=[Message.user("a city")],
        output_schema=OutputSchema(name="City", schema={"type": "object"}),
    )


@pytest.mark.parametrize(
    ("name", "native"),
    [("anthropic/claude-sonnet-4-5", True), ("anthropic/claude-3-haiku", False)],
)
def test_anthropic_structured_output_follows_registry_capability(name: str, native: bool) -> None:
    """Native ``output_config.format`` where the registry documents it, else a forced tool."""
    registry = Registry.default()
    model = registry.resolve(name)
    provider = registry.provider(model.provider)
    assert provider.base_url is not None
    http = AnthropicMessagesDialect().build(
        _schema_request(model.request_name),
        Target.of(provider, model, api_key="k", base_url=provider.base_url),
    )
    body = json.loads(http.body)
    if native:
        assert body["output_config"]["format"]["type"] == "json_schema"
        assert "tools" not in body
    else:
        assert "output_config" not in body
        assert body["tool_choice"] == {"type": "tool", "name": "City"}


def test_registry_capabilities_refuse_before_sending() -> None:
    """Tools on a model the registry says has none, an image to a text-only model: refused."""
    registry = Registry.default()
    no_tools = [m for p in registry.providers() for m in registry.models(p.name)]
    no_tools = [m for m in no_tools if m.capabilities.tools is False]
    text_only = [
        m
        for p in registry.providers()
        for m in registry.models(p.name)
        if m.input_modalities == ("text",) and p.dialect in DIALECTS
    ]
    assert no_tools and text_only
    tool = ToolSpec(name="f", parameters={"type": "object", "properties": {}})
    image = Message(role="user", parts=[ImagePart(url="https://example.test/a.png")])
    for model, request, capability in [
        (no_tools[0], ChatRequest(model="x", messages=[Message.user("hi")], tools=[tool]), "tools"),
        (text_only[0], ChatRequest(model="x", messages=[image]), "vision"),
    ]:
        provider = registry.provider(model.provider)
        with pytest.raises(CapabilityError) as info:
            DIALECTS[provider.dialect].build(
                request, Target.of(provider, model, api_key="k", base_url="http://127.0.0.1:9")
            )
        assert info.value.capability == capability
