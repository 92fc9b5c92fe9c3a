"""When to retry a failed attempt, and how long to wait first.

The policy is pure: it looks at an attempt number, a status and the response headers and returns
a decision. The Client drives it (async or sync) and owns the clock, so tests can inject one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from atoll_wire import ConnectError, RemoteProtocolError, TransportTimeout

from ._error_bodies import parse_retry_after

_RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

# Failures a second attempt can cure: the connection could not be made, timed out or broke. A
# plain TransportError is a request that could not be sent (a header value with a newline, a bad
# URL) and ResponseTooLarge is the answer itself: both fail the same way every time.
_RETRYABLE_FAILURES = (ConnectError, TransportTimeout, RemoteProtocolError, OSError)


def is_retryable_failure(error: BaseException) -> bool:
    """Whether a failure before any response arrived may succeed on another attempt."""
    return isinstance(error, _RETRYABLE_FAILURES)


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """The outcome of asking the policy about one failed attempt."""

    retry: bool
    """Whether another attempt should be made."""
    delay: float
    """Seconds to wait before it (0.0 when not retrying)."""
    reason: str
    """Why: shown in logs and recorded on the response's attempt history."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter that honours the server's own hints.

    The server's word wins over our backoff: ``retry-after-ms``, then ``retry-after`` (seconds or
    an HTTP date), each capped at ``max_retry_after``; ``x-should-retry: true|false`` overrides
    the status-based choice. Only attempts that delivered nothing to the caller are retried; the
    Client never retries a stream after its first event.

    Attributes:
        attempts: Total attempts including the first (1 disables retries).
        initial_backoff: Upper bound of the first jittered wait, in seconds.
        max_backoff: Upper bound of any jittered wait.
        multiplier: Growth of the bound per attempt.
        max_retry_after: Longest server-requested wait we accept; longer hints are capped.
        retry_statuses: HTTP statuses worth another attempt.
        retry_connection_errors: Whether connect failures, timeouts and resets are retried.
    """

    attempts: int = 3
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    multiplier: float = 2.0
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = _RETRYABLE_STATUSES
    retry_connection_errors: bool = True
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    now: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, got {self.attempts}")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("RetryPolicy backoff bounds must not be negative")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(attempts=1)

    def backoff(self, attempt: int) -> float:
        """Full-jitter wait after failed attempt number ``attempt`` (1-based)."""
        bound = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return bound * self.random()

    def retry_after(self, headers: Mapping[str, str]) -> float | None:
        """The server's requested wait in seconds, capped, or None when it gave none.

        Args:
            headers: Response headers with lower-case names.
        """
        wait = parse_retry_after(headers, now=self.now())
        return None if wait is None else min(wait, self.max_retry_after)

    def decide_status(self, attempt: int, status: int, headers: Mapping[str, str]) -> RetryDecision:
        """Decide about an attempt that got an HTTP error ``status``."""
        if attempt >= self.attempts:
            return RetryDecision(False, 0.0, f"attempts exhausted ({self.attempts})")
        hint = (headers.get("x-should-retry") or "").strip().lower()
        if hint == "false":
            return RetryDecision(False, 0.0, "server said x-should-retry: false")
        if hint != "true" and status not in self.retry_statuses:
            return RetryDecision(False, 0.0, f"status {status} is not retryable")
        wait = self.retry_after(headers)
        if wait is not None:
            return RetryDecision(True, wait, f"status {status}; server asked to wait {wait:.3f}s")
        return RetryDecision(True, self.backoff(attempt), f"status {status}; backing off")

    def decide_connection_error(self, attempt: int, error: BaseException) -> RetryDecision:
        """Decide about an attempt that failed before any response arrived."""
        if not self.retry_connection_errors:
            return RetryDecision(False, 0.0, "connection errors are not retried")
        if not is_retryable_failure(error):
            return RetryDecision(False, 0.0, f"{type(error).__name__} would fail again")
        if attempt >= self.attempts:
            return RetryDecision(False, 0.0, f"attempts exhausted ({self.attempts})")
        return RetryDecision(True, self.backoff(attempt), f"{type(error).__name__}; backing off")
