"""A small HTTP/1.1 server on 127.0.0.1 for the curl-specific tests (own asyncio loop, own thread).

Routes (query parameters in brackets):

- ``/echo``: 200 with the request body back and ``x-method``/``x-target``/``x-seen-*`` headers.
- ``/infinite`` [size]: an endless chunked stream of the ``PATTERN`` bytes, counted.
- ``/chunks`` [n]: ``n`` chunked pieces; waits for :meth:`Server.open_gate` after the first.
- ``/continue``: an interim ``100 Continue`` and ``103 Early Hints``, then 200.
- ``/folded``: a response with an obs-folded header and a repeated one.
- ``/gzip``: a gzip-encoded body (``content-encoding: gzip``) that decodes to ``GZIP_TEXT``.
- ``/stall-request``: never reads the request body.
- ``/stall-body``: headers and one chunk, then silence.
- ``/sleep-headers`` [seconds]: waits before answering.

Any request in absolute form (``GET http://host/...``) is answered as a forward proxy would be,
with ``x-proxied: <target>``, so the same server plays proxy in the proxy tests. Sockets can be
wrapped in TLS for the certificate tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ssl
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

PATTERN = bytes(range(256)) * 64  # 16 KiB; position i holds byte i % 256
GZIP_TEXT = b"compressed on the wire, plain for the caller. " * 100


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    body: bytes


class Server:
    """Run with ``with Server() as srv:``; ``srv.url(path)`` builds request URLs."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._gate = threading.Event()
        self._lock = threading.Lock()
        self.port = 0
        self.accepted = 0
        self.open = 0
        self.pushed = 0
        self.targets: list[str] = []
        self.requests_seen: list[Seen] = []

    def __enter__(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._gate.set()
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", 0, ssl=self._ssl, backlog=2048
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    def url(self, path: str) -> str:
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def open_gate(self) -> None:
        self._gate.set()

    def open_connections(self) -> int:
        with self._lock:
            return self.open

    def pushed_bytes(self) -> int:
        with self._lock:
            return self.pushed

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self.accepted += 1
            self.open += 1
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()
            with self._lock:
                self.open -= 1
            self._tasks.discard(task)

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        with self._lock:
            self.targets.append(target)
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/stall-request":
            await asyncio.sleep(30)
            return False
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        with self._lock:
            self.requests_seen.append(Seen(method, body))
        if target.startswith("http://"):
            await _respond(writer, 200, b"via proxy", [("x-proxied", target)])
        elif parts.path == "/echo":
            seen = [(f"x-seen-{k}", v) for k, v in headers.items()]
            await _respond(writer, 200, body, [("x-method", method), *seen])
        elif parts.path == "/infinite":
            await self._infinite(writer, int(query.get("size", str(len(PATTERN)))))
        elif parts.path == "/chunks":
            await self._chunks(writer, int(query.get("n", "3")))
        elif parts.path == "/continue":
            writer.write(
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n"
            )
            await _respond(writer, 201, b"created", [("x-final", "yes")])
        elif parts.path == "/gzip":
            packed = gzip.compress(GZIP_TEXT)
            await _respond(writer, 200, packed, [("content-encoding", "gzip")])
        elif parts.path == "/folded":
            writer.write(
                b"HTTP/1.1 200 OK\r\nx-fold: first\r\n  second\r\nx-rep: 1\r\nx-rep: 2\r\n"
                b"content-length: 2\r\n\r\nok"
            )
            await writer.drain()
        elif parts.path == "/stall-body":
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nA\r\n")
            await writer.drain()
            await _idle(reader, 30)
            return False
        elif parts.path == "/sleep-headers":
            await _idle(reader, float(query.get("seconds", "1")))
            await _respond(writer, 200, b"slept")
        else:
            await _respond(writer, 404, b"no such route")
        return headers.get("connection", "").lower() != "close"

    async def _infinite(self, writer: asyncio.StreamWriter, size: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        piece = PATTERN[:size]
        frame = b"%x\r\n%b\r\n" % (len(piece), piece)
        while True:
            writer.write(frame)
            await writer.drain()
            with self._lock:
                self.pushed += size

    async def _chunks(self, writer: asyncio.StreamWriter, count: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for index in range(count):
            if index == 1:
                await asyncio.to_thread(self._gate.wait, 10)
            writer.write(b"1\r\n%c\r\n" % (65 + index))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
) -> None:
    lines = [
        f"HTTP/1.1 {status} X",
        *(f"{k}: {v}" for k, v in headers or []),
        f"content-length: {len(body)}",
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


async def _idle(reader: asyncio.StreamReader, seconds: float) -> None:
    """Sleep, but end the connection at once if the client hangs up meanwhile."""
    try:
        data = await asyncio.wait_for(reader.read(1), seconds)
    except TimeoutError:
        return
    if not data:
        raise ConnectionError("the client hung up")
