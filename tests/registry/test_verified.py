"""Verified facts: cited from the provider's own documentation, dated, counted and documented.

``verified=True`` on a packaged model promises that its limits, modalities and every listed
capability were read from the provider's own pages on ``as_of``. These tests hold the packaged
data to that promise and keep the verified set from shrinking silently.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from atoll_registry import Capabilities, ModelSpec, ProviderSpec, Registry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "registry.md"

# Where each provider publishes its own documentation. A verified fact must come from one of
# these hosts, never from an aggregator, a gateway or a mirror.
PROVIDER_DOC_HOSTS: dict[str, frozenset[str]] = {
    "openai": frozenset({"platform.openai.com", "developers.openai.com"}),
    "anthropic": frozenset({"platform.claude.com", "docs.claude.com", "docs.anthropic.com"}),
    "gemini": frozenset({"ai.google.dev"}),
    "groq": frozenset({"console.groq.com"}),
    "deepseek": frozenset({"api-docs.deepseek.com"}),
    "mistral": frozenset({"docs.mistral.ai"}),
    "xai": frozenset({"docs.x.ai"}),
    "together": frozenset({"docs.together.ai"}),
    "fireworks": frozenset({"fireworks.ai", "docs.fireworks.ai"}),
    "cerebras": frozenset({"inference-docs.cerebras.ai"}),
    "openrouter": frozenset({"openrouter.ai"}),
    "nvidia-nim": frozenset({"build.nvidia.com", "docs.api.nvidia.com"}),
    "ollama": frozenset({"docs.ollama.com"}),
    "vllm": frozenset({"docs.vllm.ai"}),
    "llama.cpp": frozenset({"github.com"}),
}

# Some providers publish the source of their documentation site, or the specification their API
# reference is rendered from, on GitHub under their own organisation (Mistral's docs.mistral.ai is
# built from mistralai/platform-docs-public; OpenAI's API reference from openai/openai-openapi).
# Notes may link the file and commit that was read there; the source stays the rendered page.
PROVIDER_DOC_ORGS: dict[str, frozenset[str]] = {
    "openai": frozenset({"openai"}),
    "anthropic": frozenset({"anthropics"}),
    "gemini": frozenset({"google", "google-gemini"}),
    "mistral": frozenset({"mistralai"}),
    "groq": frozenset({"groq"}),
    "deepseek": frozenset({"deepseek-ai"}),
}

# The models verified so far (issue 25). Verifying another one means adding it here and to the
# table in docs/registry.md; losing one makes this test fail instead of passing silently.
VERIFIED_MODELS = frozenset(
    {
        "anthropic/claude-fable-5",
        "anthropic/claude-fable-5-1",
        "anthropic/claude-haiku-4-5",
        "anthropic/claude-haiku-5-5",
        "anthropic/claude-opus-4-5",
        "anthropic/claude-opus-4-6",
        "anthropic/claude-opus-5",
        "anthropic/claude-opus-4-7",
        "anthropic/claude-opus-5-5",
        "anthropic/claude-sonnet-4-5",
        "anthropic/claude-sonnet-4-6",
        "anthropic/claude-sonnet-5",
        "anthropic/claude-sonnet-5-5",
        "mistral/codestral-latest",
        "mistral/magistral-medium-latest",
        "mistral/ministral-8b-latest",
        "mistral/mistral-large-2512",
        "mistral/mistral-medium-latest",
        "mistral/mistral-small-latest",
        "mistral/open-mistral-nemo",
        "mistral/pixtral-large-latest",
        "openai/gpt-4-turbo",
        "openai/gpt-4.1-nano",
        "openai/gpt-5-mini",
        "openai/gpt-5-nano",
        "openai/gpt-5.1",
    }
)
MIN_VERIFIED = len(VERIFIED_MODELS)

_URL = re.compile(r"https?://[^\s)\]>|`]+")


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def _urls(text: str | None) -> list[str]:
    return [url.rstrip(".,;:'\"") for url in _URL.findall(text or "")]


def _off_provider(provider: str, url: str, *, repos: bool = False) -> str | None:
    """Why ``url`` is not a page of ``provider``'s own documentation, or ``None`` when it is.

    With ``repos``, a file under the provider's own GitHub organisation counts as well (notes may
    name the documentation source that was read; a ``source`` must be the rendered page).
    """
    parts = urlsplit(url)
    if parts.scheme != "https":
        return f"{url} is not https"
    hosts = PROVIDER_DOC_HOSTS.get(provider)
    if hosts is None:
        return f"no documentation host is known for provider {provider!r}"
    if parts.hostname in hosts:
        return None
    org = parts.path.strip("/").split("/", 1)[0]
    if repos and parts.hostname == "github.com" and org in PROVIDER_DOC_ORGS.get(provider, ()):
        return None
    return f"{url} is not on {provider}'s own documentation ({', '.join(sorted(hosts))})"


def _citation_problems(spec: ModelSpec | ProviderSpec, today: date) -> list[str]:
    """What keeps a verified spec from being a dated citation of the provider's own pages."""
    if not spec.verified:
        return []
    provider = spec.provider if isinstance(spec, ModelSpec) else spec.name
    problems: list[str] = []
    if not spec.source:
        problems.append("no source")
    elif (why := _off_provider(provider, spec.source)) is not None:
        problems.append(f"source: {why}")
    if spec.as_of is None:
        problems.append("no as_of date")
    elif spec.as_of > today:
        problems.append(f"as_of {spec.as_of} is in the future")
    notes = spec.notes if isinstance(spec, ModelSpec) else " ".join(spec.quirks.get("notes", ()))
    problems += [
        f"notes: {why}"
        for url in _urls(notes)
        if (why := _off_provider(provider, url, repos=True)) is not None
    ]
    return problems


