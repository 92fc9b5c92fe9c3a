"""``JsonlSink``: a callback that keeps every event as one JSON line (what ``atoll trace`` reads).

One line per event, in the order events happened: ``{"event": "RequestStarted", "call_id":
..., "time": ...}``. The file is opened for appending, so several runs (or processes, one line
per write) can share it. Events arrive already masked by the emitting call's ``Redactor``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import IO, Any, Self

import msgspec

from ._events import AnyEvent, decode_event

__all__ = ["JsonlSink"]

_ENCODER = msgspec.json.Encoder()


class JsonlSink:
    """Append each event to a JSON Lines file; use it as a callback.

    Args:
        path: A file path (opened for appending, created if missing) or a binary file object
            open for writing (left open by ``close``).
        flush: Flush after every event, so a live run can be followed (``tail -f``) and a crash
            loses nothing; False leaves it to the file's buffer.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "events.jsonl")
        >>> with JsonlSink(path) as sink:  # Client(..., callbacks=[sink])
        ...     pass
        >>> list(JsonlSink.read(path))
        []
    """

    __slots__ = ("_file", "_flush", "_lock", "_owns", "path", "written")

    def __init__(self, path: str | os.PathLike[str] | IO[bytes], *, flush: bool = True) -> None:
        if isinstance(path, str | os.PathLike):
            self.path: str | None = os.fspath(path)
            self._file: IO[bytes] = open(self.path, "ab")  # closed by close()
            self._owns = True
        else:
            self.path = getattr(path, "name", None)
            self._file = path
            self._owns = False
        self._flush = flush
        # Sync callbacks of a SyncClient may run in several threads at once: one line at a time.
        self._lock = threading.Lock()
        self.written = 0

    def __repr__(self) -> str:
        return f"JsonlSink({self.path!r}, written={self.written})"

    def __call__(self, event: Any) -> None:
        """Write ``event`` as one line."""
        line = _ENCODER.encode(event) + b"\n"
        with self._lock:
            self._file.write(line)
            if self._flush:
                self._file.flush()
            self.written += 1

    def close(self) -> None:
        """Flush, and close the file if this sink opened it."""
        with self._lock:
            if self._file.closed:
                return
            self._file.flush()
            if self._owns:
                self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @staticmethod
    def read(
        source: str | os.PathLike[str] | Iterable[bytes | str], *, strict: bool = False
    ) -> Iterator[AnyEvent]:
        """The events of a JSON Lines log, in file order.

        Args:
            source: A path, or lines (an open file, a list of strings).
            strict: Raise on a line that is not an event; by default such lines (blank lines,
                other tools' records, a line cut short by a crash) are skipped.

        Raises:
            ValueError: ``strict`` and a line is not an event (names the line number).
        """
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as handle:
                yield from JsonlSink.read(handle, strict=strict)
            return
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                yield decode_event(line)
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                if strict:
                    raise ValueError(f"line {number} is not an Atoll event: {error}") from None
