"""``with client.stream(...) as s`` on the sync client: the blocking twin of ``ChatStream``."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import Self

from atoll_wire import (
    SSEError,
    StreamError,
    StreamEvent,
    SyncHttpResponse,
    SyncTransport,
    TransportError,
)

from ._attempts import AttemptLoop
from ._dialect import StreamDecoder
from ._drive import send_sync
from ._exceptions import APIError
from ._stream_state import StreamState, StreamView
from ._target import Target

__all__ = ["SyncChatStream"]


class SyncChatStream(StreamView):
    """One streamed sync chat call; see ``SyncClient.stream`` and ``ChatStream``."""

    def __init__(
        self,
        loop: AttemptLoop,
        transport: SyncTransport,
        decoder: Callable[[Target], StreamDecoder] | None = None,
    ) -> None:
        self._loop = loop
        self._transport = transport
        self._state = StreamState(loop, decoder)
        self._http_response: SyncHttpResponse | None = None
        self._events: Generator[StreamEvent, None, None] | None = None

    def __enter__(self) -> Self:
        self._open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._events is not None:
            self._events.close()
        self._close_http()
        self._state.exit(exc)

    def __iter__(self) -> Iterator[StreamEvent]:
        if self._events is None:
            self._events = self._iterate()
        return self._events

    def _open(self) -> None:
        self._http_response, _ = send_sync(self._loop, self._transport, read=False)
        self._state.opened(self._http_response.headers)

    def _close_http(self) -> None:
        response = self._http_response
        self._http_response = None
        if response is not None:
            response.close()

    def _iterate(self) -> Generator[StreamEvent, None, None]:
        state = self._state
        while True:
            try:
                for event in self._attempt_events():
                    state.delivered = True
                    yield event
                state.finished()
                return
            except (TransportError, SSEError, APIError, builtins.TimeoutError) as error:
                wait = state.failure(error)  # raises unless another attempt may run
            self._close_http()
            if wait:
                time.sleep(wait)
            self._open()

    def _attempt_events(self) -> Generator[StreamEvent, None, None]:
        response = self._http_response
        assert response is not None, "SyncChatStream must be entered with `with`"
        state = self._state
        deadline = self._loop.deadline
        body = response.iter_bytes()
        try:
            for chunk in body:
                for event in state.feed(chunk):
                    yield event
                    if isinstance(event, StreamError):
                        raise state.error_of(event)
                if deadline.expired:
                    # Judged by StreamState.failure, like the async stream's deadline scope.
                    raise builtins.TimeoutError("the call's deadline passed mid-stream")
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        yield from state.flush()
