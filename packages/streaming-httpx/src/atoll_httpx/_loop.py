"""The event loop an ``HttpxTransport`` belongs to, and the error for using it from another.

httpx's pooled connections (and httpcore's locks) are bound to the event loop that created them.
Used from a second loop they fail with whatever the loop's internals raise first: a bare
``RuntimeError("Event loop is closed")`` for a second ``asyncio.run``, ``"no running event
loop"`` or ``"must be called from async context"`` when asyncio and trio are mixed. The
transport therefore remembers the loop of its first request and refuses, before any I/O, a
request from any other loop, with an atoll_wire ``TransportError`` that says what to do.
"""

from __future__ import annotations

import anyio.lowlevel
from atoll_wire import HttpRequest, TransportError


def other_loop_error(owner: str, request: HttpRequest | None = None) -> TransportError:
    """The error for a transport used from an event loop other than its own.

    Args:
        owner: The transport's class name, for the message.
        request: The request that was refused (None for ``aclose``).
    """
    return TransportError(
        f"this {owner} belongs to the event loop that first used it (its pooled connections "
        "were opened there) and cannot be used from another one; create the transport, or the "
        "Client holding it, inside the event loop that uses it (one per asyncio.run/trio.run), "
        "or use the Sync flavour from threads",
        request=request,
    )


class LoopBinding:
    """Remembers the first event loop that used a transport and spots any other one."""

    __slots__ = ("_token",)

    def __init__(self) -> None:
        self._token: anyio.lowlevel.EventLoopToken | None = None

    def foreign(self) -> bool:
        """True when called from an event loop other than the first one seen.

        The first call binds to the current loop; it costs a few microseconds, next to hundreds
        for an httpx exchange.
        """
        token = anyio.lowlevel.current_token()
        if self._token is None:
            self._token = token
            return False
        return token != self._token

    def seen(self) -> bool:
        """True once a loop is bound (some request was sent)."""
        return self._token is not None
