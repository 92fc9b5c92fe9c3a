"""``Callbacks``: who hears a call's events, and how a slow or broken listener is kept harmless.

A sync callback runs in place, when the event happens: keep it quick (``JsonlSink`` appends a
line). An async callback never runs in place: each has a bounded queue and a task of its own
that awaits it event by event, so a slow one never delays a call or a stream; when its queue is
full, new events for it are dropped and counted (``dropped``). Those tasks run in a task group
held by whoever started the set: ``async with Client(...)`` starts the Client's callbacks,
``async with Agent(...)`` an agent's, ``async with Callbacks(...)`` a set you share. Leaving the
block delivers what is still queued (for up to ``close_timeout`` seconds), then stops the tasks.

A callback that raises is logged once (a WARNING with its traceback, on the
``atoll_dialects.callbacks`` logger) and its later failures are only counted (``failures``): it
never breaks the call. An async callback that runs past ``timeout`` is cancelled and counted as
a failure.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeAlias

import anyio

from ._exceptions import InvalidOptionError

if TYPE_CHECKING:  # anyio loads these lazily; importing them here would slow every import
    from anyio.abc import TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["Callback", "Callbacks", "as_callbacks"]

Callback: TypeAlias = Callable[[Any], object]
"""A callable taking one event; sync (returns None) or async (``async def``)."""

_log = logging.getLogger("atoll_dialects.callbacks")


def _name(function: object) -> str:
    name = getattr(function, "__qualname__", None)
    return name if isinstance(name, str) else type(function).__name__


def _is_async(function: object) -> bool:
    while isinstance(function, functools.partial):
        function = function.func  # pyright: ignore[reportUnknownMemberType]
    if inspect.iscoroutinefunction(function):
        return True
    return inspect.iscoroutinefunction(getattr(function, "__call__", None))  # noqa: B004


class _Listener:
    """One callback and its counters (and, for an async one, its queue)."""

    __slots__ = ("dropped", "failures", "function", "handled", "logged", "name", "queued", "send")

    def __init__(self, function: Callback) -> None:
        self.function = function
        self.name = _name(function)
        self.failures = 0
        self.dropped = 0
        self.queued = 0
        self.handled = 0
        self.logged = False
        self.send: MemoryObjectSendStream[Any] | None = None

    def fault(self, error: BaseException, what: str = "raised") -> None:
        self.failures += 1
        if self.logged:
            return
        self.logged = True
        _log.warning(
            "event callback %s %s %s; it stays registered, and its later failures are counted "
            "(Callbacks.failures), not logged",
            self.name,
            what,
            type(error).__name__,
            exc_info=(type(error), error, error.__traceback__),
        )


class _Core:
    """What every view of one set shares: the listeners and the task group that drains them."""

    __slots__ = ("async_", "close_timeout", "group", "max_queue", "sync", "timeout", "warned")

    def __init__(
        self,
        listeners: list[_Listener],
        *,
        max_queue: int,
        timeout: float | None,
        close_timeout: float,
    ) -> None:
        self.sync = tuple(x for x in listeners if not _is_async(x.function))
        self.async_ = tuple(x for x in listeners if _is_async(x.function))
        self.max_queue = max_queue
        self.timeout = timeout
        self.close_timeout = close_timeout
        self.group: TaskGroup | None = None
        self.warned = False


class Callbacks:
    """A set of event callbacks (see the module docstring for how each kind runs).

    Args:
        callbacks: Callables taking one event (``RequestStarted``, ``RequestFinished``, ...);
            sync functions, ``async def`` functions, or objects with such a ``__call__``.
        max_queue: Events queued per async callback before new ones are dropped.
        timeout: Seconds an async callback may take per event (None: no limit).
        close_timeout: Seconds leaving the owner's block waits for queued events.

    Attributes:
        run_id: The agent run stamped on the events of calls made through this view.

    Example:
        >>> seen = []
        >>> callbacks = Callbacks([seen.append])
        >>> callbacks.has_async
        False
    """

    __slots__ = ("_core", "run_id")

    def __init__(
        self,
        callbacks: Iterable[Callback] = (),
        *,
        max_queue: int = 1000,
        timeout: float | None = 30.0,
        close_timeout: float = 5.0,
    ) -> None:
        listeners: list[_Listener] = []
        for function in callbacks:
            if not callable(function):
                raise InvalidOptionError(
                    "callbacks", function, "callables taking one event (sync or async)"
                )
            listeners.append(_Listener(function))
        if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidOptionError("max_queue", max_queue, "a positive number of events")
        self._core = _Core(
            listeners, max_queue=max_queue, timeout=timeout, close_timeout=close_timeout
        )
        self.run_id: str | None = None

    def __repr__(self) -> str:
        core = self._core
        names = [x.name for x in (*core.sync, *core.async_)]
        return f"Callbacks({names!r}, running={self.running})"

    def for_run(self, run_id: str | None) -> Callbacks:
        """A view of the same callbacks (same queues, same counters) stamping ``run_id``."""
        view = Callbacks.__new__(Callbacks)
        view._core = self._core
        view.run_id = run_id
        return view

    # ------------------------------------------------------------------ state

    @property
    def has_async(self) -> bool:
        """Whether any callback is async (and so needs a running task group)."""
        return bool(self._core.async_)

    @property
    def running(self) -> bool:
        """Whether the async callbacks' tasks are running."""
        return self._core.group is not None

    @property
    def dropped(self) -> int:
        """Events dropped for async callbacks (queue full, not running, or closed)."""
        return sum(x.dropped for x in self._core.async_)

    @property
    def failures(self) -> int:
        """Callback invocations that raised (or timed out)."""
        core = self._core
        return sum(x.failures for x in (*core.sync, *core.async_))

    def check_ready(self) -> None:
        """Raise unless every callback can run now (before a call sends anything).

        Raises:
            InvalidOptionError: Async callbacks whose tasks are not running.
        """
        core = self._core
        if core.async_ and core.group is None:
            raise InvalidOptionError(
                "callbacks",
                [x.name for x in core.async_],
                "sync callables, or async ones whose tasks run: enter the owner first "
                "(`async with Client(...) as client:`, or `async with Callbacks(...)`)",
            )

    # ------------------------------------------------------------------ delivering

    def emit(self, event: Any) -> None:
        """Hand ``event`` to every callback: sync ones now, async ones through their queues.

        Never raises and never waits.
        """
        core = self._core
        for listener in core.sync:
            try:
                result = listener.function(event)
            except Exception as error:
                listener.fault(error)
                continue
            if result is not None and inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()  # never awaited: close it, or Python warns at collection
                listener.fault(TypeError("it returned an awaitable"), "is not async but")
        for listener in core.async_:
            send = listener.send
            if send is None:
                listener.dropped += 1
                self._warn_not_running()
                continue
            try:
                send.send_nowait(event)
            except anyio.WouldBlock:
                listener.dropped += 1
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                listener.dropped += 1
            else:
                listener.queued += 1

    def _warn_not_running(self) -> None:
        core = self._core
        if not core.warned:
            core.warned = True
            _log.warning(
                "async event callbacks are not running (enter their owner with `async with`); "
                "their events are dropped and counted (Callbacks.dropped)"
            )

    async def _drain(self, listener: _Listener, receive: MemoryObjectReceiveStream[Any]) -> None:
        timeout = self._core.timeout
        async with receive:
            async for event in receive:
                try:
                    if timeout is None:
                        await listener.function(event)  # pyright: ignore[reportGeneralTypeIssues]
                    else:
                        with anyio.fail_after(timeout):
                            await listener.function(event)  # pyright: ignore[reportGeneralTypeIssues]
                except Exception as error:
                    listener.fault(
                        error, "timed out:" if isinstance(error, TimeoutError) else "raised"
                    )
                listener.handled += 1

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the async callbacks' tasks in a task group held by the calling task.

        Call ``aclose`` from the same task (``async with`` does both).

        Raises:
            RuntimeError: The set is already running.
        """
        core = self._core
        if core.group is not None:
            raise RuntimeError("these callbacks are already running")
        group = anyio.create_task_group()
        await group.__aenter__()
        core.group = group
        for listener in core.async_:
            send, receive = anyio.create_memory_object_stream[Any](core.max_queue)
            listener.send = send
            group.start_soon(self._drain, listener, receive, name=f"callback {listener.name}")

    async def aclose(self) -> None:
        """Deliver what is queued (for up to ``close_timeout`` seconds), then stop the tasks.

        Events still queued then, and the ones in progress, are counted as dropped.
        """
        core = self._core
        group = core.group
        if group is None:
            return
        for listener in core.async_:
            if listener.send is not None:
                listener.send.close()
        group.cancel_scope.deadline = anyio.current_time() + core.close_timeout
        try:
            await group.__aexit__(None, None, None)
        finally:
            core.group = None
            for listener in core.async_:
                listener.send = None
                listener.dropped += listener.queued - listener.handled
                listener.queued = listener.handled = 0

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def as_callbacks(value: object, *, sync_only: bool = False) -> Callbacks | None:
    """``callbacks=`` as a ``Callbacks`` set (None when there are none).

    Args:
        value: None, a ``Callbacks`` set, or a sequence of callables.
        sync_only: Refuse async callbacks (the SyncClient has no event loop to run them on).

    Raises:
        InvalidOptionError: Not callables, or async ones where only sync ones can run.
    """
    if value is None:
        return None
    callbacks: Callbacks
    if isinstance(value, Callbacks):
        callbacks = value
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items: Sequence[Any] = value  # pyright: ignore[reportUnknownVariableType]
        if not items:
            return None
        callbacks = Callbacks(items)
    else:
        raise InvalidOptionError(
            "callbacks", value, "a list of callables taking one event, or a Callbacks set"
        )
    if sync_only and callbacks.has_async:
        raise InvalidOptionError(
            "callbacks",
            callbacks,
            "sync callables: the SyncClient runs no event loop to await async ones",
        )
    return callbacks
