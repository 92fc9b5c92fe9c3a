"""Every exception atoll_wire raises, in one place.

``AtollError`` is the root of every error the Atoll stack raises: each package's errors
subclass it, so ``except AtollError`` catches anything Atoll raised on purpose. The hierarchy::

    AtollError                        root of the whole stack (subclassed by every package)
    └── WireError                     base of everything raised here
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


def _rebuild(cls: type[BaseException], args: tuple[object, ...]) -> BaseException:
    # Create the instance without running __init__ (whose signature differs from ``args``);
    # pickle then restores the fields from the instance dict. ``args`` is set again because
    # OSError subclasses (TimeoutError ones) leave it to an overridden __init__.
    error = cls.__new__(cls, *args)
    error.args = args
    return error


class AtollError(Exception):
    """The root of every error the Atoll stack raises.

    Each package subclasses it (``WireError`` here, ``APIError`` in atoll_dialects, ...), so
    ``except AtollError`` catches every error raised on purpose by any layer. Every error keeps
    its structured fields as attributes and pickles with them, whatever its ``__init__`` takes:
    errors cross process and Ray boundaries intact (the cause chain is not pickled, as for any
    exception; notes added with ``add_note`` are).
    """

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.args), dict(self.__dict__))


class WireError(AtollError):
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


# Public errors report the module users import them from (and pickle by it).
for _error in (
    AtollError,
    WireError,
    SSEError,
    SSELineTooLong,
    SSEEventTooLarge,
    ResponseConsumed,
    TransportError,
    ConnectError,
    TransportTimeout,
    ConnectTimeout,
    ReadTimeout,
    WriteTimeout,
    PoolTimeout,
    RemoteProtocolError,
    ResponseTooLarge,
):
    _error.__module__ = "atoll_wire"
