"""The shared half of a limiter: its pool lives in a :class:`RedisBackend`, not in this process.

A limiter made with ``backend=`` hands every pool operation to one of these. Reserving awaits
the server's answer: a grant, or the number of seconds until the request will fit, which it
sleeps (waking early if a settle in this process made room). Settling from the Executor is
awaited too; the synchronous ``settle``/``observe`` a caller may use outside it are handed to
the backend's sender task.

When Redis fails mid-run the backend's policy decides: ``"fail"`` raises
:class:`BackendError` from ``reserve``; ``"local"`` moves the limiter to a twin kept in this
process with its share of the limit (the limit divided by the live workers last seen), logs it
once, and tries Redis again every ``retry_backend_after`` seconds. A settle that cannot reach
Redis never raises (the work already ran): it is logged once, and what it would have refunded
leaves with the window (or the budget's lease).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio

from ._exceptions import BackendError, BudgetExhaustedError, LimitExceededError
from ._limiters import Reservation, timestamp

if TYPE_CHECKING:
    from ._limiters import BudgetLimiter, Limiter, _WindowLimiter  # pyright: ignore[reportPrivateUsage]
    from ._redis import RedisBackend

__all__ = ["SharedBudget", "SharedWindow"]

_log = logging.getLogger("atoll_generic")
_BUDGET_POLL = (0.05, 1.0)  # first and longest wait for another worker's budget settle


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _arg(value: float | None) -> str:
    return "" if value is None else repr(float(value))


class _Shared:
    """What the window and budget halves have in common: the backend, the policy, the twin."""

    def __init__(self, limiter: Limiter, backend: RedisBackend, kind: str, parts: Sequence[str]):
        self.limiter = limiter
        self.backend = backend
        self.keys = [backend.key(kind, limiter.name, part) for part in parts]
        self.local: Limiter | None = None
        self._retry_at = 0.0
        self._drop_logged = False

    def _local_active(self) -> Limiter | None:
        """The local twin while Redis is considered down, None when Redis should be tried."""
        if self.local is None or anyio.current_time() >= self._retry_at:
            return None
        return self.local

    def _fall_back(self, exc: BackendError) -> Limiter:
        if self.backend.on_backend_error == "fail":
            raise exc
        if self.local is None:
            self.local = self._make_local()
        self._retry_at = anyio.current_time() + self.backend.retry_backend_after
        self.backend.log_fallback(self.limiter.name, exc, self._share(), self._unit())
        return self.local

    def _recovered(self) -> None:
        if self.local is not None:
            local, self.local = self.local, None
            self._replay(local)
            self.backend.log_recovered()

    def _replay(self, local: Limiter) -> None:
        """Tell Redis what the local twin used, where that matters (a budget's spending)."""

    def _make_local(self) -> Limiter:
        raise NotImplementedError  # pragma: no cover - each half defines it

    def _share(self) -> float:
        raise NotImplementedError  # pragma: no cover

    def _unit(self) -> str:
        raise NotImplementedError  # pragma: no cover

    def _dropped(self, exc: BackendError) -> None:
        if not self._drop_logged:
            self._drop_logged = True
            from ._redis import _log  # pyright: ignore[reportPrivateUsage]

            _log.warning(
                "%s; %s settles are dropped while it fails (logged once)", exc, self.limiter.name
            )

    def _watch(self) -> anyio.Event:
        return self.limiter._watch()  # pyright: ignore[reportPrivateUsage]

    async def _sleep(self, seconds: float, changed: anyio.Event) -> None:
        """Sleep ``seconds``, or less if this process freed room since ``changed`` was taken."""
        until = self.limiter.clock.now() + seconds
        await self.limiter._wait(until, changed)  # pyright: ignore[reportPrivateUsage]


class SharedWindow(_Shared):
    """The Redis half of a request or token limiter (a sliding window of ``interval``)."""

    def __init__(self, limiter: _WindowLimiter, backend: RedisBackend) -> None:
        super().__init__(limiter, backend, "window", ("log", "amounts", "meta"))
        self.window = limiter
        self.used = 0.0
        """Units in the window at the last answer from Redis."""

    def _make_local(self) -> Limiter:
        window = self.window
        return type(window)(self._share(), window.interval, clock=window.clock, name=window.name)

    def _share(self) -> float:
        return self.window.limit / max(1, self.backend.peers)

    def _unit(self) -> str:
        return f"per {self.window.interval:g}s"

    async def reserve(self, amount: float) -> Reservation:
        window = self.window
        if amount > window.limit:
            raise LimitExceededError(window.name, amount, window.limit)
        while True:
            local = self._local_active()
            if local is not None:
                return await local.reserve(amount)
            token = uuid.uuid4().hex
            args = [repr(window.interval), token, repr(float(amount)), repr(window.limit)]
            changed = self._watch()  # a settle here during the round trip wakes us at once
            try:
                reply = await self.backend.call("window_reserve", self.keys, args)
            except BackendError as exc:
                return await self._fall_back(exc).reserve(amount)
            self._recovered()
            granted, value, used = int(reply[0]), float(_text(reply[1])), float(_text(reply[2]))
            self.used = used
            if granted == 1:
                reservation = Reservation(window, amount, 0, token=token)
                reservation.granted_at = value
                return reservation
            await self._sleep(value, changed)

    def _settle_args(self, reservation: Reservation, actual: float) -> list[str]:
        token = reservation.token
        assert token is not None
        return [repr(self.window.interval), token, repr(reservation.amount), repr(float(actual))]

    def settle(self, reservation: Reservation, actual: float | None) -> None:
        if reservation.settled:
            return
        reservation.settled = True
        if actual is None:
            return  # the reservation stands as spent: nothing to tell Redis
        try:
            self.backend.post("window_settle", self.keys, self._settle_args(reservation, actual))
        except BackendError as exc:
            self._dropped(exc)
        if actual < reservation.amount:
            self.window._notify()  # pyright: ignore[reportPrivateUsage]

    async def asettle(self, reservation: Reservation, actual: float | None) -> None:
        if reservation.settled:
            return
        reservation.settled = True
        if actual is None:
            return
        try:
            reply = await self.backend.call(
                "window_settle", self.keys, self._settle_args(reservation, actual)
            )
            self.used = float(_text(reply))
        except BackendError as exc:
            self._dropped(exc)
        if actual < reservation.amount:
            self.window._notify()  # pyright: ignore[reportPrivateUsage]

    def observe(
        self,
        *,
        remaining: float | None,
        reset_at: float | dt.datetime | None,
        reset_after: float | None,
        retry_after: float | None,
    ) -> None:
        if reset_after is None and reset_at is not None:
            # An absolute reset from a provider header: turned into a duration here, then
            # applied on the server's clock.
            reset_after = timestamp(reset_at) - self.window.clock.now()
        if self.local is not None:
            self.local.observe(
                remaining=remaining, reset_after=reset_after, retry_after=retry_after
            )
        window = self.window
        args = [
            repr(window.interval),
            f"observe-{uuid.uuid4().hex}",
            repr(window.limit),
            _arg(remaining),
            _arg(reset_after),
            _arg(retry_after),
        ]
        try:
            self.backend.post("window_observe", self.keys, args)
        except BackendError as exc:
            self._dropped(exc)


class SharedBudget(_Shared):
    """The Redis half of a budget: spent and reserved totals, and leases on open reservations."""

    def __init__(self, limiter: BudgetLimiter, backend: RedisBackend) -> None:
        super().__init__(limiter, backend, "budget", ("state", "leases", "amounts"))
        self.budget = limiter

    def _make_local(self) -> Limiter:
        from ._limiters import BudgetLimiter

        budget = self.budget
        local = BudgetLimiter(self._share(), clock=budget.clock, name=budget.name)
        return local

    def _share(self) -> float:
        # What is left of the budget, as last seen, split over the workers.
        budget = self.budget
        return max(0.0, budget.budget - budget.spent - budget.reserved) / max(1, self.backend.peers)

    def _unit(self) -> str:
        return "of the budget left"

    def _replay(self, local: Limiter) -> None:
        from ._limiters import BudgetLimiter

        assert isinstance(local, BudgetLimiter)
        if local.spent > 0:  # money spent while Redis was away still counts for everyone
            ttl = repr(max(self.backend.ttl, self.backend.lease))
            args = [ttl, f"local-{uuid.uuid4().hex}", "0", repr(local.spent)]
            try:
                self.backend.post("budget_settle", self.keys, args)
            except BackendError as exc:
                self._dropped(exc)

    def _record(self, spent: Any, reserved: Any) -> None:
        self.budget.spent = float(_text(spent))
        self.budget.reserved = float(_text(reserved))

    async def reserve(self, amount: float) -> Reservation:
        budget = self.budget
        pause = _BUDGET_POLL[0]
        while True:
            local = self._local_active()
            if local is not None:
                return await local.reserve(amount)
            token = uuid.uuid4().hex
            ttl = repr(max(self.backend.ttl, self.backend.lease))
            args = [ttl, token, repr(float(amount)), repr(budget.budget), repr(self.backend.lease)]
            changed = self._watch()
            try:
                reply = await self.backend.call("budget_reserve", self.keys, args)
            except BackendError as exc:
                return await self._fall_back(exc).reserve(amount)
            self._recovered()
            status = int(reply[0])
            self._record(reply[1], reply[2])
            if status == 1:
                return Reservation(budget, amount, 0, token=token)
            if status == -1:
                raise BudgetExhaustedError(
                    budget.name, amount, budget.budget, budget.spent + budget.reserved
                )
            # Another worker's reservation may refund: its settle tells no one here, so wait
            # a little longer each time, never past the first lease's expiry.
            await self._sleep(min(pause, max(float(_text(reply[3])), 0.001)), changed)
            pause = min(pause * 2, _BUDGET_POLL[1])

    def _settle_args(self, reservation: Reservation, actual: float | None) -> list[str]:
        token = reservation.token
        assert token is not None
        cost = reservation.amount if actual is None else actual
        ttl = repr(max(self.backend.ttl, self.backend.lease))
        return [ttl, token, repr(reservation.amount), repr(float(cost))]

    def settle(self, reservation: Reservation, actual: float | None) -> None:
        if reservation.settled:
            return
        reservation.settled = True
        try:
            self.backend.post("budget_settle", self.keys, self._settle_args(reservation, actual))
        except BackendError as exc:
            self._dropped(exc)
        self.budget._notify()  # pyright: ignore[reportPrivateUsage]

    async def asettle(self, reservation: Reservation, actual: float | None) -> None:
        if reservation.settled:
            return
        reservation.settled = True
        try:
            reply = await self.backend.call(
                "budget_settle", self.keys, self._settle_args(reservation, actual)
            )
            self._record(reply[0], reply[1])
        except BackendError as exc:
            self._dropped(exc)
        self.budget._notify()  # pyright: ignore[reportPrivateUsage]

    def observe(self, *, remaining: float | None) -> None:
        if remaining is None:
            return
        if self.local is not None:
            self.local.observe(remaining=remaining / max(1, self.backend.peers))
        ttl = repr(max(self.backend.ttl, self.backend.lease))
        args = [ttl, repr(self.budget.budget), repr(float(remaining))]
        try:
            self.backend.post("budget_observe", self.keys, args)
        except BackendError as exc:
            self._dropped(exc)
