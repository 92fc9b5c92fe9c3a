"""One request in flight: libcurl's header and body callbacks, the body buffer, the stall timer.

libcurl appends each header line to :attr:`Transfer.header_lines` and calls
:meth:`Transfer.on_write` once per body chunk, synchronously, from inside ``socket_action``.
Both only record what arrived (the reactor then asks :meth:`Transfer.check_headers` whether the
headers are complete); the consumer takes the body with :meth:`Transfer.take`. When more than
``high_water`` bytes wait unread, ``on_write`` answers ``WRITEFUNC_PAUSE``: libcurl keeps that
chunk, stops reading the socket, and the kernel's flow control pushes back on the server. The
reactor unpauses once the consumer has drained the buffer. That is the backpressure: memory per
transfer stays below ``high_water`` plus one chunk (at most ``BUFFERSIZE``).

libcurl calls :meth:`Transfer.on_prereq` right before it sends the request. A second call for the
same transfer means libcurl is about to send it again on a new connection (it does so, silently,
when a reused connection dies before any response byte arrived, even for a POST); the callback
refuses, so a request leaves at most once and retrying stays the Client's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Protocol

import pycurl
from atoll_wire import HttpRequest, Timeout, TransportError

from ._exceptions import ABORTED, FILESIZE_EXCEEDED, stall_timeout

if not hasattr(pycurl, "PREREQFUNCTION"):  # pycurl < 7.45.7, or built on libcurl < 7.80
    raise ImportError(
        "atoll_curl needs pycurl >= 7.45.7 on libcurl >= 7.80 (CURLOPT_PREREQFUNCTION, which "
        f"keeps libcurl from sending a request twice); this is {pycurl.version}: "
        'pip install -U "pycurl>=7.45.7"'
    )

_PAUSE = pycurl.WRITEFUNC_PAUSE
_PREREQ_OK = pycurl.PREREQFUNC_OK
_PREREQ_ABORT = pycurl.PREREQFUNC_ABORT


def _blank_line(lines: list[bytes], start: int) -> int:
    """Index of the first empty header line at or after ``start`` (the end of a block), or -1."""
    try:
        return lines.index(b"\r\n", start)  # list.index runs in C: no loop over lines here
    except ValueError:
        pass
    try:
        return lines.index(b"\n", start)  # a server ending lines with a bare LF
    except ValueError:
        return -1


class Waiter(Protocol):
    """Something a waiting consumer sleeps on; the transfer sets it when anything changes."""

    def set(self) -> None:
        """Wake the consumer."""


class Transfer:
    """State of one request between ``add_handle`` and the consumer closing its response.

    Attributes:
        easy: The libcurl easy handle (owned by the reactor; do not use once ``done``).
        request: The request being sent.
        started: ``monotonic()`` when the transfer was handed to libcurl.
        status: The final status code, once ``headers_complete``.
        headers_complete: The final header block has ended.
        done: libcurl finished the transfer (or it was aborted); no more callbacks.
        code: libcurl's result once ``done`` (0 is success).
        message: libcurl's error text once ``done``.
        paused: ``on_write`` refused a chunk; the reactor must resume the transfer.
        buffered: Body bytes waiting for the consumer.
        received: Body bytes accepted so far (for the size limit).
        too_large: The body passed ``limit``; libcurl aborts with a write error.
        waiter: The consumer sleeping on this transfer, if any.
        release: Called once when the transfer leaves the reactor (frees the pool slot).
        sent: libcurl has started sending the request (``on_prereq`` allowed it once).
        resend_refused: libcurl wanted to send the request a second time and was refused; the
            transfer then ends with ``CURLE_ABORTED_BY_CALLBACK``.
    """

    __slots__ = (
        "_head",
        "_tail",
        "buffered",
        "chunks",
        "code",
        "done",
        "easy",
        "header_lines",
        "headers_complete",
        "high_water",
        "last_activity",
        "limit",
        "message",
        "paused",
        "received",
        "release",
        "request",
        "resend_refused",
        "scanned",
        "sent",
        "sent_at",
        "started",
        "status",
        "too_large",
        "upload_done",
        "upload_seen",
        "uploading",
        "waiter",
    )

    def __init__(
        self, easy: pycurl.Curl, request: HttpRequest, *, high_water: int, limit: int | None
    ) -> None:
        self.easy = easy
        self.request = request
        self.high_water = high_water
        self.limit = limit
        now = monotonic()
        self.started = now
        self.last_activity = now
        self.sent_at: float | None = None
        self.upload_seen = -1
        self.upload_done = not request.body
        self.uploading = False
        self.status = 0
        self.headers_complete = False
        self.header_lines: list[bytes] = []
        self.scanned = 0  # header_lines already looked at
        self._head = 0  # index of the status line of the block being read
        self._tail = 0  # index of the blank line ending the final block
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.received = 0
        self.paused = False
        self.too_large = False
        self.done = False
        self.code = 0
        self.message = ""
        self.waiter: Waiter | None = None
        self.release: Callable[[], None] | None = None
        self.sent = False
        self.resend_refused = False

    # ------------------------------------------------------------------ libcurl callbacks
    def on_prereq(
        self, _remote_ip: str, _local_ip: str, _remote_port: int, _local_port: int
    ) -> int:
        """PREREQFUNCTION: let the request out once; refuse libcurl's own resend of it.

        libcurl resends on a fresh connection when a reused one closed before any response byte
        (``Curl_retry_request``), with no option to turn that off, and the server may well have
        received and processed the first copy. Refusing here makes the transfer fail instead,
        as httpx does; a retry, if any, is the Client's, and it is recorded.
        """
        if self.sent:
            self.resend_refused = True
            return _PREREQ_ABORT
        self.sent = True
        return _PREREQ_OK

    def check_headers(self) -> bool:
        """Look at header lines that arrived since the last look; True once the final block ended.

        libcurl appends every header line straight to ``header_lines`` (HEADERFUNCTION is the
        list's own ``append``: no Python frame per line). The reactor calls this after each
        ``socket_action`` for the transfers still waiting for their headers.
        """
        lines = self.header_lines
        start = self.scanned
        while True:
            index = _blank_line(lines, start)
            if index < 0:
                self.scanned = len(lines)
                return False
            fields = lines[self._head].split(None, 2) if index > self._head else []
            status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
            if 100 <= status < 200 and status != 101:
                # 100 Continue, 103 Early Hints: the real response follows.
                self._head = start = index + 1
                continue
            self.status = status
            self._tail = index
            self.headers_complete = True
            self.last_activity = monotonic()
            self.wake()
            return True

    def on_write(self, data: bytes) -> int | None:
        """WRITEFUNCTION: buffer one body chunk, or pause the transfer when the buffer is full."""
        if self.buffered >= self.high_water:
            self.paused = True
            return _PAUSE  # libcurl keeps this chunk and hands it over again on resume
        size = self.received + len(data)
        limit = self.limit
        if limit is not None and size > limit:
            self.too_large = True
            self.received = size
            return 0  # anything but len(data) aborts the transfer (CURLE_WRITE_ERROR)
        self.received = size
        self.buffered += len(data)
        self.chunks.append(data)
        self.last_activity = monotonic()
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter.set()
        return None

    # ------------------------------------------------------------------ consumer side
    def wake(self) -> None:
        """Wake the consumer sleeping on this transfer, if any."""
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter.set()

    def finish(self, code: int, message: str) -> None:
        """Record libcurl's result; called before the easy handle is reset for reuse."""
        if not self.headers_complete:
            self.check_headers()
        if code == FILESIZE_EXCEEDED:
            # libcurl stops at the limit itself: at least one byte more had arrived.
            announced = self._declared_length()
            floor = 0 if self.limit is None else self.limit + 1
            self.received = max(self.received, announced, floor)
        self.done = True
        self.code = code
        self.message = message
        if code == ABORTED:
            self.chunks.clear()  # nobody will read them
            self.buffered = 0
        self.wake()

    def take(self) -> bytes:
        """Hand over every buffered body byte (possibly ``b""``)."""
        chunks = self.chunks
        if not chunks:
            return b""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        return data

    def header_items(self) -> list[tuple[str, str]]:
        """The final response headers as ``(name, value)`` pairs, in arrival order."""
        items: list[tuple[str, str]] = []
        for raw in self.header_lines[self._head + 1 : self._tail]:  # after the status line
            line = raw.decode("latin-1")
            if line[0] in " \t":
                if items:  # obs-fold: a continuation of the previous header's value
                    name, value = items[-1]
                    items[-1] = (name, f"{value} {line.strip()}")
                continue
            name, sep, value = line.partition(":")
            if sep:
                items.append((name.strip(), value.strip()))
        return items

    def _declared_length(self) -> int:
        for raw in self.header_lines:
            name, _, value = raw.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                return int(value)
        return -1

    @property
    def ready_headers(self) -> bool:
        """True once ``send`` can return (headers complete) or must raise (done)."""
        return self.headers_complete or self.done

    @property
    def ready_body(self) -> bool:
        """True once the body iterator has something to yield or to raise."""
        return bool(self.chunks) or self.done

    # ------------------------------------------------------------------ stall detection
    def connected(self) -> bool:
        """True once the connection is up and the request started going out."""
        if self.sent_at is not None:
            return True
        if self.done:
            return self.headers_complete
        pretransfer = self.easy.getinfo(pycurl.PRETRANSFER_TIME)
        if pretransfer <= 0:
            return False
        sent_at = self.started + pretransfer
        self.sent_at = sent_at
        self.last_activity = max(self.last_activity, sent_at)
        return True

    def deadline(self, timeout: Timeout) -> float | None:
        """When to next check this transfer for a stall (read or write timeout), or None."""
        read, write = timeout.read, timeout.write
        if self.upload_done or write is None:
            limit = read
        elif read is None or self.uploading:
            limit = write
        else:
            limit = min(read, write)  # the body may or may not be out yet: check at the sooner
        return None if limit is None else self.last_activity + limit

    def stalled(self, timeout: Timeout) -> TransportError | None:
        """Decide, at a deadline from :meth:`deadline`, whether the transfer timed out.

        Returns:
            The timeout error to raise, or None when the transfer made progress (or is still
            connecting: libcurl's own connect timeout covers that phase). Either way the next
            :meth:`deadline` lies in the future.
        """
        now = monotonic()
        if self.done or self.paused or not self.connected():
            self.last_activity = now
            return None
        if not self.upload_done:
            uploaded = int(self.easy.getinfo(pycurl.SIZE_UPLOAD_T))
            if uploaded >= len(self.request.body) or self.status:
                self.upload_done = True
            elif uploaded != self.upload_seen or not self.uploading:
                self.uploading = True  # the body is still going out: the write timeout rules
                self.upload_seen = uploaded
                self.last_activity = now
                return None
            elif timeout.write is not None:
                return stall_timeout(self.request, timeout.write, writing=True)
        read = timeout.read
        if read is not None and now - self.last_activity >= read:
            return stall_timeout(self.request, read, writing=False)
        return None
