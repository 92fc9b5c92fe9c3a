"""The one-way channel from a model's worker thread to the caller waiting for its output.

The worker never blocks on the caller: ``put`` appends to a deque and, only when the caller is
asleep, wakes it. An async caller sleeps on a socketpair (``anyio.wait_readable`` works on
asyncio and trio alike, and a send from another thread is a plain non-blocking syscall); a
blocking caller sleeps on a ``threading.Event``. A caller takes everything available at each
wake-up, so a slow consumer costs one wake-up per batch, not per token.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


class Closed(Exception):
    """Raised by ``take`` after the worker closed the outbox and everything was taken."""


class Outbox(Generic[T]):
    """Items from a worker thread to one consumer, in order, then an end (or an error)."""

    def __init__(self, *, asynchronous: bool) -> None:
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._done = False
        self._error: BaseException | None = None
        self._sleeping = False
        self._until_closed = False  # the consumer wants no wake-up before the end
        self._released = False
        self._asynchronous = asynchronous
        self._event: threading.Event | None = None if asynchronous else threading.Event()
        # Made on the consumer's first sleep: a request whose answer is ready at once (or that
        # is refused before it is queued) never opens them.
        self._sockets: tuple[socket.socket, socket.socket] | None = None

    # ---------------------------------------------------------------- worker side

    def put(self, item: T) -> None:
        """Append one item (worker thread); wakes the consumer if it sleeps."""
        with self._lock:
            self._items.append(item)
            if self._sleeping and not self._until_closed:
                self._sleeping = False
                self._wake()

    def close(self, error: BaseException | None = None) -> None:
        """No more items; the consumer gets ``error`` (if any) after the items already put."""
        with self._lock:
            if self._done:
                return
            self._done = True
            self._error = error
            self._sleeping = False
            self._wake()

    def _wake(self) -> None:
        # Called with the lock held, so it never races with ``release`` closing the sockets.
        if self._released:
            return
        if self._sockets is not None:
            try:
                self._sockets[1].send(b"\0")
            except (BlockingIOError, OSError):
                pass  # a wake-up byte is already pending, or the consumer is gone
        elif self._event is not None:
            self._event.set()

    # ---------------------------------------------------------------- consumer side

    def _drain(self, *, at_end: bool = False) -> list[T] | None:
        """Everything available now; None (and the consumer marked asleep) when nothing is.

        With ``at_end``, items count as available only once the worker closed the outbox.
        """
        if self._asynchronous and self._sockets is None and not self._released:
            reader, writer = socket.socketpair()
            reader.setblocking(False)
            writer.setblocking(False)
            with self._lock:
                self._sockets = (reader, writer)
        with self._lock:
            if self._items and (self._done or not at_end):
                items = list(self._items)
                self._items.clear()
                return items
            if self._done:
                if self._error is not None:
                    raise self._error
                raise Closed
            self._sleeping = True
            if self._event is not None:
                self._event.clear()
            return None

    async def atake(self, *, all_at_end: bool = False) -> list[T]:
        """Wait for the next items (never empty).

        Args:
            all_at_end: Sleep until the worker closes the outbox, then take everything: one
                wake-up per request instead of one per token (a non-stream answer).

        Raises:
            Closed: The worker finished and every item was taken.
        """
        assert self._asynchronous, "atake on a blocking outbox"
        self._until_closed = all_at_end
        while True:
            items = self._drain(at_end=all_at_end)
            if items is not None:
                return items
            assert self._sockets is not None, "atake after release"
            reader = self._sockets[0]
            await anyio.wait_readable(reader)
            try:
                reader.recv(4096)
            except BlockingIOError:
                pass

    def take(self, timeout: float | None = None) -> list[T]:
        """Blocking ``atake``; an empty list means ``timeout`` passed with nothing new."""
        assert self._event is not None, "take on an async outbox"
        while True:
            items = self._drain()
            if items is not None:
                return items
            if not self._event.wait(timeout):
                with self._lock:
                    self._sleeping = False
                return []

    def release(self) -> None:
        """The consumer is done: free the wake-up sockets (safe to call more than once)."""
        with self._lock:
            if self._released:
                return
            self._released = True
            sockets, self._sockets = self._sockets, None
        if sockets is not None:
            for sock in sockets:
                sock.close()
