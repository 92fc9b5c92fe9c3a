"""A WHATWG-exact, incremental server-sent events decoder working on bytes.

The hot path avoids per-byte Python work: each ``feed`` appends to one buffer, finds the last
line terminator with ``rfind``, decodes everything before it as UTF-8 once (a terminator is
ASCII, so no code point can straddle it) and splits the text into lines with ``str.split``.
Only the per-line field dispatch runs in Python.

Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
"""

from __future__ import annotations

import msgspec

from ._exceptions import SSEEventTooLarge, SSELineTooLong

_BOM = "\ufeff"
DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024


class ServerSentEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    r"""One dispatched server-sent event.

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
        "_buf",
        "_data",
        "_data_size",
        "_event",
        "_last_id",
        "_max_event",
        "_max_line",
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
        self._buf = bytearray()
        self._skip_lf = False  # the last chunk ended in CR: a leading LF belongs to it
        self._started = False  # BOM handling happens once, on the first decoded text
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

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk and return the events it completed (often none or one).

        Args:
            chunk: The next bytes of the stream, split anywhere.

        Raises:
            SSELineTooLong: A line passed ``max_line_bytes``.
            SSEEventTooLarge: An event's data passed ``max_event_bytes``.
        """
        if not chunk:
            return []
        buf = self._buf
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 10:  # LF completing a CRLF split across chunks
                chunk = chunk[1:]
                if not chunk:
                    return []
        start = len(buf)
        buf += chunk
        end = buf.rfind(b"\n", start)
        cr = buf.rfind(b"\r", start)
        if cr > end:
            end = cr
        if end < 0:
            if len(buf) > self._max_line:
                raise SSELineTooLong(
                    f"SSE line longer than {self._max_line} bytes",
                    limit=self._max_line,
                    size=len(buf),
                )
            return []
        text = buf[: end + 1].decode("utf-8", "replace")
        del buf[: end + 1]
        if len(buf) > self._max_line:
            raise SSELineTooLong(
                f"SSE line longer than {self._max_line} bytes", limit=self._max_line, size=len(buf)
            )
        if not buf and text[-1] == "\r":
            self._skip_lf = True
        return self._lines(text, end + 1 > self._max_line)

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: treat buffered bytes as a last line and dispatch a pending event.

        The spec discards an event that is not followed by a blank line; servers that end the
        stream that way need this. The decoder is reset for reuse afterwards.
        """
        text = bytes(self._buf).decode("utf-8", "replace")
        self._buf.clear()
        self._skip_lf = False
        # The unterminated tail (if any) is the last line; one more terminator is the blank
        # line that dispatches.
        events = self._lines((text + "\n" if text else "") + "\n", len(text) > self._max_line)
        self._started = False  # a reconnected stream may start with a BOM again
        return events

    def _lines(self, text: str, check_lines: bool) -> list[ServerSentEvent]:
        if not self._started:
            self._started = True
            if text.startswith(_BOM):
                text = text[1:]
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        lines.pop()  # the text ends with a terminator: the last item is always ""
        if check_lines:
            self._check_lines(lines)
        return self._process(lines)

    def _check_lines(self, lines: list[str]) -> None:
        limit = self._max_line
        for line in lines:
            if len(line) > limit // 4 and _utf8_len(line) > limit:
                raise SSELineTooLong(
                    f"SSE line longer than {limit} bytes", limit=limit, size=_utf8_len(line)
                )

    def _process(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if line.startswith("data:"):
                # The overwhelmingly common line, tested first.
                value = line[6:] if line.startswith("data: ") else line[5:]
                data.append(value)
                self._data_size += (len(value) if value.isascii() else _utf8_len(value)) + 1
                if self._data_size > self._max_event:
                    raise SSEEventTooLarge(
                        f"SSE event data larger than {self._max_event} bytes",
                        limit=self._max_event,
                        size=self._data_size,
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
        return events

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
