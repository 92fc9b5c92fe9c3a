"""A WebSocket client (RFC 6455) on anyio byte streams: handshake, frames, ping/pong, close.

Why not a library: ``benchmarks/realtime.py`` measured receiving 20,000 small text frames on
one connection (docs/realtime.md has the numbers): httpx-ws spends ~39 us per message (a task
and a queue hop each), wsproto over anyio ~7.7 us (its pure-Python frame state machine), the
``websockets`` library ~4.4 us; this client's frame parser is under 1 us, which is what lets
``events()`` pass 100,000 events/s with JSON decoding on top. What a realtime client needs of
RFC 6455 is small (no extensions, one message at a time, text frames), so it lives here, is
tested against the ``websockets`` library in both directions, and runs on asyncio and trio.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import ssl
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import anyio
import anyio.abc

from ._exceptions import (
    RealtimeClosedError,
    RealtimeConnectError,
    RealtimeConnectionLost,
    RealtimeProtocolError,
)
from ._frames import (
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameParser,
    close_payload,
    encode_frame,
    parse_close,
)

__all__ = ["HandshakeRefused", "WebSocket", "connect_websocket"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_HEAD_LIMIT = 64 * 1024
_BODY_LIMIT = 64 * 1024
_READ = 65536
_BAD_VALUE = re.compile(r"[\x00-\x1f\x7f]|[^\x00-\x7f]")


class HandshakeRefused(RealtimeConnectError):
    """The server answered the upgrade with another status (carried with the body)."""


class WebSocket:
    """One open WebSocket connection, client side.

    Only one task may receive at a time (the session's ``events()``); any task may send (sends
    are serialised by a lock and wait for the socket to take the bytes: that is the
    backpressure on outgoing audio).
    """

    def __init__(
        self,
        stream: anyio.abc.ByteStream,
        leftover: bytes,
        *,
        max_message_size: int,
        close_timeout: float,
    ) -> None:
        self._stream = stream
        self._parser = FrameParser(max_message_size)
        self._backlog = leftover
        self._send_lock = anyio.Lock()
        self._close_timeout = close_timeout
        self._close_sent = False
        self._peer_closed = anyio.Event()
        self._stream_closed = False
        self._reading = False
        self.close_code: int | None = None
        """The close code once closed (1006 when the connection dropped without one)."""
        self.close_reason = ""
        """The close reason once closed."""
        self.closed_by_client = False
        """We sent the first close frame (``aclose``)."""

    @property
    def closed(self) -> bool:
        """The connection is closed (or closing) either way."""
        return self.close_code is not None or self._close_sent

    async def receive(self) -> list[bytes]:
        """The next data messages (at least one), answering pings and close frames meanwhile.

        Raises:
            RealtimeConnectionLost: The connection closed (``close_code`` says how); also after
                a close we started, with ``closed_by_client`` set.
            RealtimeProtocolError: The server broke RFC 6455 (we closed with its code).
        """
        self._reading = True
        try:
            while True:
                if self.close_code is not None:
                    raise self._lost()
                if self._backlog:
                    chunk, self._backlog = self._backlog, b""
                else:
                    chunk = await self._read()
                    if chunk is None:
                        await self._close_stream()
                        raise self._lost()
                messages = await self._handle(chunk)
                if messages:
                    return messages
        finally:
            self._reading = False

    async def _read(self) -> bytes | None:
        try:
            return await self._stream.receive(_READ)
        except ssl.SSLError as exc:  # before OSError, its base class
            self._mark_closed(1015, str(exc))
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            self._mark_closed(1006, "")
        return None

    async def _handle(self, chunk: bytes) -> list[bytes]:
        try:
            frames = self._parser.feed(chunk)
        except RealtimeProtocolError as exc:
            await self._fail(exc.close_code or 1002, exc.message)
            raise
        messages: list[bytes] = []
        for opcode, payload in frames:
            if opcode <= OP_TEXT + 1:
                messages.append(payload)
            elif opcode == OP_PING:
                await self._send_frame(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                await self._on_close(payload)
                break
        return messages

    async def _on_close(self, payload: bytes) -> None:
        try:
            code, reason = parse_close(payload)
        except RealtimeProtocolError as exc:
            await self._fail(exc.close_code or 1002, exc.message)
            raise
        if not self._close_sent:  # echo the close (RFC 6455, 5.5.1), then drop the socket
            echo = close_payload(code) if code not in (1005, 1006, 1015) else b""
            try:
                await self._send_frame(OP_CLOSE, echo)
            except RealtimeConnectionLost:
                pass
        self._mark_closed(code, reason)
        self._peer_closed.set()
        await self._close_stream()

    async def _fail(self, code: int, reason: str) -> None:
        try:
            await self._send_frame(OP_CLOSE, close_payload(code, reason))
        except RealtimeConnectionLost:
            pass
        self._mark_closed(code, reason)
        await self._close_stream()

    def _mark_closed(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason

    def _lost(self) -> RealtimeConnectionLost:
        code = self.close_code if self.close_code is not None else 1006
        how = "we closed it" if self.closed_by_client else f"close code {code}"
        text = f"the realtime connection closed ({how})"
        if self.close_reason:
            text += f": {self.close_reason}"
        return RealtimeConnectionLost(text, close_code=code, reason=self.close_reason)

    async def send_text(self, data: bytes) -> None:
        """Send one text message (``data`` is UTF-8 JSON).

        Raises:
            RealtimeClosedError: We already closed the connection.
            RealtimeConnectionLost: The connection is gone.
        """
        if self._close_sent:
            raise RealtimeClosedError("the realtime session is closed")
        await self._send_frame(OP_TEXT, data)

    async def _send_frame(self, opcode: int, payload: bytes) -> None:
        frame = encode_frame(opcode, payload)
        if opcode == OP_CLOSE:
            self._close_sent = True
        async with self._send_lock:
            try:
                await self._stream.send(frame)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
                self._mark_closed(1006, "")
                raise self._lost() from exc

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close handshake: send a close frame, wait (``close_timeout``) for the server's, drop.

        Safe to call more than once and while another task is receiving.
        """
        with anyio.CancelScope(shield=True), anyio.move_on_after(self._close_timeout):
            if not self._close_sent and self.close_code is None:
                self.closed_by_client = True
                try:
                    await self._send_frame(OP_CLOSE, close_payload(code, reason))
                except RealtimeConnectionLost:
                    pass
            if self.close_code is None:
                if self._reading:
                    await self._peer_closed.wait()
                else:
                    await self._drain()
        self._mark_closed(code, reason)
        await self._close_stream()

    async def _drain(self) -> None:
        # Nobody is reading: read and drop messages until the server's close frame arrives.
        try:
            while self.close_code is None:
                await self.receive()
        except (RealtimeConnectionLost, RealtimeProtocolError):
            pass

    async def _close_stream(self) -> None:
        if not self._stream_closed:
            self._stream_closed = True
            with anyio.CancelScope(shield=True):
                await self._stream.aclose()


