"""Batch-API prices: data with a source, chosen like standard rows, never guessed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from atoll_registry import (
    CostUnknown,
    ModelSpec,
    Price,
    PriceTable,
    Registry,
    RegistryDataError,
    RegistryDocument,
)
from atoll_wire import Usage

from .test_data import _update_script  # pyright: ignore[reportPrivateUsage]

AFTER = date(2026, 12, 1)  # the packaged batch rows are in force from 2026-10-14


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def test_openai_batch_is_half_the_standard_rate(registry: Registry) -> None:
    # gpt-4o-mini: $0.15 / $0.60 standard, $0.075 / $0.30 through the Batch API per 1M tokens.
    usage = Usage(input_tokens=1000, output_tokens=500)
    standard = registry.cost("openai/gpt-4o-mini", usage, at=AFTER)
    batch = registry.cost("openai/gpt-4o-mini", usage, at=AFTER, batch=True)
    assert standard is not None and batch is not None
    assert batch.input == Decimal("0.000075") and batch.output == Decimal("0.00015")
    assert batch.total == Decimal("0.000225") == standard.total / 2
    assert batch.price.source.startswith("genai-prices")
    assert batch.price.note is not None and "processing=batch" in batch.price.note
    assert standard.price.note is None or "batch" not in standard.price.note


def test_anthropic_batch_rates_stack_with_cache_and_long_context(registry: Registry) -> None:
    # Claude Sonnet 4.5 through Message Batches: $1.50 input, $1.875 cache write, $0.15 cache
    # read, $7.50 output; above 200k input tokens $3 / $3.75 / $0.30 / $11.25.
    usage = Usage(
        input_tokens=13000, cache_write_tokens=2000, cache_read_tokens=10000, output_tokens=500
    )
    cost = registry.cost("anthropic/claude-sonnet-4-5", usage, at=AFTER, batch=True)
    assert cost is not None
    assert cost.total == Decimal("0.0015") + Decimal("0.00375") + Decimal("0.0015") + Decimal(
        "0.00375"
    )
    long = Usage(input_tokens=200_001, output_tokens=1000)
    tier = registry.cost("anthropic/claude-sonnet-4-5", long, at=AFTER, batch=True)
    assert tier is not None and tier.price.above_input_tokens == 200_000
    assert tier.total == Decimal(200_001) * 3 / 10**6 + Decimal(1000) * Decimal("11.25") / 10**6


def test_no_batch_price_is_unknown_never_the_standard_rate(registry: Registry) -> None:
    usage = Usage(input_tokens=10, output_tokens=10)
    spec = registry.resolve("openai/gpt-realtime")  # no batch variant upstream
    assert spec.prices and not spec.batch_prices
    outcome = registry.explain_cost(spec, usage, batch=True)
    assert isinstance(outcome, CostUnknown)
    assert outcome.reason == "openai/gpt-realtime has no known batch price"
    assert registry.cost(spec, usage, batch=True) is None
    before = registry.explain_cost("openai/gpt-4o-mini", usage, at=date(2026, 1, 1), batch=True)
    assert isinstance(before, CostUnknown)
    assert "no batch price for openai/gpt-4o-mini is in force" in before.reason
    unknown = registry.explain_cost("ollama/qwen3:0.6b", usage, batch=True)
    assert isinstance(unknown, CostUnknown) and "not in the registry" in unknown.reason


def test_price_at_picks_batch_rows(registry: Registry) -> None:
    spec = registry.resolve("claudeh")
    row = spec.price_at(AFTER, batch=True)
    assert row is not None and row in spec.batch_prices
    assert spec.price_at(AFTER) in spec.prices
    assert spec.price_at(date(2026, 1, 1), batch=True) is None
    assert ModelSpec(id="m", provider="p").price_at(AFTER, batch=True) is None


def _write(tmp: Path, doc: dict[str, Any]) -> Path:
    path = tmp / "override.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_overrides_carry_batch_rows_and_a_table_is_the_whole_pricing(tmp_path: Path) -> None:
    row = {"source": "contract 7", "as_of": "2026-11-01", "input": "2", "output": "4"}
    batch = {"source": "contract 7", "as_of": "2026-11-01", "input": "1", "output": "2"}
    with_batch = _write(
        tmp_path,
        {
            "prices": [
                {"provider": "openai", "model": "gpt-4o", "prices": [row], "batch_prices": [batch]}
            ]
        },
    )
    registry = Registry.load(with_batch)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert registry.cost("gpt-4o", usage, batch=True).total == Decimal(3)  # type: ignore[union-attr]
    assert registry.cost("gpt-4o", usage).total == Decimal(6)  # type: ignore[union-attr]
    # A negotiated table without batch rows says nothing about batch: unknown, not guessed.
    without = _write(
        tmp_path, {"prices": [{"provider": "openai", "model": "gpt-4o", "prices": [row]}]}
    )
    assert Registry.load(without).cost("gpt-4o", usage, batch=True) is None


def test_batch_rows_are_checked_like_standard_rows(tmp_path: Path) -> None:
    bad = {"source": "x", "as_of": "2026-11-01", "input": "-1", "output": "2"}
    path = _write(
        tmp_path,
        {
            "prices": [
                {"provider": "openai", "model": "gpt-4o", "prices": [], "batch_prices": [bad]}
            ]
        },
    )
    with pytest.raises(RegistryDataError, match="input=-1"):
        Registry.load(path)
    model = {
        "id": "m",
        "provider": "openai",
        "batch_prices": [{"source": " ", "as_of": "2026-11-01", "input": "1"}],
    }
    with pytest.raises(RegistryDataError, match="needs a source"):
        Registry.load(_write(tmp_path, {"models": [model]}))


def test_document_round_trip_keeps_batch_rows() -> None:
    row = Price(source="s", as_of=date(2026, 1, 1), input=Decimal(1), output=Decimal(2))
    table = PriceTable(provider="p", model="m", prices=(row,), batch_prices=(row,))
    import msgspec

    doc = msgspec.json.decode(
        msgspec.json.encode(RegistryDocument(prices=(table,))), type=RegistryDocument
    )
    assert doc.prices[0].batch_prices == (row,)


def _batched_models(registry: Registry) -> Iterator[ModelSpec]:
    for spec in registry.models():
        if spec.batch_prices and spec.batch_prices[0].source.startswith("genai-prices"):
            yield spec


def test_batch_rows_read_from_the_providers_page(registry: Registry) -> None:
    # docs.anthropic.com batch-processing page: Claude Haiku 3 $0.125 / $0.625, Opus 4.1
    # $7.50 / $37.50 per MTok (genai-prices 0.2.3 has no batch variant for them).
    haiku = registry.resolve("anthropic/claude-3-haiku")
    (row,) = haiku.batch_prices
    assert row.source.endswith("/build-with-claude/batch-processing")
    assert (row.input, row.output) == (Decimal("0.125"), Decimal("0.625"))
    usage = Usage(input_tokens=1000, output_tokens=1000)
    standard, batch = registry.cost(haiku, usage), registry.cost(haiku, usage, batch=True)
    assert standard is not None and batch is not None and batch.total == standard.total / 2
    cached = Usage(input_tokens=1000, output_tokens=10, cache_read_tokens=500)
    unknown = registry.explain_cost(haiku, cached, batch=True)
    assert isinstance(unknown, CostUnknown) and unknown.missing_prices == ("cache_read",)
    opus = registry.resolve("anthropic/claude-opus-4-1").batch_prices[0]
    assert (opus.input, opus.output) == (Decimal("7.50"), Decimal("37.50"))


def test_every_batch_price_agrees_with_genai_prices(registry: Registry) -> None:
    """A second computation: genai-prices' own price for ``processing=batch`` requests."""
    from genai_prices import Usage as UpstreamUsage
    from genai_prices.data import providers

    table = json.loads(
        (
            Path(__file__).resolve().parents[2]
            / "packages/model-registry/src/atoll_registry/data/prices.json"
        ).read_text(encoding="utf-8")
    )
    upstream = {(t["provider"], t["model"]): t["upstream"] for t in table["prices"]}
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    checked = 0
    for spec in _batched_models(registry):
        provider_id, model_id = upstream[(spec.provider, spec.id)].split("/", 1)
        provider = next(p for p in providers if p.id == provider_id)
        info = next(m for m in provider.models if m.id == model_id)
        for tokens in (1000, 300_000):
            cached = 100 if spec.batch_prices[0].cache_read is not None else 0
            usage = Usage(input_tokens=tokens, output_tokens=700, cache_read_tokens=cached)
            ours = registry.cost(spec, usage, at=moment, batch=True)
            theirs = info.calc_price(
                UpstreamUsage(input_tokens=tokens, output_tokens=700, cache_read_tokens=cached),
                provider,
                genai_request_timestamp=moment,
                price_context={"processing": "batch"},
            )
            assert ours is not None, spec.qualified_name
            assert ours.total == theirs.total_price, (spec.qualified_name, tokens)
            checked += 1
    assert checked >= 40  # OpenAI, Anthropic, Gemini, Mistral and Groq models


def test_update_script_converts_the_batch_variant() -> None:
    with _update_script() as module:
        from genai_prices.data import providers

        openai = next(p for p in providers if p.id == "openai")
        model = next(m for m in openai.models if m.id == "gpt-4o")
        converted = module.convert(model, openai, date(2026, 12, 7))
        assert [r.input for r in converted.batch_rows] == [Decimal("1.25")]
        assert converted.batch_rows[0].effective_from == date(2026, 10, 14)
        assert "service_tier=priority" in (converted.rows[0].note or "")
        assert "batch" not in (converted.rows[0].note or "")
