"""Every error `atoll_generic` raises, each with structured fields.

Hierarchy::

    AtollGenericError (Exception)
    ├── ItemNotFoundError        (also KeyError and ValueError: ``d[k]`` and ``list.remove`` idioms)
    ├── ItemExistsError          (also ValueError)
    ├── ItemTypeError            (also TypeError)
    ├── IndexOutOfRangeError     (also IndexError)
    ├── IllegalTransitionError   (also ValueError)
    ├── UnknownKindError         (also ValueError)
    ├── MalformedDataError       (also ValueError)
    ├── PileBusyError            (also RuntimeError)
    ├── QueueFull
    ├── ExecutorClosedError      (also RuntimeError)
    ├── LimitError
    │   ├── LimitExceededError   (one request larger than a limiter can ever grant)
    │   └── BudgetExhaustedError (a cost budget is spent; new work is refused)
    └── BackendError             (a limiter's shared state store failed mid-run)
        └── BackendUnavailableError (it could not be reached at start)

The builtin bases let ordinary Python code keep working: ``except KeyError`` catches a missing id,
``except IndexError`` a bad position.
"""

from __future__ import annotations

from typing import Any

from atoll_wire import AtollError


class AtollGenericError(AtollError):
    """Base class of every error raised by `atoll_generic`."""


class ItemNotFoundError(AtollGenericError, KeyError, ValueError):
    """An id, element or key is not in the collection.

    Attributes:
        item: The key that was looked up (as given).
        container: Name of the collection type searched (``"Pile"``, ``"Progression"``).
    """

    def __init__(self, item: object, container: str) -> None:
        super().__init__(item, container)
        self.item = item
        self.container = container

    def __str__(self) -> str:
        return f"{self.item!r} is not in the {self.container}"


class ItemExistsError(AtollGenericError, ValueError):
    """An element with the same id is already present.

    Attributes:
        item_id: The id that is already present.
        container: Name of the collection type.
    """

    def __init__(self, item_id: object, container: str) -> None:
        super().__init__(item_id, container)
        self.item_id = item_id
        self.container = container

    def __str__(self) -> str:
        return f"an item with id {self.item_id} is already in the {self.container}"


class ItemTypeError(AtollGenericError, TypeError):
    """An item does not match a Pile's ``item_type``.

    Attributes:
        expected: Names of the accepted types.
        actual: Name of the rejected item's type.
        strict: Whether the Pile requires exact types (no subclasses).
    """

    def __init__(self, expected: tuple[str, ...], actual: str, *, strict: bool) -> None:
        super().__init__(expected, actual, strict)
        self.expected = expected
        self.actual = actual
        self.strict = strict

    def __str__(self) -> str:
        mode = "exactly" if self.strict else "an instance of"
        return f"item of type {self.actual} rejected: expected {mode} {' | '.join(self.expected)}"


class IndexOutOfRangeError(AtollGenericError, IndexError):
    """A position is outside the collection.

    Attributes:
        index: The position asked for.
        length: The collection's length at the time.
    """

    def __init__(self, index: int, length: int) -> None:
        super().__init__(index, length)
        self.index = index
        self.length = length

    def __str__(self) -> str:
        return f"index {self.index} out of range for length {self.length}"


class IllegalTransitionError(AtollGenericError, ValueError):
    """An event was moved to a status its current status does not allow.

    Attributes:
        current: Status before the attempted change.
        target: Status that was refused.
        event_id: Id of the event, when known.
    """

    def __init__(self, current: str, target: str, event_id: object = None) -> None:
        super().__init__(current, target, event_id)
        self.current = current
        self.target = target
        self.event_id = event_id

    def __str__(self) -> str:
        who = f"event {self.event_id}" if self.event_id is not None else "event"
        return f"{who}: illegal status transition {self.current} -> {self.target}"


class UnknownKindError(AtollGenericError, ValueError):
    """``from_dict`` met a ``kind`` that no registered class claims.

    Attributes:
        kind: The kind found in the data (as given, possibly not a string).
        known: The kinds registered at the time, sorted.
    """

    def __init__(self, kind: object, known: tuple[str, ...]) -> None:
        super().__init__(kind, known)
        self.kind = kind
        self.known = known

    def __str__(self) -> str:
        shown = ", ".join(self.known[:20]) + (", ..." if len(self.known) > 20 else "")
        return f"unknown element kind {self.kind!r}; registered kinds: {shown}"


