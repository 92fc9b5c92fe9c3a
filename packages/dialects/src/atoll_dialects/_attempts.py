"""One call's attempts: which model, what to send, whether to wait and try again, when to stop.

``AttemptLoop`` holds every decision of a call across retries and fallback models (retry
policy, overall deadline, spans, the attempt record and its notes, logging) and does no I/O.
The async and sync clients drive it with a few lines each (``_drive.py``): ask for the next
request, send it, report what happened; the loop answers with the wait before the next attempt
or raises the call's final error. So both clients behave the same by construction.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NoReturn

import msgspec
from atoll_wire import (
    ChatRequest,
    ChatResponse,
    HttpRequest,
    Timeout,
    TransportError,
    TransportTimeout,
    Usage,
)
from opentelemetry import trace

from ._deadline import Deadline
from ._engine import Engine
from ._exceptions import APIError, StreamInterrupted, TimeoutError
from ._redactor import Redactor
from ._result import Attempt, ClientResponse
from ._retry import RetryDecision, is_retryable_failure
from ._target import Target
from ._telemetry import CallSpan

if TYPE_CHECKING:
    from ._observe import CallObserver

__all__ = ["AttemptLoop"]

_log = logging.getLogger("atoll_dialects")
_GIVE_UP = RetryDecision(False, 0.0, "not retryable")
_DEFAULT_REDACTOR = Redactor()


class AttemptLoop:
    """The attempts of one call (see the module docstring).

    Args:
        engine: The client's settings (targets, retry policy, registry).
        request: The neutral chat request, or None for other operations (embeddings, ...).
        deadline: The call's overall deadline.
        operation: The span's operation name (``chat``, ``embeddings``, ...).
        tracer: The tracer spans come from.
        build: For operations other than chat: makes the target's HTTP request.
        headers: Headers of this call (the client's defaults and the call's own), set on every
            attempt after the dialect's and the auth's.
        transport_timeout: The transport's own per-phase limits, when the driver must cap the
            phases by the deadline itself (sync); None when the deadline is enforced around
            each exchange (async).
        observer: The call's events and metrics, when someone listens; None costs nothing.
        redactor: What logs, spans, events and the final error may show (and whether spans
            and events carry message content).

    Attributes:
        history: The failed attempts so far, oldest first.
        target: The model being tried now.
        sent: The chat request as sent to ``target`` (its model name filled in).
        observer: The call's events and metrics, or None.
    """

    __slots__ = (
        "_build",
        "_content",
        "_engine",
        "_headers",
        "_http",
        "_operation",
        "_phase_caps",
        "_position",
        "_redactor",
        "_relaxed",
        "_request",
        "_tracer",
        "deadline",
        "history",
        "number",
        "observer",
        "sent",
        "span",
        "target",
    )

    def __init__(
        self,
        engine: Engine,
        request: ChatRequest | None,
        deadline: Deadline,
        *,
        operation: str,
        tracer: trace.Tracer,
        build: Callable[[Target], HttpRequest] | None = None,
        headers: Mapping[str, str] | None = None,
        transport_timeout: Timeout | None = None,
        observer: CallObserver | None = None,
        redactor: Redactor = _DEFAULT_REDACTOR,
    ) -> None:
        self._engine = engine
        self._request = request
        self._build = build
        self._operation = operation
        self._tracer = tracer
        self._headers = headers
        self._phase_caps = transport_timeout
        self._position = 0
        self._relaxed = False
        self._http: HttpRequest | None = None
        self.deadline = deadline
        self.history: list[Attempt] = []
        self.number = 1
        first = engine.targets[0]
        # A target a server made the dialect relax (engine.relax) replaces the original.
        self.target: Target = engine.relaxed.get(id(first), first) if engine.relaxed else first
        self.sent: ChatRequest | None = request
        self.span: CallSpan | None = None
        self.observer = observer
        self._redactor = redactor
        self._content = redactor if redactor.capture_content else None

    @property
    def redactor(self) -> Redactor:
        """What this call's logs, spans, events and errors may show."""
        return self._redactor

    @property
    def call_id(self) -> str | None:
        """The call's id in its events (None when nobody listens)."""
        observer = self.observer
        return None if observer is None else observer.call_id

    # ------------------------------------------------------------------ sending

    @property
    def max_response_bytes(self) -> int:
        """The largest success body the driver may read."""
        return self._engine.max_response_bytes

    def next_request(self) -> HttpRequest:
        """The HTTP request of the next attempt, without its auth headers.

        It is built once per model (retries resend it); its timeouts are set per attempt.

        Raises:
            UnsupportedRequestError: The model cannot serve the request (nothing is sent).
        """
        observer = self.observer
        if self.span is None:
            request = self._request
            if observer is not None and not observer.attempts and not self._position:
                observer.started(self.target, request)
            self.span = CallSpan(
                self._tracer,
                self._operation,
                self.target,
                request,
                content=self._content,
            )
        http = self._http
        if http is None:
            try:
                http = self._http = self._make(self.target)
            except BaseException as error:
                self._give_up(error)
        http.timeout = self._timeout()
        if observer is not None:
            observer.attempts += 1
        return http

    def authorize(self, http: HttpRequest, auth_headers: Mapping[str, str]) -> None:
        """Set the auth headers of this attempt, then the call's own headers over them."""
        http.headers.update(auth_headers)
        if self._headers:
            http.headers.update(self._headers)

    def _make(self, target: Target) -> HttpRequest:
        if self._build is not None:
            return self._build(target)
        assert self._request is not None
        self.sent = sent = msgspec.structs.replace(self._request, model=target.request_model)
        return target.dialect.build(sent, target)

    def _timeout(self) -> Timeout:
        base = self._engine.transport_timeout
        caps = self._phase_caps
        left = self.deadline.remaining()
        if caps is None or left is None:
            return base
        left = max(left, 0.001)

        def cap(phase: str) -> float:
            # The caller's value for the phase, else the transport's own; then the time left.
            value = getattr(base, phase)
            if value is None:
                value = getattr(caps, phase)
            return left if value is None else min(value, left)

        return Timeout(
            connect=cap("connect"), read=cap("read"), write=cap("write"), pool=cap("pool")
        )

    # ------------------------------------------------------------------ outcomes

    def error_for(self, status: int, headers: Mapping[str, str], body: bytes) -> APIError:
        """The typed error for an HTTP error response, parsed by the target's dialect."""
        target = self.target
        error = target.dialect.parse_error(status, headers, body, target)
        feedback = self._engine.feedback
        if feedback is not None:
            feedback.error(error)
        return error

    def failed(self, error: BaseException, *, final: BaseException | None = None) -> float:
        """Record a failed attempt and decide what comes next.

        Args:
            error: What failed (it decides whether the attempt is worth repeating).
            final: The error to raise instead of ``error`` when the call ends here (a stream
                raises StreamInterrupted with what arrived, for a body that broke).

        Returns:
            Seconds to wait before the next attempt (0 when the next model in the list takes
            over at once). The loop has moved to the next attempt or model.

        Raises:
            BaseException: ``error`` (or ``final``), annotated with every attempt of the call,
                when no retry or fallback is left.
        """
        if self._relax(error):
            return 0.0
        decision = self._decide(error)
        observer = self.observer
        if decision.retry and self.deadline.allows_wait(decision.delay):
            self._record(error, retry_in=decision.delay)
            if self.span is not None:
                self.span.attempt_failed(self.number, error, decision.delay)
            if observer is not None:
                observer.retry(self.target, self.number, error, decision.delay)
            self.number += 1
            return decision.delay
        self._record(error)
        if self._may_fall_back(error):
            if self.span is not None:
                self.span.fail(error)
                self.span = None
            self._position += 1
            self.number = 1
            previous, self.target = self.target, self._engine.target_at(self._position)
            self._http = None
            if observer is not None:
                observer.fallback(previous, self.target, error)
            return 0.0
        self._give_up(final if final is not None else error, recorded=True)

    def timed_out(self, partial: ChatResponse | None = None) -> TimeoutError:
        """The call's deadline passed: the final TimeoutError (span ended), to raise."""
        target = self.target
        error = TimeoutError(
            f"the call did not finish within its deadline of {self.deadline.seconds}s",
            provider=target.provider.name,
            model=target.request_model,
            partial=partial,
        )
        self._end(error)
        return error

    def interrupted(self, error: BaseException, partial: ChatResponse) -> APIError:
        """A stream broke after events reached the caller: the final error (never retried)."""
        final = self.interruption(error, partial)
        self._end(final)
        return final

    def interruption(self, error: BaseException, partial: ChatResponse) -> APIError:
        """The typed error for a stream that broke, carrying what arrived (not yet raised)."""
        if isinstance(error, APIError):
            error.partial = partial
            return error
        target = self.target
        timed_out = isinstance(error, TransportTimeout | builtins.TimeoutError)
        cls = TimeoutError if timed_out else StreamInterrupted
        return cls(
            f"the stream broke off: {error}",
            provider=target.provider.name,
            model=target.request_model,
            partial=partial,
        )

    def parsed(self, body: bytes, headers: Mapping[str, str]) -> ClientResponse:
        """A chat call's success body, parsed by the dialect, as the call's result."""
        target = self.target
        assert self.sent is not None
        try:
            response = target.dialect.parse(body, target, self.sent)
        except BaseException as error:
            self._give_up(error)
        return self.finished(response, headers)

    def snapshot(self, response: ChatResponse, headers: Mapping[str, str]) -> ClientResponse:
        """What a call has so far, as a result (cost, record), without ending anything."""
        return self._engine.finish(self.target, response, self.history, headers)

    def finished(self, response: ChatResponse, headers: Mapping[str, str]) -> ClientResponse:
        """The call's result: cost, rate limits and attempt record attached; span ended."""
        engine = self._engine
        result = engine.finish(self.target, response, self.history, headers)
        if engine.feedback is not None:
            engine.feedback.limits(result.rate_limits)
        span = self.span
        if span is not None:
            self.span = None
            span.succeed(result)
        if self.observer is not None:
            self.observer.finished(self.target, result)
        return result

    def succeeded(
        self, usage: Usage | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        """End a call whose result is not a chat response (embeddings, ...).

        Args:
            usage: The call's token usage, for its events.
            headers: The success response's headers, for the client's limiters.
        """
        feedback = self._engine.feedback
        if feedback is not None:
            feedback.headers(headers)
        span = self.span
        if span is not None:
            self.span = None
            span.end()
        if self.observer is not None:
            self.observer.finished(self.target, None, usage)

    def abandon(self, error: BaseException) -> None:
        """End the span (and the call's events) of a call left by an error or cancellation."""
        span = self.span
        if span is not None:
            self.span = None
            span.fail(error)
        observer = self.observer
        if observer is not None and not observer.done:
            observer.failed(self.target, error)

    # ------------------------------------------------------------------ decisions

    def _decide(self, error: BaseException) -> RetryDecision:
        retry = self._engine.retry
        if isinstance(error, APIError):
            if error.status is None:
                return _GIVE_UP
            return retry.decide_status(self.number, error.status, error.headers)
        if isinstance(error, TransportError | OSError):
            return retry.decide_connection_error(self.number, error)
        return _GIVE_UP

    def _relax(self, error: BaseException) -> bool:
        """Once per call: a server refused a field the dialect sends by default; drop it.

        The dialect decides (``Dialect.relaxed_target``); the client keeps the relaxed target
        for every later call, so the refused attempt happens once per target.
        """
        if self._relaxed or not isinstance(error, APIError) or error.status not in (400, 422):
            return False
        target = self.target
        relaxed = target.dialect.relaxed_target(error, target)
        if relaxed is None:
            return False
        self._relaxed = True
        self._record(error, retry_in=0.0)
        if self.span is not None:
            self.span.attempt_failed(self.number, error, 0.0)
        self._engine.relax(self._position, relaxed)
        self.target = relaxed
        self._http = None
        self.number += 1
        return True

    def _may_fall_back(self, error: BaseException) -> bool:
        if self._position + 1 >= len(self._engine.targets) or isinstance(error, TimeoutError):
            return False
        retry = self._engine.retry
        if isinstance(error, TransportError):
            return retry.retry_connection_errors and is_retryable_failure(error)
        return isinstance(error, APIError) and error.status in retry.retry_statuses

    def _give_up(self, error: BaseException, *, recorded: bool = False) -> NoReturn:
        self._end(error, recorded=recorded)
        raise error

    def _end(self, error: BaseException, *, recorded: bool = False) -> None:
        # The error raised is the last attempt's; a note (PEP 678, shown in tracebacks and in
        # ``error.__notes__``) keeps what failed before it, across retries and fallback models.
        if len(self.history) > (1 if recorded else 0):
            error.add_note("attempts: " + "; ".join(_describe(a) for a in self.history))
        self._redactor.error(error)
        self.abandon(error)

    def _record(self, error: BaseException, *, retry_in: float | None = None) -> None:
        """Append a failed attempt to the history and log it.

        Retries are logged at INFO on the ``atoll_dialects`` logger, a final failure at DEBUG
        (the caller gets the exception). Messages carry the model, attempt, error type and
        status, and the error's own text, masked by the call's Redactor (errors mask key-like
        text themselves; the Redactor adds known keys, emails and the caller's rules).
        """
        target = self.target
        status = getattr(error, "status", None)
        text = self._redactor.error_text(error, None)
        if retry_in is not None:
            _log.info(
                "%s attempt %d failed (%s%s); retrying in %.2fs",
                target.label,
                self.number,
                type(error).__name__,
                f" {status}" if status else "",
                retry_in,
            )
        else:
            _log.debug(
                "%s attempt %d failed (%s): %s",
                target.label,
                self.number,
                type(error).__name__,
                text,
            )
        self.history.append(
            Attempt(
                model=target.label,
                number=self.number,
                error=type(error).__name__,
                message=text[:300],
                status=status,
                waited=retry_in or 0.0,
            )
        )


def _describe(attempt: Attempt) -> str:
    status = f" {attempt.status}" if attempt.status is not None else ""
    waited = f", waited {attempt.waited:.2f}s" if attempt.waited else ""
    return f"{attempt.model} #{attempt.number} {attempt.error}{status}{waited}"
