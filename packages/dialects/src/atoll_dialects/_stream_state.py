"""What one streamed call has received and what its failures mean; shared by both streams.

``StreamState`` turns body chunks into neutral events (SSE decoder → the dialect's stream
decoder → the accumulator) and judges a failure: before the first event it is another attempt
(the ``AttemptLoop`` decides), after it the stream ends with a typed error carrying what arrived.
It does no I/O; ``ChatStream`` and ``SyncChatStream`` feed it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping

import msgspec
from atoll_wire import (
    SSEError,
    StreamAccumulator,
    StreamError,
    StreamEvent,
    TransportError,
)

from ._attempts import AttemptLoop
from ._dialect import StreamDecoder
from ._error_bodies import error_from_stream_event
from ._exceptions import APIError
from ._redactor import Redactor
from ._result import Attempt, ClientResponse
from ._target import Target

__all__ = ["StreamState", "StreamView"]

_json = msgspec.json.Encoder()


def _masked(event: StreamError, redactor: Redactor) -> StreamError:
    """The event with secrets masked in its message and raw payload (the call's Redactor)."""
    raw = event.raw
    if isinstance(raw, str):
        clean_raw: object = redactor.text(raw)
    elif raw is None:
        clean_raw = None
    else:
        text = _json.encode(raw).decode()
        clean = redactor.text(text)
        clean_raw = raw if clean == text else msgspec.json.decode(clean)
    return msgspec.structs.replace(event, message=redactor.text(event.message), raw=clean_raw)


class StreamState:
    """The received part of one streamed call (see the module docstring).

    Args:
        loop: The call's attempt loop.
        decoder: Makes each attempt's decoder for its target (default: the dialect's chat
            stream decoder for the request sent; text completions pass their own).

    Attributes:
        loop: The call's attempt loop.
        delivered: Whether an event of the current attempt reached the caller.
    """

    __slots__ = (
        "_accumulator",
        "_decoder",
        "_headers",
        "_make_decoder",
        "_result",
        "delivered",
        "loop",
    )

    def __init__(
        self, loop: AttemptLoop, decoder: Callable[[Target], StreamDecoder] | None = None
    ) -> None:
        self.loop = loop
        self._make_decoder = decoder
        self.delivered = False
        self._accumulator = StreamAccumulator()
        self._headers: Mapping[str, str] = {}
        self._result: ClientResponse | None = None
        self._decoder: StreamDecoder | None = None

    def opened(self, headers: Mapping[str, str]) -> None:
        """A success response's headers arrived: start a fresh attempt's decoding."""
        loop = self.loop
        target = loop.target
        self._headers = headers
        self._accumulator = StreamAccumulator(provider=target.provider.name)
        if self._make_decoder is not None:
            self._decoder = self._make_decoder(target)
        else:
            self._decoder = target.dialect.stream_decoder(target, loop.sent)
        self.delivered = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """The events in one body chunk, in order (added to the accumulated response).

        A ``StreamError`` event is returned like the others (with secrets masked); the
        caller yields it and then raises ``error_of(event)``.
        """
        loop = self.loop
        span = loop.span
        if span is not None:
            span.first_chunk()
        decoder = self._decoder
        assert decoder is not None, "the stream must be opened first"
        events = self._add(decoder.feed_bytes(chunk))
        observer = loop.observer
        if observer is not None and events:
            observer.chunks(loop.target, len(events))
        return events

    def flush(self) -> list[StreamEvent]:
        """The body ended: the events still held by the decoder."""
        decoder = self._decoder
        assert decoder is not None, "the stream must be opened first"
        return self._add(decoder.finish_bytes())

    def _add(self, events: list[StreamEvent]) -> list[StreamEvent]:
        accumulator = self._accumulator
        redactor = self.loop.redactor
        for position, event in enumerate(events):
            if isinstance(event, StreamError):
                events[position] = event = _masked(event, redactor)
            accumulator.add(event)
        return events

    def error_of(self, event: StreamError) -> APIError:
        """The typed error for an error the provider reported in the stream, with ``partial``."""
        target = self.loop.target
        return error_from_stream_event(
            event,
            self._accumulator.response(),
            provider=target.provider.name,
            model=target.request_model,
        )

    def failure(self, error: BaseException) -> float:
        """Judge a failure while reading: the wait before another attempt, or raise.

        Before any event of this attempt reached the caller a broken body is another attempt
        (or the next model); after that, or for an error the provider reported, an SSE limit
        or the deadline, the stream ends with the typed error carrying what arrived.

        Raises:
            APIError: The stream's final error (StreamInterrupted, TimeoutError, the
                provider's typed error), with ``partial``.
        """
        loop = self.loop
        partial = self._accumulator.response()
        if isinstance(error, builtins.TimeoutError) and loop.deadline.expired:
            raise loop.timed_out(partial) from error
        if self.delivered or not isinstance(error, TransportError):
            if isinstance(error, APIError | TransportError | SSEError | builtins.TimeoutError):
                raise loop.interrupted(error, partial) from error
            raise error
        return loop.failed(error, final=loop.interruption(error, partial))

    @property
    def response(self) -> ClientResponse:
        """Everything that arrived, as one response (``incomplete`` if the stream broke off)."""
        if self._result is not None:
            return self._result
        return self.loop.snapshot(self._accumulator.response(), self._headers)

    def finished(self) -> ClientResponse:
        """The stream ended normally: the final response (span ended)."""
        if self._result is None:
            self._result = self.loop.finished(self._accumulator.response(), self._headers)
        return self._result

    def exit(self, error: BaseException | None) -> None:
        """The caller left the stream: end the span (failed, or with what arrived)."""
        if error is not None:
            self.loop.abandon(error)
        elif self.loop.span is not None:
            self.finished()


class StreamView:
    """What both stream classes show their caller: the attempts, the response, the target."""

    _loop: AttemptLoop
    _state: StreamState

    @property
    def attempts(self) -> list[Attempt]:
        """Failed attempts so far (retries and fallbacks before the first event)."""
        return self._loop.history

    @property
    def response(self) -> ClientResponse:
        """Everything that arrived, as one response (``incomplete`` if the stream broke off)."""
        return self._state.response

    @property
    def target(self) -> Target:
        """The model currently serving this stream."""
        return self._loop.target

    @property
    def call_id(self) -> str | None:
        """The call's id in its events (None when no callback or meter listens)."""
        return self._loop.call_id
