"""``async with client.stream(...) as s``: events as they arrive, the whole response at the end."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from types import TracebackType
from typing import Self

import anyio
from atoll_wire import (
    AsyncTransport,
    HttpResponse,
    SSEError,
    StreamError,
    StreamEvent,
    TransportError,
)

from ._attempts import AttemptLoop
from ._dialect import StreamDecoder
from ._drive import send_async
from ._exceptions import APIError
from ._stream_state import StreamState, StreamView
from ._target import Target

__all__ = ["ChatStream"]


class ChatStream(StreamView):
    """One streamed chat call (or text completion); see ``Client.stream``."""

    def __init__(
        self,
        loop: AttemptLoop,
        transport: AsyncTransport,
        decoder: Callable[[Target], StreamDecoder] | None = None,
    ) -> None:
        self._loop = loop
        self._transport = transport
        self._state = StreamState(loop, decoder)
        self._http_response: HttpResponse | None = None
        self._events: AsyncGenerator[StreamEvent, None] | None = None

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
        self._state.exit(exc)

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._events is None:
            self._events = self._iterate()
        return self._events

    async def _open(self) -> None:
        """Send until a success response's headers arrive, across retries and fallbacks."""
        self._http_response, _ = await send_async(self._loop, self._transport, read=False)
        self._state.opened(self._http_response.headers)

    async def _close_http(self) -> None:
        response = self._http_response
        self._http_response = None
        if response is not None:
            await response.aclose()

    async def _iterate(self) -> AsyncGenerator[StreamEvent, None]:
        state = self._state
        while True:
            try:
                async with aclosing(self._attempt_events()) as events:
                    async for event in events:
                        state.delivered = True
                        yield event
                state.finished()
                return
            except (TransportError, SSEError, APIError, builtins.TimeoutError) as error:
                wait = state.failure(error)  # raises unless another attempt may run
            await self._close_http()
            if wait:
                await anyio.sleep(wait)
            await self._open()

    async def _attempt_events(self) -> AsyncGenerator[StreamEvent, None]:
        response = self._http_response
        assert response is not None, "ChatStream must be entered with `async with`"
        state = self._state
        body = response.aiter_bytes()
        try:
            while True:
                chunk = await self._next_chunk(body)
                if chunk is None:
                    break
                for event in state.feed(chunk):
                    yield event
                    if isinstance(event, StreamError):
                        raise state.error_of(event)
        finally:
            # aiter_bytes is an async generator behind an AsyncIterator type: close it now,
            # not in a finaliser (trio warns about those).
            close = getattr(body, "aclose", None)
            if close is not None:
                await close()
        for event in state.flush():
            yield event

    async def _next_chunk(self, body: AsyncIterator[bytes]) -> bytes | None:
        left = self._loop.deadline.remaining()
        try:
            if left is None:
                return await body.__anext__()
            with anyio.fail_after(left):
                return await body.__anext__()
        except StopAsyncIteration:
            return None
