"""A WHATWG-exact, incremental server-sent events decoder working on bytes.

The hot path avoids per-byte Python work: ``feed`` finds the last line terminator of a chunk
with ``rfind`` and keeps the unfinished line for later. The complete lines are handled on
bytes: runs of whole events of the two usual shapes (one ``data:`` line, as OpenAI sends; or
``event:`` + ``data:``, as Anthropic sends) are cut with one split and each value is decoded
from UTF-8 once (a terminator is ASCII, so no code point straddles one). Anything else goes
through a line-by-line interpreter of the spec; both give exactly the spec's events.

Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
"""

from __future__ import annotations

from itertools import repeat

import msgspec

from ._exceptions import SSEEventTooLarge, SSELineTooLong

_BOM_BYTES = b"\xef\xbb\xbf"
_UTF8 = repeat("utf-8")
_REPLACE = repeat("replace")
DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024


class ServerSentEvent(msgspec.Struct, omit_defaults=True, gc=False):
    r"""One dispatched server-sent event.

    Unlike the other structs it is not keyword-only: the decoder builds it positionally from
    ``data`` alone on its fast path, at C speed. Pass the other fields by keyword.

    Attributes:
        event: The event type; ``message`` when the stream named none.
        data: The data lines joined with ``\n``.
        id: The last event ID in effect when this event was dispatched (it persists across
            events, as the spec says), or None if the stream never sent one.
        retry: The reconnection time in milliseconds sent with this event, if any.
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None

    def encode(self) -> bytes:
        """Serialise this event as event-stream bytes, ending with the blank dispatch line.

        Raises:
            ValueError: ``event`` or ``id`` holds a line break (or ``id`` a NUL), which the
                format cannot carry.
        """
        lines: list[str] = []
        if self.event != "message":
            _check_single_line("event", self.event)
            lines.append(f"event: {self.event}")
        if self.id is not None:
            _check_single_line("id", self.id)
            if "\0" in self.id:
                raise ValueError("an SSE id cannot contain NUL")
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        data = self.data.replace("\r\n", "\n").replace("\r", "\n")
        lines.extend(f"data: {line}" for line in data.split("\n"))
        return ("\n".join(lines) + "\n\n").encode()


def _check_single_line(field: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValueError(f"an SSE {field} cannot contain a line break: {value!r}")


def _utf8_len(text: str) -> int:
    # str.isascii() is O(1) in CPython (a flag on the string object).
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class SSEDecoder:
    r"""Turn an event-stream byte stream into ``ServerSentEvent`` objects, chunk by chunk.

    Handles LF, CR and CRLF line endings (also a CRLF split across chunks), UTF-8 split across
    chunks, one leading BOM, comments, ``event``/``data``/``id``/``retry`` fields, a field with
    no colon, and one leading space after the colon. An event is dispatched on a blank line; a
    final event with no blank line is discarded at end of stream, as the spec says, unless you
    call ``flush()``.

    Args:
        max_line_bytes: Longest allowed line in bytes; longer raises ``SSELineTooLong``.
        max_event_bytes: Largest allowed data of one event in bytes; larger raises
            ``SSEEventTooLarge``.

    After a size error the stream should be abandoned: the decoder's state is unspecified.

    Example:
        >>> d = SSEDecoder()
        >>> d.feed(b"data: hel")
        []
        >>> [e.data for e in d.feed(b"lo\n\n")]
        ['hello']
    """

    __slots__ = (
        "_clean",
        "_data",
        "_data_size",
        "_event",
        "_fast",
        "_fast_max",
        "_last_id",
        "_max_event",
        "_max_line",
        "_pending",
        "_pending_size",
        "_retry",
        "_skip_lf",
        "_started",
        "retry",
    )

    def __init__(
        self,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        if max_line_bytes <= 0 or max_event_bytes <= 0:
            raise ValueError("SSE size limits must be positive")
        self._max_line = max_line_bytes
        self._max_event = max_event_bytes
        # Bytes of an unfinished line, kept as a list: joining once when the line completes
        # avoids quadratic copying when a long line arrives in many small reads.
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._skip_lf = False  # the last chunk ended in CR: a leading LF belongs to it
        self._started = False  # BOM handling happens once, at the start of the stream
        self._clean = True  # no half-built event (data, event type or retry) is pending
        self._fast = False  # _clean and _started: the fast path may run
        self._fast_max = min(max_line_bytes, max_event_bytes)
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None
        self.retry: int | None = None
        """The latest reconnection time (ms) the stream asked for, or None."""

    @property
    def last_event_id(self) -> str | None:
        """The last event ID buffer (what a reconnect sends as ``Last-Event-ID``)."""
        return self._last_id

    def _too_long(self, size: int) -> SSELineTooLong:
        return SSELineTooLong(
            f"SSE line longer than {self._max_line} bytes", limit=self._max_line, size=size
        )

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk and return the events it completed (often none or one).

        Args:
            chunk: The next bytes of the stream, split anywhere.

        Raises:
            SSELineTooLong: A line passed ``max_line_bytes``.
            SSEEventTooLarge: An event's data passed ``max_event_bytes``.
        """
        if self._skip_lf or b"\r" in chunk:
            return self._feed_cr(chunk)
        end = chunk.rfind(b"\n") + 1
        pending = self._pending
        if not end:
            # No line completed: the common case for small network reads.
            if chunk:
                pending.append(chunk)
                self._pending_size += len(chunk)
                if self._pending_size > self._max_line:
                    raise self._too_long(self._pending_size)
            return []
        if pending:
            pending.append(chunk)
            chunk = b"".join(pending)
            end += self._pending_size
            pending.clear()
        size = len(chunk) - end  # bytes of the unfinished last line
        if size:
            if size > self._max_line:
                raise self._too_long(size)
            pending.append(chunk[end:])
        self._pending_size = size
        if self._fast and 7 < end <= self._fast_max and chunk[end - 2] == 10:
            if chunk.startswith(b"data: "):
                # Fast path for the usual shape: events of one ``data: `` line each. One split
                # on "blank line, then data: " yields every value; the LF count proves that no
                # value spans two lines. Both maps then run in C.
                values = chunk[6 : end - 2].split(b"\n\ndata: ")
                if chunk.count(b"\n", 0, end) == 2 * len(values):
                    last_id = self._last_id
                    if last_id is None:
                        return list(
                            map(ServerSentEvent, map(bytes.decode, values, _UTF8, _REPLACE))
                        )
                    return [
                        ServerSentEvent(v.decode("utf-8", "replace"), id=last_id) for v in values
                    ]
        return self._complete(chunk[:end], False)

    def _feed_cr(self, chunk: bytes) -> list[ServerSentEvent]:
        """``feed`` for chunks holding a CR, or right after a chunk that ended in one."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 10:  # LF completing a CRLF split across chunks
                chunk = chunk[1:]
        if not chunk:
            return []
        has_cr = b"\r" in chunk
        if not has_cr and b"\n" not in chunk:
            # No line completed: the common case for small network reads.
            self._pending.append(chunk)
            self._pending_size += len(chunk)
            if self._pending_size > self._max_line:
                raise self._too_long(self._pending_size)
            return []
        if self._pending:
            self._pending.append(chunk)
            chunk = b"".join(self._pending)
            self._pending = []
        end = (max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) if has_cr else chunk.rfind(b"\n")) + 1
        if end < len(chunk):
            rest = chunk[end:]
            chunk = chunk[:end]
            if len(rest) > self._max_line:
                raise self._too_long(len(rest))
            self._pending.append(rest)
            self._pending_size = len(rest)
        else:
            self._pending_size = 0
            if has_cr and chunk[-1] == 13:
                self._skip_lf = True
        return self._complete(chunk, has_cr)

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: treat buffered bytes as a last line and dispatch a pending event.

        The spec discards an event that is not followed by a blank line; servers that end the
        stream that way need this. The decoder is reset for reuse afterwards.
        """
        raw = b"".join(self._pending)
        self._pending = []
        self._pending_size = 0
        self._skip_lf = False
        if len(raw) > self._max_line:
            raise self._too_long(len(raw))
        # The unterminated tail (if any) is the last line; one more terminator is the blank
        # line that dispatches.
        events = self._complete((raw + b"\n" if raw else b"") + b"\n", b"\r" in raw)
        self._started = False  # a reconnected stream may start with a BOM again
        self._fast = False
        return events

    def _complete(self, raw: bytes, has_cr: bool) -> list[ServerSentEvent]:
        """Process complete lines (``raw`` ends with a terminator).

        ``raw`` is cut in up to three segments: the rest of an event left half-built by the
        previous chunk (line by line), a run of whole events ending at the last blank line
        (tried on the fast paths), and the lines of the next, unfinished event (line by line).
        Work stays on bytes and UTF-8 is decoded once per value or line.
        """
        if not self._started:
            self._started = True
            if raw.startswith(_BOM_BYTES):
                raw = raw[3:]
        if has_cr:
            raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if len(raw) > self._max_line:
            self._check_lines(raw)
        events: list[ServerSentEvent] = []
        pos = 0
        size = len(raw)
        if not self._clean and raw:
            # Finish the half-built event, up to and including the blank line that ends it.
            if raw[0] == 10:  # the first line is the blank one
                pos = 1
            else:
                blank = raw.find(b"\n\n")
                pos = blank + 2 if blank >= 0 else size
            self._lines(raw[:pos], events)
        if pos < size:
            cut = raw.rfind(b"\n\n", pos) + 2
            if cut > pos + 1:
                whole = raw[pos:cut] if pos or cut < size else raw
                fast = self._whole_events(whole)
                if fast is None:
                    self._lines(whole, events)
                else:
                    events += fast
                pos = cut
            if pos < size:
                self._lines(raw[pos:], events)
        self._clean = not self._data and not self._event and self._retry is None
        self._fast = self._clean
        return events

    def _whole_events(self, raw: bytes) -> list[ServerSentEvent] | None:
        r"""Decode ``raw`` at C speed if it has one of the two usual shapes, else None.

        ``raw`` starts a line with no event pending and ends with a blank line. Shapes: events
        of one ``data: `` line each (OpenAI), or ``event: `` + ``data: `` pairs (Anthropic).
        The LF count proves that no value spans two lines.
        """
        if len(raw) > self._fast_max:
            return None
        last_id = self._last_id
        if raw.startswith(b"data: "):
            values = raw[6:-2].split(b"\n\ndata: ")
            if raw.count(b"\n") != 2 * len(values):
                return None
            if last_id is None:
                return list(map(ServerSentEvent, map(bytes.decode, values, _UTF8, _REPLACE)))
            return [ServerSentEvent(v.decode("utf-8", "replace"), id=last_id) for v in values]
        if not raw.startswith(b"event: "):
            return None
        blocks = raw[:-2].split(b"\n\n")
        if raw.count(b"\n") != 3 * len(blocks):
            return None
        events: list[ServerSentEvent] = []
        for block in blocks:
            # Exactly one LF per block (the count above), so the name and value are one line.
            name, sep, value = block.partition(b"\ndata: ")
            if not sep or not name.startswith(b"event: "):
                return None
            events.append(
                ServerSentEvent(
                    value.decode("utf-8", "replace"),
                    event=name[7:].decode("utf-8", "replace") or "message",
                    id=last_id,
                )
            )
        return events

    def _lines(self, raw: bytes, events: list[ServerSentEvent]) -> None:
        """Interpret ``raw`` (complete lines) line by line."""
        lines = raw.decode("utf-8", "replace").split("\n")
        lines.pop()  # ``raw`` ends with a terminator: the last item is always ""
        self._process(lines, events)

    def _check_lines(self, raw: bytes) -> None:
        limit = self._max_line
        for line in raw.split(b"\n"):
            if len(line) > limit:
                raise self._too_long(len(line))

    def _process(self, lines: list[str], events: list[ServerSentEvent]) -> None:
        """Interpret complete lines one by one, appending dispatched events to ``events``."""
        data = self._data
        for line in lines:
            if line.startswith("data:"):
                # The overwhelmingly common line, tested first.
                value = line[6:] if line.startswith("data: ") else line[5:]
                data.append(value)
                self._data_size += (len(value) if value.isascii() else _utf8_len(value)) + 1
                # _data_size counts one LF per line; the dispatched data has one fewer.
                if self._data_size - 1 > self._max_event:
                    raise SSEEventTooLarge(
                        f"SSE event data larger than {self._max_event} bytes",
                        limit=self._max_event,
                        size=self._data_size - 1,
                    )
            elif not line:
                if data:
                    events.append(
                        ServerSentEvent(
                            event=self._event or "message",
                            data="\n".join(data),
                            id=self._last_id,
                            retry=self._retry,
                        )
                    )
                    data = self._data = []
                self._data_size = 0
                self._event = ""
                self._retry = None
            elif line[0] == ":":
                continue  # a comment, e.g. a keep-alive
            else:
                field, colon, value = line.partition(":")
                if colon and value[:1] == " ":
                    value = value[1:]
                self._field(field, value)

    def _field(self, field: str, value: str) -> None:
        if field == "event":
            self._event = value
        elif field == "data":  # only reached for a "data" line with no colon
            self._data.append(value)
            self._data_size += 1
        elif field == "id":
            if "\0" not in value:
                self._last_id = value
        elif field == "retry":
            if value.isascii() and value.isdigit():
                self._retry = self.retry = int(value)
        # Any other field is ignored, as the spec says.
