"""Providers through the registry: Anthropic, keys, the live registry views, tracing, saving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from atoll import (
    MODEL_ALIASES,
    MODEL_REGISTRY,
    AIMessage,
    AnthropicSchema,
    CustomOpenAISchema,
    ModelSpec,
    OpenAISchema,
    SaverSchema,
    TracerMessage,
    TracerSchema,
    aigenerate,
    aigenerate_async,
    get_preferences,
    load_conversation,
    register_model,
    set_preferences,
)
from atoll_dialects import AuthenticationError, MissingAPIKeyError, SyncClient
from atoll_registry import Registry
from atoll_testing import ChatInput, FakeLLMServer, Turn
from atoll_wire import ThinkingPart, Usage

pytestmark = pytest.mark.anyio


def test_anthropic_thinking_is_kept_and_sent_back(redirect: FakeLLMServer) -> None:
    conversation = aigenerate(
        "think about atolls", model="claude-haiku-4-5", return_all=True, verbose=False
    )
    reply = conversation[-1]
    assert isinstance(reply, AIMessage)
    assert reply.content == "Thought about it."
    assert reply.extras["thinking"] == "Let me think it through."
    (stored,) = [p for p in reply.extras["parts"] if p["type"] == "thinking"]
    assert stored["signature"], "the signature is kept"
    aigenerate("and now?", model="claude-haiku-4-5", conversation=conversation, verbose=False)
    sent = redirect.requests[-1].json()["messages"]
    assert sent[1]["role"] == "assistant"
    assert sent[1]["content"][0] == {
        "type": "thinking",
        "thinking": "Let me think it through.",
        "signature": stored["signature"],
    }


def test_anthropic_cache_reads_and_writes_are_priced_by_the_registry(
    redirect: FakeLLMServer,
) -> None:
    reply = aigenerate("cached context", model="claude-haiku-4-5", verbose=False)
    assert reply.usage == Usage(
        input_tokens=13_000,
        output_tokens=500,
        cache_read_tokens=10_000,
        cache_write_tokens=2_000,
    )
    expected = Registry.default().cost("anthropic/claude-haiku-4-5", reply.usage)
    assert expected is not None and expected.cached_input > 0 and expected.cache_write > 0
    assert reply.extras["cost_usd"] == str(expected.total)
    assert reply.cost == float(expected.total)


async def test_anthropic_async_stream(redirect: FakeLLMServer) -> None:
    pieces: list[str] = []
    reply = await aigenerate_async(
        AnthropicSchema(),
        "think again",
        model="claude-haiku-4-5",
        streamcallback=pieces.append,
        verbose=False,
    )
    assert "".join(pieces) == reply.content == "Thought about it."
    assert reply.extras["thinking"] == "Let me think it through."
    assert isinstance(msgspec.convert(reply.extras["parts"][0], ThinkingPart), ThinkingPart)


@pytest.fixture
def keyed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    """A server that accepts only the key "right", with openai pointed at it."""
    server = FakeLLMServer(models={"gpt-4o-mini": _ok}, api_key="right")
    with server.run_in_thread() as srv:
        data = msgspec.to_builtins(Registry.default().provider("openai"))
        data["base_url"] = srv.base_url
        path = tmp_path / "keyed.json"
        path.write_text(json.dumps({"schema_version": 1, "providers": [data]}))
        monkeypatch.setenv("ATOLL_REGISTRY", str(path))
        Registry.reset_default()
        yield srv


def _ok(request: ChatInput) -> Turn:
    return Turn(text="ok")


def test_key_precedence_argument_then_preferences_then_environment(
    keyed: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "wrong")
    set_preferences(OPENAI_API_KEY="wrong")
    assert aigenerate("x", model="gpt4om", api_key="right", verbose=False).content == "ok"
    with pytest.raises(AuthenticationError):
        aigenerate("x", model="gpt4om", verbose=False)
    set_preferences(OPENAI_API_KEY="right")
    assert aigenerate("x", model="gpt4om", verbose=False).content == "ok"
    set_preferences(OPENAI_API_KEY=None)
    monkeypatch.setenv("OPENAI_API_KEY", "right")
    assert aigenerate("x", model="gpt4om", verbose=False).content == "ok"
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(MissingAPIKeyError) as caught:
        aigenerate("x", model="gpt4om", verbose=False)
    assert caught.value.env_var == "OPENAI_API_KEY"


def test_preferences_persist_and_apply_at_once(tmp_path: Path) -> None:
    set_preferences(MODEL_CHAT="claudeh")
    assert get_preferences("MODEL_CHAT") == "claudeh"
    saved = json.loads((tmp_path / "preferences.json").read_text())
    assert saved == {"MODEL_CHAT": "claudeh"}
    assert (tmp_path / "preferences.json").stat().st_mode & 0o077 == 0, "private to its owner"
    rendered = aigenerate("Hi", dry_run=True, return_all=True)
    assert "system" in rendered, "the default model is now an Anthropic one"
    with pytest.raises(KeyError, match="unknown preference"):
        set_preferences(MODEL_CHATT="x")


def test_registry_views_are_live() -> None:
    spec = MODEL_REGISTRY["gpt4om"]
    assert spec.name == "openai/gpt-4o-mini"
    assert spec.schema == OpenAISchema()
    assert spec.cost_of_token_prompt == pytest.approx(0.15e-6)
    assert "openai/gpt-4o-mini" in MODEL_REGISTRY
    assert MODEL_ALIASES["gpt4om"] == "openai/gpt-4o-mini"
    MODEL_ALIASES["mini"] = "gpt-4o-mini"
    assert Registry.default().resolve("mini").qualified_name == "openai/gpt-4o-mini"
    del MODEL_ALIASES["mini"]
    assert "mini" not in MODEL_ALIASES
    with pytest.raises(KeyError):
        MODEL_REGISTRY["no-such-model-anywhere"]


def test_register_model_is_used_by_the_client_and_priced() -> None:
    stored = register_model(
        "ft:gpt-4o-mini:acme",
        schema=OpenAISchema(),
        cost_of_token_prompt=3e-7,
        cost_of_token_generation=1.2e-6,
        description="our fine-tune",
    )
    assert stored == ModelSpec(
        name="openai/ft:gpt-4o-mini:acme",
        schema=OpenAISchema(),
        cost_of_token_prompt=3e-7,
        cost_of_token_generation=1.2e-6,
        description="our fine-tune",
    )
    with SyncClient("openai/ft:gpt-4o-mini:acme", api_key="k") as client:
        target = client.targets[0]
    assert target.model is not None and target.model.known
    usage = Usage(input_tokens=1000, output_tokens=100)
    cost = Registry.default().cost("openai/ft:gpt-4o-mini:acme", usage)
    assert cost is not None and cost.total == Decimal("0.00042")
    MODEL_REGISTRY["openai/another-ft"] = ModelSpec(name="ignored", schema=OpenAISchema())
    assert (
        Registry.default().cost("openai/another-ft", Usage(input_tokens=1, output_tokens=1)) is None
    )


def test_tracer_keeps_inputs_timing_and_model(server: FakeLLMServer) -> None:
    reply = aigenerate(
        TracerSchema(CustomOpenAISchema()),
        "Hi {{name}}",
        name="Ann",
        model="gpt-4o-mini",
        api_kwargs={"url": server.base_url, "temperature": 0.5},
        tracer_kwargs={"thread_id": "t-1", "meta": {"job": "demo"}},
        verbose=False,
    )
    assert isinstance(reply, TracerMessage)
    assert reply.content == "echo: Hi Ann", "fields read through"
    assert reply.model == "openai/gpt-4o-mini"
    assert reply.time_sent is not None and reply.time_sent <= reply.time_received
    assert reply.thread_id == "t-1"
    assert reply.meta["placeholders"] == {"name": "Ann"}
    assert reply.meta["api_kwargs"]["temperature"] == 0.5
    assert reply.meta["job"] == "demo"
    assert [m.content for m in reply.meta["inputs"]][-1] == "Hi Ann"


def test_saver_writes_the_conversation(server: FakeLLMServer, tmp_path: Path) -> None:
    conversation = aigenerate(
        SaverSchema(TracerSchema(CustomOpenAISchema())),
        ":AssistantAsk",
        ask="What is an atoll?",
        model="gpt-4o-mini",
        api_kwargs={"url": server.base_url},
        tracer_kwargs={"log_dir": str(tmp_path / "logs")},
        return_all=True,
        verbose=False,
    )
    (saved,) = (tmp_path / "logs").glob("conversation__*.json")
    loaded = load_conversation(saved)
    assert loaded == conversation
    assert all(isinstance(m, TracerMessage) for m in loaded)
    last = loaded[-1]
    assert isinstance(last, TracerMessage)
    assert last.meta["template_name"] == "AssistantAsk"
    assert last.meta["template_version"] == "1"


def test_registered_tracer_schema_applies_without_a_schema(server: FakeLLMServer) -> None:
    register_model("echo-custom", schema=TracerSchema(CustomOpenAISchema()))
    reply = aigenerate(
        "hi", model="echo-custom", api_kwargs={"url": server.base_url}, verbose=False
    )
    assert isinstance(reply, TracerMessage)
    assert reply.cost is None, "no price was registered: unknown, not $0"
