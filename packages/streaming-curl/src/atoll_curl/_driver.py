"""Drive a :class:`Reactor` from the tasks that wait on it: no background task, no thread.

Whoever needs progress drives. The first task that waits becomes the *leader*: it sleeps in
``anyio.wait_readable`` on the reactor's one descriptor (with libcurl's timer as the deadline) and
runs ``socket_action`` for everybody when it wakes, which buffers other transfers' bytes and sets
their waiters. Every other waiting task is a *follower* sleeping on its transfer's
``anyio.Event``. When the leader's own transfer is ready it returns and wakes one follower to take
over. When nobody waits, nothing is read: the kernel's buffers fill and TCP pushes back on the
server, which is exactly the backpressure a stream consumer wants.

This keeps the whole libcurl side on the event loop's thread, works the same on asyncio and trio
(``wait_readable`` is all it needs from either), and leaves no task behind to outlive the
transport or to be cancelled at shutdown.

Pool slots (``max_connections``) are a tiny FIFO semaphore of our own: taking a free slot does not
yield, which matters at tens of thousands of requests per second.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from time import monotonic

import anyio
import anyio.lowlevel

from ._reactor import Reactor
from ._transfer import Transfer


class Driver:
    """Leader/follower driving of one reactor on one event loop.

    Followers sleep on a bare ``anyio.Event`` (no cancel scope per wait: that would cost more
    than the request itself); the leader keeps their deadlines for them, sleeping no longer than
    the earliest one and waking whoever is overdue.

    Args:
        reactor: The reactor to drive.
    """

    __slots__ = ("_heir", "_leading", "_reactor", "_soonest", "_waiting")

    def __init__(self, reactor: Reactor) -> None:
        self._reactor = reactor
        # True while a task leads, or while the lead is being handed to ``_heir``.
        self._leading = False
        self._heir: Transfer | None = None
        # Followers in arrival order, with their deadlines (O(1) removal when one leaves).
        self._waiting: dict[Transfer, float | None] = {}
        self._soonest: float | None = None  # no follower's deadline is earlier than this

    async def wait(
        self, transfer: Transfer, ready: Callable[[Transfer], bool], deadline: float | None
    ) -> bool:
        """Wait until ``ready(transfer)``, driving the reactor when nobody else is.

        Args:
            transfer: The transfer this task consumes.
            ready: The condition to wait for.
            deadline: ``monotonic()`` time to give up at, or None.

        Returns:
            True when ready, False when the deadline passed first.

        Raises:
            anyio.ClosedResourceError: The transport was closed while this task led.
        """
        lead = False  # does this task hold the lead?
        try:
            while not ready(transfer):
                if deadline is not None and monotonic() >= deadline:
                    return False
                if not lead:
                    if self._leading:
                        await self._follow(transfer, deadline)
                        if self._heir is transfer:  # the previous leader handed us the lead
                            self._heir = None
                            lead = True
                        continue
                    self._leading = lead = True
                await self._lead(transfer, ready, deadline)
            return True
        finally:
            if lead or self._heir is transfer:
                self._heir = None
                self._leading = False
                self._hand_off()

    def _hand_off(self) -> None:
        # Pass the lead straight to a follower still asleep: marking it taken now keeps a task
        # that calls wait() meanwhile from grabbing it, which would wake the heir for nothing.
        for follower in self._waiting:
            if follower.waiter is not None:
                self._leading = True
                self._heir = follower
                follower.wake()
                return

    async def _follow(self, transfer: Transfer, deadline: float | None) -> None:
        event = anyio.Event()
        transfer.waiter = event
        self._waiting[transfer] = deadline
        if deadline is not None and (self._soonest is None or deadline < self._soonest):
            self._soonest = deadline
            self._reactor.wake_by(deadline)  # the leader may be asleep past our deadline
        try:
            await event.wait()
        finally:
            transfer.waiter = None
            self._waiting.pop(transfer, None)

    def _next_wake(self, deadline: float | None) -> float | None:
        """Seconds the leader may sleep: libcurl's timer, its own and the followers' deadlines."""
        wake = self._reactor.timeout()
        soonest = self._soonest
        if deadline is not None and (soonest is None or deadline < soonest):
            soonest = deadline
        if soonest is not None:
            left = max(0.0, soonest - monotonic())
            wake = left if wake is None else min(wake, left)
        return wake

    def _wake_overdue(self) -> None:
        # _soonest is a lower bound (followers that left are not subtracted): past it, wake
        # whoever is overdue and recompute it from those still asleep.
        now = monotonic()
        if self._soonest is None or self._soonest > now:
            return
        soonest: float | None = None
        for follower, deadline in list(self._waiting.items()):
            if deadline is None:
                continue
            if deadline <= now:
                follower.wake()
            elif soonest is None or deadline < soonest:
                soonest = deadline
        self._soonest = soonest

    async def _lead(
        self, transfer: Transfer, ready: Callable[[Transfer], bool], deadline: float | None
    ) -> None:
        reactor = self._reactor
        fd = reactor.fileno()
        while not ready(transfer):
            if deadline is not None and monotonic() >= deadline:
                return
            wait = self._next_wake(deadline)
            reactor.sleep_begin(wait)
            try:
                if wait is None:
                    await anyio.wait_readable(fd)
                elif wait > 0:
                    with anyio.move_on_after(wait):
                        await anyio.wait_readable(fd)
                else:
                    await anyio.lowlevel.checkpoint()  # something is due: let others run first
            finally:
                reactor.sleep_end()
            reactor.poll()
            self._wake_overdue()


class Slots:
    """A FIFO counting semaphore whose uncontended acquire does not yield.

    Args:
        count: How many slots exist.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, count: int) -> None:
        self._free = count
        self._waiters: deque[anyio.Event] = deque()

    async def acquire(self, patience: float | None) -> bool:
        """Take a slot, waiting up to ``patience`` seconds (None: forever).

        Returns:
            True with a slot, False when ``patience`` ran out first.
        """
        if self._free and not self._waiters:
            self._free -= 1
            return True
        event = anyio.Event()
        self._waiters.append(event)
        try:
            with anyio.move_on_after(patience):
                await event.wait()
        except BaseException:
            if event.is_set():
                self.release()  # handed a slot while being cancelled: pass it on
            else:
                self._waiters.remove(event)
            raise
        if not event.is_set():
            self._waiters.remove(event)
            return False
        return True

    def release(self) -> None:
        """Give a slot back, straight to the longest waiter if there is one."""
        if self._waiters:
            self._waiters.popleft().set()
        else:
            self._free += 1
