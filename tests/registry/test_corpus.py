"""Conformance with recorded provider traffic: endpoints, model names, quirks and usage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from atoll_registry import Registry
from atoll_wire import Usage

# Corpus provider labels that are our providers under another name.
ALIASES = {"google-openai-compat": "gemini-openai"}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def _cases(corpus: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for dialect in ("openai-chat", "anthropic-messages"):
        for path in sorted((corpus / dialect).glob("*.json")):
            case = json.loads(path.read_text())
            case["file"] = path.name
            cases.append(case)
    return cases


def _ours(registry: Registry, case: dict[str, Any]) -> str | None:
    name = ALIASES.get(case["provider"], case["provider"])
    return name if name in {p.name for p in registry.providers()} else None


def test_endpoints_match_base_urls(registry: Registry, corpus_dir: Path) -> None:
    checked = 0
    for case in _cases(corpus_dir):
        name, endpoint = _ours(registry, case), case.get("endpoint")
        if name is None or not endpoint:
            continue
        provider = registry.provider(name)
        url = endpoint.split(" ", 1)[1].split("?")[0].split("#")[0]
        if provider.base_url is None or "ollama.com" in url:  # Ollama's cloud, not the local server
            continue
        suffix = "/messages" if provider.dialect == "anthropic-messages" else "/chat/completions"
        if url.endswith("/count_tokens"):
            suffix = "/messages/count_tokens"
        assert url == provider.base_url + suffix, case["file"]
        assert case["dialect"] == provider.dialect, case["file"]
        checked += 1
    assert checked >= 35


def test_request_models_resolve_on_their_provider(registry: Registry, corpus_dir: Path) -> None:
    known = 0
    for case in _cases(corpus_dir):
        name, request = _ours(registry, case), case.get("request")
        if name is None or not request or "model" not in request:
            continue
        spec = registry.resolve(f"{name}/{request['model']}")
        assert spec.provider == name and spec.api_name == request["model"], case["file"]
        known += spec.known
    # Most recorded models are listed (the rest, e.g. retired previews, resolve as unlisted).
    assert known >= 30


def _reasoning_key(case: dict[str, Any]) -> str | None:
    body = case["response"]["body"]
    for key in ("reasoning_content", "reasoning"):
        if f'"{key}"' in body:
            return key
    return None


def test_reasoning_field_quirk_matches_recordings(registry: Registry, corpus_dir: Path) -> None:
    checked = 0
    for case in _cases(corpus_dir):
        name = _ours(registry, case)
        if name is None or "reasoning" not in case["expect"]:
            continue
        quirk = registry.provider(name).quirks.get("reasoning_field")
        if quirk in ("reasoning_content", "reasoning"):
            assert _reasoning_key(case) == quirk, case["file"]
        elif quirk == "content_parts":
            assert '"thinking"' in case["response"]["body"], case["file"]
        elif registry.provider(name).dialect == "anthropic-messages":
            assert '"thinking"' in case["response"]["body"], case["file"]
        checked += 1
    assert checked >= 8


def test_empty_tool_call_ids_are_flagged(registry: Registry, corpus_dir: Path) -> None:
    for case in _cases(corpus_dir):
        name = _ours(registry, case)
        if name is None:
            continue
        if any(call.get("id") == "" for call in case["expect"].get("tool_calls") or []):
            assert registry.provider(name).quirks.get("empty_tool_call_ids"), case["file"]


def test_recorded_usage_prices_for_listed_models(registry: Registry, corpus_dir: Path) -> None:
    priced = 0
    for case in _cases(corpus_dir):
        name, request, usage = _ours(registry, case), case.get("request"), case["expect"]["usage"]
        if name is None or not request or not usage or "model" not in request:
            continue
        spec = registry.resolve(f"{name}/{request['model']}")
        neutral = Usage(input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"])
        cost = registry.cost(spec, neutral)
        if spec.known and spec.prices:
            assert cost is not None and cost.total >= 0, case["file"]
            priced += 1
        elif not spec.prices:
            assert cost is None, case["file"]
    assert priced >= 20
