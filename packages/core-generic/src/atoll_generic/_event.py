"""Event, its Execution record and the EventStatus lifecycle.

A subclass implements ``invoke()`` (and optionally ``stream()``); :meth:`Event.run` is the one
place that moves the status: PENDING -> PROCESSING -> COMPLETED / FAILED / CANCELLED. Errors are
captured into ``execution.error``; cancellation is recorded as CANCELLED and re-raised, never
mistaken for a failure.

Status updates on the hot path write the model's ``__dict__`` directly: the values are produced
here, already valid, so per-event pydantic validation would only cost time.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic_core import PydanticSerializationError, to_jsonable_python

from ._element import Element
from ._exceptions import IllegalTransitionError, MalformedDataError

__all__ = ["TERMINAL", "ErrorInfo", "Event", "EventStatus", "Execution"]

UTC = dt.UTC


class EventStatus(enum.StrEnum):
    """Where an event is in its lifecycle."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def is_terminal(self) -> bool:
        """True for COMPLETED, FAILED, CANCELLED and SKIPPED: no further change is allowed."""
        return self in TERMINAL


TERMINAL = frozenset(
    {EventStatus.COMPLETED, EventStatus.FAILED, EventStatus.CANCELLED, EventStatus.SKIPPED}
)
_ALLOWED: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.PENDING: frozenset(
        {EventStatus.PROCESSING, EventStatus.SKIPPED, EventStatus.CANCELLED}
    ),
    EventStatus.PROCESSING: frozenset(
        {EventStatus.COMPLETED, EventStatus.FAILED, EventStatus.CANCELLED}
    ),
    EventStatus.COMPLETED: frozenset(),
    EventStatus.FAILED: frozenset(),
    EventStatus.CANCELLED: frozenset(),
    EventStatus.SKIPPED: frozenset(),
}
_SIMPLE = (str, int, float, bool, type(None))


class ErrorInfo(BaseModel):
    """A captured exception, JSON-safe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    """The exception class name."""
    message: str
    """``str(exception)``."""
    details: dict[str, Any] = Field(default_factory=dict[str, Any])
    """The exception's public scalar attributes (for example ``status``, ``retry_after``)."""

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        """Capture an exception's type, message and scalar attributes."""
        details: dict[str, Any] = {}
        attrs: dict[str, Any] = getattr(exc, "__dict__", {})
        for key, value in attrs.items():
            if not key.startswith("_") and isinstance(value, _SIMPLE):
                details[key] = value
        return cls.model_construct(type=type(exc).__name__, message=str(exc), details=details)


class Execution(BaseModel):
    """The record of running one event."""

    model_config = ConfigDict(extra="forbid")

    status: EventStatus = EventStatus.PENDING
    """Current lifecycle status; change it through :meth:`transition` (assignment does too)."""
    started_at: dt.datetime | None = None
    """When processing began (UTC)."""
    ended_at: dt.datetime | None = None
    """When the event reached a terminal status (UTC)."""
    duration: float | None = None
    """Seconds spent processing, measured on a monotonic clock."""
    response: Any = None
    """What ``invoke()`` returned."""
    error: ErrorInfo | None = None
    """The captured failure or cancellation, if any."""
    reason: str | None = None
    """Why an event was skipped or cancelled without running (for example a permission denial)."""
    attempts: int = 0
    """How many times processing was started (upper layers add their own retries)."""

    _exception: BaseException | None = PrivateAttr(default=None)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "status":
            self.transition(value)
        else:
            super().__setattr__(name, value)

    @property
    def exception(self) -> BaseException | None:
        """The live exception object from this process (not serialized)."""
        return self._exception

    def transition(self, target: EventStatus | str, event_id: object = None) -> None:
        """Move to ``target`` if the lifecycle allows it.

        Raises:
            IllegalTransitionError: ``target`` is not reachable from the current status.
            ValueError: ``target`` is not a status name.
        """
        if type(target) is not EventStatus:
            target = EventStatus(target)
        current: EventStatus = vars(self)["status"]
        if target not in _ALLOWED[current]:
            raise IllegalTransitionError(current.value, target.value, event_id)
        vars(self)["status"] = target


