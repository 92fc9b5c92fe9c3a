"""``async with client.stream(...) as s``: events as they arrive, the whole response at the end."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import Self

import anyio
from atoll_wire import (
    AsyncTransport,
    ChatRequest,
    HttpResponse,
    SSEDecoder,
    StreamAccumulator,
    StreamError,
    StreamEvent,
    TransportError,
)
from opentelemetry import trace

from ._deadline import Deadline
from ._engine import Engine, deadline_error, interrupted
from ._exceptions import error_from_stream_error
from ._result import Attempt, ClientResponse
from ._target import Target
from ._telemetry import CallSpan


class ChatStream:
    """One streamed chat call; see ``Client.stream``.

    Attributes:
        attempts: Failed attempts so far (retries and fallbacks before the first event).
    """

    def __init__(
        self,
        engine: Engine,
        transport: AsyncTransport,
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
        self._http_response: HttpResponse | None = None
        self._accumulator = StreamAccumulator()
        self._events: AsyncGenerator[StreamEvent, None] | None = None
        self._result: ClientResponse | None = None
        self._headers: dict[str, str] = {}
        self._sent = request

    # ------------------------------------------------------------------ context manager

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            if self._events is not None:
                await self._events.aclose()
            await self._close_http()
        span = self._span
        if span is not None:
            self._span = None
            if exc is not None:
                span.fail(exc)
            else:
                span.succeed(self.response)

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._events is None:
            self._events = self._iterate()
        return self._events

    @property
    def response(self) -> ClientResponse:
        """Everything that arrived, as one response (``incomplete`` if the stream broke off)."""
        if self._result is not None:
            return self._result
        return self._engine.finish(
            self._target, self._accumulator.response(), self.attempts, self._headers
        )

    @property
    def target(self) -> Target:
        """The model currently serving this stream."""
        return self._target

    # ------------------------------------------------------------------ opening

    async def _open(self) -> None:
        """Send until a success response's headers arrive, across retries and fallbacks."""
        from ._client import send_with_retries  # the loop lives with the Client

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
                self._http_response, _ = await send_with_retries(
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

    async def _close_http(self) -> None:
        response = self._http_response
        self._http_response = None
        if response is not None:
            await response.aclose()

    # ------------------------------------------------------------------ iterating

    async def _iterate(self) -> AsyncGenerator[StreamEvent, None]:
        while True:
            delivered = False
            try:
                async for event in self._attempt_events():
                    delivered = True
                    yield event
                self._result = self.response
                return
            except (TransportError, builtins.TimeoutError) as error:
                partial = self._accumulator.response()
                if delivered or isinstance(error, builtins.TimeoutError):
                    if isinstance(error, builtins.TimeoutError) and self._deadline.expired:
                        raise deadline_error(
                            self._target, self._deadline.seconds, partial
                        ) from error
                    raise interrupted(self._target, error, partial) from error
                await self._retry_before_first_event(error)

    async def _retry_before_first_event(self, error: TransportError) -> None:
        """The body broke before any event reached the caller: it is safe to try again."""
        await self._close_http()
        engine = self._engine
        target = self._target
        decision = engine.retry.decide_connection_error(self._number, error)
        if not decision.retry or not self._deadline.allows_wait(decision.delay):
            engine.record(self.attempts, target, self._number, error)
            if engine.may_fall_back(error, self._position):
                self._position += 1
                self._number = 1
                await self._open()
                return
            final = interrupted(target, error, self._accumulator.response())
            engine.annotate(final, self.attempts)
            raise final from error
        engine.record(self.attempts, target, self._number, error, retry_in=decision.delay)
        await anyio.sleep(decision.delay)
        self._number += 1
        await self._open()

    async def _attempt_events(self) -> AsyncGenerator[StreamEvent, None]:
        response = self._http_response
        assert response is not None, "ChatStream must be entered with `async with`"
        target = self._target
        sse = SSEDecoder()
        decoder = target.dialect.stream_decoder(target.provider, target.model, request=self._sent)
        accumulator = self._accumulator
        span = self._span
        body = response.aiter_bytes()
        try:
            while True:
                chunk = await self._next_chunk(body)
                if chunk is None:
                    break
                if span is not None:
                    span.first_chunk()
                for sse_event in sse.feed(chunk):
                    for event in decoder.feed(sse_event):
                        accumulator.add(event)
                        yield event
                        if isinstance(event, StreamError):
                            raise self._stream_error(event)
            for sse_event in sse.flush():
                for event in decoder.feed(sse_event):
                    accumulator.add(event)
                    yield event
            for event in decoder.finish():
                accumulator.add(event)
                yield event
        finally:
            # aiter_bytes is an async generator behind an AsyncIterator type: close it now
            # rather than leaving it to the event loop's finaliser.
            close = getattr(body, "aclose", None)
            if close is not None:
                await close()

    async def _next_chunk(self, body: AsyncIterator[bytes]) -> bytes | None:
        left = self._deadline.remaining()
        try:
            if left is None:
                return await body.__anext__()
            with anyio.fail_after(left):
                return await body.__anext__()
        except StopAsyncIteration:
            return None

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
