"""The sync Client: the same engine as ``Client`` on a sync transport, no hidden event loop."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Self

from atoll_registry import Registry
from atoll_wire import (
    ChatRequest,
    HttpRequest,
    SSEDecoder,
    StreamAccumulator,
    StreamError,
    StreamEvent,
    SyncHttpResponse,
    SyncTransport,
    Timeout,
    TransportError,
)
from opentelemetry import trace

from ._client import make_engine
from ._deadline import Deadline
from ._dialect import Embeddings
from ._engine import Engine, deadline_error, interrupted
from ._exceptions import error_from_stream_error
from ._request import MessagesOrPrompt, build_request
from ._result import Attempt, ClientResponse
from ._retry import RetryPolicy
from ._target import Target
from ._telemetry import CallSpan, get_tracer
from ._transports import default_sync_transport


class SyncClient:
    """A blocking client with the same behaviour as ``Client``.

    It runs on a ``SyncTransport`` (default: atoll_curl's, else atoll_httpx's) in the calling
    thread; it never starts an event loop. Arguments are those of ``Client``.
    """

    def __init__(
        self,
        model: str | Sequence[str],
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: SyncTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | Timeout | None = None,
        dialect: str | None = None,
        registry: Registry | None = None,
        capture_content: bool = False,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._engine = make_engine(
            model, base_url, api_key, retry, timeout, dialect, registry or Registry.default()
        )
        self._owns_transport = transport is None
        self._transport = transport if transport is not None else default_sync_transport()
        self._tracer = get_tracer(tracer_provider)
        self._capture = capture_content

    @property
    def targets(self) -> Sequence[Target]:
        """The resolved models, in fallback order."""
        return self._engine.targets

    def __repr__(self) -> str:
        names = [t.label for t in self._engine.targets]
        return f"SyncClient(models={names!r}, transport={type(self._transport).__name__})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the transport if this client made it."""
        if self._owns_transport:
            self._transport.close()

    def chat(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        timeout: float | None = None,
        **options: Any,
    ) -> ClientResponse:
        """Send one chat call and return the whole response; see ``Client.chat``."""
        request = build_request(messages_or_prompt, options, stream=False)
        engine = self._engine
        deadline = engine.deadline(timeout)
        history: list[Attempt] = []
        for position, target in enumerate(engine.targets):
            span = CallSpan(self._tracer, "chat", target, request, capture_content=self._capture)
            try:
                sent, http = engine.http_request(target, request, deadline)
                response, body = sync_send_with_retries(
                    engine, self._transport, target, http, deadline, history, span, read=True
                )
                assert body is not None
                result = engine.finish(
                    target,
                    target.dialect.parse(body, target.provider, target.model, request=sent),
                    history,
                    response.headers,
                )
            except BaseException as error:
                span.fail(error)
                if isinstance(error, Exception) and engine.may_fall_back(error, position):
                    continue
                raise
            span.succeed(result)
            return result
        raise AssertionError("unreachable: the last target re-raises")  # pragma: no cover

    def stream(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        timeout: float | None = None,
        **options: Any,
    ) -> SyncChatStream:
        """Stream one chat call: ``with client.stream(...) as s: for event in s: ...``."""
        request = build_request(messages_or_prompt, options, stream=True)
        return SyncChatStream(
            self._engine,
            self._transport,
            request,
            self._engine.deadline(timeout),
            tracer=self._tracer,
            capture_content=self._capture,
        )

    def embed(
        self,
        inputs: str | Sequence[str],
        *,
        dimensions: int | None = None,
        timeout: float | None = None,
    ) -> Embeddings:
        """Embed texts; see ``Client.embed``."""
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        engine = self._engine
        target = engine.targets[0]
        deadline = engine.deadline(timeout)
        http = target.dialect.build_embeddings(
            texts,
            target.request_model,
            target.provider,
            target.api_key,
            target.base_url,
            dimensions=dimensions,
        )
        span = CallSpan(self._tracer, "embeddings", target, None, capture_content=False)
        try:
            _, body = sync_send_with_retries(
                engine, self._transport, target, http, deadline, [], span, read=True
            )
            assert body is not None
            result = target.dialect.parse_embeddings(body)
        except BaseException as error:
            span.fail(error)
            raise
        span.end()
        return result


def sync_send_with_retries(
    engine: Engine,
    transport: SyncTransport,
    target: Target,
    http: HttpRequest,
    deadline: Deadline,
    history: list[Attempt],
    span: CallSpan,
    *,
    read: bool,
    first_attempt: int = 1,
) -> tuple[SyncHttpResponse, bytes | None]:
    """The sync twin of ``send_with_retries``; the deadline caps each phase's timeout."""
    number = first_attempt
    while True:
        if deadline.expired:
            raise deadline_error(target, deadline.seconds, None)
        http.timeout = deadline.transport_timeout(engine.transport_timeout)
        error: BaseException
        try:
            response = transport.send(http)
            body = response.read(engine.max_response_bytes) if read else None
        except TransportError as exc:
            if deadline.expired:
                raise deadline_error(target, deadline.seconds, None) from exc
            error, decision = engine.judge_transport(target, number, exc)
        else:
            if response.status < 400:
                return response, body
            error_body = body if body is not None else _read_error_body(response)
            response.close()
            error, decision = engine.judge_status(
                target, number, response.status, response.headers, error_body
            )
        if not decision.retry or not deadline.allows_wait(decision.delay):
            engine.record(history, target, number, error)
            engine.annotate(error, history)
            raise error
        engine.record(history, target, number, error, retry_in=decision.delay)
        span.attempt_failed(number, error, decision.delay)
        time.sleep(decision.delay)
        number += 1


