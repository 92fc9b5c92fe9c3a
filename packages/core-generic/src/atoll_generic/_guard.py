"""One locking discipline for a collection shared by threads and tasks.

A single ``threading.Lock`` (the *mutex*) protects the state. It is only ever held for short
critical sections that never await, so an async method may take it with a plain blocking
acquire: the wait is bounded by someone else's few microseconds of work, never by an await.
Sync and async callers therefore exclude each other through the very same lock (the ancestor kept
a thread lock and an asyncio lock side by side, which excluded nothing).

For multi-step work a caller opens a *session* (``with pile:`` / ``async with pile:``). A session
is ownership, not a held mutex: the owner (a thread, or a task on a thread) keeps calling the
collection's methods freely, sync or async, while everyone else waits -- threads on a condition,
tasks on an anyio event. A blocking sync call that would have to wait for a *different task on
the same thread* raises :class:`PileBusyError` instead of freezing the event loop.

Wake-ups across threads are not safe for anyio events, so a task waiting on work owned by another
thread re-checks on a short poll; same-thread wake-ups are immediate.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import anyio

from ._exceptions import PileBusyError

__all__ = ["Arrivals", "Guard", "current_owner", "wake"]

Owner = tuple[int, int | None]
T = TypeVar("T")
_POLL = 0.02  # seconds between re-checks when the party to wait for lives on another thread


def current_owner() -> Owner:
    """Identify the caller: its thread, and its task when running inside an event loop."""
    try:
        task: int | None = anyio.get_current_task().id
    except Exception:  # no event loop in this thread: a plain thread is the owner
        task = None
    return (threading.get_ident(), task)


class _Waiter:
    __slots__ = ("event", "thread")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.thread = threading.get_ident()


class Guard:
    """The mutex, session ownership and change notifications of one collection."""

    __slots__ = ("_depth", "_free", "mutex", "owner", "waiters")

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self._free = threading.Condition(self.mutex)
        self.owner: Owner | None = None
        self._depth = 0
        self.waiters: list[_Waiter] = []

    # ------------------------------------------------------------------ short critical sections
    def acquire(self, operation: str) -> None:
        """Take the mutex for a sync operation, waiting out another party's session."""
        self.mutex.acquire()
        if self.owner is not None:
            self._wait_session_sync(operation)

    def _wait_session_sync(self, operation: str) -> None:
        me = current_owner()
        while self.owner is not None and self.owner != me:
            if self.owner[0] == me[0]:
                # The owner is another task on this very thread: blocking would freeze the loop
                # it needs to finish its session.
                self.mutex.release()
                raise PileBusyError(operation)
            self._free.wait()

    async def aacquire(self) -> None:
        """Take the mutex for an async operation, awaiting another party's session."""
        self.mutex.acquire()
        if self.owner is None:
            return
        me = current_owner()
        while True:
            owner = self.holder()
            if owner is None or owner == me:
                return
            cross_thread = owner[0] != me[0]
            waiter = _Waiter()
            self.waiters.append(waiter)
            self.mutex.release()
            try:
                await self._wait(waiter, cross_thread)
            finally:
                self.mutex.acquire()
                if waiter in self.waiters:
                    self.waiters.remove(waiter)

    # ------------------------------------------------------------------ sessions
    def enter(self) -> None:
        """Open (or re-enter) a session from sync code."""
        self.acquire("__enter__")
        try:
            self._own()
        finally:
            self.mutex.release()

    async def aenter(self) -> None:
        """Open (or re-enter) a session from a task."""
        await self.aacquire()
        try:
            self._own()
        finally:
            self.mutex.release()

    def holder(self) -> Owner | None:
        """The current session owner, if any (read fresh: it changes while we await)."""
        return self.owner

    def _own(self) -> None:
        if self.owner is None:
            self.owner = current_owner()
        self._depth += 1

    def exit(self) -> None:
        """Close one level of the caller's session."""
        with self.mutex:
            if self.owner is None or self.owner != current_owner():
                raise RuntimeError("this caller does not hold the collection's session")
            self._depth -= 1
            if self._depth:
                return
            self.owner = None
            self._free.notify_all()
            waiters = self._take_waiters()
        _wake(waiters)

    # ------------------------------------------------------------------ change notifications
    def _take_waiters(self) -> list[_Waiter]:
        waiters, self.waiters = self.waiters, []
        return waiters

    def changed(self) -> list[_Waiter]:
        """Collect the waiters to wake after a change (call with the mutex held)."""
        return self._take_waiters() if self.waiters else []

    async def wait_until(self, ready: Callable[[], bool]) -> None:
        """Await until ``ready()`` (evaluated under the mutex) is true."""
        while True:
            await self.aacquire()
            try:
                if ready():
                    return
                waiter = _Waiter()
                self.waiters.append(waiter)
            finally:
                self.mutex.release()
            # A change may come from any thread: poll as a fallback to the direct wake-up.
            await self._wait(waiter, cross_thread=True)

    @staticmethod
    async def _wait(waiter: _Waiter, cross_thread: bool) -> None:
        if cross_thread:
            with anyio.move_on_after(_POLL):
                await waiter.event.wait()
        else:
            await waiter.event.wait()


def wake(waiters: list[_Waiter]) -> None:
    """Wake the waiters collected by :meth:`Guard.changed` (call with the mutex released)."""
    _wake(waiters)


def _wake(waiters: list[_Waiter]) -> None:
    here = threading.get_ident()
    for waiter in waiters:
        if waiter.thread == here:
            waiter.event.set()
        # Waiters on other threads notice on their next poll: anyio events are loop-bound.


class Arrivals(Generic[T]):
    """Async iterator over a collection's items: those present at start, then each new arrival.

    The collection appends to ``pending`` (under its mutex) and wakes the guard's waiters.
    """

    __slots__ = ("__weakref__", "_guard", "pending")

    def __init__(self, guard: Guard, existing: Iterable[T]) -> None:
        self._guard = guard
        self.pending: deque[T] = deque(existing)

    def __aiter__(self) -> Arrivals[T]:
        return self

    async def __anext__(self) -> T:
        pending = self.pending
        await self._guard.wait_until(lambda: bool(pending))
        return pending.popleft()
