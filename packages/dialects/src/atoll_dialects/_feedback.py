"""Provider feedback for the user's limiters: rate-limit headers and 429s from every call.

``Client(..., limiters=[...])`` takes atoll_generic limiters (``RequestLimiter``,
``TokenLimiter``, ...), usually the ones an ``Executor`` also reserves from. After each success
the provider's rate-limit headers lower their pools (``observe(remaining=, reset_after=)``);
each 429 (every attempt's, retries included) does too, and blocks them for its
``retry_after``. So plain
``chat``/``stream`` calls slow down the work an Executor runs, as ``CallEvent`` feedback does.

A ``TokenLimiter`` hears the token headers, a ``BudgetLimiter`` nothing (headers say nothing
about money), any other limiter the request headers. atoll_generic (and pydantic with it) is
imported only when limiters are given, so ``import atoll_dialects`` stays light.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from ._exceptions import InvalidOptionError, RateLimitError
from ._ratelimit import RateLimits, parse_rate_limits

if TYPE_CHECKING:
    from atoll_generic import Limiter

__all__ = ["LimiterFeedback", "limiter_feedback", "tell_limiters"]

# A 429 without Retry-After still says "stop for a moment": one second, as CallEvent does.
_DEFAULT_RETRY_AFTER = 1.0


def tell_limiters(limiters: Sequence[Limiter], limits: RateLimits) -> list[str]:
    """Fold one response's rate limits into the limiters; returns the names that heard them."""
    from atoll_generic import BudgetLimiter, TokenLimiter

    heard: list[str] = []
    for limiter in limiters:
        if isinstance(limiter, BudgetLimiter):
            continue
        if isinstance(limiter, TokenLimiter):
            remaining, reset = limits.tokens_remaining, limits.tokens_reset
        else:
            remaining, reset = limits.requests_remaining, limits.requests_reset
        if remaining is None:
            continue
        limiter.observe(remaining=remaining, reset_after=reset)
        heard.append(limiter.name)
    return heard


class LimiterFeedback:
    """The limiters one client tells about what providers say (see the module docstring)."""

    __slots__ = ("limiters",)

    def __init__(self, limiters: Sequence[Limiter]) -> None:
        self.limiters = tuple(limiters)

    def headers(self, headers: Mapping[str, str] | None) -> None:
        """A success response's headers arrived."""
        if not headers:
            return
        limits = parse_rate_limits(headers, time.time())
        if limits is not None:
            tell_limiters(self.limiters, limits)

    def limits(self, limits: RateLimits | None) -> None:
        """Rate limits already parsed from a success response."""
        if limits is not None:
            tell_limiters(self.limiters, limits)

    def error(self, error: BaseException) -> None:
        """An attempt failed; a 429 lowers the pools and stops new work for a while.

        Its rate-limit headers lower the pools; its ``retry_after`` (1 s when it gives none)
        stops new work on every limiter but a budget that long.
        """
        if not isinstance(error, RateLimitError):
            return
        from atoll_generic import BudgetLimiter

        limits = parse_rate_limits(error.headers, time.time()) if error.headers else None
        if limits is not None:
            tell_limiters(self.limiters, limits)
        wait = error.retry_after if error.retry_after is not None else _DEFAULT_RETRY_AFTER
        for limiter in self.limiters:
            if not isinstance(limiter, BudgetLimiter):
                limiter.observe(retry_after=wait)


def limiter_feedback(limiters: object) -> LimiterFeedback | None:
    """Check ``Client(limiters=...)``: None for none, else the feedback for them.

    Raises:
        InvalidOptionError: Not a list of atoll_generic limiters.
    """
    if limiters is None:
        return None
    if not isinstance(limiters, list | tuple):
        raise InvalidOptionError("limiters", limiters, "a list of atoll_generic limiters")
    items = cast("Sequence[object]", limiters)
    if not items:
        return None
    from atoll_generic import Limiter

    checked: list[Limiter] = []
    for item in items:
        if not isinstance(item, Limiter):
            raise InvalidOptionError("limiters", item, "an atoll_generic Limiter")
        checked.append(item)
    return LimiterFeedback(checked)
