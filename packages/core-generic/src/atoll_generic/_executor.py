"""Executor: a Processor that keeps results, streams completions and reports progress."""

from __future__ import annotations

import logging
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, NamedTuple

import anyio

from ._event import Event, EventStatus
from ._exceptions import PileBusyError
from ._limiters import Limiter
from ._pile import Pile
from ._processor import PermissionHook, Processor

__all__ = ["Completions", "Executor", "Progress", "ProgressCallback"]

_log = logging.getLogger("atoll_generic")


class Progress(NamedTuple):
    """A progress snapshot, for progress bars."""

    done: int
    """Events finished in any terminal status."""
    failed: int
    """Of those, FAILED ones."""
    in_flight: int
    """Events running now."""
    queued: int
    """Events waiting to start."""


ProgressCallback = Callable[[Progress], None]
"""Called after each event finishes, with the new :class:`Progress`."""


class Completions:
    """Async iterator returned by :meth:`Executor.as_completed`.

    A class rather than an async generator: abandoning it with ``break`` needs no cleanup (the
    executor only holds a weak reference), and trio has no unfinished generator to warn about.
    """

    __slots__ = ("__weakref__", "_executor", "_until_closed", "_wakeup", "pending")

    def __init__(
        self, executor: Executor, until_closed: bool, finished: Iterable[Event] = ()
    ) -> None:
        self._executor = executor
        self._until_closed = until_closed
        self._wakeup: anyio.Event | None = None
        # Events that finished before the call come first: the common batch (submit many,
        # then iterate) must not lose the ones that were quicker than the loop.
        self.pending: deque[Event] = deque(finished)

    def __aiter__(self) -> Completions:
        return self

    def notify(self, event: Event) -> None:
        """Queue a finished event (called by the executor)."""
        self.pending.append(event)
        if self._wakeup is not None:
            self._wakeup.set()

    def _ended(self) -> bool:
        ex = self._executor
        if self._until_closed:
            return ex.closed and not ex.unfinished
        return not ex.unfinished

    async def __anext__(self) -> Event:
        while True:
            if self.pending:
                return self.pending.popleft()
            if self._ended():
                raise StopAsyncIteration
            self._wakeup = anyio.Event()
            if self._until_closed:
                # Closing finishes no event, so re-check the state now and then.
                with anyio.move_on_after(0.05):
                    await self._wakeup.wait()
            else:
                await self._wakeup.wait()
            self._wakeup = None

    async def aclose(self) -> None:
        """Stop receiving events (optional: dropping the iterator does the same)."""
        self._executor._listeners.discard(weakref.ref(self))  # pyright: ignore[reportPrivateUsage]


class Executor(Processor):
    """Run events concurrently and collect them by outcome.

    ``completed``, ``failed``, ``skipped`` and ``cancelled`` are Piles of finished events; with
    ``retention`` each keeps only the most recent ones so memory stays bounded on long runs
    (``counts`` keeps the totals).

    Example:
        >>> async with Executor(max_concurrency=8) as ex:  # doctest: +SKIP
        ...     for event in events:
        ...         await ex.submit(event)
        ...     async for done in ex.as_completed():
        ...         print(done.status, done.response)

    Args:
        max_concurrency: Events in flight at most.
        queue_size: Events waiting at most (backpressure beyond).
        limiters: Limiters each event reserves from, in order.
        permission: Hook deciding whether an event may start.
        on_deny: ``"skip"`` or ``"requeue"`` for denied events.
        max_requeues: Denials tolerated per event under ``"requeue"``.
        requeue_delay: Seconds before a denied event re-enters the queue.
        retention: Keep at most this many events in each result Pile (None: all; 0: none).
        on_progress: Called with a :class:`Progress` after each event finishes. An error it
            raises is logged (once, on the ``atoll_generic`` logger) and never stops the work.
    """

    def __init__(
        self,
        *,
        max_concurrency: int = 16,
        queue_size: int = 1024,
        limiters: Sequence[Limiter] = (),
        permission: PermissionHook | None = None,
        on_deny: Literal["skip", "requeue"] = "skip",
        max_requeues: int = 3,
        requeue_delay: float = 0.05,
        retention: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        super().__init__(
            max_concurrency=max_concurrency,
            queue_size=queue_size,
            limiters=limiters,
            permission=permission,
            on_deny=on_deny,
            max_requeues=max_requeues,
            requeue_delay=requeue_delay,
        )
        self.retention = retention
        self.on_progress = on_progress
        self.completed: Pile[Event] = Pile(item_type=Event, maxlen=retention)
        """COMPLETED events (the most recent ``retention`` of them)."""
        self.failed: Pile[Event] = Pile(item_type=Event, maxlen=retention)
        """FAILED events."""
        self.skipped: Pile[Event] = Pile(item_type=Event, maxlen=retention)
        """SKIPPED events (denied by the permission hook, refused by a budget)."""
        self.cancelled: Pile[Event] = Pile(item_type=Event, maxlen=retention)
        """CANCELLED events."""
        self._piles = {
            EventStatus.COMPLETED: self.completed,
            EventStatus.FAILED: self.failed,
            EventStatus.SKIPPED: self.skipped,
            EventStatus.CANCELLED: self.cancelled,
        }
        self.counts: dict[EventStatus, int] = dict.fromkeys(self._piles, 0)
        """Totals per terminal status, independent of ``retention``."""
        self._listeners: set[weakref.ref[Completions]] = set()
        # Every finished event in finishing order (the newest ``retention``), so that a later
        # `as_completed()` starts with what had already finished.
        self._finished_log: deque[Event] = deque(maxlen=retention)
        self._progress_failed = False

    def _finish(self, event: Event) -> None:
        status: EventStatus = vars(event.execution)["status"]
        self.counts[status] += 1
        if self.retention != 0:
            pile = self._piles[status]
            try:
                pile.include(event)
            except PileBusyError:
                # Another task holds `async with ex.completed` across awaits: file the result
                # as soon as that session ends instead of failing the worker.
                if self._host is None:
                    raise
                self._host.start_soon(pile.ainclude, event)
        self._finished_log.append(event)
        if self._listeners:
            for ref in tuple(self._listeners):
                listener = ref()
                if listener is not None:
                    listener.notify(event)
        super()._finish(event)
        if self.on_progress is not None:
            try:
                self.on_progress(self.progress())
            except Exception:
                # A broken progress bar must not take the workers, and every event in
                # flight with them, down. Logged once per executor, not once per event.
                if not self._progress_failed:
                    self._progress_failed = True
                    _log.exception(
                        "on_progress callback of %r raised; the work goes on and later errors "
                        "of this callback are not logged",
                        self,
                    )

    def progress(self) -> Progress:
        """The current :class:`Progress`."""
        counts = self.counts
        done = sum(counts.values())
        return Progress(done, counts[EventStatus.FAILED], self._in_flight, self._queued)

    def as_completed(self, *, until_closed: bool = False) -> Completions:
        """Iterate every event submitted to this executor, in finishing order, any status.

        Events that had already finished when it was called come first, then each one as it
        finishes; no feeder task is needed for the common batch (submit many, then iterate).
        Ends when nothing submitted is left unfinished, or -- with ``until_closed`` -- only
        once the executor is closed (useful when another task is still submitting). With
        ``retention=N`` only the newest N events finished before the call are still known.
        Use as ``async for ev in ex.as_completed(): ...``.
        """
        completions = Completions(self, until_closed, self._finished_log)
        self._listeners.add(weakref.ref(completions, self._listeners.discard))
        return completions
