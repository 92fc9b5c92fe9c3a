"""A FIFO gate in front of httpcore 1.x's connection pool.

httpcore 1.x (under httpx) re-scans every queued request against every connection each time a
request enters or leaves the pool, so a thousand tasks sharing one transport spend most of their
CPU time in that scan (measured: 1,000 small requests over 100 connections took about 40 s, and
about 7 s over 10). Queueing the surplus here instead, where waiting costs nothing, keeps the
pool's queue no longer than its connection count. httpcore2 (under httpx2) does not need it, so
the gate is used with httpx only. Under HTTP/2 it also caps in-flight requests (streams) at the
connection limit, which stays within what servers allow per connection (typically 100 or more).

anyio is imported here because it is how httpx itself runs on asyncio and trio; both httpx and
httpx2 depend on it, so it adds nothing to install. It is still declared in this package's
dependencies with a floor: httpx accepts any anyio, and ``fast_acquire`` needs 4.5 or later.
"""

from __future__ import annotations

import anyio
from atoll_wire import HttpRequest

from ._errors import gate_timeout


class Permit:
    """One admission through the gate; ``release`` is idempotent."""

    __slots__ = ("_semaphore",)

    def __init__(self, semaphore: anyio.Semaphore | None) -> None:
        self._semaphore = semaphore

    def release(self) -> None:
        """Let the next waiting request in (only the first call counts)."""
        semaphore = self._semaphore
        if semaphore is not None:
            self._semaphore = None
            semaphore.release()


NO_PERMIT = Permit(None)
"""The permit of a transport without a gate: releasing it does nothing."""


class RequestGate:
    """Admits at most ``size`` requests (sent and not yet closed) at once, first come first served.

    Args:
        size: The pool's connection limit.
    """

    __slots__ = ("_semaphore",)

    def __init__(self, size: int) -> None:
        self._semaphore = anyio.Semaphore(size, fast_acquire=True)

    async def enter(self, request: HttpRequest, pool_timeout: float | None) -> Permit:
        """Wait for a free slot, at most ``pool_timeout`` seconds.

        Raises:
            PoolTimeout: No slot became free in time.
        """
        try:
            with anyio.fail_after(pool_timeout):
                await self._semaphore.acquire()
        except TimeoutError as exc:
            raise gate_timeout(request, pool_timeout) from exc
        return Permit(self._semaphore)
