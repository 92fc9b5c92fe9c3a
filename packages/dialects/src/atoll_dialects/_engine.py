"""The parts of a call that do not wait: building attempts, judging failures, finishing results.

``Client`` (async) and ``SyncClient`` (sync) drive the same engine and differ only in how they
send, sleep and read, so retry, fallback and cost rules live here once.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec
from atoll_registry import Cost, Registry
from atoll_wire import (
    ChatRequest,
    ChatResponse,
    HttpRequest,
    Timeout,
    TransportError,
    TransportTimeout,
)

from ._deadline import Deadline
from ._exceptions import APIError, StreamInterrupted, TimeoutError
from ._ratelimit import parse_rate_limits
from ._result import Attempt, ClientResponse, with_record
from ._retry import RetryDecision, RetryPolicy, is_retryable_failure
from ._target import Target

_log = logging.getLogger("atoll_dialects")


@dataclass(slots=True)
class Engine:
    """Shared, immutable call settings of one client.

    Attributes:
        targets: The models to try, in fallback order.
        registry: Where prices come from.
        retry: The retry policy for each model.
        transport_timeout: Per-phase transport limits (capped by the call's deadline).
        deadline_seconds: Default overall budget of a call, or None.
        max_response_bytes: Largest non-streamed body accepted.
    """

    targets: Sequence[Target]
    registry: Registry
    retry: RetryPolicy
    transport_timeout: Timeout
    deadline_seconds: float | None
    max_response_bytes: int

    def deadline(self, override: float | None) -> Deadline:
        """A fresh deadline for one call (``override`` seconds, else the client's default)."""
        return Deadline(override if override is not None else self.deadline_seconds)

    def http_request(
        self, target: Target, request: ChatRequest, deadline: Deadline
    ) -> tuple[ChatRequest, HttpRequest]:
        """The request as sent to ``target`` and its wire form.

        Raises before sending if the model cannot serve the request. Parsing needs the former:
        a schema sent as a forced tool comes back as text only when the decoder knows it.
        """
        request = msgspec.structs.replace(request, model=target.request_model)
        http = target.dialect.build(
            request, target.provider, target.model, target.api_key, target.base_url
        )
        http.timeout = deadline.transport_timeout(self.transport_timeout)
        return request, http

    def judge_status(
        self,
        target: Target,
        number: int,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> tuple[APIError, RetryDecision]:
        """The typed error for an HTTP error response and whether to try again."""
        error = target.dialect.parse_error(
            status, headers, body, provider=target.provider.name, model=target.request_model
        )
        return error, self.retry.decide_status(number, status, headers)

    def judge_transport(
        self, target: Target, number: int, error: TransportError
    ) -> tuple[BaseException, RetryDecision]:
        """Whether a failure before any byte reached the caller is worth another attempt."""
        return error, self.retry.decide_connection_error(number, error)

    def record(
        self,
        history: list[Attempt],
        target: Target,
        number: int,
        error: BaseException,
        *,
        retry_in: float | None = None,
    ) -> None:
        """Append a failed attempt to the call's history and log it.

        ``retry_in`` is the wait before the next attempt, or None when the attempt was the
        last. Retries are logged at INFO on the ``atoll_dialects`` logger, a final failure at
        DEBUG (the caller gets the exception). Messages carry the model, attempt, error type and
        status, and the error's own text, which never holds a key (errors redact their bodies).
        """
        status = getattr(error, "status", None)
        if retry_in is not None:
            _log.info(
                "%s attempt %d failed (%s%s); retrying in %.2fs",
                target.label,
                number,
                type(error).__name__,
                f" {status}" if status else "",
                retry_in,
            )
        else:
            _log.debug(
                "%s attempt %d failed (%s): %s", target.label, number, type(error).__name__, error
            )
        history.append(
            Attempt(
                model=target.label,
                number=number,
                error=type(error).__name__,
                message=str(error)[:300],
                status=status,
                waited=retry_in or 0.0,
            )
        )

    def annotate(self, error: BaseException, history: list[Attempt]) -> None:
        """Note every failed attempt of the call on the error it ends with.

        The error raised is the last attempt's; the note (PEP 678, shown in tracebacks and in
        ``error.__notes__``) keeps what failed before it, across retries and fallback models.
        """
        if len(history) > 1:
            error.add_note("attempts: " + "; ".join(_describe(a) for a in history))

    def may_fall_back(self, error: BaseException, position: int) -> bool:
        """Whether a model's final failure lets the next model in the list try."""
        if position + 1 >= len(self.targets) or isinstance(error, TimeoutError):
            return False
        if isinstance(error, TransportError):
            return self.retry.retry_connection_errors and is_retryable_failure(error)
        return isinstance(error, APIError) and error.status in self.retry.retry_statuses

    def finish(
        self,
        target: Target,
        response: ChatResponse,
        history: list[Attempt],
        headers: Mapping[str, str] | None = None,
    ) -> ClientResponse:
        """Attach provider, cost (or why it is unknown), rate limits and the attempt record."""
        if response.provider is None:
            response = msgspec.structs.replace(response, provider=target.provider.name)
        cost: Cost | None = None
        if target.model is None:
            note: str | None = f"model {target.name!r} is not in the registry; its price is unknown"
        else:
            outcome = self.registry.explain_cost(target.model, response.usage)
            cost = outcome if isinstance(outcome, Cost) else None
            note = None if cost is not None else getattr(outcome, "reason", "price unknown")
        return with_record(
            response,
            served_by=target.label,
            attempts=history,
            cost=cost,
            cost_note=note,
            rate_limits=parse_rate_limits(headers, time.time()) if headers else None,
        )


def deadline_error(
    target: Target, seconds: float | None, partial: ChatResponse | None
) -> TimeoutError:
    """The error for a call that ran out of its overall time."""
    return TimeoutError(
        f"the call did not finish within its deadline of {seconds}s",
        provider=target.provider.name,
        model=target.request_model,
        partial=partial,
    )


def interrupted(target: Target, error: BaseException, partial: ChatResponse) -> APIError:
    """The error for a stream that broke after events reached the caller."""
    if isinstance(error, APIError):
        error.partial = partial
        return error
    timed_out = isinstance(error, TransportTimeout | builtins.TimeoutError)
    cls = TimeoutError if timed_out else StreamInterrupted
    return cls(
        f"the stream broke off after it started: {error}",
        provider=target.provider.name,
        model=target.request_model,
        partial=partial,
    )


def _describe(attempt: Attempt) -> str:
    status = f" {attempt.status}" if attempt.status is not None else ""
    waited = f", waited {attempt.waited:.2f}s" if attempt.waited else ""
    return f"{attempt.model} #{attempt.number} {attempt.error}{status}{waited}"