class Event(Element):
    """A unit of work with a recorded lifecycle.

    Subclasses implement :meth:`invoke` (and optionally :meth:`stream`) and call :meth:`run`
    (or :meth:`run_stream`), which owns the status changes. To work with token and cost limiters,
    override :meth:`estimated_usage` and :meth:`actual_usage`.

    Example:
        >>> class Add(Event):
        ...     a: int
        ...     b: int
        ...     async def invoke(self) -> int:
        ...         return self.a + self.b
    """

    __element_kind__ = "Event"

    execution: Execution = Field(default_factory=Execution)
    """Status, timing, response and error of this event."""

    @property
    def status(self) -> EventStatus:
        """The execution status."""
        return vars(self.execution)["status"]

    @property
    def response(self) -> Any:
        """Shortcut for ``execution.response``."""
        return vars(self.execution)["response"]

    async def invoke(self) -> Any:
        """Do the work and return the response. Subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement invoke()")

    def stream(self) -> AsyncIterator[Any]:
        """Yield chunks of the response. Subclasses that stream override this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement stream()")

    def collect(self, chunks: list[Any]) -> Any:
        """Build the response of :meth:`run_stream` from the chunks (default: the list)."""
        return chunks

    def estimated_usage(self, resource: Literal["tokens", "cost"] | str) -> float:
        """Amount of ``resource`` to reserve before running (default 0).

        ``TokenLimiter`` asks for ``"tokens"``, ``BudgetLimiter`` for ``"cost"``: return a
        worst-case estimate (for a chat call, prompt tokens plus ``max_tokens``).
        """
        return 0.0

    def actual_usage(self, resource: Literal["tokens", "cost"] | str) -> float | None:
        """Amount of ``resource`` actually used, once known (default None: keep the estimate)."""
        return None

    def response_to_json(self, response: Any) -> Any:
        """Turn ``execution.response`` into JSON-safe data for :meth:`to_dict`.

        The default handles what pydantic can serialize. Subclasses whose responses are other
        types (a msgspec struct, say) override this; loading gives back the JSON form.

        Raises:
            MalformedDataError: the response cannot be made JSON-safe.
        """
        try:
            return to_jsonable_python(response)
        except PydanticSerializationError as exc:
            raise MalformedDataError(
                type(self).__name__,
                f"execution.response of type {type(response).__name__} is not JSON-safe; "
                "override Event.response_to_json",
            ) from exc

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the event and its execution record, with ``kind``."""
        data = self.model_dump(mode="json", exclude={"execution": {"response"}})
        data["execution"]["response"] = self.response_to_json(self.response)
        data["kind"] = type(self).kind()
        return data

    def skip(self, reason: str) -> None:
        """Mark a PENDING event SKIPPED with a reason, without running it."""
        self._close_unstarted(EventStatus.SKIPPED, reason)

    def cancel(self, reason: str) -> None:
        """Mark a PENDING event CANCELLED with a reason, without running it."""
        self._close_unstarted(EventStatus.CANCELLED, reason)

    def _close_unstarted(self, status: EventStatus, reason: str) -> None:
        ex = self.execution
        ex.transition(status, self.id)
        d = vars(ex)
        d["reason"] = reason
        d["ended_at"] = dt.datetime.now(UTC)

    def _begin(self) -> float:
        ex = self.execution
        d = vars(ex)
        if d["status"] is not EventStatus.PENDING:
            ex.transition(EventStatus.PROCESSING, self.id)  # raises IllegalTransitionError
        d["status"] = EventStatus.PROCESSING
        d["attempts"] += 1
        d["started_at"] = dt.datetime.now(UTC)
        return time.perf_counter()

    def _end(self, status: EventStatus, t0: float, exc: BaseException | None = None) -> None:
        ex = self.execution
        d = vars(ex)
        d["status"] = status  # PROCESSING -> terminal: always legal, checked by _begin
        d["ended_at"] = dt.datetime.now(UTC)
        d["duration"] = time.perf_counter() - t0
        if exc is not None:
            d["error"] = ErrorInfo.from_exception(exc)
            ex._exception = exc  # pyright: ignore[reportPrivateUsage]

    async def run(self) -> Execution:
        """Invoke once, recording the lifecycle; returns the execution record.

        Failures are captured (status FAILED, ``execution.error``) and not raised. Cancellation is
        recorded as CANCELLED and re-raised, as cancellation must be.

        Raises:
            IllegalTransitionError: the event is not PENDING (it already ran or was skipped).
        """
        t0 = self._begin()
        try:
            response = await self.invoke()
        except anyio.get_cancelled_exc_class() as exc:
            self._end(EventStatus.CANCELLED, t0, exc)
            raise
        except Exception as exc:
            self._end(EventStatus.FAILED, t0, exc)
        except BaseException as exc:
            self._end(EventStatus.FAILED, t0, exc)
            raise
        else:
            vars(self.execution)["response"] = response
            self._end(EventStatus.COMPLETED, t0)
        return self.execution

    async def run_stream(self) -> AsyncIterator[Any]:
        """Iterate :meth:`stream` with the same lifecycle as :meth:`run`.

        The response is ``collect(chunks)``. A consumer that stops early (``break``) leaves the
        event CANCELLED with reason ``"stream closed by consumer"``.
        """
        t0 = self._begin()
        chunks: list[Any] = []
        source: AsyncIterator[Any] | None = None
        try:
            source = self.stream()
            async for chunk in source:
                chunks.append(chunk)
                yield chunk
        except anyio.get_cancelled_exc_class() as exc:
            self._end(EventStatus.CANCELLED, t0, exc)
            raise
        except GeneratorExit:
            vars(self.execution)["reason"] = "stream closed by consumer"
            self._end(EventStatus.CANCELLED, t0)
            raise
        except Exception as exc:
            self._end(EventStatus.FAILED, t0, exc)
        except BaseException as exc:
            self._end(EventStatus.FAILED, t0, exc)
            raise
        else:
            vars(self.execution)["response"] = self.collect(chunks)
            self._end(EventStatus.COMPLETED, t0)
        finally:
            # Close the subclass's generator now, not at garbage collection.
            closer = getattr(source, "aclose", None)
            if closer is not None:
                await closer()
