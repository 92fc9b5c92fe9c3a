"""A plain HTTP/1.1 server on 127.0.0.1 for the transport conformance suite.

It runs its own asyncio loop in a daemon thread, so the same server serves tests on asyncio, on
trio and synchronous tests alike. It is written on raw asyncio streams rather than on a framework
because the suite needs precise control over the bytes on the wire: where chunks end, when the
server stalls, when it hangs up mid-body. It also counts what it sees (accepted connections,
connections still open, bytes pushed into each stream) so tests can assert on reuse, prompt
cancellation and backpressure.

Routes (query parameters in brackets):

- ``/echo``: 200; the request body back, with ``x-method``, ``x-target`` and ``x-body-length``.
- ``/status/<code>``: that status, a repeated ``x-multi`` header and a short body.
- ``/gzip`` [size]: ``size`` bytes of the pattern, gzip-compressed (``Content-Encoding``).
- ``/set-cookie``: 200 with ``Set-Cookie: session=abc``.
- ``/chunks`` [n, size, delay, gate]: chunked body of ``n`` chunks ``size`` bytes each, ``delay``
  seconds apart; with ``gate=1`` the server waits for :meth:`PlainServer.open_gate` after chunk 1.
- ``/large`` [size, chunked]: ``size`` bytes of a fixed pattern (Content-Length, or chunked).
- ``/declared`` [size]: announces ``Content-Length: size`` and then sends only a little.
- ``/sleep-headers`` [seconds]: waits before the status line.
- ``/sleep-body`` [seconds]: sends half the body, waits, sends the rest.
- ``/truncate`` [chunked]: promises more body than it sends, then closes the connection.
- ``/infinite`` [size, delay]: an endless chunked stream (cancellation, backpressure).
- ``/stall-request``: never reads the request body (write timeouts).
- ``/raw`` [hex]: writes the hex-decoded bytes as the whole reply, then hangs up (garbage
  status lines, non-HTTP services).

``CONNECT host:port`` (what a client sends to an HTTPS proxy) opens a TCP tunnel to that address,
so the server also plays a forward proxy for ``https://`` URLs; it is recorded like any request.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

PATTERN = bytes(range(256)) * 256  # 64 KiB of a recognisable pattern
HEAD_LIMIT = 64 * 1024


def pattern(size: int) -> bytes:
    """The first ``size`` bytes of the body ``/large`` sends."""
    whole, rest = divmod(size, len(PATTERN))
    return PATTERN * whole + PATTERN[:rest]


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


@dataclass
class _Counters:
    accepted: int = 0
    open: int = 0
    stream_bytes: int = 0
    streams_ended_by_client: int = 0
    requests: list[Received] = field(default_factory=list[Received])


class _Hangup(Exception):
    """The route ends the connection on purpose."""


class PlainServer:
    """The plain peer. Use as a (sync) context manager; see the module docstring for routes.

    Args:
        ssl_context: Serve TLS with this context.
        idle_timeout: Close a keep-alive connection that stays idle this long after a response,
            without announcing it (no ``Connection: close``), as servers with a keep-alive
            timeout do.
    """

    def __init__(
        self, ssl_context: ssl.SSLContext | None = None, *, idle_timeout: float | None = None
    ) -> None:
        self._ssl = ssl_context
        self._idle_timeout = idle_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()
        self._counters = _Counters()
        self._gate = threading.Event()
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Self:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._gate.set()
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", 0, ssl=self._ssl, backlog=4096, limit=HEAD_LIMIT
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        await self._server.wait_closed()

    # ------------------------------------------------------------------ observations
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https`` when serving TLS)."""
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.base_url + path

    @property
    def accepted(self) -> int:
        """How many TCP connections the server has accepted so far."""
        with self._lock:
            return self._counters.accepted

    @property
    def open_connections(self) -> int:
        """How many accepted connections the server still holds."""
        with self._lock:
            return self._counters.open

    @property
    def stream_bytes(self) -> int:
        """Bytes the ``/infinite`` route has handed to the kernel, across all streams."""
        with self._lock:
            return self._counters.stream_bytes

    @property
    def streams_ended_by_client(self) -> int:
        """How many ``/infinite`` streams ended because the client went away."""
        with self._lock:
            return self._counters.streams_ended_by_client

    @property
    def requests(self) -> list[Received]:
        """Every request received so far, in arrival order."""
        with self._lock:
            return list(self._counters.requests)

    def open_gate(self) -> None:
        """Let a ``/chunks?gate=1`` response continue after its first chunk."""
        self._gate.set()

    # ------------------------------------------------------------------ connection loop
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self._counters.accepted += 1
            self._counters.open += 1
        try:
            if await self._one_request(reader, writer):
                while await self._one_request(reader, writer, self._idle_timeout):
                    pass
        except (_Hangup, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()  # flushes what is buffered, then FIN (or TLS close_notify)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()
            with self._lock:
                self._counters.open -= 1
            self._tasks.discard(task)

    async def _one_request(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        idle_timeout: float | None = None,
    ) -> bool:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), idle_timeout)
        except asyncio.IncompleteReadError:
            return False  # the client closed an idle keep-alive connection
        except TimeoutError:
            return False  # our keep-alive timeout: hang up, unannounced
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = [
            (name.strip(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        ]
        received = Received(method, target, headers, b"")
        path = urlsplit(target).path
        query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        if path != "/stall-request":
            length = int(received.header("content-length") or 0)
            received.body = await reader.readexactly(length) if length else b""
        with self._lock:
            self._counters.requests.append(received)
        if method == "CONNECT":
            await _tunnel(target, reader, writer)
            return False
        await self._route(path, query, received, writer)
        return (received.header("connection") or "").lower() != "close"

    async def _route(
        self, path: str, query: dict[str, str], req: Received, writer: asyncio.StreamWriter
    ) -> None:
        if path == "/echo":
            extra = [
                ("x-method", req.method),
                ("x-target", req.target),
                ("x-body-length", str(len(req.body))),
            ]
            await _respond(writer, 200, req.body, extra)
        elif path.startswith("/status/"):
            code = int(path.removeprefix("/status/"))
            extra = [("x-multi", "a"), ("x-multi", "b"), ("content-type", "text/plain")]
            await _respond(writer, code, f"status {code}".encode(), extra)
        elif path == "/gzip":
            body = gzip.compress(pattern(int(query["size"])))
            await _respond(writer, 200, body, [("content-encoding", "gzip")])
        elif path == "/set-cookie":
            await _respond(writer, 200, b"cookie set", [("set-cookie", "session=abc; Path=/")])
        elif path == "/chunks":
            await self._chunks(writer, query)
        elif path == "/large":
            await _large(writer, int(query["size"]), chunked=query.get("chunked") == "1")
        elif path == "/declared":
            writer.write(_head(200, [("content-length", query["size"])]) + b"x" * 10)
            await writer.drain()
            await asyncio.sleep(30)  # never finish; the client must refuse or time out
            raise _Hangup
        elif path == "/sleep-headers":
            await asyncio.sleep(float(query["seconds"]))
            await _respond(writer, 200, b"slept")
        elif path == "/sleep-body":
            writer.write(_head(200, [("content-length", "10")]) + b"01234")
            await writer.drain()
            await asyncio.sleep(float(query["seconds"]))
            writer.write(b"56789")
            await writer.drain()
        elif path == "/truncate":
            await _truncate(writer, chunked=query.get("chunked") == "1")
        elif path == "/infinite":
            await self._infinite(writer, int(query.get("size", "16384")), query.get("delay"))
        elif path == "/stall-request":
            await asyncio.sleep(30)
            raise _Hangup
        elif path == "/raw":
            writer.write(bytes.fromhex(query["hex"]))
            await writer.drain()
            raise _Hangup
        else:
            await _respond(writer, 404, b"no such route")

    async def _chunks(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> None:
        count, size = int(query.get("n", "5")), int(query.get("size", "10"))
        delay = float(query.get("delay", "0"))
        writer.write(_head(200, [("transfer-encoding", "chunked")]))
        for index in range(count):
            if index == 1 and query.get("gate") == "1":
                # Wait (off the loop) until the test has seen chunk 0: proves no buffering.
                await asyncio.to_thread(self._gate.wait, 10)
            elif index and delay:
                await asyncio.sleep(delay)
            writer.write(_chunk(bytes([65 + index % 26]) * size))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _infinite(self, writer: asyncio.StreamWriter, size: int, delay: str | None) -> None:
        writer.write(_head(200, [("transfer-encoding", "chunked")]))
        piece = _chunk(PATTERN[:size])
        pause = float(delay or 0)
        try:
            while True:
                writer.write(piece)
                await writer.drain()
                with self._lock:
                    self._counters.stream_bytes += size
                if pause:
                    await asyncio.sleep(pause)
        except ConnectionError:
            with self._lock:
                self._counters.streams_ended_by_client += 1
            raise


async def _tunnel(target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    host, _, port = target.rpartition(":")
    try:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
    except OSError:
        writer.write(_head(502, [("content-length", "0")]))
        await writer.drain()
        return
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await writer.drain()

    async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()

    try:
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
    finally:
        up_writer.close()


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
) -> None:
    all_headers = [*(headers or []), ("content-length", str(len(body)))]
    writer.write(_head(status, all_headers) + body)
    await writer.drain()


async def _large(writer: asyncio.StreamWriter, size: int, *, chunked: bool) -> None:
    framing = ("transfer-encoding", "chunked") if chunked else ("content-length", str(size))
    writer.write(_head(200, [framing]))
    for start in range(0, size, len(PATTERN)):
        piece = PATTERN[: min(len(PATTERN), size - start)]
        writer.write(_chunk(piece) if chunked else piece)
        await writer.drain()
    if chunked:
        writer.write(b"0\r\n\r\n")
    await writer.drain()


async def _truncate(writer: asyncio.StreamWriter, *, chunked: bool) -> None:
    if chunked:
        writer.write(_head(200, [("transfer-encoding", "chunked")]) + _chunk(b"partial"))
    else:
        writer.write(_head(200, [("content-length", "100")]) + b"partial")
    await writer.drain()
    await asyncio.sleep(0.05)  # let the partial body reach the client before the hang-up
    raise _Hangup


@contextlib.contextmanager
def plain_server(ssl_context: ssl.SSLContext | None = None) -> Iterator[PlainServer]:
    """Run a :class:`PlainServer` for the duration of the block."""
    with PlainServer(ssl_context) as server:
        yield server
