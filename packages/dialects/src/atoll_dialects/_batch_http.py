"""The HTTP calls of a batch job, through the Client's own machinery.

Every call is an ``AttemptLoop`` driven by ``send_async``: the target's auth headers, the
client's default headers, retries with backoff on the retry policy, a span per call, and errors
typed by the target's dialect (``RateLimitError``, ``AuthenticationError``, ...). A call that
must not be repeated blindly (creating a batch) is sent once: the caller decides, after looking
at the provider, whether to send it again. Result files are streamed line by line, never read
whole.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Self

import anyio
from atoll_wire import AsyncTransport, HttpRequest, HttpResponse, TransportError
from opentelemetry import trace

from ._attempts import AttemptLoop
from ._drive import send_async
from ._engine import MAX_RESPONSE_BYTES, Engine
from ._exceptions import InvalidResponseError, StreamInterrupted
from ._retry import RetryPolicy
from ._target import Target

__all__ = ["BatchHTTP", "LineStream"]


class BatchHTTP:
    """Sends a batch job's requests for one target.

    Args:
        engine: The BatchClient's settings (its one target, retry policy, default headers).
        tracer: Where spans go.
        transport: The transport.
    """

    def __init__(self, engine: Engine, tracer: trace.Tracer, transport: AsyncTransport) -> None:
        self._engine = engine
        self._once = dataclasses.replace(engine, retry=RetryPolicy.none())
        self._tracer = tracer
        self._transport = transport

    @property
    def target(self) -> Target:
        """Where the requests go."""
        return self._engine.targets[0]

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of the client."""
        return self._engine.retry

    def _loop(self, operation: str, request: HttpRequest, *, retry: bool) -> AttemptLoop:
        engine = self._engine if retry else self._once
        defaults = engine.default_headers
        return AttemptLoop(
            engine,
            None,
            engine.deadline(None),
            operation=operation,
            tracer=self._tracer,
            build=lambda _target: HttpRequest(
                request.method, request.url, dict(request.headers), request.body
            ),
            headers=defaults or None,
        )

    async def call(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> bytes:
        """Send one request and return its (success) body.

        Args:
            operation: The span's operation (``batch.create``, ...).
            method: ``GET`` or ``POST``.
            url: The absolute URL.
            body: The body.
            headers: Headers besides auth and the client's defaults.
            retry: Retry as the client's policy says; False sends once.

        Raises:
            APIError: The provider's typed error (after retries).
            TransportError: The connection failed (after retries).
        """
        request = HttpRequest(method, url, dict(headers or {}), body)
        loop = self._loop(operation, request, retry=retry)
        _, data = await send_async(loop, self._transport, read=True)
        loop.succeeded()
        assert data is not None
        return data

    def lines(self, operation: str, url: str, headers: Mapping[str, str]) -> LineStream:
        """Stream a JSONL body line by line: ``async with http.lines(...) as lines``."""
        request = HttpRequest("GET", url, dict(headers))
        return LineStream(self._loop(operation, request, retry=True), self._transport)


class LineStream:
    """The lines of one streamed JSONL response (blank lines skipped), closed on exit.

    The request is retried until the response starts; a body that breaks off after that raises
    ``StreamInterrupted`` (reading the results again starts them over).
    """

    def __init__(self, loop: AttemptLoop, transport: AsyncTransport) -> None:
        self._loop = loop
        self._transport = transport
        self._response: HttpResponse | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._ready: deque[bytes] = deque()
        self._pending = bytearray()
        self._done = False

    async def __aenter__(self) -> Self:
        self._response, _ = await send_async(self._loop, self._transport, read=False)
        self._chunks = self._response.aiter_bytes()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        chunks, self._chunks = self._chunks, None
        response, self._response = self._response, None
        with anyio.CancelScope(shield=True):
            close = getattr(chunks, "aclose", None)
            if close is not None:  # now, not in a finaliser (trio warns about that)
                await close()
            if response is not None and not response.closed:
                await response.aclose()
        if exc is None:
            self._loop.succeeded()
        else:
            self._loop.abandon(exc)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        while not self._ready:
            if self._done:
                raise StopAsyncIteration
            await self._read()
        return self._ready.popleft()

    async def _read(self) -> None:
        chunks = self._chunks
        assert chunks is not None, "use `async with` first"
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            self._done = True
            if self._pending.strip():
                self._ready.append(bytes(self._pending))
            self._pending = bytearray()
            return
        except TransportError as exc:
            target = self._loop.target
            raise StreamInterrupted(
                f"the results download broke off: {exc}",
                provider=target.provider.name,
                model=target.request_model,
            ) from exc
        pending = self._pending
        pending += chunk
        if b"\n" not in chunk:  # a long line: keep gathering (bytearray: no quadratic copies)
            if len(pending) > MAX_RESPONSE_BYTES:
                raise self._too_long()
            return
        *complete, rest = bytes(pending).split(b"\n")
        self._pending = bytearray(rest)
        self._ready.extend(line for line in complete if line.strip())

    def _too_long(self) -> InvalidResponseError:
        target = self._loop.target
        return InvalidResponseError(
            f"a results line is longer than {MAX_RESPONSE_BYTES} bytes",
            status=200,
            provider=target.provider.name,
            model=target.request_model,
        )
