"""Stop sequences over streamed text: cut at the earliest match, never emit part of one.

Text that could still be the start of a stop sequence is held back until the next piece shows
whether it is; at the end of generation the held text is flushed.
"""

from __future__ import annotations

from collections.abc import Sequence


class StopMatcher:
    """Finds the first stop sequence in text fed piece by piece.

    Args:
        stops: The stop sequences (empty strings are ignored).
    """

    __slots__ = ("_firsts", "_longest", "_pending", "_stops", "stopped")

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(dict.fromkeys(s for s in stops if s))
        self._longest = max((len(s) for s in self._stops), default=0)
        self._firsts = frozenset(s[0] for s in self._stops)
        self._pending = ""
        self.stopped = False
        """Whether a stop was reached (by ``feed`` or in the text ``flush`` released)."""

    def feed(self, text: str) -> tuple[str, bool]:
        """Take the next piece; return the text safe to emit and whether a stop was reached.

        After a stop, the returned text ends right before it and the matcher is spent.
        """
        if not self._stops:
            return text, False
        pending = self._pending + text
        cut = self._earliest(pending)
        keep = self._held(pending)
        start = len(pending) - keep
        if cut >= 0 and not (keep and start < cut):
            self._pending = ""
            self.stopped = True
            return pending[:cut], True
        # No stop yet, or a longer stop may start before the one found and complete with the
        # text to come ("><" with stops "<" and "><<"): hold from where it could start.
        self._pending = pending[start:]
        return pending[:start], False

    def flush(self) -> str:
        """The text held back when generation ends, cut before the earliest stop it holds."""
        pending, self._pending = self._pending, ""
        cut = self._earliest(pending)
        if cut < 0:
            return pending
        self.stopped = True
        return pending[:cut]

    def _earliest(self, text: str) -> int:
        """Where the earliest complete stop in ``text`` starts (-1: none)."""
        cut = -1
        for stop in self._stops:
            at = text.find(stop)
            if at >= 0 and (cut < 0 or at < cut):
                cut = at
        return cut

    def _held(self, text: str) -> int:
        """Length of the longest end of ``text`` that is a proper start of some stop."""
        span = min(len(text), self._longest - 1)
        region = text[len(text) - span :]
        if not any(c in region for c in self._firsts):
            return 0  # the common case, one set lookup per stop's first character
        for size in range(span, 0, -1):
            tail = text[-size:]
            if any(stop.startswith(tail) for stop in self._stops):
                return size
        return 0
