"""Token usage and the normalised finish reason."""

from __future__ import annotations

from typing import Literal, TypeAlias

import msgspec

FinishReason: TypeAlias = Literal[
    "stop", "length", "tool_calls", "content_filter", "error", "other"
]
"""Why generation ended, normalised across providers (the raw value is kept alongside)."""


def _add(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


class Usage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Tokens a call used. ``None`` means the provider did not say, never zero by guess.

    The neutral convention (OpenAI's): ``input_tokens`` counts ALL input tokens processed, cache
    reads and cache writes included, so ``cache_read_tokens`` and ``cache_write_tokens`` are
    subsets of it; ``reasoning_tokens`` is a subset of ``output_tokens``. Dialects normalise to
    this (Anthropic: input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens).

    Attributes:
        input_tokens: All input tokens, cached ones included.
        output_tokens: All generated tokens, reasoning included.
        cache_read_tokens: Input tokens served from the prompt cache.
        cache_write_tokens: Input tokens written to the prompt cache.
        reasoning_tokens: Output tokens spent on hidden or shown reasoning.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    def __add__(self, other: Usage) -> Usage:
        """Sum two usages field by field: None + None is None, None + n is n."""
        if not isinstance(other, Usage):  # pyright: ignore[reportUnnecessaryIsInstance]
            return NotImplemented
        return Usage(
            input_tokens=_add(self.input_tokens, other.input_tokens),
            output_tokens=_add(self.output_tokens, other.output_tokens),
            cache_read_tokens=_add(self.cache_read_tokens, other.cache_read_tokens),
            cache_write_tokens=_add(self.cache_write_tokens, other.cache_write_tokens),
            reasoning_tokens=_add(self.reasoning_tokens, other.reasoning_tokens),
        )

    def merge(self, newer: Usage) -> Usage:
        """Overlay a newer cumulative snapshot: its known fields win, unknown ones keep ours.

        Args:
            newer: A later snapshot of the same call's usage.
        """
        return Usage(
            input_tokens=_pick(newer.input_tokens, self.input_tokens),
            output_tokens=_pick(newer.output_tokens, self.output_tokens),
            cache_read_tokens=_pick(newer.cache_read_tokens, self.cache_read_tokens),
            cache_write_tokens=_pick(newer.cache_write_tokens, self.cache_write_tokens),
            reasoning_tokens=_pick(newer.reasoning_tokens, self.reasoning_tokens),
        )

    @property
    def total_tokens(self) -> int | None:
        """``input_tokens + output_tokens``, or None when either is unknown."""
        if self.input_tokens is None or self.output_tokens is None:
            return None
        return self.input_tokens + self.output_tokens


def _pick(new: int | None, old: int | None) -> int | None:
    return old if new is None else new