class MalformedDataError(AtollGenericError, ValueError):
    """Serialized data does not have the shape a class needs.

    Attributes:
        target: Name of the class being rebuilt.
        reason: What was wrong.
        details: Structured details (for example pydantic's error list).
    """

    def __init__(self, target: str, reason: str, details: list[Any] | None = None) -> None:
        super().__init__(target, reason)
        self.target = target
        self.reason = reason
        self.details = details or []

    def __str__(self) -> str:
        return f"cannot build {self.target}: {self.reason}"


class PileBusyError(AtollGenericError, RuntimeError):
    """A blocking call would deadlock: another task on this thread holds the Pile.

    Raised when synchronous Pile methods are called from the event-loop thread while a
    *different* task is inside ``async with pile``; waiting would block the very loop that task
    needs to finish. Use the ``a``-prefixed async methods from tasks instead.

    Attributes:
        operation: The method that was called.
    """

    def __init__(self, operation: str) -> None:
        super().__init__(operation)
        self.operation = operation

    def __str__(self) -> str:
        return (
            f"Pile.{self.operation}() would block the event loop: another task holds "
            "`async with pile`; await the async method instead"
        )


class QueueFull(AtollGenericError):
    """``submit_nowait`` found the executor's queue at capacity.

    Attributes:
        queue_size: The queue's capacity.
    """

    def __init__(self, queue_size: int) -> None:
        super().__init__(queue_size)
        self.queue_size = queue_size

    def __str__(self) -> str:
        return f"executor queue is full ({self.queue_size} waiting); await submit() to wait"


class ExecutorClosedError(AtollGenericError, RuntimeError):
    """Work was submitted to an executor that is not running or is shutting down.

    Attributes:
        state: ``"not started"`` or ``"closed"``.
    """

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state

    def __str__(self) -> str:
        return f"executor is {self.state}; use `async with Executor(...) as ex` and submit inside"


class LimitError(AtollGenericError):
    """Base for refusals by a limiter.

    Attributes:
        limiter: Name of the refusing limiter.
        requested: Amount requested.
        limit: The limiter's ceiling.
    """

    def __init__(self, limiter: str, requested: float, limit: float) -> None:
        super().__init__(limiter, requested, limit)
        self.limiter = limiter
        self.requested = requested
        self.limit = limit


class LimitExceededError(LimitError):
    """A single reservation is larger than the limiter could ever grant in one interval."""

    def __str__(self) -> str:
        return (
            f"{self.limiter}: request of {self.requested:g} exceeds the limit of {self.limit:g} "
            "per interval and can never be granted"
        )


class BudgetExhaustedError(LimitError):
    """A cost budget cannot cover the request; new work is refused.

    Attributes:
        spent: Amount settled or reserved so far.
    """

    def __init__(self, limiter: str, requested: float, limit: float, spent: float) -> None:
        super().__init__(limiter, requested, limit)
        self.spent = spent

    def __str__(self) -> str:
        return (
            f"{self.limiter}: budget of {self.limit:g} cannot cover {self.requested:g} "
            f"({self.spent:g} already spent or reserved)"
        )


class BackendError(AtollGenericError):
    """A limiter's shared state backend (Redis) failed while in use.

    Raised under ``on_backend_error="fail"``; the URL it names never carries a password.

    Attributes:
        backend: The backend's redacted address (``redis://127.0.0.1:6379/0``).
        operation: What was being done (``"reserve"``, ``"settle"``, ``"connect"``, ...).
        reason: The underlying error, as ``Type: message``.
    """

    def __init__(self, backend: str, operation: str, reason: str) -> None:
        super().__init__(backend, operation, reason)
        self.backend = backend
        self.operation = operation
        self.reason = reason

    def __str__(self) -> str:
        return f"limiter backend {self.backend} failed during {self.operation}: {self.reason}"


class BackendUnavailableError(BackendError):
    """The shared state backend could not be reached (or rejected us) when it was opened."""

    def __str__(self) -> str:
        return (
            f"limiter backend {self.backend} is unreachable ({self.operation}): {self.reason}; "
            "is redis-server running and the URL right?"
        )
