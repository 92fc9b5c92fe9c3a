"""Audio token prices: realtime usage splits input and output into text and audio buckets."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from decimal import Decimal

import pytest
from atoll_registry import Cost, CostUnknown, ModelSpec, Price, Registry
from atoll_wire import Usage
from hypothesis import given
from hypothesis import strategies as st


@dataclass(frozen=True)
class AudioUsage:
    """Neutral usage plus the optional audio counts (subsets of input, cache read, output)."""

    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    input_audio_tokens: int | None = None
    cache_read_audio_tokens: int | None = None
    output_audio_tokens: int | None = None


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def test_gpt_realtime_worked_example(registry: Registry) -> None:
    # developers.openai.com/api/docs/models/gpt-realtime-1.5 (same prices as gpt-realtime):
    # text $4 in / $0.40 cached / $16 out, audio $32 in / $0.40 cached / $64 out per 1M.
    usage = AudioUsage(
        input_tokens=1_000,  # 300 text (100 cached) + 700 audio (200 cached)
        output_tokens=500,  # 100 text + 400 audio
        cache_read_tokens=300,
        input_audio_tokens=700,
        cache_read_audio_tokens=200,
        output_audio_tokens=400,
    )
    cost = registry.cost("openai/gpt-realtime", usage)
    assert isinstance(cost, Cost)
    assert cost.input == Decimal("0.0008")  # 200 uncached text x 4
    assert cost.cached_input == Decimal("0.00004")  # 100 cached text x 0.40
    assert cost.input_audio == Decimal("0.016")  # 500 uncached audio x 32
    assert cost.cached_input_audio == Decimal("0.00008")  # 200 cached audio x 0.40
    assert cost.output == Decimal("0.0016")  # 100 text x 16
    assert cost.output_audio == Decimal("0.0256")  # 400 audio x 64
    assert cost.total == Decimal("0.04412")
    assert (
        cost.price.source.startswith("genai-prices") and "openai/gpt-realtime" in cost.price.source
    )


def test_snapshot_and_mini_resolve_with_audio_prices(registry: Registry) -> None:
    spec = registry.resolve("gpt-realtime-2025-08-28")
    assert spec.qualified_name == "openai/gpt-realtime"
    assert spec.request_name == "gpt-realtime-2025-08-28"
    mini = registry.resolve("openai/gpt-realtime-mini").prices[0]
    assert (mini.input_audio, mini.cache_read_audio, mini.output_audio) == (
        Decimal("10"),
        Decimal("0.3"),
        Decimal("20"),
    )


def test_usage_without_audio_counts_costs_as_before(registry: Registry) -> None:
    plain = registry.cost(
        "gpt-4o", Usage(input_tokens=2000, output_tokens=300, cache_read_tokens=1024)
    )
    assert plain is not None
    assert (plain.input_audio, plain.cached_input_audio, plain.output_audio) == (0, 0, 0)
    assert plain.total == Decimal("0.00672")


def test_audio_tokens_without_an_audio_price_are_unknown_not_text_priced(
    registry: Registry,
) -> None:
    usage = AudioUsage(input_tokens=100, output_tokens=10, input_audio_tokens=50)
    result = registry.explain_cost("gpt-4o", usage)
    assert isinstance(result, CostUnknown)
    assert result.missing_prices == ("input_audio",)
    out_only = AudioUsage(input_tokens=100, output_tokens=10, output_audio_tokens=10)
    result = registry.explain_cost("gpt-4o", out_only)
    assert isinstance(result, CostUnknown) and result.missing_prices == ("output_audio",)


@pytest.mark.parametrize(
    "usage",
    [
        AudioUsage(input_tokens=10, output_tokens=0, input_audio_tokens=11),
        AudioUsage(input_tokens=10, output_tokens=5, output_audio_tokens=6),
        AudioUsage(input_tokens=10, output_tokens=5, reasoning_tokens=3, output_audio_tokens=3),
        AudioUsage(
            input_tokens=10, output_tokens=0, input_audio_tokens=5, cache_read_audio_tokens=2
        ),  # cached audio not inside cache_read_tokens
    ],
)
def test_inconsistent_audio_counts_are_reported(registry: Registry, usage: AudioUsage) -> None:
    result = registry.explain_cost("openai/gpt-realtime", usage)
    assert isinstance(result, CostUnknown)
    assert "inconsistent usage" in result.reason


def _spec() -> ModelSpec:
    price = Price(
        source="test",
        as_of=__import__("datetime").date(2026, 1, 1),
        input=Decimal(1),
        output=Decimal(2),
        cache_read=Decimal("0.5"),
        input_audio=Decimal(10),
        cache_read_audio=Decimal(3),
        output_audio=Decimal(20),
    )
    return ModelSpec(id="voice", provider="openai", prices=(price,))


@given(
    text_in=st.integers(0, 10**6),
    text_read=st.integers(0, 10**6),
    audio_in=st.integers(0, 10**6),
    audio_read=st.integers(0, 10**6),
    text_out=st.integers(0, 10**6),
    audio_out=st.integers(0, 10**6),
)
def test_buckets_add_up_to_the_hand_computed_total(
    text_in: int, text_read: int, audio_in: int, audio_read: int, text_out: int, audio_out: int
) -> None:
    usage = AudioUsage(
        input_tokens=text_in + text_read + audio_in + audio_read,
        output_tokens=text_out + audio_out,
        cache_read_tokens=text_read + audio_read,
        input_audio_tokens=audio_in + audio_read,
        cache_read_audio_tokens=audio_read,
        output_audio_tokens=audio_out,
    )
    cost = Registry(models=()).explain_cost(_spec(), usage)
    assert isinstance(cost, Cost)
    expected = (
        text_in * 1
        + text_read * Decimal("0.5")
        + audio_in * 10
        + audio_read * 3
        + text_out * 2
        + audio_out * 20
    ) / Decimal(10**6)
    assert cost.total == expected
    assert pickle.loads(pickle.dumps(cost)) == cost
