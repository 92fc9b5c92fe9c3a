"""The event loop an ``OpenAISDKTransport`` belongs to, and the error for using it from another.

An ``AsyncOpenAI`` client's connection pool is bound to the event loop that opened it; used from
a second loop it fails with a bare ``RuntimeError`` from the loop's internals (or the SDK wraps
that as a connection error, which a retry policy would retry). The transport remembers the loop
of its first request and refuses any other, before anything is sent.

This package depends on atoll_wire and openai only, so the loop is identified with the standard
library: asyncio's running loop, else trio's token when trio runs this code (looked up in
``sys.modules``: trio is not imported here unless the caller already did).
"""

from __future__ import annotations

import asyncio
import sys

from atoll_wire import HttpRequest, TransportError


def current_loop() -> object | None:
    """The running event loop (an asyncio loop or a trio token), or None outside of one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    trio = sys.modules.get("trio")
    if trio is None:
        return None
    try:
        token: object = trio.lowlevel.current_trio_token()
    except RuntimeError:
        return None
    return token


def other_loop_error(request: HttpRequest) -> TransportError:
    """The error for a transport used from an event loop other than its own."""
    return TransportError(
        "this OpenAISDKTransport belongs to the event loop that first used it (its openai "
        "client's connections were opened there) and cannot be used from another one; create "
        "the openai client and the transport, or the Client holding it, inside the event loop "
        "that uses them (one per asyncio.run/trio.run), or use SyncOpenAISDKTransport from "
        "threads",
        request=request,
    )


class LoopBinding:
    """Remembers the first event loop that used a transport and spots any other one."""

    __slots__ = ("_loop",)

    def __init__(self) -> None:
        self._loop: object | None = None

    def foreign(self) -> bool:
        """True when called from an event loop other than the first one seen (which binds)."""
        loop = current_loop()
        if self._loop is None:
            self._loop = loop
            return False
        return loop is not self._loop
