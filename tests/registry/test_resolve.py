"""Name resolution: qualified names, bare ids, aliases, snapshots, dated ids and errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from atoll_registry import (
    AmbiguousModelError,
    ModelSpec,
    Registry,
    RegistryDataError,
    UnknownModelError,
    UnknownProviderError,
)
from atoll_wire import Usage
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.mark.parametrize(
    ("name", "qualified", "api_name"),
    [
        ("openai/gpt-4o", "openai/gpt-4o", "gpt-4o"),
        ("gpt-4o", "openai/gpt-4o", "gpt-4o"),
        ("GPT-4o", "openai/gpt-4o", "gpt-4o"),
        ("gpt4o", "openai/gpt-4o", "gpt-4o"),
        ("gpt4om", "openai/gpt-4o-mini", "gpt-4o-mini"),
        ("claudeh", "anthropic/claude-haiku-5-5", "claude-haiku-5-5"),
        ("claudes", "anthropic/claude-sonnet-5-5", "claude-sonnet-5-5"),
        ("claudeo", "anthropic/claude-opus-5-5", "claude-opus-5-5"),
        ("gpt-4o-2024-08-06", "openai/gpt-4o", "gpt-4o-2024-08-06"),
        ("claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
        (
            "anthropic/claude-sonnet-4-5-20250929",
            "anthropic/claude-sonnet-4-5",
            "claude-sonnet-4-5-20250929",
        ),
        # A dated id the data does not list still maps to its base entry.
        ("claude-opus-4-5-20991231", "anthropic/claude-opus-4-5", "claude-opus-4-5-20991231"),
        ("gpt-4o-mini-2030-01-02", "openai/gpt-4o-mini", "gpt-4o-mini-2030-01-02"),
        # A dated id with its own entry (different price) wins over the base.
        ("gpt-4o-2024-05-13", "openai/gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        ("claude-3-5-haiku", "anthropic/claude-3-5-haiku", "claude-3-5-haiku-latest"),
        ("mistral-large-latest", "mistral/mistral-large-2512", "mistral-large-latest"),
        ("groq/openai/gpt-oss-120b", "groq/openai/gpt-oss-120b", "openai/gpt-oss-120b"),
        (
            "meta-llama/Llama-4-Scout-17B-16E-Instruct",
            "together/meta-llama/Llama-4-Scout-17B-16E-Instruct",
            "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        ),
        (
            "meta-llama/llama-4-scout-17b-16e-instruct",
            "groq/meta-llama/llama-4-scout-17b-16e-instruct",
            "meta-llama/llama-4-scout-17b-16e-instruct",
        ),
        ("fireworks/gpt-oss-20b", "fireworks/gpt-oss-20b", "accounts/fireworks/models/gpt-oss-20b"),
        (
            "accounts/fireworks/models/gpt-oss-20b",
            "fireworks/gpt-oss-20b",
            "accounts/fireworks/models/gpt-oss-20b",
        ),
        ("openrouter/openai/gpt-4o", "openrouter/openai/gpt-4o", "openai/gpt-4o"),
    ],
)
def test_resolves(registry: Registry, name: str, qualified: str, api_name: str) -> None:
    spec = registry.resolve(name)
    assert (spec.qualified_name, spec.api_name, spec.known) == (qualified, api_name, True)
    assert spec.request_name == api_name


def test_dated_id_keeps_base_facts(registry: Registry) -> None:
    base = registry.resolve("claude-sonnet-4-5")
    dated = registry.resolve("claude-sonnet-4-5-20250929")
    assert dated.prices == base.prices and dated.prices
    assert dated.context_window == base.context_window == 200000


def test_unknown_model_on_known_provider(registry: Registry) -> None:
    spec = registry.resolve("openai/gpt-7-turbo")
    assert (spec.provider, spec.id, spec.api_name, spec.known) == (
        "openai",
        "gpt-7-turbo",
        "gpt-7-turbo",
        False,
    )
    assert spec.prices == () and spec.context_window is None
    assert spec.capabilities.tools is None
    local = registry.resolve("ollama/qwen3:0.6b")
    assert local.api_name == "qwen3:0.6b" and not local.known
    assert local.prices and local.prices[0].input == 0
    assert "openai/gpt-7-turbo" not in registry and "gpt-4o" in registry


def test_ambiguous_bare_name(registry: Registry) -> None:
    with pytest.raises(AmbiguousModelError) as info:
        registry.resolve("gpt-oss-120b")
    assert info.value.candidates == ("cerebras/gpt-oss-120b", "fireworks/gpt-oss-120b")
    assert isinstance(info.value, UnknownModelError)
    with pytest.raises(AmbiguousModelError) as info:
        registry.resolve("openai/gpt-oss-120b")  # openai does not list it; three hosts do
    assert "groq/openai/gpt-oss-120b" in info.value.candidates
    # An OpenRouter id is never silently routed through OpenRouter when it reads as provider/model.
    with pytest.raises(AmbiguousModelError) as info:
        registry.resolve("anthropic/claude-sonnet-4.5")
    assert info.value.candidates == ("openrouter/anthropic/claude-sonnet-4.5",)


def test_unknown_provider_suggests(registry: Registry) -> None:
    with pytest.raises(UnknownProviderError) as info:
        registry.resolve("opnai/gpt-4o")
    assert info.value.provider == "opnai"
    assert info.value.suggestions[0] == "openai"
    assert "did you mean 'openai'" in str(info.value)
    with pytest.raises(UnknownProviderError):
        registry.provider("antropic")


def test_unknown_model_suggests(registry: Registry) -> None:
    with pytest.raises(UnknownModelError) as info:
        registry.resolve("gpt-4oo")
    assert "gpt-4o" in info.value.suggestions
    with pytest.raises(UnknownModelError) as info:
        registry.resolve("claude-sonet-4-5")
    assert "claude-sonnet-4-5" in info.value.suggestions
    with pytest.raises(UnknownModelError) as info:
        registry.resolve("zzzzzzzz")
    assert info.value.suggestions == ()
    for empty in ("ollama/", "openai/  ", ""):
        with pytest.raises(UnknownModelError):
            registry.resolve(empty)


def test_resolve_is_cached_and_stable(registry: Registry) -> None:
    first = registry.resolve("gpt4om")
    assert registry.resolve("gpt4om") is first


def test_register_adds_and_replaces() -> None:
    registry = Registry.load()
    spec = registry.register(ModelSpec(id="my-finetune", provider="openai", aliases=("myft",)))
    assert spec.api_name == "my-finetune"
    assert registry.resolve("myft").known
    assert registry.cost("myft", _usage()) is None  # no price given, never guessed
    registry.register(ModelSpec(id="my-finetune", provider="openai", context_window=1000))
    assert registry.resolve("openai/my-finetune").context_window == 1000
    with pytest.raises(UnknownModelError):
        registry.resolve("myft")  # the replacement dropped the alias
    with pytest.raises(UnknownProviderError):
        registry.register(ModelSpec(id="x", provider="nope"))
    with pytest.raises(RegistryDataError):
        registry.register(ModelSpec(id="x", provider="openai", context_window=0))


def _usage() -> Usage:
    return Usage(input_tokens=10, output_tokens=10)


OVERRIDE = {
    "schema_version": 1,
    "providers": [
        {
            "name": "corp",
            "dialect": "openai-chat",
            "auth": "bearer",
            "source": "https://corp.example",
            "as_of": "2026-11-01",
            "base_url": "https://llm.corp.example/v1",
            "api_key_env": "CORP_KEY",
        }
    ],
    "models": [
        {
            "id": "corp-chat",
            "provider": "corp",
            "aliases": ["cc"],
            "prices": [
                {"source": "contract 42", "as_of": "2026-11-01", "input": "1", "output": "2"}
            ],
        }
    ],
    "prices": [
        {
            "provider": "openai",
            "model": "gpt-4o",
            "prices": [
                {"source": "negotiated", "as_of": "2026-11-01", "input": "1", "output": "4"}
            ],
        }
    ],
}


def test_load_merges_override_on_top(tmp_path: Path) -> None:
    path = tmp_path / "override.json"
    path.write_text(json.dumps(OVERRIDE))
    registry = Registry.load(path)
    assert registry.provider("corp").base_url == "https://llm.corp.example/v1"
    assert registry.resolve("cc").qualified_name == "corp/corp-chat"
    assert registry.resolve("gpt-4o").prices[0].source == "negotiated"
    assert registry.resolve("claudeh").prices  # packaged data still there
    # Without the packaged data the price table has no gpt-4o to apply to: a typed error.
    with pytest.raises(RegistryDataError, match="unknown model openai/gpt-4o"):
        Registry.load(path, packaged=False)
    path.write_text(json.dumps({**OVERRIDE, "prices": []}))
    alone = Registry.load(path, packaged=False)
    assert [m.qualified_name for m in alone.models()] == ["corp/corp-chat"]
    assert len(alone) == 1 and [p.name for p in alone.providers()] == ["corp"]


def test_env_var_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "override.json"
    path.write_text(json.dumps(OVERRIDE))
    monkeypatch.setenv("ATOLL_REGISTRY", str(path))
    Registry.reset_default()
    try:
        registry = Registry.default()
        assert Registry.default() is registry
        assert registry.resolve("cc").provider == "corp"
    finally:
        Registry.reset_default()
    # Several files, separated by os.pathsep: later ones win.
    second = tmp_path / "second.json"
    second.write_text(
        json.dumps(
            {
                "prices": [
                    {
                        "provider": "corp",
                        "model": "corp-chat",
                        "prices": [
                            {
                                "source": "contract 43",
                                "as_of": "2026-11-02",
                                "input": "3",
                                "output": "4",
                            }
                        ],
                    }
                ]
            }
        )
    )
    monkeypatch.setenv("ATOLL_REGISTRY", os.pathsep.join([str(path), str(second)]))
    try:
        assert Registry.default().resolve("cc").prices[0].source == "contract 43"
    finally:
        Registry.reset_default()
    monkeypatch.setenv("ATOLL_REGISTRY", str(tmp_path / "missing.json"))
    try:
        with pytest.raises(RegistryDataError, match=r"missing\.json"):
            Registry.default()
    finally:
        Registry.reset_default()
    monkeypatch.delenv("ATOLL_REGISTRY")
    try:
        with pytest.raises(UnknownModelError):
            Registry.default().resolve("cc")
    finally:
        Registry.reset_default()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"models": [{"id": "m", "provider": "ghost"}]}), "unknown provider 'ghost'"),
        (
            json.dumps({"prices": [{"provider": "openai", "model": "nope", "prices": []}]}),
            "price table for unknown model openai/nope",
        ),
        (
            json.dumps({"models": [{"id": "m", "provider": "openai", "context_windw": 5}]}),
            "context_windw",
        ),
        (json.dumps({"schema_version": 2}), "schema_version 2"),
        (
            json.dumps(
                {
                    "models": [
                        {
                            "id": "m",
                            "provider": "openai",
                            "prices": [{"source": "x", "as_of": "2026-01-01", "input": "-1"}],
                        }
                    ]
                }
            ),
            "is not >= 0",
        ),
        (
            json.dumps(
                {
                    "models": [
                        {
                            "id": "m",
                            "provider": "openai",
                            "prices": [{"source": " ", "as_of": "2026-01-01", "input": "1"}],
                        }
                    ]
                }
            ),
            "needs a source",
        ),
    ],
)
def test_bad_files_raise_typed_errors(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(RegistryDataError) as info:
        Registry.load(path)
    assert fragment in str(info.value)
    assert info.value.path == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryDataError, match="cannot read"):
        Registry.load(tmp_path / "absent.json")


def test_explicit_construction_and_listing() -> None:
    base = Registry.load()
    registry = Registry(
        providers=[base.provider("groq")],
        models=[base.resolve("gl70"), ModelSpec(id="tiny", provider="groq")],
    )
    assert len(registry) == 2 and repr(registry) == "Registry(providers=1, models=2)"
    assert [m.id for m in registry.models("groq")] == ["llama-3.3-70b-versatile", "tiny"]
    assert registry.models("openai") == []
    assert registry.provider_for("tiny").name == "groq"
    assert (
        registry.provider_for(registry.resolve("gl70")).base_url == "https://api.groq.com/openai/v1"
    )
    assert registry.resolve("tiny").api_name == "tiny"
    with pytest.raises(RegistryDataError):
        Registry(models=[ModelSpec(id="x", provider="groq")])
    assert 42 not in registry and "nope" not in registry


def test_every_listed_name_round_trips(registry: Registry) -> None:
    for model in registry.models():
        assert registry.resolve(model.qualified_name).qualified_name == model.qualified_name
        assert registry.resolve(f"{model.provider}/{model.api_name}").qualified_name == (
            model.qualified_name
        )
        for alias in model.aliases:
            assert registry.resolve(alias).qualified_name == model.qualified_name
        for snapshot in model.snapshots:
            spec = registry.resolve(f"{model.provider}/{snapshot}")
            assert (spec.qualified_name, spec.api_name) == (model.qualified_name, snapshot)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda provider, rest: f"{provider}/{rest}",
            st.sampled_from(["openai", "anthropic", "ollama", "groq", "opnai", "meta-llama"]),
            st.text(max_size=30),
        ),
    )
)
def test_resolve_never_fails_untyped(registry: Registry, name: str) -> None:
    try:
        spec = registry.resolve(name)
    except (UnknownModelError, UnknownProviderError):
        return
    assert isinstance(spec, ModelSpec) and spec.provider in {p.name for p in registry.providers()}
    assert spec.request_name
