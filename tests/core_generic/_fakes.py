"""Shared test helpers: a fake clock for limiters."""

from __future__ import annotations

import anyio
import anyio.lowlevel


class FakeClock:
    """A clock whose sleep advances time instantly (to the latest requested wake-up)."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        target = self.t + seconds
        await anyio.lowlevel.checkpoint()
        self.t = max(self.t, target)