def test_verified_models_cite_their_providers_own_docs(registry: Registry) -> None:
    today = date.today()
    verified = [m for m in registry.models() if m.verified]
    assert verified
    for model in verified:
        assert _citation_problems(model, today) == [], model.qualified_name
        # The other pages read are named in the notes, each on the provider's domain.
        assert _urls(model.notes), f"{model.qualified_name}: notes name no page"


def test_verified_providers_cite_their_own_docs(registry: Registry) -> None:
    today = date.today()
    for provider in registry.providers():
        assert _citation_problems(provider, today) == [], provider.name


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"source": "https://vercel.com/ai-gateway/models/gpt-4o-mini"}, "not on openai's own"),
        ({"source": "http://platform.openai.com/docs/models/gpt-4o"}, "is not https"),
        ({"source": None}, "no source"),
        ({"as_of": None}, "no as_of date"),
        ({"as_of": date(2999, 1, 1)}, "in the future"),
        (
            {"notes": "Limits from https://openrouter.ai/openai/gpt-4o."},
            "notes: https://openrouter",
        ),
        ({"provider": "nobody"}, "no documentation host"),
        # The provider's own GitHub organisation counts in notes, never as the source, and
        # another organisation's copy never counts.
        (
            {"source": "https://github.com/openai/openai-openapi/blob/main/openapi.yaml"},
            "source: https://github.com/openai/openai-openapi",
        ),
        (
            {"notes": "Limits from https://github.com/someone/openai-docs-mirror/blob/main/a.md."},
            "notes: https://github.com/someone/openai-docs-mirror",
        ),
        (
            {"notes": "Read https://github.com/mistralai/platform-docs-public/blob/x/a.ts."},
            "notes: https://github.com/mistralai/platform-docs-public",
        ),
    ],
)
def test_a_citation_off_the_providers_docs_is_caught(
    change: dict[str, object], expected: str
) -> None:
    fields: dict[str, object] = {
        "id": "gpt-4o",
        "provider": "openai",
        "source": "https://platform.openai.com/docs/models/gpt-4o",
        "as_of": date(2026, 12, 6),
        "verified": True,
        "notes": (
            "Also read https://developers.openai.com/api/docs/guides/prompt-caching and "
            "https://github.com/openai/openai-openapi/blob/f85dbe2/openapi.yaml."
        ),
        "capabilities": Capabilities(streaming=True),
    }
    good = ModelSpec(**fields)  # type: ignore[arg-type]
    assert _citation_problems(good, date(2026, 12, 6)) == []
    bad = ModelSpec(**{**fields, **change})  # type: ignore[arg-type]
    problems = _citation_problems(bad, date(2026, 12, 6))
    assert any(expected in problem for problem in problems), problems
    unverified = ModelSpec(**{**fields, **change, "verified": False})  # type: ignore[arg-type]
    assert _citation_problems(unverified, date(2026, 12, 6)) == []


def test_the_verified_set_cannot_shrink_silently(registry: Registry) -> None:
    verified = {m.qualified_name for m in registry.models() if m.verified}
    assert len(verified) >= MIN_VERIFIED
    assert verified == VERIFIED_MODELS, (
        f"newly verified: {sorted(verified - VERIFIED_MODELS)}, "
        f"no longer verified: {sorted(VERIFIED_MODELS - verified)}; "
        "update VERIFIED_MODELS and the table in docs/registry.md"
    )


def _docs_table() -> dict[str, str]:
    """``provider/id -> source`` from the 'Verified models' table of docs/registry.md."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### Verified models", 1)[1].split("\n#", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        urls = _urls(cells[-1])
        assert len(urls) == 1, line
        rows[cells[0].strip("`")] = urls[0]
    return rows


def test_docs_list_every_verified_model_with_its_source(registry: Registry) -> None:
    rows = _docs_table()
    verified = {m.qualified_name: m for m in registry.models() if m.verified}
    assert set(rows) == set(verified)
    for name, url in rows.items():
        assert verified[name].source == url, name


def test_verification_is_visible_on_the_spec(registry: Registry) -> None:
    """What `atoll models` and other readers show: the flag, the page and the day."""
    spec = registry.resolve("claude-haiku-4-5-20251001")
    assert spec.verified and spec.request_name == "claude-haiku-4-5-20251001"
    assert spec.source and spec.source.startswith("https://platform.claude.com/")
    assert spec.as_of == date(2026, 12, 6)
    unverified = registry.resolve("openai/gpt-4o")
    assert not unverified.verified and unverified.source and unverified.as_of
