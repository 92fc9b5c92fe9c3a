"""One overall deadline for a call, shared by every attempt and every wait between them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from atoll_wire import Timeout

# Per-phase transport limits used when the caller gives no timeout: generous reads, because a
# long generation may legitimately pause, but a quick failure when nothing answers at all.
DEFAULT_TRANSPORT_TIMEOUT = Timeout(connect=10.0, read=600.0, write=60.0, pool=60.0)


@dataclass(slots=True)
class Deadline:
    """The instant a call must be finished by, or no limit.

    Attributes:
        seconds: The budget the call started with (None: unlimited).
    """

    seconds: float | None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _ends_at: float | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if self.seconds is not None:
            self._ends_at = self.clock() + self.seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None without a deadline."""
        if self._ends_at is None:
            return None
        return max(self._ends_at - self.clock(), 0.0)

    @property
    def expired(self) -> bool:
        """True once no time is left."""
        left = self.remaining()
        return left is not None and left <= 0.0

    def allows_wait(self, seconds: float) -> bool:
        """Whether waiting ``seconds`` still leaves time to try again."""
        left = self.remaining()
        return left is None or seconds < left

    def transport_timeout(self, base: Timeout) -> Timeout:
        """Per-phase limits for the next attempt: ``base``, each capped by the time left."""
        left = self.remaining()
        if left is None:
            return base
        left = max(left, 0.001)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return Timeout(
            connect=cap(base.connect),
            read=cap(base.read),
            write=cap(base.write),
            pool=cap(base.pool),
        )