def _read_error_body(response: SyncHttpResponse) -> bytes:
    try:
        return response.read(1024 * 1024)
    except TransportError:
        return b""


class SyncChatStream:
    """One streamed sync chat call; see ``SyncClient.stream`` and ``ChatStream``."""

    def __init__(
        self,
        engine: Engine,
        transport: SyncTransport,
        request: ChatRequest,
        deadline: Deadline,
        *,
        tracer: trace.Tracer,
        capture_content: bool,
    ) -> None:
        self._engine = engine
        self._transport = transport
        self._request = request
        self._deadline = deadline
        self._tracer = tracer
        self._capture = capture_content
        self.attempts: list[Attempt] = []
        self._position = 0
        self._number = 1
        self._target: Target = engine.targets[0]
        self._span: CallSpan | None = None
        self._http_response: SyncHttpResponse | None = None
        self._accumulator = StreamAccumulator()
        self._result: ClientResponse | None = None
        self._headers: dict[str, str] = {}
        self._sent = request

    def __enter__(self) -> Self:
        self._open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close_http()
        span = self._span
        if span is not None:
            self._span = None
            if exc is not None:
                span.fail(exc)
            else:
                span.succeed(self.response)

    @property
    def response(self) -> ClientResponse:
        """Everything that arrived, as one response (``incomplete`` if the stream broke off)."""
        if self._result is not None:
            return self._result
        return self._engine.finish(
            self._target, self._accumulator.response(), self.attempts, self._headers
        )

    def _open(self) -> None:
        engine = self._engine
        while True:
            target = engine.targets[self._position]
            self._target = target
            span = self._span or CallSpan(
                self._tracer, "chat", target, self._request, capture_content=self._capture
            )
            self._span = span
            try:
                self._sent, http = engine.http_request(target, self._request, self._deadline)
                self._http_response, _ = sync_send_with_retries(
                    engine,
                    self._transport,
                    target,
                    http,
                    self._deadline,
                    self.attempts,
                    span,
                    read=False,
                    first_attempt=self._number,
                )
                self._headers = self._http_response.headers
                self._accumulator = StreamAccumulator(provider=target.provider.name)
                return
            except Exception as error:
                if not engine.may_fall_back(error, self._position):
                    raise
                span.fail(error)
                self._span = None
                self._position += 1
                self._number = 1

    def _close_http(self) -> None:
        response = self._http_response
        self._http_response = None
        if response is not None:
            response.close()

    def __iter__(self) -> Iterator[StreamEvent]:
        while True:
            delivered = False
            try:
                for event in self._attempt_events():
                    delivered = True
                    yield event
                self._result = self.response
                return
            except TransportError as error:
                partial = self._accumulator.response()
                if delivered:
                    raise interrupted(self._target, error, partial) from error
                self._retry_before_first_event(error)

    def _retry_before_first_event(self, error: TransportError) -> None:
        self._close_http()
        engine = self._engine
        decision = engine.retry.decide_connection_error(self._number, error)
        if not decision.retry or not self._deadline.allows_wait(decision.delay):
            engine.record(self.attempts, self._target, self._number, error)
            if engine.may_fall_back(error, self._position):
                self._position += 1
                self._number = 1
                self._open()
                return
            final = interrupted(self._target, error, self._accumulator.response())
            engine.annotate(final, self.attempts)
            raise final from error
        engine.record(self.attempts, self._target, self._number, error, retry_in=decision.delay)
        time.sleep(decision.delay)
        self._number += 1
        self._open()

    def _attempt_events(self) -> Iterator[StreamEvent]:
        response = self._http_response
        assert response is not None, "SyncChatStream must be entered with `with`"
        target = self._target
        sse = SSEDecoder()
        decoder = target.dialect.stream_decoder(target.provider, target.model, request=self._sent)
        accumulator = self._accumulator
        span = self._span
        for chunk in response.iter_bytes():
            if span is not None:
                span.first_chunk()
            for sse_event in sse.feed(chunk):
                for event in decoder.feed(sse_event):
                    accumulator.add(event)
                    yield event
                    if isinstance(event, StreamError):
                        raise self._stream_error(event)
            if self._deadline.expired:
                raise deadline_error(target, self._deadline.seconds, accumulator.response())
        for sse_event in sse.flush():
            for event in decoder.feed(sse_event):
                accumulator.add(event)
                yield event
        for event in decoder.finish():
            accumulator.add(event)
            yield event

    def _stream_error(self, event: StreamError) -> Exception:
        target = self._target
        return error_from_stream_error(
            error_type=event.type,
            message=event.message,
            status=event.status,
            code=event.code,
            provider=target.provider.name,
            model=target.request_model,
            partial=self.response,
        )
