"""Limiters that stack on an Executor: requests per interval, tokens per interval, cost budget.

Each limiter is a pool. Before an event starts the executor *reserves* from every limiter (the
request count, an estimate of tokens, a worst-case cost); after it ends it *settles* each
reservation with the actual usage, refunding the difference to the pool the reservation came
from. Reservations always come out of what is *available* -- never out of the ceiling -- so
concurrent reservations add up.

Provider feedback reaches every caller at once: ``observe(remaining=..., reset_at=...)`` (from
rate-limit headers) or ``observe(retry_after=...)`` (from a 429) lowers the shared pool, so one
throttled call slows everyone down.

Times are on the limiter's clock. The default :class:`SystemClock` uses ``time.time()``, so a
``reset_at`` may be a UNIX timestamp or an aware ``datetime``; tests inject a fake clock.
Limiters belong to one event loop: call them from its tasks (``observe`` is synchronous).

With ``backend=RedisBackend(...)`` the pool lives in Redis instead and every process whose
limiter has the same name shares it (see ``_shared.py``); a window limiter then holds at most
``limit`` in every sliding window of ``interval`` seconds, on the server's clock.
"""

from __future__ import annotations

import datetime as dt
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Protocol

import anyio

from ._exceptions import BudgetExhaustedError, LimitExceededError

if TYPE_CHECKING:
    from ._event import Event
    from ._redis import RedisBackend
    from ._shared import SharedBudget, SharedWindow

__all__ = [
    "BudgetLimiter",
    "Clock",
    "Limiter",
    "RequestLimiter",
    "Reservation",
    "SystemClock",
    "TokenLimiter",
]


class Clock(Protocol):
    """Time source of a limiter: ``now()`` in seconds and an async ``sleep``."""

    def now(self) -> float:
        """Current time in seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock."""
        ...


class SystemClock:
    """Wall-clock time (``time.time``) and ``anyio.sleep``."""

    def now(self) -> float:
        """Seconds since the UNIX epoch."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Sleep with anyio."""
        await anyio.sleep(seconds)


class Reservation:
    """An amount taken from one limiter, to be settled or released exactly once.

    Attributes:
        limiter: The limiter the amount came from.
        amount: The amount reserved.
        window: The limiter's window generation at reservation time.
        settled: True once settled or released (later calls are ignored).
        token: Its id in a shared backend (None for an in-process pool).
        granted_at: When a shared backend granted it, on the server's clock (UNIX seconds).
    """

    __slots__ = ("amount", "granted_at", "limiter", "settled", "token", "window")

    def __init__(
        self, limiter: Limiter, amount: float, window: int, *, token: str | None = None
    ) -> None:
        self.limiter = limiter
        self.amount = amount
        self.window = window
        self.settled = False
        self.token = token
        self.granted_at: float | None = None

    def settle(self, actual: float | None) -> None:
        """Settle with the actual usage (None keeps the reserved amount as used)."""
        self.limiter.settle(self, actual)

    def release(self) -> None:
        """Give the whole amount back (the work never ran)."""
        self.limiter.release(self)

    async def asettle(self, actual: float | None) -> None:
        """Settle, waiting for a shared backend to record it (same as ``settle`` in process)."""
        await self.limiter.asettle(self, actual)

    async def arelease(self) -> None:
        """Release, waiting for a shared backend to record it."""
        await self.limiter.arelease(self)

    def __repr__(self) -> str:
        return f"Reservation({self.limiter.name}, amount={self.amount:g}, settled={self.settled})"


def timestamp(value: float | dt.datetime) -> float:
    """A UNIX timestamp from a number or an aware datetime."""
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


