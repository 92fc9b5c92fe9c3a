"""``client.stream(..., output=T)``: events as they arrive, the partial object, then ``parsed``.

``OutputStream`` wraps the call's ``ChatStream``. In ``tool`` mode the output tool's argument
fragments are shown as ``TextDelta`` events (the JSON arriving), as the dialects do for their own
forced output tools. ``partial`` is the value received so far, unvalidated; when the stream
ends, the reply is validated: ``response.parsed`` holds the value. A reply that fails and has a
repair left is answered with the repair turn and streams again: its events follow, starting
with a new ``MessageStart``, and ``partial`` starts over. ``SyncOutputStream`` is the blocking
twin.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import anyio
from atoll_wire import StreamEvent, TextDelta, ToolCallDelta, ToolCallEnd, ToolCallStart

from ._output_call import OutputCall
from ._parsed import ParsedResponse
from ._result import Attempt, ClientResponse
from ._stream import ChatStream
from ._stream_state import StreamView
from ._structured import OUTPUT_TOOL
from ._sync_stream import SyncChatStream
from ._target import Target

__all__ = ["OutputStream", "SyncOutputStream"]

T = TypeVar("T")


class _Shown:
    """What the caller sees of one reply: converted events and the JSON text so far."""

    __slots__ = ("_tool_mode", "output_index", "text")

    def __init__(self, tool_mode: bool) -> None:
        self._tool_mode = tool_mode
        self.output_index: int | None = None
        self.text = ""

    def see(self, event: StreamEvent) -> StreamEvent | None:
        if not self._tool_mode:
            if isinstance(event, TextDelta):
                self.text += event.text
            return event
        if isinstance(event, ToolCallStart) and event.name == OUTPUT_TOOL:
            self.output_index = event.index
            return None
        if self.output_index is not None and getattr(event, "index", None) == self.output_index:
            if isinstance(event, ToolCallDelta):
                self.text += event.arguments
                return TextDelta(index=event.index, text=event.arguments)
            if isinstance(event, ToolCallEnd):
                return None
        return event


class _Common(Generic[T]):
    _call: OutputCall
    _shown: _Shown
    _result: ParsedResponse[T] | None

    def _current(self) -> StreamView | None:
        raise NotImplementedError

    @property
    def attempts(self) -> list[Attempt]:
        """Failed attempts of the current reply's stream (retries and fallbacks)."""
        current = self._current()
        return current.attempts if current is not None else []

    @property
    def target(self) -> Target | None:
        """The model serving the current reply's stream (None outside ``with``)."""
        current = self._current()
        return current.target if current is not None else None

    @property
    def partial(self) -> object:
        """The output received so far, unvalidated (usually a dict; None before it starts)."""
        return self._call.plan.partial(self._shown.text)

    @property
    def parsed(self) -> T | None:
        """The validated output once the stream ended (None before, or for a tool-call reply)."""
        return self._result.parsed if self._result is not None else None

    @property
    def repairs(self) -> list[ClientResponse]:
        """Replies that failed validation and were answered with a repair turn."""
        return list(self._call.plan.rejected)

    def _fresh(self) -> _Shown:
        return _Shown(self._call.plan.mode == "tool")


class OutputStream(_Common[T]):
    """One streamed ``output=`` call; see the module docstring and ``Client.stream``."""

    def __init__(self, call: OutputCall, open_stream: Callable[[], ChatStream]) -> None:
        self._call = call
        self._open = open_stream
        self._stream: ChatStream | None = None
        self._shown = self._fresh()
        self._result = None
        self._events: AsyncGenerator[StreamEvent, None] | None = None

    def _current(self) -> StreamView | None:
        return self._stream

    async def __aenter__(self) -> Self:
        stream = self._open()
        await stream.__aenter__()
        self._stream = stream
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
        if self._stream is not None:
            await self._stream.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._events is None:
            self._events = self._iterate()
        return self._events

    @property
    def response(self) -> ParsedResponse[T] | ClientResponse:
        """The validated response once the stream ended; before that, what arrived so far."""
        if self._result is not None:
            return self._result
        assert self._stream is not None, "OutputStream must be entered with `async with`"
        return self._stream.response

    async def _iterate(self) -> AsyncGenerator[StreamEvent, None]:
        while True:
            stream = self._stream
            assert stream is not None, "OutputStream must be entered with `async with`"
            async for event in stream:
                shown = self._shown.see(event)
                if shown is not None:
                    yield shown
            result: ParsedResponse[Any] | None = self._call.plan.judge(stream.response)
            if result is not None:
                self._result = result
                return
            await stream.__aexit__(None, None, None)
            self._stream = None
            self._shown = self._fresh()
            repair = self._open()
            await repair.__aenter__()
            self._stream = repair


class SyncOutputStream(_Common[T]):
    """The blocking twin of ``OutputStream``; see ``SyncClient.stream``."""

    def __init__(self, call: OutputCall, open_stream: Callable[[], SyncChatStream]) -> None:
        self._call = call
        self._open = open_stream
        self._stream: SyncChatStream | None = None
        self._shown = self._fresh()
        self._result = None
        self._events: Generator[StreamEvent, None, None] | None = None

    def _current(self) -> StreamView | None:
        return self._stream

    def __enter__(self) -> Self:
        stream = self._open()
        stream.__enter__()
        self._stream = stream
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._events is not None:
            self._events.close()
        if self._stream is not None:
            self._stream.__exit__(exc_type, exc, tb)

    def __iter__(self) -> Iterator[StreamEvent]:
        if self._events is None:
            self._events = self._iterate()
        return self._events

    @property
    def response(self) -> ParsedResponse[T] | ClientResponse:
        """The validated response once the stream ended; before that, what arrived so far."""
        if self._result is not None:
            return self._result
        assert self._stream is not None, "SyncOutputStream must be entered with `with`"
        return self._stream.response

    def _iterate(self) -> Generator[StreamEvent, None, None]:
        while True:
            stream = self._stream
            assert stream is not None, "SyncOutputStream must be entered with `with`"
            for event in stream:
                shown = self._shown.see(event)
                if shown is not None:
                    yield shown
            result: ParsedResponse[Any] | None = self._call.plan.judge(stream.response)
            if result is not None:
                self._result = result
                return
            stream.__exit__(None, None, None)
            self._stream = None
            self._shown = self._fresh()
            repair = self._open()
            repair.__enter__()
            self._stream = repair
