"""Cost: worked examples from the providers' pricing pages, gaps, dates, tiers and monotonicity."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from atoll_registry import Cost, CostUnknown, ModelSpec, Price, Registry
from atoll_wire import Usage
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def D(text: str | int) -> Decimal:
    return Decimal(text)


def test_openai_cached_prompt_worked_example(registry: Registry) -> None:
    # openai.com/api/pricing, gpt-4o: $2.50 input, $1.25 cached input, $10.00 output per 1M.
    # OpenAI reports cached tokens INSIDE prompt_tokens: prompt 2,000 with 1,024 cached.
    usage = Usage(input_tokens=2000, output_tokens=300, cache_read_tokens=1024)
    cost = registry.cost("gpt-4o", usage)
    assert cost is not None
    assert cost.input == D("0.00244")  # 976 uncached x 2.50 / 1M
    assert cost.cached_input == D("0.00128")  # 1,024 x 1.25 / 1M
    assert cost.output == D("0.003")  # 300 x 10 / 1M
    assert cost.cache_write == 0 and cost.reasoning == 0
    assert cost.total == D("0.00672")
    assert cost.currency == "USD" and cost.model == "openai/gpt-4o"
    assert cost.price.source.startswith("genai-prices")


def test_openai_reasoning_tokens_are_part_of_output(registry: Registry) -> None:
    # o3-mini, $1.10 input / $4.40 output; the corpus case: completion 87 of which 64 reasoning.
    usage = Usage(input_tokens=100, output_tokens=87, reasoning_tokens=64)
    cost = registry.cost("openai/o3-mini", usage)
    assert cost is not None
    assert cost.input == D("0.00011")
    assert cost.output == D("0.0001012")  # 23 visible tokens
    assert cost.reasoning == D("0.0002816")  # 64 reasoning tokens at the output rate
    assert cost.total == D("0.0004928") == D("4.40") * 87 / 10**6 + D("1.10") * 100 / 10**6


def test_anthropic_separate_cache_counts_map_through_neutral_usage(registry: Registry) -> None:
    # anthropic.com/pricing, Claude Sonnet 4.5: $3 input, $3.75 5-minute cache write,
    # $0.30 cache hit, $15 output per MTok. Anthropic reports the three input kinds apart:
    raw = {
        "input_tokens": 1000,
        "cache_creation_input_tokens": 2000,
        "cache_read_input_tokens": 10000,
        "output_tokens": 500,
    }
    # ...and the dialect normalises to the neutral convention (input includes cache tokens):
    usage = Usage(
        input_tokens=raw["input_tokens"]
        + raw["cache_creation_input_tokens"]
        + raw["cache_read_input_tokens"],
        cache_write_tokens=raw["cache_creation_input_tokens"],
        cache_read_tokens=raw["cache_read_input_tokens"],
        output_tokens=raw["output_tokens"],
    )
    cost = registry.cost("claude-sonnet-4-5-20250929", usage)
    assert cost is not None
    assert (cost.input, cost.cache_write, cost.cached_input, cost.output) == (
        D("0.003"),
        D("0.0075"),
        D("0.003"),
        D("0.0075"),
    )
    assert cost.total == D("0.021")


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5"])
def test_anthropic_cache_multipliers(registry: Registry, model: str) -> None:
    # Anthropic's prompt-caching page: 5-minute writes cost 1.25x base input, hits 0.1x.
    price = registry.resolve(model).prices[0]
    assert price.input is not None
    assert price.cache_write == price.input * D("1.25")
    assert price.cache_read == price.input * D("0.1")


def test_long_context_tier(registry: Registry) -> None:
    small = registry.cost("claude-sonnet-4-5", Usage(input_tokens=200_000, output_tokens=1000))
    large = registry.cost("claude-sonnet-4-5", Usage(input_tokens=200_001, output_tokens=1000))
    assert small is not None and large is not None
    assert small.input == D("0.6") and small.output == D("0.015")
    # Over 200K input tokens the whole request is billed at $6 / $22.50.
    assert large.input == D("6") * 200_001 / 10**6 and large.output == D("0.0225")
    assert large.price.above_input_tokens == 200_000


def test_haiku_5_5_long_prompt_tier(registry: Registry) -> None:
    # Claude Haiku 5.5: from $0.10 / $0.50 per MTok; prompts over 100K tokens use the higher row.
    short = registry.cost("claudeh", Usage(input_tokens=100_000, output_tokens=0))
    long = registry.cost("claudeh", Usage(input_tokens=100_001, output_tokens=0))
    assert short is not None and long is not None
    assert short.total == D("0.01")
    assert long.price.above_input_tokens == 100_000 and long.total > short.total * 4


def test_effective_dates(registry: Registry) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    before = registry.cost("o3", usage, at=date(2025, 6, 9))
    after = registry.cost("o3", usage, at=datetime(2025, 6, 10, 0, 30, tzinfo=UTC))
    assert before is not None and after is not None
    assert before.total == D("50") and after.total == D("10")


def test_missing_cache_price_gives_none_with_reason(registry: Registry) -> None:
    usage = Usage(input_tokens=1000, output_tokens=10, cache_write_tokens=500)
    assert registry.cost("deepseek-chat", usage) is None
    why = registry.explain_cost("deepseek-chat", usage)
    assert isinstance(why, CostUnknown)
    assert why.missing_prices == ("cache_write",)
    assert "cache_write" in why.reason
    # With no cache writes the same model prices fine: zero tokens need no price.
    ok = registry.cost(
        "deepseek-chat", Usage(input_tokens=1000, output_tokens=10, cache_write_tokens=0)
    )
    assert ok is not None and ok.cache_write == 0


def test_unknown_prices_are_never_zero(registry: Registry) -> None:
    usage = Usage(input_tokens=10, output_tokens=10)
    for name in ("nvidia-nim/meta/llama-3.1-8b-instruct", "openai/gpt-9"):
        assert registry.cost(name, usage) is None
        why = registry.explain_cost(name, usage)
        assert isinstance(why, CostUnknown) and why.missing_prices == ("input", "output")
    assert "not in the registry" in registry.explain_cost("openai/gpt-9", usage).reason  # type: ignore[union-attr]


def test_unknown_usage_gives_none(registry: Registry) -> None:
    why = registry.explain_cost("gpt-4o", Usage(input_tokens=10))
    assert isinstance(why, CostUnknown) and why.missing_usage == ("output_tokens",)
    assert registry.cost("gpt-4o", Usage()) is None


def test_inconsistent_usage(registry: Registry) -> None:
    # Anthropic-style raw counts passed without normalising: reads exceed the input total.
    why = registry.explain_cost(
        "claude-haiku-4-5", Usage(input_tokens=5, cache_read_tokens=900, output_tokens=1)
    )
    assert isinstance(why, CostUnknown) and "inconsistent" in why.reason
    why = registry.explain_cost(
        "gpt-4o", Usage(input_tokens=5, output_tokens=1, reasoning_tokens=2)
    )
    assert isinstance(why, CostUnknown)


def test_local_models_cost_zero_with_a_source(registry: Registry) -> None:
    cost = registry.cost("ollama/llama3.2", Usage(input_tokens=500, output_tokens=500))
    assert cost is not None and cost.total == 0
    assert "self-hosted" in cost.price.source


def test_separate_reasoning_price_and_date_gap() -> None:
    registry = Registry.load()
    price = Price(
        source="test",
        as_of=date(2026, 1, 1),
        input=D("1"),
        output=D("2"),
        reasoning=D("8"),
        effective_from=date(2026, 1, 1),
    )
    registry.register(ModelSpec(id="thinker", provider="openai", prices=(price,)))
    cost = registry.cost(
        "openai/thinker",
        Usage(input_tokens=10**6, output_tokens=3 * 10**6, reasoning_tokens=10**6),
        at=date(2026, 2, 1),
    )
    assert cost is not None
    assert (cost.input, cost.output, cost.reasoning, cost.total) == (D(1), D(4), D(8), D(13))
    early = registry.explain_cost(
        "openai/thinker", Usage(input_tokens=1, output_tokens=1), at=date(2025, 12, 31)
    )
    assert isinstance(early, CostUnknown) and "in force" in early.reason


def test_every_priced_model_prices_plain_usage(registry: Registry) -> None:
    usage = Usage(input_tokens=1234, output_tokens=567)
    priced = [m for m in registry.models() if m.prices]
    assert len(priced) >= 80
    for model in priced:
        cost = registry.cost(model, usage)
        assert isinstance(cost, Cost), model.qualified_name
        assert cost.total > 0 and cost.total == (
            cost.input + cost.cached_input + cost.cache_write + cost.output + cost.reasoning
        )


MONOTONIC_MODELS = [
    "openai/gpt-4o",
    "anthropic/claude-sonnet-4-5",
    "gemini/gemini-2.5-pro",
    "openai/gpt-5.5",
    "anthropic/claude-opus-4-6",
    "groq/llama-3.1-8b-instant",
]
counts = st.integers(min_value=0, max_value=600_000)


@settings(max_examples=300, deadline=None)
@given(
    model=st.sampled_from(MONOTONIC_MODELS),
    buckets=st.tuples(counts, counts, counts, counts, counts),
    which=st.integers(min_value=0, max_value=4),
    extra=st.integers(min_value=1, max_value=300_000),
)
def test_cost_is_monotonic_in_every_token_count(
    registry: Registry, model: str, buckets: tuple[int, int, int, int, int], which: int, extra: int
) -> None:
    spec = registry.resolve(model)
    price = spec.prices[0]
    uncached, read, write, out, reasoning = buckets
    read = read if price.cache_read is not None else 0
    write = write if price.cache_write is not None else 0
    bigger = [uncached, read, write, out, reasoning]
    if (which == 1 and price.cache_read is None) or (which == 2 and price.cache_write is None):
        which = 0
    bigger[which] += extra

    def usage(b: list[int] | tuple[int, ...]) -> Usage:
        return Usage(
            input_tokens=b[0] + b[1] + b[2],
            cache_read_tokens=b[1],
            cache_write_tokens=b[2],
            output_tokens=b[3] + b[4],
            reasoning_tokens=b[4],
        )

    low = registry.cost(spec, usage((uncached, read, write, out, reasoning)), at=date(2026, 11, 1))
    high = registry.cost(spec, usage(bigger), at=date(2026, 11, 1))
    assert low is not None and high is not None
    assert high.total >= low.total
    assert low.total == low.input + low.cached_input + low.cache_write + low.output + low.reasoning