def _checked_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in headers.items():
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            raise RealtimeConnectError(f"invalid header name {name!r}")
        value = value.strip(" \t")
        if _BAD_VALUE.search(value):  # the message names the header, never its value
            raise RealtimeConnectError(
                f"the value of header {name!r} holds a control character or non-ASCII text"
            )
        out.append((name, value))
    return out


def _request(
    host_header: str,
    target: str,
    key: bytes,
    headers: list[tuple[str, str]],
    protocols: Sequence[str],
) -> bytes:
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {host_header}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key.decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    if protocols:
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(protocols)}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_head(stream: anyio.abc.ByteStream) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _HEAD_LIMIT:
            raise RealtimeProtocolError("the handshake answer's head is over 64 KiB")
        try:
            data += await stream.receive(_READ)
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError) as exc:
            raise RealtimeConnectError(
                "the server closed the connection during the WebSocket handshake"
            ) from exc
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise RealtimeProtocolError(f"the handshake answer is not HTTP: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return int(parts[1]), headers, rest


async def _read_body(stream: anyio.abc.ByteStream, headers: dict[str, str], rest: bytes) -> bytes:
    length = headers.get("content-length")
    want = min(int(length), _BODY_LIMIT) if length and length.isdigit() else _BODY_LIMIT
    body = rest
    with anyio.move_on_after(2):
        while len(body) < want:
            try:
                body += await stream.receive(_READ)
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                break
    body = body[:want]
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, sep, data = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if not sep or size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return out


async def connect_websocket(
    url: str,
    headers: Mapping[str, str],
    *,
    subprotocols: Sequence[str] = (),
    connect_timeout: float = 10.0,
    close_timeout: float = 2.0,
    max_message_size: int = 16 * 1024 * 1024,
    ssl_context: ssl.SSLContext | None = None,
) -> WebSocket:
    """Open a WebSocket to ``url`` (``ws://``, ``wss://``; ``http(s)://`` is mapped to them).

    Raises:
        HandshakeRefused: The server answered with a status other than 101 (status, body).
        RealtimeConnectError: No connection could be made in ``connect_timeout``.
        RealtimeProtocolError: The server's answer is not a valid WebSocket upgrade.
    """
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise RealtimeConnectError(f"not a WebSocket URL: scheme {parts.scheme!r}")
    secure = scheme == "wss"
    host = parts.hostname
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = port == (443 if secure else 80)
    host_header = (f"[{host}]" if ":" in host else host) + ("" if default_port else f":{port}")
    checked = _checked_headers(headers)
    key = base64.b64encode(os.urandom(16))
    try:
        with anyio.fail_after(connect_timeout):
            if secure:
                stream: anyio.abc.ByteStream = await anyio.connect_tcp(
                    host, port, tls=True, ssl_context=ssl_context, tls_hostname=host
                )
            else:
                stream = await anyio.connect_tcp(host, port)
            try:
                await stream.send(_request(host_header, target, key, checked, subprotocols))
                status, answer, rest = await _read_head(stream)
            except BaseException:
                await anyio.aclose_forcefully(stream)
                raise
    except TimeoutError as exc:
        raise RealtimeConnectError(
            f"no WebSocket connection to {host}:{port} within {connect_timeout} s"
        ) from exc
    except (OSError, ssl.SSLError) as exc:
        raise RealtimeConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
    if status != 101:
        body = await _read_body(stream, answer, rest)
        await anyio.aclose_forcefully(stream)
        raise HandshakeRefused(
            f"the server refused the WebSocket upgrade with HTTP {status}",
            status=status,
            body=body.decode("utf-8", errors="replace"),
        )
    expected = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()
    problem = None
    if answer.get("upgrade", "").lower() != "websocket":
        problem = "no 'Upgrade: websocket' header"
    elif "upgrade" not in answer.get("connection", "").lower():
        problem = "no 'Connection: Upgrade' header"
    elif answer.get("sec-websocket-accept") != expected:
        problem = "a wrong Sec-WebSocket-Accept"
    elif answer.get("sec-websocket-extensions"):
        problem = "an extension we did not offer"
    if problem is not None:
        await anyio.aclose_forcefully(stream)
        raise RealtimeProtocolError(f"the server's WebSocket upgrade has {problem}")
    return WebSocket(stream, rest, max_message_size=max_message_size, close_timeout=close_timeout)
