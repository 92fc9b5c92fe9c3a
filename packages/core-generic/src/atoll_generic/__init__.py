"""Control plane: Element, Event, Pile, Progression, Processor/Executor and limiters.

Everything here is generic: an upper layer subclasses :class:`Event` (a chat call becomes a
``CallEvent``), runs events on an :class:`Executor` under stacked limiters, and keeps ordered
collections of elements in a :class:`Pile` with a :class:`Progression`.
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._adapters import Adapter
from ._element import Element
from ._event import ErrorInfo, Event, EventStatus, Execution
from ._exceptions import (
    AtollGenericError,
    BackendError,
    BackendUnavailableError,
    BudgetExhaustedError,
    ExecutorClosedError,
    IllegalTransitionError,
    IndexOutOfRangeError,
    ItemExistsError,
    ItemNotFoundError,
    ItemTypeError,
    LimitError,
    LimitExceededError,
    MalformedDataError,
    PileBusyError,
    QueueFull,
    UnknownKindError,
)
from ._executor import Completions, Executor, Progress, ProgressCallback
from ._limiters import (
    BudgetLimiter,
    Clock,
    Limiter,
    RequestLimiter,
    Reservation,
    SystemClock,
    TokenLimiter,
)
from ._pile import Pile
from ._processor import PermissionHook, Processor
from ._progression import Progression
from ._redis import BackendErrorPolicy, RedisBackend

__version__ = "0.1.0"

# Exceptions report the module users import them from (and pickle by it).
for _error in (
    AtollGenericError,
    BackendError,
    BackendUnavailableError,
    BudgetExhaustedError,
    ExecutorClosedError,
    IllegalTransitionError,
    IndexOutOfRangeError,
    ItemExistsError,
    ItemNotFoundError,
    ItemTypeError,
    LimitError,
    LimitExceededError,
    MalformedDataError,
    PileBusyError,
    QueueFull,
    UnknownKindError,
):
    _error.__module__ = __name__

__all__: tuple[str, ...] = (
    "Adapter",
    "AtollError",
    "AtollGenericError",
    "BackendError",
    "BackendErrorPolicy",
    "BackendUnavailableError",
    "BudgetExhaustedError",
    "BudgetLimiter",
    "Clock",
    "Completions",
    "Element",
    "ErrorInfo",
    "Event",
    "EventStatus",
    "Execution",
    "Executor",
    "ExecutorClosedError",
    "IllegalTransitionError",
    "IndexOutOfRangeError",
    "ItemExistsError",
    "ItemNotFoundError",
    "ItemTypeError",
    "LimitError",
    "LimitExceededError",
    "Limiter",
    "MalformedDataError",
    "PermissionHook",
    "Pile",
    "PileBusyError",
    "Processor",
    "Progress",
    "ProgressCallback",
    "Progression",
    "QueueFull",
    "RedisBackend",
    "RequestLimiter",
    "Reservation",
    "SystemClock",
    "TokenLimiter",
    "UnknownKindError",
)
