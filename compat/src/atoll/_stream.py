"""``streamcallback``: where a streamed reply's text goes as it arrives.

Accepted: a file-like object (``sys.stdout``, an open file, ``io.StringIO``: written and
flushed per piece), a queue (``queue.Queue``, ``asyncio.Queue``: each piece put, then ``None``
at the end), an anyio memory send stream (each piece sent, then closed), or a callable called
with each piece of text (a coroutine function is awaited by the ``_async`` functions).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol, cast, runtime_checkable

from atoll_wire import StreamEvent, TextDelta


@runtime_checkable
class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


@runtime_checkable
class _Queue(Protocol):
    def put_nowait(self, item: Any, /) -> Any: ...


@runtime_checkable
class _SendStream(Protocol):
    def send_nowait(self, item: Any, /) -> Any: ...

    def close(self) -> Any: ...


Kind = Literal["file", "queue", "stream", "call", "acall"]


class StreamSink:
    """Delivers text pieces to the caller's ``streamcallback``.

    Args:
        target: The callback, as accepted by the ai* functions.

    Raises:
        TypeError: ``target`` is none of the accepted kinds.
    """

    def __init__(self, target: object) -> None:
        self.target = target
        self.kind: Kind
        if isinstance(target, _Writable):
            self.kind = "file"
        elif isinstance(target, _Queue):
            self.kind = "queue"
        elif isinstance(target, _SendStream):
            self.kind = "stream"
        elif inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
            getattr(target, "__call__", None)  # noqa: B004 (a callable object's method)
        ):
            self.kind = "acall"
        elif callable(target):
            self.kind = "call"
        else:
            raise TypeError(
                "streamcallback must be a file-like object (sys.stdout), a queue, an anyio send "
                f"stream or a callable taking the text; got {type(target).__name__}"
            )

    def _deliver(self, text: str | None) -> Awaitable[Any] | None:
        target = self.target
        if self.kind == "file":
            if text is not None:
                cast(_Writable, target).write(text)
                flush = getattr(target, "flush", None)
                if callable(flush):
                    flush()
        elif self.kind == "queue":
            cast(_Queue, target).put_nowait(text)
        elif self.kind == "stream":
            stream = cast(_SendStream, target)
            if text is None:
                stream.close()
            else:
                stream.send_nowait(text)
        elif text is not None:
            result = cast(Callable[[str], Any], target)(text)
            if inspect.isawaitable(result):
                return result
        return None

    def check_sync(self) -> None:
        """Refuse an async callback in a sync call, before anything is sent.

        Raises:
            TypeError: The callback is a coroutine function (use the ``_async`` function).
        """
        if self.kind == "acall":
            raise TypeError("an async streamcallback needs the _async form of the function")

    def feed(self, event: StreamEvent) -> None:
        """Pass on the text of one stream event (sync calls)."""
        if type(event) is TextDelta:
            self._deliver(event.text)

    async def afeed(self, event: StreamEvent) -> None:
        """Pass on the text of one stream event, awaiting an async callback."""
        if type(event) is TextDelta:
            pending = self._deliver(event.text)
            if pending is not None:
                await pending

    def close(self) -> None:
        """Signal the end of the reply (``None`` to a queue; closes a send stream)."""
        self._deliver(None)
