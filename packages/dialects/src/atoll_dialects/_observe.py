"""``CallObserver``: one call's events and metrics, fed by the attempt loop's decisions.

The ``AttemptLoop`` holds one only when someone listens (callbacks registered, or a metrics SDK
configured); without one a call builds no event and records nothing. The loop tells it what it
decided (started, an attempt sent, a retry, a fallback, finished, failed) and the streams tell
it when a chunk arrived; it turns that into events for the callbacks and measurements for the
meter. Text in events passes the call's ``Redactor``.
"""

from __future__ import annotations

import itertools
import os
import time
from typing import TYPE_CHECKING, Any

from atoll_wire import ChatRequest, Message, Usage

from ._events import (
    FallbackUsed,
    FirstToken,
    RequestFailed,
    RequestFinished,
    RequestStarted,
    RetryScheduled,
)

if TYPE_CHECKING:
    from ._callbacks import Callbacks
    from ._metrics import Instruments
    from ._redactor import Redactor
    from ._result import ClientResponse
    from ._target import Target

__all__ = ["CallObserver", "new_call_id"]

# Call ids: a random per-process prefix and a counter; unique across processes, and far cheaper
# than a uuid per call.
_PREFIX = os.urandom(6).hex()
_COUNTER = itertools.count(1)
_CANCELLATIONS = frozenset({"CancelledError", "Cancelled"})


def new_call_id() -> str:
    """A fresh call id."""
    return f"{_PREFIX}-{next(_COUNTER):x}"


def _cancelled(error: BaseException) -> bool:
    return type(error).__name__ in _CANCELLATIONS or isinstance(error, KeyboardInterrupt)


def _reason(error: BaseException) -> str:
    status = getattr(error, "status", None)
    return f"{type(error).__name__} {status}" if status is not None else type(error).__name__


