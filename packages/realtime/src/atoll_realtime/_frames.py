"""RFC 6455 framing for the client side: parse server frames, build masked client frames.

The parser is the hot path of a session (a realtime response is thousands of small frames), so
it works on one growing ``bytearray`` and returns every complete message a chunk of bytes holds
in one list, with no per-frame objects. Extensions are never negotiated, so any RSV bit is a
protocol error, and so is a masked server frame (RFC 6455, 5.1).
"""

from __future__ import annotations

import os
import struct

from ._exceptions import RealtimeProtocolError

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "FrameParser",
    "close_payload",
    "encode_frame",
    "parse_close",
]

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_CONTROL = frozenset({OP_CLOSE, OP_PING, OP_PONG})
_DATA = frozenset({OP_TEXT, OP_BINARY})
# Codes a peer may put in a close frame (RFC 6455, 7.4.1; 1004-1006 and 1015 are reserved).
_SENDABLE = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})


class FrameParser:
    """Turns the bytes a server sends into ``(opcode, payload)`` pairs.

    Data messages come out whole (fragments are joined); control frames (close, ping, pong)
    come out as they arrive, between messages or between fragments of one.

    Args:
        max_message_size: The largest message accepted, in bytes (1009 beyond it).
    """

    __slots__ = ("_buffer", "_fragment_opcode", "_fragments", "_max", "_size")

    def __init__(self, max_message_size: int = 16 * 1024 * 1024) -> None:
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode = 0
        self._size = 0
        self._max = max_message_size

    def feed(self, data: bytes | bytearray) -> list[tuple[int, bytes]]:
        """Add received bytes; return the messages and control frames now complete.

        Raises:
            RealtimeProtocolError: A frame broke RFC 6455 (``close_code`` says which code to
                close with: 1002 protocol error, 1009 message too big).
        """
        buffer = self._buffer
        buffer += data
        out: list[tuple[int, bytes]] = []
        pos = 0
        end = len(buffer)
        while end - pos >= 2:
            first = buffer[pos]
            second = buffer[pos + 1]
            length = second & 0x7F
            head = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = (buffer[pos + 2] << 8) | buffer[pos + 3]
                head = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
                head = 10
            if first & 0x70 or second & 0x80:
                self._reject(first, second)
            if length > self._max:
                raise RealtimeProtocolError(
                    f"a frame of {length} bytes exceeds the {self._max}-byte limit", close_code=1009
                )
            if end - pos < head + length:
                break
            start = pos + head
            pos = start + length
            payload = bytes(buffer[start:pos])
            opcode = first & 0x0F
            if first & 0x80 and opcode in _DATA and not self._fragments:
                out.append((opcode, payload))  # the common case: one whole message
            else:
                self._other(first & 0x80, opcode, payload, out)
        if pos:
            del buffer[:pos]
        return out

    def _reject(self, first: int, second: int) -> None:
        if first & 0x70:
            raise RealtimeProtocolError(
                "the server set an RSV bit but no extension was negotiated", close_code=1002
            )
        raise RealtimeProtocolError("the server masked a frame (RFC 6455, 5.1)", close_code=1002)

    def _other(self, fin: int, opcode: int, payload: bytes, out: list[tuple[int, bytes]]) -> None:
        if opcode in _CONTROL:
            if not fin or len(payload) > 125:
                raise RealtimeProtocolError(
                    "a control frame was fragmented or longer than 125 bytes", close_code=1002
                )
            out.append((opcode, payload))
            return
        if opcode in _DATA:
            if self._fragments:
                raise RealtimeProtocolError(
                    "a new message began before the fragmented one ended", close_code=1002
                )
            self._fragment_opcode = opcode
        elif opcode == OP_CONTINUATION:
            if not self._fragments:
                raise RealtimeProtocolError(
                    "a continuation frame arrived with no message to continue", close_code=1002
                )
        else:
            raise RealtimeProtocolError(f"unknown opcode {opcode:#x}", close_code=1002)
        self._size += len(payload)
        if self._size > self._max:
            raise RealtimeProtocolError(
                f"a message exceeds the {self._max}-byte limit", close_code=1009
            )
        self._fragments.append(payload)
        if fin:
            out.append((self._fragment_opcode, b"".join(self._fragments)))
            self._fragments = []
            self._size = 0


def _mask(payload: bytes, key: bytes) -> bytes:
    # XOR as one big integer: C speed without numpy, for audio chunks of several kilobytes.
    n = len(payload)
    if not n:
        return b""
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(
        n, "little"
    )


def encode_frame(opcode: int, payload: bytes, *, mask: bool = True) -> bytes:
    """One final frame; masked with a fresh random key, as every client frame must be."""
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, bit | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, bit | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, bit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + _mask(payload, key)


def close_payload(code: int, reason: str = "") -> bytes:
    """The payload of a close frame: the code, then the reason cut to fit 123 UTF-8 bytes."""
    data = reason.encode()[:123]
    return struct.pack("!H", code) + data.decode(errors="ignore").encode()


def parse_close(payload: bytes) -> tuple[int, str]:
    """``(code, reason)`` of a close frame; 1005 for an empty one.

    Raises:
        RealtimeProtocolError: A one-byte payload, a reserved code, or a reason not UTF-8.
    """
    if not payload:
        return 1005, ""
    if len(payload) == 1:
        raise RealtimeProtocolError("a close frame with a one-byte payload", close_code=1002)
    code = int.from_bytes(payload[:2], "big")
    if code not in _SENDABLE and not 3000 <= code <= 4999:
        raise RealtimeProtocolError(f"a close frame with the reserved code {code}", close_code=1002)
    try:
        return code, payload[2:].decode()
    except UnicodeDecodeError:
        raise RealtimeProtocolError(
            "a close frame whose reason is not UTF-8", close_code=1007
        ) from None
