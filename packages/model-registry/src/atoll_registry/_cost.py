"""Cost of one call from neutral token usage and a model's price rows, exactly, in Decimal.

The usage convention is atoll_wire's neutral one: ``input_tokens`` counts every input token,
cache reads and cache writes included, and ``reasoning_tokens`` is part of ``output_tokens``.
So the billable buckets are::

    uncached input = input_tokens - cache_read_tokens - cache_write_tokens   @ input
    cached input   = cache_read_tokens                                       @ cache_read
    cache write    = cache_write_tokens                                      @ cache_write
    output         = output_tokens - reasoning_tokens                        @ output
    reasoning      = reasoning_tokens                                        @ reasoning or output

Usage that also carries audio counts (realtime sessions: optional attributes
``input_audio_tokens``, ``cache_read_audio_tokens`` and ``output_audio_tokens``, subsets of
``input_tokens``, ``cache_read_tokens`` and ``output_tokens``) moves those tokens out of the text
buckets above into their own::

    audio input        = input_audio_tokens - cache_read_audio_tokens        @ input_audio
    cached audio input = cache_read_audio_tokens                             @ cache_read_audio
    audio output       = output_audio_tokens                                 @ output_audio

A bucket with tokens in it and no price makes the whole cost unknown: nothing is ever priced
at zero, or at another bucket's rate, by guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol

import msgspec

from ._types import ModelSpec, Price

__all__ = ["Cost", "CostUnknown", "TokenUsage", "compute_cost"]

_ZERO = Decimal(0)


class TokenUsage(Protocol):
    """The token counts cost needs; ``atoll_wire.Usage`` satisfies it. ``None`` is unknown."""

    @property
    def input_tokens(self) -> int | None:
        """All input tokens, cache reads and writes included."""
        ...

    @property
    def output_tokens(self) -> int | None:
        """All output tokens, reasoning included."""
        ...

    @property
    def cache_read_tokens(self) -> int | None:
        """Input tokens read from cache (a subset of input)."""
        ...

    @property
    def cache_write_tokens(self) -> int | None:
        """Input tokens written to cache (a subset of input)."""
        ...

    @property
    def reasoning_tokens(self) -> int | None:
        """Reasoning tokens (a subset of output)."""
        ...


class Cost(msgspec.Struct, frozen=True, kw_only=True):
    """What one call cost in USD, by bucket; ``total`` is their exact sum.

    ``output`` is the non-reasoning output; ``reasoning`` the reasoning part of the output.
    """

    model: str
    """The model's qualified name (``provider/id``)."""
    input: Decimal
    """Uncached input tokens."""
    cached_input: Decimal
    """Cache reads."""
    cache_write: Decimal
    """Cache writes."""
    output: Decimal
    """Output tokens other than reasoning."""
    reasoning: Decimal
    """Reasoning tokens."""
    input_audio: Decimal = _ZERO
    """Uncached audio input tokens."""
    cached_input_audio: Decimal = _ZERO
    """Audio input tokens read from cache."""
    output_audio: Decimal = _ZERO
    """Audio output tokens."""
    total: Decimal
    """The sum of the buckets."""
    price: Price
    """The price row used, with its source and as-of date."""
    currency: str = "USD"
    """Always USD."""


class CostUnknown(msgspec.Struct, frozen=True, kw_only=True):
    """Why a cost could not be computed.

    Attributes mirror the checks: ``missing_prices`` names price fields needed but unknown,
    ``missing_usage`` names usage counts that were ``None``.
    """

    model: str
    """The model's qualified name."""
    reason: str
    """One sentence a person can act on."""
    missing_prices: tuple[str, ...] = ()
    """Price fields (``input``, ``cache_read``...) that were needed and unknown."""
    missing_usage: tuple[str, ...] = ()
    """Usage fields that were ``None`` but are needed."""


def _today() -> date:
    return datetime.now(UTC).date()


def _as_day(at: date | datetime | None) -> date:
    if at is None:
        return _today()
    if isinstance(at, datetime):
        return (at.astimezone(UTC) if at.tzinfo else at).date()
    return at


def _per_million(tokens: int, rate: Decimal | None) -> Decimal:
    # Only called with a known rate or zero tokens (checked before).
    if not tokens or rate is None:
        return _ZERO
    return (rate * tokens).scaleb(-6)


