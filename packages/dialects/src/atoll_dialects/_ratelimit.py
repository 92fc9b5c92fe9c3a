"""Providers' rate-limit headers, read into one neutral shape.

OpenAI-compatible servers send ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` with
resets as durations (``"1s"``, ``"6m0s"``, ``"20ms"``); Anthropic sends
``anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`` with resets as RFC 3339
times. Executors use this to slow every worker down, not only the caller that was limited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import msgspec

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")


class RateLimits(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """What the provider said about its limits on this response; None where it said nothing.

    Attributes:
        requests_limit: Requests allowed per window.
        requests_remaining: Requests left in the window.
        requests_reset: Seconds until the request window resets.
        tokens_limit: Tokens allowed per window.
        tokens_remaining: Tokens left in the window.
        tokens_reset: Seconds until the token window resets.
    """

    requests_limit: int | None = None
    requests_remaining: int | None = None
    requests_reset: float | None = None
    tokens_limit: int | None = None
    tokens_remaining: int | None = None
    tokens_reset: float | None = None


def parse_rate_limits(headers: Mapping[str, str], now: float) -> RateLimits | None:
    """Read rate-limit headers (lower-case names); None when the response carries none.

    Args:
        headers: Response headers with lower-case names.
        now: The current Unix time, to turn Anthropic's reset instants into seconds.
    """
    # Most responses (local servers, many providers) carry none: one pass over the names is
    # cheaper than the twelve lookups below.
    if not any(name.startswith(_PREFIXES) for name in headers):
        return None
    values: dict[str, int | float | None] = {}
    for kind in ("requests", "tokens"):
        limit = headers.get(f"x-ratelimit-limit-{kind}") or headers.get(
            f"anthropic-ratelimit-{kind}-limit"
        )
        remaining = headers.get(f"x-ratelimit-remaining-{kind}") or headers.get(
            f"anthropic-ratelimit-{kind}-remaining"
        )
        reset = _duration(headers.get(f"x-ratelimit-reset-{kind}"))
        if reset is None:
            reset = _instant(headers.get(f"anthropic-ratelimit-{kind}-reset"), now)
        values[f"{kind}_limit"] = _int(limit)
        values[f"{kind}_remaining"] = _int(remaining)
        values[f"{kind}_reset"] = reset
    if all(v is None for v in values.values()):
        return None
    return msgspec.convert(values, RateLimits)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _duration(value: str | None) -> float | None:
    if not value:
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def _instant(value: str | None, now: float) -> float | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(when.timestamp() - now, 0.0)
