"""A small, fast HTTP/1.1 server protocol on raw asyncio (the server's own loop and thread).

Keep-alive, pipelining (responses strictly in request order), Content-Length and chunked
request bodies, ``Expect: 100-continue``. Responses come from a handler as a :class:`Reply`;
when no timing fault applies, a whole response goes out in one ``transport.write``.
"""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus

from ._faults import Fault
from ._reply import Reply

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
_REASONS = {s.value: s.phrase for s in HTTPStatus} | {529: "Site Overloaded"}


class Request:
    """One parsed HTTP request: method, path, query, lower-cased headers, body."""

    __slots__ = ("body", "headers", "keep_alive", "method", "path", "query")

    def __init__(
        self, method: str, target: str, headers: dict[str, str], body: bytes, keep_alive: bool
    ) -> None:
        self.method = method
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


Handler = Callable[[Request], "Reply | Awaitable[Reply]"]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _DateCache:
    """The ``date`` header, formatted at most once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def get(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = email.utils.formatdate(now, usegmt=True)
        return self._value


_DATE = _DateCache()


def response_head(
    status: int,
    content_type: bytes,
    headers: list[tuple[str, str]],
    length: int | None,
    keep_alive: bool,
) -> bytes:
    """Status line and headers; ``length=None`` means chunked transfer encoding."""
    parts = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"
        f"date: {_DATE.get()}\r\nserver: atoll-testing\r\ncontent-type: ",
        content_type.decode(),
        "\r\n",
    ]
    parts.extend(f"{name}: {value}\r\n" for name, value in headers)
    if length is None:
        parts.append("transfer-encoding: chunked\r\n")
        if content_type.startswith(b"text/event-stream"):
            parts.append("cache-control: no-cache\r\n")
    else:
        parts.append(f"content-length: {length}\r\n")
    parts.append("\r\n" if keep_alive else "connection: close\r\n\r\n")
    return "".join(parts).encode("latin-1")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data) if data else b""


def stream_plan(reply: Reply) -> tuple[list[bytes], bool]:
    """The events to send after faults apply, and whether to cut the connection after them."""
    assert reply.events is not None
    events = list(reply.events)
    fault = reply.fault
    if fault is None:
        events.extend(reply.terminal)
        return events, False
    if fault.malformed is not None:
        events.insert(min(fault.malformed, len(events)), reply.malformed_event)
    if fault.error_event is not None:
        events = [*events[: fault.error_event], reply.error_event]
    elif not fault.no_done:
        events.extend(reply.terminal)
    if fault.disconnect_events is not None:
        return events[: fault.disconnect_events], True
    return events, fault.disconnect_bytes is not None


class HttpProtocol(asyncio.Protocol):
    """One client connection."""

    def __init__(self, handler: Handler, connections: set[HttpProtocol], opened: list[int]) -> None:
        self._handler = handler
        self._connections = connections
        self._opened = opened
        self._buffer = bytearray()
        self._busy = False
        self._closed = False
        self._paused: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._continued = False

    # ---- asyncio callbacks ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._opened[0] += 1
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Without it, Nagle holds the tail of each response until the client's delayed
            # ACK (~40 ms): streams would crawl and latency tests would lie.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._connections.discard(self)
        if self._paused is not None and not self._paused.done():
            self._paused.set_result(None)

    def pause_writing(self) -> None:
        self._paused = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._paused is not None and not self._paused.done():
            self._paused.set_result(None)
        self._paused = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._busy:
            self._process()

    def abort(self) -> None:
        """Drop the connection at once (server shutdown)."""
        if self._transport is not None:
            self._transport.abort()

    # ---- request loop -----------------------------------------------------------------------

    def _process(self) -> None:
        transport = self._transport
        assert transport is not None
        while not self._busy and not self._closed:
            try:
                request = self._parse()
            except _BadRequest as exc:
                body = (
                    b'{"error":{"message":"%b","type":"invalid_request_error"}}' % str(exc).encode()
                )
                transport.write(
                    response_head(exc.status, b"application/json", [], len(body), False) + body
                )
                self._close()
                return
            if request is None:
                return
            try:
                result = self._handler(request)
            except Exception as exc:  # a handler bug must still answer, and visibly
                result = Reply(500, b"text/plain", f"atoll_testing handler error: {exc!r}".encode())
            if (
                isinstance(result, Reply)
                and result.source is None
                and not _needs_async(result.fault)
            ):
                self._send_now(result, request.keep_alive)
            else:
                self._busy = True
                asyncio.get_running_loop().create_task(self._send_later(result, request.keep_alive))

    def _parse(self) -> Request | None:
        buf = self._buffer
        while buf.startswith(b"\r\n"):  # stray CRLF between pipelined requests is allowed
            del buf[:2]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise _BadRequest(431, "request head too large")
            return None
        lines = buf[:end].decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise _BadRequest(400, "malformed request line") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise _BadRequest(400, "malformed header line")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parsed = _parse_chunked(buf, start)
            if parsed is None:
                self._maybe_continue(headers)
                return None
            body, consumed = parsed
        else:
            length = _content_length(headers)
            if len(buf) - start < length:
                self._maybe_continue(headers)
                return None
            body, consumed = bytes(buf[start : start + length]), start + length
        del buf[:consumed]
        self._continued = False
        connection = headers.get("connection", "").lower()
        keep_alive = (
            "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        )
        return Request(method, target, headers, body, keep_alive)

    def _maybe_continue(self, headers: dict[str, str]) -> None:
        if not self._continued and headers.get("expect", "").lower() == "100-continue":
            self._continued = True
            assert self._transport is not None
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _close(self) -> None:
        self._closed = True
        if self._transport is not None:
            self._transport.close()

    # ---- responses ----------------------------------------------------------------------------

    def _send_now(self, reply: Reply, keep_alive: bool) -> None:
        transport = self._transport
        assert transport is not None
        fault = reply.fault
        if fault is not None:
            if fault.drop:
                self._close()
                return
            keep_alive = keep_alive and not fault.close
        if reply.events is None:
            body = reply.body
            if fault is not None and fault.malformed is not None:
                body = body[: len(body) // 2]
            head = response_head(
                reply.status, reply.content_type, reply.headers, len(body), keep_alive
            )
            if fault is not None and fault.disconnect_bytes is not None:
                transport.write(head + body[: fault.disconnect_bytes])
                self._close()
                return
            transport.write(head + body)
        else:
            events, cut = stream_plan(reply)
            payload = b"".join(events)
            head = response_head(reply.status, reply.content_type, reply.headers, None, keep_alive)
            if fault is not None and fault.disconnect_bytes is not None:
                payload = payload[: fault.disconnect_bytes]
            if cut:
                transport.write(head + _chunk(payload))
                self._close()
                return
            # writelines: no copy of a possibly large payload just to frame it.
            transport.writelines((head, b"%x\r\n" % len(payload), payload, b"\r\n0\r\n\r\n"))
        if not keep_alive:
            self._close()

    async def _send_later(self, result: Reply | Awaitable[Reply], keep_alive: bool) -> None:
        try:
            reply = result if isinstance(result, Reply) else await result
            fault = reply.fault
            if fault is not None and fault.delay:
                await asyncio.sleep(fault.delay)
            if self._closed:
                return
            if reply.source is not None:
                await self._send_source(reply, reply.source, keep_alive)
            elif fault is None or not fault.chunk_delay or fault.drop:
                self._send_now(reply, keep_alive)
            else:
                await self._send_paced(reply, fault, keep_alive)
        except Exception as exc:  # keep serving other requests; tell this client what broke
            body = f"atoll_testing error: {exc!r}".encode()
            if not self._closed and self._transport is not None:
                self._transport.write(
                    response_head(500, b"text/plain", [], len(body), False) + body
                )
                self._close()
        finally:
            self._busy = False
        if not self._closed and self._buffer:
            self._process()

    async def _send_source(
        self, reply: Reply, source: AsyncIterator[bytes], keep_alive: bool
    ) -> None:
        transport = self._transport
        assert transport is not None
        transport.write(
            response_head(reply.status, reply.content_type, reply.headers, None, keep_alive)
        )
        async for piece in source:
            if self._closed:
                return
            transport.write(_chunk(piece))
            if self._paused is not None:
                await self._paused
        transport.write(b"0\r\n\r\n")
        if not keep_alive:
            self._close()

    async def _send_paced(self, reply: Reply, fault: Fault, keep_alive: bool) -> None:
        transport = self._transport
        assert transport is not None
        keep_alive = keep_alive and not fault.close
        if reply.events is None:
            body = reply.body[: len(reply.body) // 2] if fault.malformed is not None else reply.body
            head = response_head(
                reply.status, reply.content_type, reply.headers, len(body), keep_alive
            )
            pieces = [body[i : i + 64] for i in range(0, len(body), 64)]
            framed = False
            cut = fault.disconnect_bytes is not None
        else:
            events, cut = stream_plan(reply)
            pieces = events
            head = response_head(reply.status, reply.content_type, reply.headers, None, keep_alive)
            framed = True
        transport.write(head)
        budget = fault.disconnect_bytes
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(fault.chunk_delay)
            if self._closed:
                return
            if budget is not None:
                piece, budget = piece[:budget], budget - len(piece[:budget])
            transport.write(_chunk(piece) if framed else piece)
            if self._paused is not None:
                await self._paused
            if budget == 0:
                break
        if cut:
            self._close()
            return
        if framed:
            transport.write(b"0\r\n\r\n")
        if not keep_alive:
            self._close()


def _needs_async(fault: Fault | None) -> bool:
    return fault is not None and bool(fault.delay or fault.chunk_delay)


def _content_length(headers: dict[str, str]) -> int:
    raw = headers.get("content-length")
    if raw is None:
        return 0
    try:
        length = int(raw)
    except ValueError:
        raise _BadRequest(400, "bad content-length") from None
    if length < 0:
        raise _BadRequest(400, "bad content-length")
    if length > MAX_BODY:
        raise _BadRequest(413, "request body too large")
    return length


def _parse_chunked(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked body starting at ``start``; None while incomplete."""
    body = bytearray()
    pos = start
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size_text = bytes(buf[pos:line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _BadRequest(400, "bad chunk size") from None
        pos = line_end + 2
        if size == 0:
            trailer_end = buf.find(b"\r\n", pos)
            while trailer_end > pos:  # skip trailer headers
                pos = trailer_end + 2
                trailer_end = buf.find(b"\r\n", pos)
            if trailer_end < 0:
                return None
            return bytes(body), trailer_end + 2
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos : pos + size]
        if len(body) > MAX_BODY:
            raise _BadRequest(413, "request body too large")
        pos += size + 2
