"""RetryPolicy decisions, on an injected clock and random source."""

from __future__ import annotations

import email.utils

import pytest
from atoll_dialects import RetryPolicy
from atoll_wire import (
    ConnectError,
    ConnectTimeout,
    ReadTimeout,
    RemoteProtocolError,
    ResponseTooLarge,
    TransportError,
)
from hypothesis import given
from hypothesis import strategies as st


def test_backoff_is_full_jitter_under_an_exponential_bound() -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=4.0, random=lambda: 1.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert RetryPolicy(random=lambda: 0.0).backoff(3) == 0.0


@given(attempt=st.integers(1, 30), draw=st.floats(0.0, 1.0))
def test_backoff_never_exceeds_the_cap(attempt: int, draw: float) -> None:
    policy = RetryPolicy(initial_backoff=0.25, max_backoff=3.0, random=lambda: draw)
    assert 0.0 <= policy.backoff(attempt) <= 3.0


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses(status: int) -> None:
    decision = RetryPolicy(random=lambda: 0.5).decide_status(1, status, {})
    assert decision.retry and decision.delay == pytest.approx(0.25)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_final(status: int) -> None:
    assert not RetryPolicy().decide_status(1, status, {}).retry


def test_attempts_are_counted() -> None:
    policy = RetryPolicy(attempts=2)
    assert policy.decide_status(1, 503, {}).retry
    assert not policy.decide_status(2, 503, {}).retry
    assert not RetryPolicy.none().decide_status(1, 503, {}).retry


def test_server_hints_win_over_backoff() -> None:
    policy = RetryPolicy(random=lambda: 1.0, max_retry_after=60)
    assert policy.decide_status(1, 429, {"retry-after": "7"}).delay == 7.0
    assert policy.decide_status(1, 429, {"retry-after-ms": "1500", "retry-after": "9"}).delay == 1.5
    assert policy.decide_status(1, 429, {"retry-after": "600"}).delay == 60.0


def test_retry_after_as_http_date_uses_the_clock() -> None:
    now = 1_700_000_000.0
    policy = RetryPolicy(now=lambda: now)
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert policy.decide_status(1, 503, {"retry-after": date}).delay == pytest.approx(12.0)
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert policy.decide_status(1, 503, {"retry-after": past}).delay == 0.0


def test_x_should_retry_overrides_the_status() -> None:
    policy = RetryPolicy()
    assert not policy.decide_status(1, 503, {"x-should-retry": "false"}).retry
    assert policy.decide_status(1, 400, {"x-should-retry": "true"}).retry


def test_connection_errors() -> None:
    policy = RetryPolicy(attempts=2)
    assert policy.decide_connection_error(1, OSError("reset")).retry
    assert not policy.decide_connection_error(2, OSError("reset")).retry
    assert (
        not RetryPolicy(retry_connection_errors=False)
        .decide_connection_error(1, OSError("reset"))
        .retry
    )


def test_failures_that_would_repeat_are_not_retried() -> None:
    policy = RetryPolicy(attempts=3)
    for cured_by_retry in (
        ConnectError("refused"),
        ReadTimeout("slow"),
        ConnectTimeout("slow"),
        RemoteProtocolError("cut off"),
    ):
        assert policy.decide_connection_error(1, cured_by_retry).retry, cured_by_retry
    for repeats in (
        TransportError("header value has a newline"),
        ResponseTooLarge("too big", limit=10, size=11),
    ):
        decision = policy.decide_connection_error(1, repeats)
        assert not decision.retry and "would fail again" in decision.reason


def test_invalid_policies_are_rejected() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(initial_backoff=-1)
