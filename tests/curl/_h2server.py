"""A small HTTP/2-over-TLS server on 127.0.0.1 (h2 library, own asyncio loop, own thread).

ALPN offers only ``h2``, so a client that connects speaks HTTP/2. Routes:

- ``/echo``: 200 with the request body back and ``x-stream-id``.
- ``/infinite``: an endless body of ``PATTERN`` bytes, sent as fast as flow control allows.

It counts accepted connections, streams the client reset (RST_STREAM) and bytes pushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from types import TracebackType
from typing import Self

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from tests.curl._server import PATTERN


class H2Server:
    """Run with ``with H2Server(context) as srv:``; the context must hold a certificate."""

    def __init__(self, context: ssl.SSLContext) -> None:
        context.set_alpn_protocols(["h2"])
        self._context = context
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._lock = threading.Lock()
        self.port = 0
        self.accepted = 0
        self.resets = 0
        self.pushed = 0

    def __enter__(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await self._loop.create_server(
            lambda: _H2Protocol(self), "127.0.0.1", 0, ssl=self._context
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in asyncio.all_tasks(self._loop):
            if task is not asyncio.current_task():
                task.cancel()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def count(self, name: str) -> int:
        with self._lock:
            return int(getattr(self, name))

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)


class _H2Protocol(asyncio.Protocol):
    def __init__(self, server: H2Server) -> None:
        self._server = server
        self._conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self._transport: asyncio.Transport | None = None
        self._requests: dict[int, tuple[dict[str, str], bytearray]] = {}
        self._senders: dict[int, asyncio.Task[None]] = {}
        self._window_open = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.add("accepted")
        self._conn.initiate_connection()
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        for task in self._senders.values():
            task.cancel()

    def _flush(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(self._conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        try:
            events = self._conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()
            if self._transport is not None:
                self._transport.close()
            return
        for event in events:
            self._handle(event)
        self._flush()

    def _handle(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            headers = {str(k): str(v) for k, v in event.headers or []}
            self._requests[event.stream_id or 0] = (headers, bytearray())
        elif isinstance(event, h2.events.DataReceived):
            stream_id = event.stream_id or 0
            self._requests[stream_id][1].extend(event.data or b"")
            self._conn.acknowledge_received_data(event.flow_controlled_length or 0, stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self._respond(event.stream_id or 0)
        elif isinstance(event, h2.events.StreamReset):
            self._server.add("resets")
            task = self._senders.pop(event.stream_id or 0, None)
            if task is not None:
                task.cancel()
        elif isinstance(event, h2.events.WindowUpdated):
            self._window_open.set()

    def _respond(self, stream_id: int) -> None:
        headers, body = self._requests.pop(stream_id)
        path = headers.get(":path", "/")
        if path == "/echo":
            self._conn.send_headers(
                stream_id,
                [
                    (":status", "200"),
                    ("content-length", str(len(body))),
                    ("x-stream-id", str(stream_id)),
                ],
            )
            self._conn.send_data(stream_id, bytes(body), end_stream=True)
        elif path == "/infinite":
            self._conn.send_headers(stream_id, [(":status", "200")])
            self._senders[stream_id] = asyncio.ensure_future(self._infinite(stream_id))
        else:
            self._conn.send_headers(stream_id, [(":status", "404")], end_stream=True)

    async def _infinite(self, stream_id: int) -> None:
        offset = 0
        with contextlib.suppress(h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            while True:
                window = min(
                    self._conn.local_flow_control_window(stream_id),
                    self._conn.max_outbound_frame_size,
                )
                if window <= 0:
                    self._window_open.clear()
                    await self._window_open.wait()
                    continue
                size = min(window, len(PATTERN) - offset)
                self._conn.send_data(stream_id, PATTERN[offset : offset + size])
                offset = (offset + size) % len(PATTERN)
                self._server.add("pushed", size)
                self._flush()
                await asyncio.sleep(0)
