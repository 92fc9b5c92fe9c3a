"""FakeRealtimeServer: a local WebSocket server speaking OpenAI's Realtime API (GA) from scripts."""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from ._exceptions import ServerStartError
from ._realtime_protocol import RealtimeConnection
from ._realtime_script import RealtimeScript, RealtimeTurn
from ._websocket_server import (
    ServerWebSocket,
    accept_response,
    http_response,
    read_upgrade,
)

__all__ = ["FakeRealtimeServer"]


class FakeRealtimeServer:
    """A real WebSocket server on 127.0.0.1 speaking the OpenAI Realtime API (GA interface).

    ``ws://127.0.0.1:<port>/v1/realtime?model=...`` serves scripted sessions: text deltas,
    audio deltas of a generated tone with transcripts, tool calls, errors and faults (a dropped
    connection, a close code). It runs its own asyncio loop in a background thread, so tests on
    asyncio, trio or plain threads can use it. Start it with ``async with FakeRealtimeServer()
    as srv``, ``with FakeRealtimeServer().run_in_thread() as srv``, or :meth:`start` /
    :meth:`stop`; point a client at :attr:`base_url`.

    Args:
        script: The turns responses follow (a :class:`RealtimeScript`, or turns / strings).
        api_key: When set, the upgrade must carry ``Authorization: Bearer <key>``; otherwise
            the server answers HTTP 401 with OpenAI's ``invalid_api_key`` error body.
        ping_interval: Send a ping every so many seconds (the client must answer).
        host: Address to bind (keep 127.0.0.1 in tests).
        port: Port to bind (0 picks a free one).

    Attributes:
        script: The script; add turns while the server runs.
        received: Every client event, in arrival order, per connection (audio by byte count).
        handshakes: The upgrade requests' headers per connection, credentials left out.
        pongs: Pong payloads received, all connections together.
    """

    def __init__(
        self,
        script: RealtimeScript | Iterable[RealtimeTurn | str] | None = None,
        *,
        api_key: str | None = None,
        ping_interval: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.script = script if isinstance(script, RealtimeScript) else RealtimeScript(script or ())
        self._api_key = api_key
        self._ping_interval = ping_interval
        self.host = host
        self._port = port
        self._bound_port = 0
        self._lock = threading.Lock()
        self.received: list[list[dict[str, Any]]] = []
        self.handshakes: list[dict[str, str]] = []
        self.pongs: list[bytes] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._sockets: set[ServerWebSocket] = set()

    def __repr__(self) -> str:  # the api key never appears here
        state = f"url={self.base_url!r}" if self._bound_port else "stopped"
        return f"FakeRealtimeServer({state}, turns_left={len(self.script)})"

    @property
    def port(self) -> int:
        """The bound port (0 before start)."""
        return self._bound_port

    @property
    def base_url(self) -> str:
        """``ws://127.0.0.1:<port>/v1``, the API root a realtime client appends ``/realtime`` to."""
        return f"ws://{self.host}:{self._bound_port}/v1"

    @property
    def connections_opened(self) -> int:
        """WebSocket sessions accepted so far."""
        with self._lock:
            return len(self.received)

    def event_types(self, connection: int = -1) -> list[str]:
        """The types of the client events one connection sent (default: the latest)."""
        with self._lock:
            events = list(self.received[connection]) if self.received else []
        return [str(e.get("type")) for e in events]

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start serving in a background thread; returns once the port is bound.

        Raises:
            ServerStartError: The address could not be bound.
        """
        if self._thread is not None:
            raise ServerStartError("already started", host=self.host, port=self._port)
        self._ready.clear()
        self._start_error = None
        self._thread = threading.Thread(target=self._run, name="atoll-fake-realtime", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._start_error is not None or not self._bound_port:
            self._thread.join(1)
            self._thread = None
            raise ServerStartError(str(self._start_error), host=self.host, port=self._port)

    def stop(self) -> None:
        """Stop serving and drop open connections (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None
        self._bound_port = 0

    def run_in_thread(self) -> _Running:
        """A context manager for sync code: ``with srv.run_in_thread() as srv: ...``."""
        return _Running(self)

    async def __aenter__(self) -> FakeRealtimeServer:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # this thread's own loop; the caller's loop is untouched
        self._loop = loop
        try:
            server = loop.run_until_complete(
                asyncio.start_server(self._serve, self.host, self._port, backlog=128)
            )
        except OSError as exc:
            self._start_error = exc
            self._ready.set()
            loop.close()
            return
        self._bound_port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            for ws in list(self._sockets):
                ws.drop()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    # ------------------------------------------------------------------ connections

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upgrade = await read_upgrade(reader)
        if upgrade is None:
            return
        refusal = self._refusal(upgrade.path, upgrade.query, upgrade.headers, upgrade.is_websocket)
        if refusal is not None:
            writer.write(refusal)
            await writer.drain()
            return
        writer.write(accept_response(upgrade.headers["sec-websocket-key"]))
        ws = ServerWebSocket(reader, writer)
        log: list[dict[str, Any]] = []
        with self._lock:
            self.received.append(log)
            self.handshakes.append(
                {
                    k: v
                    for k, v in upgrade.headers.items()
                    if k not in ("authorization", "sec-websocket-key")
                }
            )

        def record(event: dict[str, Any]) -> None:
            with self._lock:
                log.append(event)

        conn = RealtimeConnection(ws, upgrade.query["model"], self.script, record)
        self._sockets.add(ws)
        pinger = asyncio.ensure_future(self._ping(ws)) if self._ping_interval else None
        try:
            await conn.run()
        finally:
            self._sockets.discard(ws)
            self.pongs.extend(ws.pongs)
            if pinger is not None:
                pinger.cancel()
            if not ws.closed:
                await ws.close(1000)

    def _refusal(
        self, path: str, query: dict[str, str], headers: dict[str, str], is_websocket: bool
    ) -> bytes | None:
        if not is_websocket:
            return http_response(
                426, "Upgrade Required", _error("Expected a WebSocket upgrade.", None)
            )
        if path not in ("/v1/realtime", "/realtime"):
            return http_response(404, "Not Found", _error(f"No realtime endpoint at {path}", None))
        if self._api_key is not None:
            scheme, _, key = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                key.strip().encode(), self._api_key.encode()
            ):
                return http_response(401, "Unauthorized", _auth_error(key.strip()))
        if not query.get("model"):
            return http_response(
                400, "Bad Request", _error("Missing required parameter: 'model'.", "missing_model")
            )
        return None

    async def _ping(self, ws: ServerWebSocket) -> None:
        n = 0
        while not ws.closed:
            await asyncio.sleep(self._ping_interval or 1)
            n += 1
            ws.send_frame(0x9, f"ping-{n}".encode())
            await ws.drain()


class _Running:
    """``with server.run_in_thread() as srv``: start on enter, stop on exit."""

    def __init__(self, server: FakeRealtimeServer) -> None:
        self._server = server

    def __enter__(self) -> FakeRealtimeServer:
        self._server.start()
        return self._server

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop()


def _error(message: str, code: str | None, kind: str = "invalid_request_error") -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}
    ).encode()


def _auth_error(key: str) -> bytes:
    # Shaped like OpenAI's answer, which echoes a masked key: the client must scrub it.
    shown = f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else "*****"
    message = (
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )
    return _error(message, "invalid_api_key")
