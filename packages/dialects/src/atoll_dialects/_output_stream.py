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


class _Output(Generic[T]):
    """What both output streams add to a chat stream: the partial and the parsed value."""

    _call: OutputCall
    _shown: _Shown
    _result: ParsedResponse[T] | None

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


# An output stream is a chat stream (same events, same protocol, a ClientResponse at the end),
# so code written for ChatStream takes one, and a checker that cannot tell which overload of
# Client.stream a call picks (options passed as **dict) still sees a ChatStream. It reads its
# events from one inner ChatStream per reply instead of its own connection.


class OutputStream(ChatStream, _Output[T]):
    """One streamed ``output=`` call; see the module docstring and ``Client.stream``."""

    def __init__(self, call: OutputCall, open_stream: Callable[[], ChatStream]) -> None:
        self._call = call
        self._open_reply = open_stream
        self._reply: ChatStream | None = None
        self._shown = self._fresh()
        self._result = None
        self._output_events: AsyncGenerator[StreamEvent, None] | None = None

    def _current(self) -> ChatStream:
        assert self._reply is not None, "OutputStream must be entered with `async with`"
        return self._reply

    async def __aenter__(self) -> Self:
        stream = self._open_reply()
        await stream.__aenter__()
        self._reply = stream
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            if self._output_events is not None:
                await self._output_events.aclose()
        if self._reply is not None:
            await self._reply.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._output_events is None:
            self._output_events = self._replies()
        return self._output_events

    @property
    def attempts(self) -> list[Attempt]:
        """Failed attempts of the current reply's stream (retries and fallbacks)."""
        return self._current().attempts

    @property
    def target(self) -> Target:
        """The model serving the current reply's stream."""
        return self._current().target

    @property
    def response(self) -> ParsedResponse[T] | ClientResponse:
        """The validated response once the stream ended; before that, what arrived so far."""
        if self._result is not None:
            return self._result
        return self._current().response

    async def _replies(self) -> AsyncGenerator[StreamEvent, None]:
        while True:
            stream = self._current()
            async for event in stream:
                shown = self._shown.see(event)
                if shown is not None:
                    yield shown
            result: ParsedResponse[Any] | None = self._call.plan.judge(stream.response)
            if result is not None:
                self._result = result
                return
            await stream.__aexit__(None, None, None)
            self._reply = None
            self._shown = self._fresh()
            repair = self._open_reply()
            await repair.__aenter__()
            self._reply = repair


class SyncOutputStream(SyncChatStream, _Output[T]):
    """The blocking twin of ``OutputStream``; see ``SyncClient.stream``."""

    def __init__(self, call: OutputCall, open_stream: Callable[[], SyncChatStream]) -> None:
        self._call = call
        self._open_reply = open_stream
        self._reply: SyncChatStream | None = None
        self._shown = self._fresh()
        self._result = None
        self._output_events: Generator[StreamEvent, None, None] | None = None

    def _current(self) -> SyncChatStream:
        assert self._reply is not None, "SyncOutputStream must be entered with `with`"
        return self._reply

    def __enter__(self) -> Self:
        stream = self._open_reply()
        stream.__enter__()
        self._reply = stream
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._output_events is not None:
            self._output_events.close()
        if self._reply is not None:
            self._reply.__exit__(exc_type, exc, tb)

    def __iter__(self) -> Iterator[StreamEvent]:
        if self._output_events is None:
            self._output_events = self._replies()
        return self._output_events

    @property
    def attempts(self) -> list[Attempt]:
        """Failed attempts of the current reply's stream (retries and fallbacks)."""
        return self._current().attempts

    @property
    def target(self) -> Target:
        """The model serving the current reply's stream."""
        return self._current().target

    @property
    def response(self) -> ParsedResponse[T] | ClientResponse:
        """The validated response once the stream ended; before that, what arrived so far."""
        if self._result is not None:
            return self._result
        return self._current().response

    def _replies(self) -> Generator[StreamEvent, None, None]:
        while True:
            stream = self._current()
            for event in stream:
                shown = self._shown.see(event)
                if shown is not None:
                    yield shown
            result: ParsedResponse[Any] | None = self._call.plan.judge(stream.response)
            if result is not None:
                self._result = result
                return
            stream.__exit__(None, None, None)
            self._reply = None
            self._shown = self._fresh()
            repair = self._open_reply()
            repair.__enter__()
            self._reply = repair