class CallObserver:
    """The events and measurements of one call (see the module docstring).

    Args:
        listeners: The callback sets to tell (the client's, the call's), maybe none.
        instruments: The meter's instruments, or None when no SDK is configured.
        redactor: The call's redaction policy.
        operation: ``chat`` or ``embeddings``.
        stream: Whether the call streams.
        models: ``provider/model`` of every model the call may use.

    Attributes:
        call_id: The call's id.
        run_id: The agent run the call belongs to (from the call's callbacks), if any.
        attempts: Attempts sent so far.
    """

    __slots__ = (
        "_first",
        "_gaps",
        "_instruments",
        "_last",
        "_listeners",
        "_models",
        "_redactor",
        "_started",
        "_wall",
        "attempts",
        "call_id",
        "done",
        "operation",
        "run_id",
        "stream",
    )

    def __init__(
        self,
        listeners: tuple[Callbacks, ...],
        instruments: Instruments | None,
        redactor: Redactor,
        *,
        operation: str,
        stream: bool,
        models: tuple[str, ...],
    ) -> None:
        self._listeners = listeners
        self._instruments = instruments
        self._redactor = redactor
        self._models = models
        self.operation = operation
        self.stream = stream
        self.call_id = f"{_PREFIX}-{next(_COUNTER):x}"
        run_id = None
        for listener in listeners:
            if listener.run_id is not None:
                run_id = listener.run_id
                break
        self.run_id = run_id
        self._started = time.perf_counter()
        self._wall = time.time()
        self._first: float | None = None
        self._last = 0.0
        self._gaps: list[float] | None = (
            [] if instruments is not None and instruments.latest and stream else None
        )
        self.attempts = 0
        self.done = False

    def _now(self) -> float:
        # Wall-clock time on the monotonic clock: a call's events keep their order.
        return self._wall + (time.perf_counter() - self._started)

    def _emit(self, event: Any) -> None:
        for listener in self._listeners:
            listener.emit(event)

    def _common(self, target: Target) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "model": target.request_model,
            "provider": target.provider.name,
            "time": self._now(),
            "run_id": self.run_id,
        }

    # ------------------------------------------------------------------ what the loop decided

    def started(self, target: Target, request: ChatRequest | None) -> None:
        """The call began: tell the callbacks (once), with the input when content is captured.

        Raises:
            InvalidOptionError: Async callbacks whose tasks are not running (nothing is sent).
        """
        if not self._listeners:
            return
        try:
            for listener in self._listeners:
                listener.check_ready()
        except BaseException:
            self.done = True  # the call never started: no RequestFailed either
            raise
        redactor = self._redactor
        captured = None
        if request is not None and redactor.capture_content:
            captured = redactor.data(request.messages, list[Message])
        self._emit(
            RequestStarted(
                call_id=self.call_id,
                model=target.request_model,
                provider=target.provider.name,
                time=self._now(),
                run_id=self.run_id,
                operation=self.operation,
                stream=self.stream,
                models=self._models,
                input=captured,
            )
        )

    def chunks(self, target: Target, count: int) -> None:
        """``count`` streamed chunks (server-sent events) arrived in one read.

        The first chunk of the call is its time to first token; chunks read together arrived
        together (their spacing is the read's).
        """
        now = time.perf_counter()
        gaps = self._gaps
        if self._first is None:
            self._first = now
            if self._listeners:
                self._emit(FirstToken(**self._common(target), elapsed=now - self._started))
            if gaps is not None:
                gaps.extend([0.0] * (count - 1))
        elif gaps is not None:
            gaps.append(now - self._last)
            gaps.extend([0.0] * (count - 1))
        self._last = now

    def retry(self, target: Target, number: int, error: BaseException, wait: float) -> None:
        """An attempt failed and the same model is tried again after ``wait`` seconds."""
        self._first = None  # the next attempt's first chunk is the one that counts
        if self._gaps:
            self._gaps.clear()
        if not self._listeners:
            return
        self._emit(
            RetryScheduled(
                **self._common(target),
                attempt=number,
                error=type(error).__name__,
                message=self._redactor.error_text(error),
                status=getattr(error, "status", None),
                wait=wait,
            )
        )

    def fallback(self, old: Target, new: Target, error: BaseException) -> None:
        """``old`` gave up on ``error``; ``new`` takes over."""
        self._first = None
        if self._gaps:
            self._gaps.clear()
        if not self._listeners:
            return
        self._emit(
            FallbackUsed(
                **self._common(new),
                from_model=old.label,
                to_model=new.label,
                reason=_reason(error),
                message=self._redactor.error_text(error),
            )
        )

    def finished(
        self, target: Target, result: ClientResponse | None, usage: Usage | None = None
    ) -> None:
        """The call succeeded with ``result`` (chat) or ``usage`` (other operations)."""
        if self.done:
            return
        self.done = True
        now = time.perf_counter()
        duration = now - self._started
        first = None if self._first is None else self._first - self._started
        if result is not None:
            usage = result.usage
        cost = None if result is None or result.cost is None else result.cost.total
        if self._listeners:
            redactor = self._redactor
            output = None
            if result is not None and redactor.capture_content:
                output = redactor.data(result.message, Message)
            self._emit(
                RequestFinished(
                    call_id=self.call_id,
                    model=target.request_model,
                    provider=target.provider.name,
                    time=self._wall + (now - self._started),
                    run_id=self.run_id,
                    operation=self.operation,
                    stream=self.stream,
                    duration=duration,
                    served_by=result.served_by if result is not None else target.label,
                    attempts=self.attempts,
                    usage=usage if usage is not None else Usage(),
                    cost=cost,
                    cost_note=None if result is None else result.cost_note,
                    finish_reason=None if result is None else result.finish_reason,
                    time_to_first_token=first,
                    incomplete=False if result is None else result.incomplete,
                    output=output,
                )
            )
        instruments = self._instruments
        if instruments is not None:
            attributes = instruments.attributes(self.operation, target)
            if result is not None and result.model:
                attributes["gen_ai.response.model"] = result.model
            instruments.record_success(
                attributes,
                duration=duration,
                usage=usage,
                cost=cost,
                unpriced=result is not None and cost is None,
                first_token=first if self.stream else None,
                after_first=None if self._first is None else now - self._first,
                gaps=self._gaps,
            )

    def failed(self, target: Target, error: BaseException) -> None:
        """The call ended with ``error`` (or was cancelled)."""
        if self.done:
            return
        self.done = True
        duration = time.perf_counter() - self._started
        cancelled = _cancelled(error)
        if self._listeners:
            self._emit(
                RequestFailed(
                    **self._common(target),
                    operation=self.operation,
                    stream=self.stream,
                    duration=duration,
                    attempts=self.attempts,
                    error=type(error).__name__,
                    message="" if cancelled else self._redactor.error_text(error),
                    status=getattr(error, "status", None),
                    cancelled=cancelled,
                )
            )
        instruments = self._instruments
        if instruments is not None:
            instruments.record_failure(
                instruments.attributes(self.operation, target),
                duration=duration,
                error="cancelled" if cancelled else type(error).__name__,
            )
