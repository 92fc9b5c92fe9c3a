"""The packaged data files: schema, coverage, provenance, and freshness against genai-prices."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from atoll_registry import ModelSpec, ProviderSpec, Registry, RegistryDocument

DATA = Path(str(files("atoll_registry").joinpath("data")))
FILES = ("providers.json", "models.json", "prices.json")

ISSUE_PROVIDERS = {
    "openai",
    "anthropic",
    "groq",
    "deepseek",
    "mistral",
    "ollama",
    "vllm",
    "llama.cpp",
    "nvidia-nim",
    "openrouter",
    "together",
    "fireworks",
    "cerebras",
    "xai",
    "gemini",
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return msgspec.json.schema(RegistryDocument)


@pytest.mark.parametrize("name", FILES)
def test_file_validates_against_json_schema(name: str, schema: dict[str, Any]) -> None:
    document = json.loads((DATA / name).read_text())
    jsonschema.validate(document, schema)


def test_schema_rejects_a_typo(schema: dict[str, Any]) -> None:
    bad = {
        "providers": [
            {
                "name": "x",
                "dialect": "openai-chat",
                "auth": "bearer",
                "source": "s",
                "as_of": "2026-01-01",
                "base_ulr": "http://x",
            }
        ]
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_coverage(registry: Registry) -> None:
    models = registry.models()
    assert len(models) >= 80
    assert len({m.provider for m in models}) >= 10
    assert {p.name for p in registry.providers()} >= ISSUE_PROVIDERS


def test_every_price_has_provenance(registry: Registry) -> None:
    rows = [(m, p) for m in registry.models() for p in m.prices]
    assert len(rows) >= 80
    for model, price in rows:
        assert price.source.startswith("genai-prices "), model.qualified_name
        assert isinstance(price.as_of, date)
        assert price.input is not None or price.output is not None


def test_every_model_and_provider_names_documentation_to_check(registry: Registry) -> None:
    for model in registry.models():
        assert model.source and model.source.startswith("https://"), model.qualified_name
        assert model.as_of is not None
        assert model.api_name, model.qualified_name
    for provider in registry.providers():
        assert provider.source.startswith("https://"), provider.name


def test_aliases_are_unique(registry: Registry) -> None:
    seen: dict[str, str] = {}
    for model in registry.models():
        for alias in model.aliases:
            assert alias not in seen, f"{alias} on {seen.get(alias)} and {model.qualified_name}"
            seen[alias] = model.qualified_name
    for alias in ("gpt4o", "gpt4om", "claudeh", "claudes", "claudeo"):
        assert alias in seen


def test_provider_facts(registry: Registry) -> None:
    anthropic = registry.provider("anthropic")
    assert anthropic.dialect == "anthropic-messages"
    assert anthropic.auth == "x-api-key"
    assert anthropic.headers["anthropic-version"] == "2023-06-01"
    assert anthropic.quirks["max_tokens_required"] is True
    openai = registry.provider("openai")
    assert (openai.dialect, openai.auth, openai.api_key_env) == (
        "openai-chat",
        "bearer",
        "OPENAI_API_KEY",
    )
    assert openai.quirks["max_tokens_field"] == "max_completion_tokens"
    assert registry.provider("deepseek").quirks["reasoning_field"] == "reasoning_content"
    assert registry.provider("groq").quirks["reasoning_field"] == "reasoning"
    assert registry.provider("together").quirks["reasoning_field"] == "think_tags"
    assert registry.provider("gemini-openai").quirks["empty_tool_call_ids"] is True
    assert registry.provider("ollama").base_url == "http://localhost:11434/v1"
    for local in ("vllm", "llama.cpp"):
        spec = registry.provider(local)
        assert spec.local and spec.base_url_required and not spec.key_required
        assert (
            spec.with_base_url("http://127.0.0.1:8000/v1/").base_url == "http://127.0.0.1:8000/v1"
        )
    for provider in registry.providers():
        if not provider.local:
            assert provider.base_url and provider.base_url.startswith("https://"), provider.name
            if provider.auth != "google-oauth":  # Vertex AI: OAuth tokens, no key
                assert provider.api_key_env and provider.key_required, provider.name
        else:
            assert provider.default_price is not None and provider.default_price.input == 0


def test_auth_headers_never_leak_into_repr(registry: Registry) -> None:
    anthropic = registry.provider("anthropic")
    headers = anthropic.auth_headers("sk-secret")
    assert headers == {"anthropic-version": "2023-06-01", "x-api-key": "sk-secret"}
    assert registry.provider("groq").auth_headers("k") == {"Authorization": "Bearer k"}
    assert registry.provider("ollama").auth_headers("k") == {}
    assert "sk-secret" not in repr(anthropic)


@contextmanager
def _update_script() -> Iterator[Any]:
    """scripts/update_registry.py as a module (it needs genai-prices, a dev dependency)."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        "update_registry", root / "scripts/update_registry.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["update_registry"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["update_registry"]


def test_prices_json_matches_genai_prices() -> None:
    """The committed table is what scripts/update_registry.py generates (as-of dates aside)."""
    with _update_script() as module:
        assert module.main(["--check"]) == 0


def test_facts_from_memory_are_flagged_not_presented_as_sourced(registry: Registry) -> None:
    """``verified`` is True only for facts read from ``source``; each file says how it was made."""
    assert ModelSpec(id="m", provider="p").verified is False  # an override claims nothing
    entries: dict[str, list[ModelSpec | ProviderSpec]] = {
        "models.json": list(registry.models()),
        "providers.json": list(registry.providers()),
    }
    for name, specs in entries.items():
        description = json.loads((DATA / name).read_text(encoding="utf-8"))["description"]
        assert "memory" in description, name
        if 'no entry is marked "verified"' in description:
            assert [s for s in specs if s.verified] == [], name
        for spec in specs:
            assert not spec.verified or (spec.source and spec.as_of)
    for model in registry.models():
        if model.notes and "not yet checked" in model.notes:
            assert not model.verified, model.qualified_name


def test_disagreements_with_genai_prices_are_disclosed(registry: Registry) -> None:
    """A second source: where genai-prices states another fact, the model's notes say so.

    Checked: the context window (differences under 5% are one figure rounded, 1,047,576 listed
    as 1,000,000) and deprecation (genai-prices saying deprecated where we do not).
    """
    from genai_prices.data import providers as upstream_providers

    upstream = {p.id: p for p in upstream_providers}
    compared = 0
    with _update_script() as module:
        for model in registry.models():
            upstream_id = module.PROVIDER_MAP.get(model.provider)
            if upstream_id is None:
                continue
            names = [model.api_name, model.id, *model.snapshots]
            found = module._find(upstream[upstream_id], [n for n in names if n])
            if found is None:
                continue
            compared += 1
            theirs = found.context_window
            ours = model.context_window
            problems: list[str] = []
            if theirs is not None and ours is not None and abs(ours - theirs) > 0.05 * theirs:
                problems.append(f"context_window {ours} vs {theirs}")
            if found.deprecated and not model.deprecated:
                problems.append("genai-prices says deprecated")
            if problems:
                # A verified model follows its provider's page and says so next to the other
                # figure; an unverified one says where the two sources disagree.
                assert model.notes and "genai-prices" in model.notes, (
                    f"{model.qualified_name}: {'; '.join(problems)}, not disclosed in notes"
                )
    assert compared >= 60


def test_deprecation_data(registry: Registry) -> None:
    """Deprecated models are marked, and a named replacement resolves to a current model."""
    deprecated = [m for m in registry.models() if m.deprecated]
    assert deprecated
    assert not [m for m in registry.models() if m.retires and not m.deprecated]
    for model in deprecated:
        if model.replacement:
            successor = registry.resolve(model.replacement)
            assert successor.known and not successor.deprecated, model.qualified_name
    assert registry.resolve("openai/o1-mini").replacement == "openai/o4-mini"


def test_model_quirks_override_the_provider(registry: Registry) -> None:
    groq = registry.provider("groq")
    qwen = registry.resolve("groq/qwen/qwen3-32b")
    merged = groq.quirks_for(qwen)
    assert (merged["reasoning_field"], merged["think_tag"]) == ("think_tags", "think")
    # Everything not overridden is the provider's, and notes accumulate.
    assert merged["max_tokens_field"] == groq.quirks["max_tokens_field"] == "max_completion_tokens"
    provider_notes = list(groq.quirks["notes"])
    assert merged["notes"][: len(provider_notes)] == provider_notes
    assert len(merged["notes"]) == len(provider_notes) + 1
    assert groq.quirks_for(registry.resolve("groq/openai/gpt-oss-120b")) == groq.quirks
    assert groq.quirks_for(None) == groq.quirks
    xai = registry.provider("xai")
    assert xai.quirks_for(registry.resolve("grok-4"))["reasoning_field"] == "hidden"
    assert xai.quirks_for(registry.resolve("grok-3-mini"))["reasoning_field"] == "reasoning_content"
