"""A one-line live progress bar for the Executor's progress callback (no dependencies)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from atoll_generic import Progress


class ProgressBar:
    """Redraws ``[#####.....] 312/500 done · 0 failed · 32 in flight · 950 calls/s`` in place.

    Args:
        total: Events expected.
        stream: Where to draw (default stderr); a non-terminal gets a line every 10%.
        width: Bar width in characters.
        extra: Called at each redraw for text appended to the line (the cost so far).
    """

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        width: int = 30,
        extra: Callable[[], str] | None = None,
    ) -> None:
        self.total = total
        self.extra = extra
        self.stream = stream or sys.stderr
        self.width = width
        self._tty = self.stream.isatty()
        self._last_decile = -1
        self._last_draw = 0.0
        self.started = time.perf_counter()

    def __call__(self, progress: Progress) -> None:
        done = progress.done
        now = time.perf_counter()
        if self._tty:
            if done < self.total and now - self._last_draw < 0.05:
                return  # redraw at most 20 times a second
            self._last_draw = now
            self.stream.write("\r" + self.line(progress))
            if done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
            return
        decile = done * 10 // max(self.total, 1)
        if decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(self.line(progress) + "\n")
            self.stream.flush()

    def line(self, progress: Progress) -> str:
        """The text of the bar for ``progress``."""
        filled = progress.done * self.width // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        rate = progress.done / max(time.perf_counter() - self.started, 1e-9)
        line = (
            f"  [{bar}] {progress.done}/{self.total} done · {progress.failed} failed · "
            f"{progress.in_flight} in flight · {rate:,.0f} calls/s"
        )
        return line + (f" · {self.extra()}" if self.extra is not None else "")
