"""Every exception atoll_wire raises, in one place.

The hierarchy::

    WireError                         base of everything raised here
    ├── SSEError                      a server-sent event stream broke a limit
    │   ├── SSELineTooLong            one line longer than ``max_line_bytes``
    │   └── SSEEventTooLarge          one event's data longer than ``max_event_bytes``
    ├── ResponseConsumed              a response body was read twice
    └── TransportError                an HTTP exchange failed (method, url, message)
        ├── ConnectError              the connection could not be opened
        ├── TransportTimeout          a phase of the exchange timed out
        │   ├── ConnectTimeout
        │   ├── ReadTimeout
        │   ├── WriteTimeout
        │   └── PoolTimeout
        ├── RemoteProtocolError       the peer broke HTTP (closed mid-body, bad framing)
        └── ResponseTooLarge          a body grew past the caller's limit

Transports map their native errors onto ``TransportError`` subclasses in one place and chain the
original with ``raise ... from exc``. URLs stored on the errors have secret query values redacted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._transport import HttpRequest


class WireError(Exception):
    """Base class of every error raised by atoll_wire."""


class SSEError(WireError):
    """A server-sent event stream broke one of the decoder's size limits.

    Attributes:
        limit: The configured limit in bytes.
        size: The size seen (at least ``limit + 1``).
    """

    def __init__(self, message: str, *, limit: int, size: int) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.size = size


class SSELineTooLong(SSEError):
    """A single SSE line exceeded ``max_line_bytes``."""


class SSEEventTooLarge(SSEError):
    """The data of a single SSE event exceeded ``max_event_bytes``."""


class ResponseConsumed(WireError):
    """The body of a response was iterated or read after it had already been consumed."""


class TransportError(WireError):
    """An HTTP exchange failed.

    Attributes:
        message: What went wrong, in words.
        method: The request method, or None when unknown.
        url: The request URL with secret query values redacted, or None when unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        request: HttpRequest | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        from ._redact import redact_url

        if request is not None:
            method = method or request.method
            url = url or request.url
        self.message = message
        self.method = method
        self.url = redact_url(url) if url is not None else None
        where = f" ({method} {self.url})" if method and self.url else ""
        super().__init__(f"{message}{where}")


class ConnectError(TransportError):
    """The connection could not be established (DNS, refused, TLS handshake)."""


class TransportTimeout(TransportError):
    """A phase of the exchange took longer than its timeout."""


class ConnectTimeout(TransportTimeout):
    """Opening the connection timed out; the request was never sent."""


class ReadTimeout(TransportTimeout):
    """No bytes arrived from the server within the read timeout."""


class WriteTimeout(TransportTimeout):
    """Sending the request body timed out."""


class PoolTimeout(TransportTimeout):
    """No connection became free in the pool within the pool timeout."""


class RemoteProtocolError(TransportError):
    """The server broke the HTTP protocol, e.g. closed the connection mid-body."""


class ResponseTooLarge(TransportError):
    """A response body grew past the limit the caller set.

    Attributes:
        limit: The limit in bytes.
        size: How many bytes had arrived when the limit was crossed.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        size: int,
        request: HttpRequest | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.limit = limit
        self.size = size
