"""FakeLLMServer: lifecycle (own loop in a thread), routing, auth, faults, log and counters."""

from __future__ import annotations

import asyncio
import email.utils
import hmac
import itertools
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Iterable, Mapping
from pathlib import Path
from types import TracebackType

import msgspec

from . import _anthropic, _openai
from ._cases import Case, Replay, load_cases
from ._endpoints import decode_embedding_request, embeddings, model_entry, model_list
from ._exceptions import AtollTestingError, FaultSyntaxError, ServerStartError
from ._faults import Fault, ratelimit_headers
from ._http import HttpProtocol, Request
from ._inputs import ChatInput, parse_anthropic, parse_openai
from ._log import RecordedRequest
from ._log import record as log_entry
from ._recorder import Recorder
from ._reply import JSON, Reply
from ._script import ModelFn, Turn, echo, stream_model

_STREAM_N = re.compile(r"^stream-(\d{1,6})$")  # up to 999,999 events (~235 MB of SSE)
Model = ModelFn | Replay


class FakeLLMServer:
    """A real HTTP/1.1 server on 127.0.0.1 speaking OpenAI chat and Anthropic Messages.

    It runs its own asyncio loop in a background thread, so tests on asyncio, trio or plain
    threads can all use it. Start it with ``async with FakeLLMServer() as srv``, with
    ``with FakeLLMServer().run_in_thread() as srv``, or :meth:`start` / :meth:`stop`.

    Args:
        models: Extra models by name: a callable ``(ChatInput) -> Turn`` (for example a
            :class:`Script`) or a :class:`Replay`. ``echo`` and ``stream-N`` are built in.
        api_key: When set, requests must carry it as ``Authorization: Bearer`` or
            ``x-api-key``; others get the provider-shaped 401.
        cases: Case files or folders; each case answers the model named like its file stem
            and the ``x-atoll-replay: <stem>`` header on any path.
        recorder: Proxy every request to an upstream and record it (see :class:`Recorder`).
        host: Address to bind (keep the default, 127.0.0.1, in tests).
        port: Port to bind (0 picks a free one).
        log_limit: How many requests the log keeps (oldest dropped first).
        embedding_dimensions: Default embedding size when a request gives no ``dimensions``.

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
    ) -> None:
        self.models: dict[str, Model] = dict(models or {})
        self._api_key = api_key
        self.cases: dict[str, Case] = load_cases(cases) if cases is not None else {}
        self.recorder = recorder
        self.host = host
        self._port = port
        self._bound_port = 0
        self.embedding_dimensions = embedding_dimensions
        self._log: deque[RecordedRequest] = deque(maxlen=log_limit)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._injected: deque[Fault] = deque()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._connections: set[HttpProtocol] = set()
        self._opened = [0]  # connections accepted; a list so the protocol can bump it
        # The record of the request being handled (handling is single-threaded, on the loop).
        self._current = RecordedRequest(method="", path="")

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
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def counts(self) -> dict[str, int]:
        """Requests served per model (chat and embeddings)."""
        with self._lock:
            return dict(self._counts)

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
        with self._lock:
            self._opened[0] = 0
            self._log.clear()
            self._counts.clear()
            self._injected.clear()

    def inject(self, fault: Fault | str, *, times: int = 1) -> None:
        """Apply a fault to the next ``times`` requests (after that, normal answers).

        Args:
            fault: A :class:`Fault` or its compact text, e.g. ``"status=429; retry-after=0"``.
            times: How many requests it applies to.
        """
        parsed = Fault.parse(fault) if isinstance(fault, str) else fault
        with self._lock:
            self._injected.extend([parsed] * times)

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving in a background thread; returns once the port is bound.

        Raises:
            ServerStartError: The address could not be bound.
        """
        if self._thread is not None:
            raise ServerStartError("already started", host=self.host, port=self._port)
        self._ready.clear()
        self._start_error = None
        self._thread = threading.Thread(target=self._run, name="atoll-fake-llm", daemon=True)
        self._thread.start()
        self._ready.wait(10)  # binding takes a few milliseconds
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
                    lambda: HttpProtocol(self._handle, self._connections, self._opened),
                    self.host,
                    self._port,
                    backlog=1024,
                )
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
            for conn in list(self._connections):
                conn.abort()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    # ---- request handling (server thread) -----------------------------------------------------

    def _handle(self, request: Request) -> Reply | Awaitable[Reply]:
        path = request.path
        anthropic = path.endswith("/messages") or path.endswith("/count_tokens")
        record = log_entry(request.method, path, request.query, request.headers, request.body)
        with self._lock:
            self._log.append(record)
        self._current = record
        if self.recorder is not None:
            return self.recorder.forward(request)
        if self._api_key is not None and not self._authorized(request.headers):
            return _auth_error(anthropic, request.headers)
        try:
            fault = self._fault_for(request)
        except FaultSyntaxError as exc:
            return _error(anthropic, 400, f"x-atoll-fault: {exc}")
        reply = self._route(request, anthropic, fault)
        if fault is None:
            return reply
        return _apply_fault(reply, fault, anthropic)

    def _authorized(self, headers: dict[str, str]) -> bool:
        key = headers.get("x-api-key")
        if key is None:
            scheme, _, key = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer":
                return False
        expected = self._api_key or ""
        return hmac.compare_digest(key.strip().encode(), expected.encode())

    def _fault_for(self, request: Request) -> Fault | None:
        spec = request.headers.get("x-atoll-fault")
        if spec is not None:
            return Fault.parse(spec)
        if self._injected:
            with self._lock:
                if self._injected:
                    return self._injected.popleft()
        return None

    def _route(self, request: Request, anthropic: bool, fault: Fault | None) -> Reply:
        path, method = request.path, request.method
        replay = request.headers.get("x-atoll-replay")
        if replay is not None:
            case = self.cases.get(replay)
            if case is None:
                return _error(anthropic, 404, f"x-atoll-replay: no case named {replay!r}")
            return case.reply()
        if method == "POST":
            if path.endswith("/chat/completions"):
                return self._chat(request, False, fault)
            if path.endswith("/messages"):
                return self._chat(request, True, fault)
            if path.endswith("/messages/count_tokens"):
                return self._count_tokens(request)
            if path.endswith("/embeddings"):
                return self._embeddings(request)
        elif method == "GET":
            is_anthropic = "anthropic-version" in request.headers
            if path.endswith("/models"):
                return model_list(self._model_names(), is_anthropic)
            head, _, name = path.rpartition("/")
            if head.endswith("/models"):
                if self._lookup(name) is None:
                    return _error(is_anthropic, 404, f"The model '{name}' does not exist")
                return model_entry(name, is_anthropic)
        return _error(anthropic, 404, f"no route for {method} {path}")

    def _model_names(self) -> list[str]:
        return ["echo", "stream-200", *sorted(self.models), *sorted(self.cases)]

    def _lookup(self, name: str) -> Model | Case | None:
        found = self.models.get(name)
        if found is not None:
            return found
        case = self.cases.get(name)
        if case is not None:
            return case
        if name == "echo":
            return echo
        match = _STREAM_N.match(name)
        return stream_model(int(match.group(1))) if match else None

    def _chat(self, request: Request, anthropic: bool, fault: Fault | None) -> Reply:
        try:
            chat = parse_anthropic(request.body) if anthropic else parse_openai(request.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return _error(anthropic, 400, f"invalid request body: {exc}")
        self._current.model = chat.model
        model = self._lookup(chat.model)
        if model is None:
            return _error(anthropic, 404, f"The model `{chat.model}` does not exist")
        with self._lock:
            self._counts[chat.model] += 1
        if fault is not None and fault.is_error:
            return Reply(200, JSON)  # replaced by the fault's error; the model is not consulted
        if isinstance(model, Case):
            return model.reply()
        if isinstance(model, Replay):
            return model.pick(request.body).reply()
        try:
            turn = model(chat)
        except AtollTestingError as exc:
            return _error(anthropic, 500, f"atoll_testing: {exc}")
        return self._render(turn, chat, anthropic, fault)

    def _render(self, turn: Turn, chat: ChatInput, anthropic: bool, fault: Fault | None) -> Reply:
        n = next(self._ids)
        created = int(time.time())
        if anthropic:
            rid = f"msg_atoll{n:010d}"
            reply = (_anthropic.stream if chat.stream else _anthropic.message)(
                turn, chat, rid, created
            )
            reply.headers.append(("request-id", f"req_atoll{n:010d}"))
        else:
            rid = f"chatcmpl-atoll{n:010d}"
            reply = (_openai.stream if chat.stream else _openai.completion)(
                turn, chat, rid, created
            )
            reply.headers.append(("x-request-id", f"req_atoll{n:010d}"))
        if fault is None and turn.fault is not None:
            reply.fault = Fault.parse(turn.fault)
            return _apply_fault(reply, reply.fault, anthropic)
        return reply

    def _count_tokens(self, request: Request) -> Reply:
        try:
            chat = parse_anthropic(request.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return _error(True, 400, f"invalid request body: {exc}")
        return Reply(200, JSON, b'{"input_tokens":%d}' % chat.input_tokens)

    def _embeddings(self, request: Request) -> Reply:
        try:
            model, texts, dims, encoding = decode_embedding_request(request.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return _error(False, 400, f"invalid request body: {exc}")
        self._current.model = model
        if encoding not in ("float", "base64"):
            return _error(
                False, 400, f"encoding_format must be 'float' or 'base64', not {encoding!r}"
            )
        with self._lock:
            self._counts[model] += 1
        return embeddings(model, texts, dims or self.embedding_dimensions, encoding)


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


def _error(anthropic: bool, status: int, message: str, error_type: str | None = None) -> Reply:
    if anthropic:
        return Reply(status, JSON, _anthropic.error_body(status, message, error_type))
    return Reply(status, JSON, _openai.error_body(status, message, error_type))


def _auth_error(anthropic: bool, headers: dict[str, str]) -> Reply:
    if anthropic:
        has_key = "x-api-key" in headers or "authorization" in headers
        message = "invalid x-api-key" if has_key else "x-api-key header is required"
        return _error(True, 401, message)
    # Never echo the presented key, not even masked: logs of failing tests end up in CI output.
    return _error(
        False, 401, "Incorrect API key provided. You can find your API key in your settings."
    )


def _apply_fault(reply: Reply, fault: Fault, anthropic: bool) -> Reply:
    if fault.is_error:
        assert fault.status is not None
        default = _default_message(fault.status)
        replaced = _error(anthropic, fault.status, fault.message or default, fault.error_type)
        replaced.headers = [h for h in reply.headers if h[0].endswith("request-id")]
        reply = replaced
    elif fault.error_type is not None or fault.message is not None:
        # Shapes the mid-stream error event instead of an HTTP error.
        dialect = _anthropic if anthropic else _openai
        reply.error_event = dialect.error_event(fault.message or "stream error", fault.error_type)
    headers = reply.headers
    if fault.retry_after is not None:
        value = fault.retry_after
        headers.append(("retry-after", str(int(value)) if value == int(value) else str(value)))
    if fault.retry_after_date is not None:
        headers.append(
            (
                "retry-after",
                email.utils.formatdate(time.time() + fault.retry_after_date, usegmt=True),
            )
        )
    if fault.retry_after_ms is not None:
        headers.append(("retry-after-ms", str(fault.retry_after_ms)))
    if fault.should_retry is not None:
        headers.append(("x-should-retry", "true" if fault.should_retry else "false"))
    headers.extend(ratelimit_headers(fault, "anthropic" if anthropic else "openai"))
    headers.extend(fault.headers)
    reply.fault = fault
    return reply


def _default_message(status: int) -> str:
    return {
        429: "Rate limit reached for requests",
        500: "The server had an error while processing your request.",
        502: "Bad gateway.",
        503: "The service is temporarily unavailable.",
        529: "Overloaded",
    }.get(status, f"injected error {status}")
