"""What this package knows of the openai SDK's HTTP library, without importing it.

The SDK sends through httpx2 (httpx before its 2.0), and documents ``cast_to=<that library's
Response>`` as the way to get a raw, unread response from its verbs. This package depends on
atoll_wire and openai only, so it asks the SDK's own default client which library that is and
takes the two classes it needs from there. The protocols below describe the parts of the
library's response used here (httpx2's and httpx's alike).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any, Protocol

import openai


def _http_library() -> ModuleType:
    for cls in openai.DefaultAsyncHttpxClient.__mro__:
        if cls.__name__ == "AsyncClient":
            return sys.modules[cls.__module__.partition(".")[0]]
    raise ImportError("cannot tell which HTTP library this openai SDK uses")  # pragma: no cover


_LIBRARY = _http_library()

RESPONSE_CLASS: type[Any] = _LIBRARY.Response
"""The ``cast_to`` that makes the SDK's verbs return the raw response."""

PROTOCOL_ERROR: type[Exception] = _LIBRARY.RemoteProtocolError
"""The library's ``RemoteProtocolError``, to chain the protocol errors found here."""


class NativeHeaders(Protocol):
    """The HTTP library's response headers, as used here."""

    def get(self, key: str, default: str | None = None) -> str | None:
        """One header's value (several joined by commas), or ``default``."""
        ...

    def multi_items(self) -> list[tuple[str, str]]:
        """Every header in arrival order, repeated ones included."""
        ...


class NativeResponse(Protocol):
    """The HTTP library's response (httpx2's or httpx's), as used here."""

    @property
    def status_code(self) -> int:
        """The status code."""
        ...

    @property
    def http_version(self) -> str:
        """``HTTP/1.1``, ``HTTP/2``, ..."""
        ...

    @property
    def headers(self) -> NativeHeaders:
        """The response headers."""
        ...

    @property
    def content(self) -> bytes:
        """The body of a response already read."""
        ...

    @property
    def is_stream_consumed(self) -> bool:
        """True once the body was read (the SDK reads error responses whole)."""
        ...

    def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as it came (no content decoding)."""
        ...

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body, content-decoded."""
        ...

    def iter_raw(self) -> Iterator[bytes]:
        """The body as it came (no content decoding), blocking."""
        ...

    def iter_bytes(self) -> Iterator[bytes]:
        """The body, content-decoded, blocking."""
        ...

    async def aclose(self) -> None:
        """Close the response (an unfinished body closes its connection)."""
        ...

    def close(self) -> None:
        """Close the response, blocking."""
        ...
