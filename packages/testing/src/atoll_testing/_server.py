"""FakeLLMServer: lifecycle (its own asyncio loop in a thread), addresses, log and counters.

Requests are answered by a :class:`Dispatcher` built from the server's dialects.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from ._cases import Case, load_cases
from ._dialect import ServerDialect, check_dialect
from ._dispatch import Dispatcher, Model
from ._exceptions import DialectError, ServerStartError
from ._faults import Fault
from ._http import HttpProtocol
from ._log import RecordedRequest
from ._recorder import Recorder
from ._registry import registered_server_dialects

__all__ = ("FakeLLMServer", "Model")


class FakeLLMServer:
    """A real HTTP/1.1 server on 127.0.0.1 speaking LLM provider APIs.

    Out of the box it speaks OpenAI chat and Anthropic Messages; any other
    :class:`ServerDialect` can be given or registered.

    It runs its own asyncio loop in a background thread, so tests on asyncio, trio or plain
    threads can all use it. Start it with ``async with FakeLLMServer() as srv``, with
    ``with FakeLLMServer().run_in_thread() as srv``, or :meth:`start` / :meth:`stop`.

    Args:
        models: Extra models by name: a callable ``(ChatInput) -> Turn`` (for example a
            :class:`Script`) or a :class:`Replay`. ``echo`` and ``stream-N`` are built in.
        api_key: When set, each request must carry it in its dialect's own auth header
            (OpenAI: ``Authorization: Bearer``; Anthropic: ``x-api-key``); a missing or wrong
            key, or a key in another dialect's header, gets that dialect's 401.
        cases: Case files or folders; each case answers the model named like its file stem
            and the ``x-atoll-replay: <stem>`` header on any path.
        recorder: Proxy every request to an upstream and record it (see :class:`Recorder`).
        host: Address to bind (keep the default, 127.0.0.1, in tests).
        port: Port to bind, 0 to 65535 (0 picks a free one).
        log_limit: How many requests the log keeps (oldest dropped first).
        embedding_dimensions: Default embedding size when a request gives no ``dimensions``.
        dialects: The dialects to speak, in order; the first answers unrouted requests.
            Default: :func:`registered_server_dialects` (OpenAI chat, Anthropic Messages and
            any registered since).

    Raises:
        ServerStartError: ``port`` is not an integer from 0 to 65535.
        DialectError: No dialect is given, or two dialects answer the same route.

    Attributes:
        models: The extra models; add or replace entries while the server runs.
        cases: Loaded cases by name.
        recorder: The recorder, if any.
        host: The bound address.
        embedding_dimensions: Default embedding size.
    """

    def __init__(
        self,
        *,
        models: Mapping[str, Model] | None = None,
        api_key: str | None = None,
        cases: str | Path | Iterable[str | Path] | None = None,
        recorder: Recorder | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_limit: int = 10_000,
        embedding_dimensions: int = 8,
        dialects: Iterable[ServerDialect] | None = None,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ServerStartError(
                f"port must be an integer from 0 to 65535, got {port!r}", host=host, port=port
            )
        chosen = registered_server_dialects() if dialects is None else tuple(dialects)
        if not chosen:
            raise DialectError("<none>", "a server needs at least one dialect")
        self.models: dict[str, Model] = dict(models or {})
        self.cases: dict[str, Case] = load_cases(cases) if cases is not None else {}
        self.recorder = recorder
        self.host = host
        self.embedding_dimensions = embedding_dimensions
        self._port = port
        self._bound_port = 0
        self._dispatch = Dispatcher(self, [check_dialect(d) for d in chosen], api_key, log_limit)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._connections: set[HttpProtocol] = set()
        self._opened = [0]  # connections accepted; a list so the protocol can bump it

    def __repr__(self) -> str:  # the api key never appears here
        state = f"url={self.url!r}" if self._bound_port else "stopped"
        return f"FakeLLMServer({state}, models={sorted(self.models)})"

    # ---- addresses and assertions -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (0 before start)."""
        return self._bound_port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (the Anthropic SDK's ``base_url``)."""
        return f"http://{self.host}:{self._bound_port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1`` (the OpenAI SDK's ``base_url``)."""
        return self.url + "/v1"

    @property
    def dialects(self) -> tuple[ServerDialect, ...]:
        """The dialects this server speaks, in order."""
        return self._dispatch.dialects

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the request log, oldest first."""
        with self._dispatch.lock:
            return list(self._dispatch.log)

    @property
    def counts(self) -> dict[str, int]:
        """Requests served per model (chat and embeddings)."""
        with self._dispatch.lock:
            return dict(self._dispatch.counts)

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far (to check a client's keep-alive pooling)."""
        return self._opened[0]

    @property
    def open_connections(self) -> int:
        """TCP connections open right now."""
        return len(self._connections)

    def clear(self) -> None:
        """Forget logged requests, counters (connections too) and injected faults."""
        dispatch = self._dispatch
        with dispatch.lock:
            self._opened[0] = 0
            dispatch.log.clear()
            dispatch.counts.clear()
            dispatch.injected.clear()

    def inject(self, fault: Fault | str, *, times: int = 1) -> None:
        """Apply a fault to the next ``times`` requests (after that, normal answers).

        Args:
            fault: A :class:`Fault` or its compact text, e.g. ``"status=429; retry-after=0"``.
            times: How many requests it applies to.
        """
        self._dispatch.inject(Fault.parse(fault) if isinstance(fault, str) else fault, times)

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving in a background thread; returns once the port is bound.

        Raises:
            ServerStartError: The server could not start (address in use, bad host, ...);
                the underlying error is its ``__cause__``.
        """
        if self._thread is not None:
            raise ServerStartError("already started", host=self.host, port=self._port)
        self._ready.clear()
        self._start_error = None
        thread = threading.Thread(target=self._run, name="atoll-fake-llm", daemon=True)
        self._thread = thread
        thread.start()
        # Binding takes milliseconds; a thread that dies first has set its error (or crashed).
        while not self._ready.wait(0.05) and thread.is_alive():
            pass
        error = self._failure()
        if error is not None or not self._bound_port:
            thread.join(1)
            self._thread = None
            if error is None:
                message = "the server thread ended before binding"
            elif isinstance(error, OSError):
                message = str(error)
            else:
                message = f"{type(error).__name__}: {error}"
            raise ServerStartError(message, host=self.host, port=self._port) from error

    def _failure(self) -> BaseException | None:
        # A method, not the attribute: the server thread sets it while start() waits.
        return self._start_error

    def stop(self) -> None:
        """Stop serving and drop open connections (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None
        self._bound_port = 0

    def serve_forever(self) -> None:
        """Start (unless started) and block until interrupted (the ``serve`` command)."""
        if self._thread is None:
            self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def run_in_thread(self) -> _Running:
        """A context manager for sync code: ``with srv.run_in_thread() as srv: ...``."""
        return _Running(self)

    async def __aenter__(self) -> FakeLLMServer:
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
                loop.create_server(
                    lambda: HttpProtocol(self._dispatch.handle, self._connections, self._opened),
                    self.host,
                    self._port,
                    backlog=1024,
                )
            )
        except Exception as exc:  # any failure to bind is the caller's error, raised by start()
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
            for conn in list(self._connections):
                conn.abort()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


class _Running:
    """``with server.run_in_thread() as srv``: start on enter, stop on exit."""

    def __init__(self, server: FakeLLMServer) -> None:
        self._server = server

    def __enter__(self) -> FakeLLMServer:
        self._server.start()
        return self._server

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop()
