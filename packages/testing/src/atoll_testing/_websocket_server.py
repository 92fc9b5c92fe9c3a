"""The server side of RFC 6455 on asyncio streams, with the standard library only.

atoll_testing may import nothing but atoll_wire (its layer contract), and a fake server needs
to do what a library would refuse: drop a connection without a close frame, close with any
code, send frames at full speed. The server side is small: the upgrade (SHA-1 accept key),
unmasking client frames, ping/pong and the close handshake.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from urllib.parse import parse_qs, urlsplit

__all__ = ["ConnectionClosed", "ServerWebSocket", "Upgrade", "read_upgrade"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_MESSAGE = 64 * 1024 * 1024


class ConnectionClosed(Exception):
    """The client closed (``code``) or the connection dropped (1006)."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class Upgrade:
    """A parsed upgrade request: path, query and headers (names lowercased)."""

    def __init__(self, method: str, target: str, headers: dict[str, str]) -> None:
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.headers = headers

    @property
    def is_websocket(self) -> bool:
        """The request asks for a version-13 WebSocket upgrade with a key."""
        h = self.headers
        return (
            self.method == "GET"
            and h.get("upgrade", "").lower() == "websocket"
            and "upgrade" in h.get("connection", "").lower()
            and h.get("sec-websocket-version") == "13"
            and bool(h.get("sec-websocket-key"))
        )


async def read_upgrade(reader: asyncio.StreamReader) -> Upgrade | None:
    """Read one HTTP request head; ``None`` when the client sent nothing usable."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return Upgrade(parts[0], parts[1], headers)


def http_response(
    status: int, reason: str, body: bytes, content_type: str = "application/json"
) -> bytes:
    """A complete HTTP/1.1 response that closes the connection (a refused upgrade)."""
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def accept_response(key: str) -> bytes:
    """The 101 answer to an upgrade with ``Sec-WebSocket-Key: key``."""
    accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked (server) frame."""
    n = len(payload)
    if n < 126:
        return struct.pack("!BB", 0x80 | opcode, n) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


def _unmask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if not n:
        return b""
    repeated = (key * (n // 4 + 1))[:n]
    value = int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")
    return value.to_bytes(n, "little")


class ServerWebSocket:
    """One accepted connection: read client messages, send text, ping, close or drop."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.closed = False
        self.pongs: list[bytes] = []

    async def receive(self) -> str:
        """The next text (or binary, decoded) message; answers pings and close frames.

        Raises:
            ConnectionClosed: The client closed, broke the protocol (1002) or dropped (1006).
        """
        parts: list[bytes] = []
        while True:
            fin, opcode, payload = await self._frame()
            if opcode == 0x8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                await self.close(code if code not in (1005, 1006, 1015) else 1000)
                raise ConnectionClosed(code, payload[2:].decode(errors="replace"))
            if opcode == 0x9:
                self.send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                self.pongs.append(payload)
                continue
            parts.append(payload)
            if fin:
                return b"".join(parts).decode()

    async def _frame(self) -> tuple[bool, int, bytes]:
        try:
            b1, b2 = await self._reader.readexactly(2)
            length = b2 & 0x7F
            if length == 126:
                length = int.from_bytes(await self._reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await self._reader.readexactly(8), "big")
            if not b2 & 0x80 or length > _MAX_MESSAGE:  # clients must mask (RFC 6455, 5.1)
                await self.close(1002 if not b2 & 0x80 else 1009)
                raise ConnectionClosed(1002, "unmasked or oversized client frame")
            key = await self._reader.readexactly(4)
            payload = _unmask(await self._reader.readexactly(length), key)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self.closed = True
            raise ConnectionClosed(1006) from exc
        return bool(b1 & 0x80), b1 & 0x0F, payload

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """Queue one frame (no wait; call :meth:`drain` for backpressure)."""
        if not self.closed:
            self._writer.write(frame(opcode, payload))

    def send_text(self, data: bytes) -> None:
        """Queue one text message."""
        self.send_frame(0x1, data)

    async def drain(self) -> None:
        """Wait until the socket took what was queued."""
        try:
            await self._writer.drain()
        except ConnectionError:
            self.closed = True

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (``code`` as given, even a reserved one) and close the socket."""
        if self.closed:
            return
        payload = struct.pack("!H", code) + reason.encode()[:123] if code != 1005 else b""
        self.send_frame(0x8, payload)
        self.closed = True
        try:
            await self._writer.drain()
        except ConnectionError:
            pass
        self._writer.close()

    def drop(self) -> None:
        """Abort the TCP connection with no close frame (the client sees 1006)."""
        self.closed = True
        self._writer.transport.abort()