class Limiter(ABC):
    """Base of the stackable limiters.

    Subclasses define :meth:`reserve`, :meth:`settle`, :meth:`release` and :meth:`observe`, and
    which amount an :class:`~atoll_generic.Event` asks for (:meth:`estimate`, :meth:`actual`).
    """

    name: str
    """A label used in errors and reprs."""

    def __init__(self, *, clock: Clock | None = None, name: str | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.name = name or type(self).__name__
        self._changed: anyio.Event | None = None

    @property
    def backend(self) -> RedisBackend | None:
        """The shared state backend, or None when the pool lives in this process."""
        return None

    # -- what an event asks for
    def estimate(self, event: Event) -> float:
        """Amount to reserve for ``event`` before it starts."""
        return 1.0

    def actual(self, event: Event) -> float | None:
        """Amount ``event`` really used (None: keep the reservation)."""
        return None

    # -- pool operations
    @abstractmethod
    async def reserve(self, amount: float) -> Reservation:
        """Wait until ``amount`` is available and take it."""

    @abstractmethod
    def settle(self, reservation: Reservation, actual: float | None) -> None:
        """Record actual usage for a reservation and refund or charge the difference."""

    @abstractmethod
    def release(self, reservation: Reservation) -> None:
        """Return a reservation's whole amount (the work never ran)."""

    @abstractmethod
    def observe(
        self,
        *,
        remaining: float | None = None,
        reset_at: float | dt.datetime | None = None,
        reset_after: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Fold provider feedback into the shared pool."""

    async def asettle(self, reservation: Reservation, actual: float | None) -> None:
        """:meth:`settle`, awaiting a shared backend; never raises for a backend failure."""
        self.settle(reservation, actual)

    async def arelease(self, reservation: Reservation) -> None:
        """:meth:`release`, awaiting a shared backend; never raises for a backend failure."""
        if reservation.token is not None:
            await self.asettle(reservation, 0.0)
        else:
            self.release(reservation)

    # -- executor integration
    async def acquire(self, event: Event) -> Reservation:
        """Reserve this limiter's estimate for ``event``."""
        return await self.reserve(self.estimate(event))

    def finish(self, reservation: Reservation, event: Event) -> None:
        """Settle ``reservation`` with ``event``'s actual usage."""
        self.settle(reservation, self.actual(event))

    async def afinish(self, reservation: Reservation, event: Event) -> None:
        """:meth:`finish`, awaiting a shared backend (the Executor's path)."""
        await self.asettle(reservation, self.actual(event))

    # -- waiting
    def _notify(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    def _watch(self) -> anyio.Event:
        """The event the next pool change sets (taken before an await, so no change is missed)."""
        if self._changed is None:
            self._changed = anyio.Event()
        return self._changed

    async def _wait(self, until: float | None, changed: anyio.Event | None = None) -> None:
        """Sleep until ``until`` on the clock, or until the pool changes, whichever is first."""
        if changed is None:
            changed = self._watch()
        if until is None:
            await changed.wait()
            return
        async with anyio.create_task_group() as tg:

            async def sleeper() -> None:
                # Measured when the sleeper runs, not when it was scheduled.
                await self.clock.sleep(max(0.0, until - self.clock.now()))
                tg.cancel_scope.cancel()

            tg.start_soon(sleeper)
            await changed.wait()
            tg.cancel_scope.cancel()


class _WindowLimiter(Limiter):
    """A pool of ``limit`` units that refills completely at the end of each window.

    With a ``backend`` the pool is shared through it instead (a sliding window on the server's
    clock).
    """

    def __init__(
        self,
        limit: float,
        interval: float = 60.0,
        *,
        clock: Clock | None = None,
        name: str | None = None,
        backend: RedisBackend | None = None,
    ) -> None:
        if limit <= 0 or interval <= 0:
            raise ValueError(f"limit and interval must be positive, got {limit=}, {interval=}")
        super().__init__(clock=clock, name=name)
        self.limit = float(limit)
        self.interval = float(interval)
        self._available = float(limit)
        self._window_end: float | None = None
        self._window = 0
        self._blocked_until = 0.0
        self._shared: SharedWindow | None = None
        if backend is not None:
            from ._shared import SharedWindow

            self._shared = SharedWindow(self, backend)

    @property
    def backend(self) -> RedisBackend | None:
        """The shared state backend, or None when the pool lives in this process."""
        return None if self._shared is None else self._shared.backend

    @property
    def available(self) -> float:
        """Units left in the current window (may be negative after an overrun).

        With a backend: what Redis reported at this process's last call.
        """
        if self._shared is not None:
            return self.limit - self._shared.used
        self._refresh(self.clock.now())
        return self._available

    @property
    def window_end(self) -> float | None:
        """When the current window refills (None before first use)."""
        return self._window_end

    def _refresh(self, now: float) -> None:
        end = self._window_end
        if end is None:
            self._window_end = now + self.interval
        elif now >= end:
            # A new window: full again, minus any overrun (actual usage beyond the reservation)
            # still owed from the last one.
            self._available = self.limit + min(0.0, self._available)
            skipped = (now - end) // self.interval
            self._window_end = end + (skipped + 1) * self.interval
            self._window += 1

    async def reserve(self, amount: float) -> Reservation:
        """Wait until ``amount`` fits in the current window, then take it.

        Raises:
            LimitExceededError: ``amount`` is larger than a whole window.
            BackendError: the shared backend failed and its policy is ``"fail"``.
        """
        if self._shared is not None:
            return await self._shared.reserve(amount)
        if amount > self.limit:
            raise LimitExceededError(self.name, amount, self.limit)
        while True:
            now = self.clock.now()
            self._refresh(now)
            if now >= self._blocked_until and self._available >= amount:
                self._available -= amount
                return Reservation(self, amount, self._window)
            if now < self._blocked_until:
                await self._wait(self._blocked_until)
            else:
                await self._wait(self._window_end)

    def settle(self, reservation: Reservation, actual: float | None) -> None:
        """Refund (or charge) the difference between the reservation and ``actual``."""
        if self._shared is not None and reservation.token is not None:
            self._shared.settle(reservation, actual)
            return
        if reservation.settled:
            return
        reservation.settled = True
        if actual is None:
            return
        self._refresh(self.clock.now())
        difference = reservation.amount - actual
        if reservation.window == self._window:
            self._available += difference
        elif difference < 0:
            self._available += difference  # an overrun is owed by the current window
        if difference > 0:
            self._notify()

    async def asettle(self, reservation: Reservation, actual: float | None) -> None:
        """:meth:`settle`, awaiting the shared backend when there is one."""
        if self._shared is not None and reservation.token is not None:
            await self._shared.asettle(reservation, actual)
        else:
            self.settle(reservation, actual)

    def release(self, reservation: Reservation) -> None:
        """Give back the whole reservation."""
        self.settle(reservation, 0.0)

    def observe(
        self,
        *,
        remaining: float | None = None,
        reset_at: float | dt.datetime | None = None,
        reset_after: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Apply provider rate-limit feedback to the shared window.

        With a backend the feedback is sent to Redis (in the background) and reaches every
        process: ``remaining`` caps what is left until the reset, ``retry_after`` blocks all.

        Args:
            remaining: Units the provider says are left; the pool never exceeds it.
            reset_at: When the provider's window refills (clock time or aware datetime).
            reset_after: Seconds until the provider's window refills.
            retry_after: Seconds to stop starting new work (a 429's ``Retry-After``).
        """
        if self._shared is not None:
            self._shared.observe(
                remaining=remaining,
                reset_at=reset_at,
                reset_after=reset_after,
                retry_after=retry_after,
            )
            self._notify()
            return
        now = self.clock.now()
        self._refresh(now)
        if reset_after is not None:
            reset_at = now + reset_after
        if reset_at is not None:
            self._window_end = timestamp(reset_at)
        if remaining is not None:
            self._available = min(self._available, float(remaining))
        if retry_after is not None:
            self._blocked_until = max(self._blocked_until, now + retry_after)
        self._notify()  # waiters re-plan against the new window


class RequestLimiter(_WindowLimiter):
    """At most ``limit`` requests start per ``interval`` seconds.

    Args:
        limit: Requests per window.
        interval: Window length in seconds.
        clock: Time source (default :class:`SystemClock`).
        name: Label for errors; with a backend, the key every sharing process uses.
        backend: A :class:`~atoll_generic.RedisBackend` to share the limit across processes
            (None: this process only).
    """


class TokenLimiter(_WindowLimiter):
    """At most ``limit`` tokens per ``interval`` seconds, reserved by estimate, settled by actual.

    The executor reserves ``event.estimated_usage("tokens")`` before start and settles with
    ``event.actual_usage("tokens")`` after: an over-estimate is refunded to the same window.

    Args:
        limit: Tokens per window.
        interval: Window length in seconds.
        clock: Time source (default :class:`SystemClock`).
        name: Label for errors; with a backend, the key every sharing process uses.
        backend: A :class:`~atoll_generic.RedisBackend` to share the limit across processes
            (None: this process only).
    """

    def estimate(self, event: Event) -> float:
        """The event's token estimate."""
        return event.estimated_usage("tokens")

    def actual(self, event: Event) -> float | None:
        """The event's actual tokens, once known."""
        return event.actual_usage("tokens")


class BudgetLimiter(Limiter):
    """A total cost budget: reserve the worst case, settle the actual, refuse once spent.

    A reservation that cannot fit waits while other reservations are outstanding (they may
    refund); when nothing outstanding could make room it raises :class:`BudgetExhaustedError`,
    and the executor marks the event SKIPPED with that reason.

    Args:
        budget: Total amount (for example US dollars).
        clock: Accepted for symmetry with the other limiters; a budget has no window.
        name: Label for errors; with a backend, the key every sharing process uses.
        backend: A :class:`~atoll_generic.RedisBackend` to share the budget across processes
            (None: this process only). ``spent`` and ``reserved`` are then the totals Redis
            reported at this process's last call.
    """

    def __init__(
        self,
        budget: float,
        *,
        clock: Clock | None = None,
        name: str | None = None,
        backend: RedisBackend | None = None,
    ) -> None:
        if budget < 0:
            raise ValueError(f"budget must be >= 0, got {budget}")
        super().__init__(clock=clock, name=name)
        self.budget = float(budget)
        self.spent = 0.0
        self.reserved = 0.0
        self._shared: SharedBudget | None = None
        if backend is not None:
            from ._shared import SharedBudget

            self._shared = SharedBudget(self, backend)

    @property
    def backend(self) -> RedisBackend | None:
        """The shared state backend, or None when the budget lives in this process."""
        return None if self._shared is None else self._shared.backend

    @property
    def remaining(self) -> float:
        """Budget neither spent nor reserved."""
        return self.budget - self.spent - self.reserved

    @property
    def exhausted(self) -> bool:
        """True once settled spending has reached the budget."""
        return self.spent >= self.budget

    def estimate(self, event: Event) -> float:
        """The event's worst-case cost."""
        return event.estimated_usage("cost")

    def actual(self, event: Event) -> float | None:
        """The event's actual cost, once known."""
        return event.actual_usage("cost")

    async def reserve(self, amount: float) -> Reservation:
        """Take ``amount`` from the budget, waiting for outstanding reservations to settle.

        Raises:
            BudgetExhaustedError: the budget is spent, or cannot cover ``amount`` even if every
                outstanding reservation were refunded.
            BackendError: the shared backend failed and its policy is ``"fail"``.
        """
        if self._shared is not None:
            return await self._shared.reserve(amount)
        while True:
            if self.exhausted or self.spent + amount > self.budget:
                raise BudgetExhaustedError(
                    self.name, amount, self.budget, self.spent + self.reserved
                )
            if amount <= self.remaining:
                self.reserved += amount
                return Reservation(self, amount, 0)
            await self._wait(None)

    def settle(self, reservation: Reservation, actual: float | None) -> None:
        """Move the reservation to spent at its actual cost (None: the reserved amount)."""
        if self._shared is not None and reservation.token is not None:
            self._shared.settle(reservation, actual)
            return
        if reservation.settled:
            return
        reservation.settled = True
        self.reserved -= reservation.amount
        self.spent += reservation.amount if actual is None else actual
        self._notify()

    async def asettle(self, reservation: Reservation, actual: float | None) -> None:
        """:meth:`settle`, awaiting the shared backend when there is one."""
        if self._shared is not None and reservation.token is not None:
            await self._shared.asettle(reservation, actual)
        else:
            self.settle(reservation, actual)

    def release(self, reservation: Reservation) -> None:
        """Return the whole reservation unspent."""
        self.settle(reservation, 0.0)

    def observe(
        self,
        *,
        remaining: float | None = None,
        reset_at: float | dt.datetime | None = None,
        reset_after: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Take an external figure for the money left (``remaining``); other fields are ignored."""
        if self._shared is not None:
            self._shared.observe(remaining=remaining)
        if remaining is not None:
            self.spent = max(self.spent, self.budget - float(remaining))
        self._notify()