def _optional_count(usage: TokenUsage, name: str) -> int:
    # The audio counts are optional attributes: atoll_wire.Usage has none, realtime usage has.
    value: object = getattr(usage, name, None)
    return value if isinstance(value, int) else 0


def _buckets(usage: TokenUsage) -> tuple[int, ...]:
    """Token counts of the buckets, in the order of ``compute_cost``'s ``needed`` table.

    (uncached text input, cached text input, cache write, non-reasoning text output, reasoning,
    uncached audio input, cached audio input, audio output). Call only when ``input_tokens``
    and ``output_tokens`` are known. Subsets that are not reported mean "no breakdown": those
    tokens are billed at the base rate.
    """
    read = usage.cache_read_tokens or 0
    write = usage.cache_write_tokens or 0
    reasoning = usage.reasoning_tokens or 0
    total_in = usage.input_tokens or 0
    total_out = usage.output_tokens or 0
    audio_in = _optional_count(usage, "input_audio_tokens")
    audio_read = _optional_count(usage, "cache_read_audio_tokens")
    audio_out = _optional_count(usage, "output_audio_tokens")
    return (
        total_in - read - write - (audio_in - audio_read),
        read - audio_read,
        write,
        total_out - reasoning - audio_out,
        reasoning,
        audio_in - audio_read,
        audio_read,
        audio_out,
    )


def compute_cost(
    spec: ModelSpec, usage: TokenUsage, at: date | datetime | None = None, *, batch: bool = False
) -> Cost | CostUnknown:
    """Price ``usage`` on ``spec`` at the moment ``at`` (default: now, UTC).

    Args:
        spec: The model, with its price rows.
        usage: Neutral token counts.
        at: When the call happened, to pick the price in force then.
        batch: The call went through the provider's batch API: price it from
            ``spec.batch_prices`` (unknown when the model has none, never the standard rate).

    Returns:
        A ``Cost`` breakdown, or a ``CostUnknown`` saying what was missing or inconsistent.
    """
    name = spec.qualified_name
    if usage.input_tokens is None or usage.output_tokens is None:
        missing = tuple(
            field for field in ("input_tokens", "output_tokens") if getattr(usage, field) is None
        )
        return CostUnknown(
            model=name,
            reason=f"usage does not report {', '.join(missing)}",
            missing_usage=missing,
        )
    counts = _buckets(usage)
    uncached, read, write, plain_out, reasoning, audio_in, audio_read, audio_out = counts
    if min(counts) < 0:
        return CostUnknown(
            model=name,
            reason=(
                "inconsistent usage: cache reads/writes or audio exceed input tokens, or "
                "reasoning or audio exceed output tokens (is the usage in the neutral convention?)"
            ),
        )
    rows = spec.batch_prices if batch else spec.prices
    if not rows:
        if not spec.known:
            why = "is not in the registry"
        else:
            why = "has no known batch price" if batch else "has no known price"
        return CostUnknown(model=name, reason=f"{name} {why}", missing_prices=("input", "output"))
    row = spec.price_at(_as_day(at), usage.input_tokens or 0, batch=batch)
    if row is None:
        tier = "batch price" if batch else "price"
        return CostUnknown(model=name, reason=f"no {tier} for {name} is in force on that date")
    reasoning_rate = row.reasoning if row.reasoning is not None else row.output
    needed = (
        ("input", uncached, row.input),
        ("cache_read", read, row.cache_read),
        ("cache_write", write, row.cache_write),
        ("output", plain_out, row.output),
        ("reasoning" if row.reasoning is not None else "output", reasoning, reasoning_rate),
        ("input_audio", audio_in, row.input_audio),
        ("cache_read_audio", audio_read, row.cache_read_audio),
        ("output_audio", audio_out, row.output_audio),
    )
    gaps = tuple(dict.fromkeys(field for field, n, rate in needed if n and rate is None))
    if gaps:
        return CostUnknown(
            model=name,
            reason=f"{name} has no {', '.join(gaps)} price but the usage needs it",
            missing_prices=gaps,
        )
    parts = [_per_million(n, rate) for _, n, rate in needed]
    return Cost(
        model=name,
        input=parts[0],
        cached_input=parts[1],
        cache_write=parts[2],
        output=parts[3],
        reasoning=parts[4],
        input_audio=parts[5],
        cached_input_audio=parts[6],
        output_audio=parts[7],
        total=sum(parts, _ZERO),
        price=row,
    )
