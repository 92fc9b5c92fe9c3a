"""The one place where httpx's exceptions become atoll_wire's ``TransportError`` tree.

httpx (and httpx2, whose exception classes have the same names but are distinct classes) raise::

    HTTPError
    └── RequestError
        ├── TransportError
        │   ├── TimeoutException → ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout
        │   ├── NetworkError     → ConnectError, ReadError, WriteError, CloseError
        │   ├── ProxyError, UnsupportedProtocol
        │   └── ProtocolError    → LocalProtocolError, RemoteProtocolError
        └── DecodingError, TooManyRedirects
    InvalidURL

The table below is matched in order (most specific first) and names classes, so one table serves
both flavours. Callers catch ``ErrorTable.native`` and ``raise translate(...) from exc``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType

from atoll_wire import (
    ConnectError,
    ConnectTimeout,
    HttpRequest,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    TransportTimeout,
    WriteTimeout,
)

_POOL_TIMEOUT = "timed out waiting for a free connection in the pool"

# (native class name, our class, what to tell the user). Order matters: first match wins.
_TABLE: tuple[tuple[str, type[TransportError], str], ...] = (
    ("ConnectTimeout", ConnectTimeout, "timed out connecting"),
    ("ReadTimeout", ReadTimeout, "timed out waiting for the server"),
    ("WriteTimeout", WriteTimeout, "timed out sending the request"),
    ("PoolTimeout", PoolTimeout, _POOL_TIMEOUT),
    ("ProxyError", ConnectError, "the proxy refused or failed the connection"),
    # Refused, unreachable, DNS failure, TLS handshake or certificate verification failure.
    ("ConnectError", ConnectError, "could not connect"),
    ("RemoteProtocolError", RemoteProtocolError, "the server broke the HTTP protocol"),
    # A reset or broken pipe mid-exchange is the peer hanging up on us, as far as callers care.
    ("ReadError", RemoteProtocolError, "the connection failed while reading the response"),
    ("WriteError", RemoteProtocolError, "the connection failed while sending the request"),
    ("DecodingError", RemoteProtocolError, "the response body could not be decoded"),
    ("UnsupportedProtocol", TransportError, "unsupported URL scheme"),
    ("LocalProtocolError", TransportError, "the request is not valid HTTP"),
    ("InvalidURL", TransportError, "invalid URL"),
    ("HTTPError", TransportError, "HTTP exchange failed"),
)


@dataclass(frozen=True, slots=True)
class ErrorTable:
    """One backend's exception classes, paired with ours.

    Attributes:
        native: Every class the backend raises for a failed exchange (catch these).
        pairs: ``(native class, our class, message prefix)`` in matching order.
        protocol_error: The backend's ``RemoteProtocolError``, for the errors we find ourselves.
    """

    native: tuple[type[Exception], ...]
    pairs: tuple[tuple[type[Exception], type[TransportError], str], ...]
    protocol_error: type[Exception]


def error_table(module: ModuleType) -> ErrorTable:
    """Build the table for ``module`` (``httpx`` or ``httpx2``).

    Args:
        module: The imported backend module.
    """
    pairs: list[tuple[type[Exception], type[TransportError], str]] = []
    for name, ours, prefix in _TABLE:
        native: object = getattr(module, name, None)
        if isinstance(native, type) and issubclass(native, Exception):
            pairs.append((native, ours, prefix))
    roots = tuple(
        native for native, _, _ in pairs if native.__name__ in ("HTTPError", "InvalidURL")
    )
    protocol_error = next(
        native for native, _, _ in pairs if native.__name__ == "RemoteProtocolError"
    )
    return ErrorTable(native=roots, pairs=tuple(pairs), protocol_error=protocol_error)


def translate(
    exc: Exception,
    request: HttpRequest,
    table: ErrorTable,
    timeouts: Mapping[str, float | None] | None = None,
) -> TransportError:
    """Return the atoll_wire error for native ``exc``; the caller raises it ``from exc``.

    Args:
        exc: An exception caught as one of ``table.native``.
        request: The request that failed (its URL is redacted on the error).
        table: The backend's table.
        timeouts: The per-phase timeouts the exchange ran with (httpx's ``timeout``
            extension), so a timeout says which limit expired.
    """
    for native, ours, prefix in table.pairs:
        if isinstance(exc, native):
            if issubclass(ours, TransportTimeout):
                base = _timeout_message(ours, prefix, timeouts)
                detail = _detail(exc, request.url)
                return ours(f"{base}: {detail}" if detail else base, request=request)
            return ours(_message(prefix, exc, request.url), request=request)
    return TransportError(_message("HTTP exchange failed", exc, request.url), request=request)


def _timeout_message(
    kind: type[TransportError], prefix: str, timeouts: Mapping[str, float | None] | None
) -> str:
    # httpx's timeout errors usually carry no text of their own (only their context does: the
    # event loop's cancellation, "Cancelled via cancel scope 7f55..."): say which limit expired,
    # in atoll_curl's words.
    phase = _PHASES.get(kind, "")
    seconds = None if timeouts is None else timeouts.get(phase)
    if seconds is None:
        return prefix
    if kind is ReadTimeout:
        return f"no bytes from the server for {seconds:g} s"
    if kind is WriteTimeout:
        return f"no progress sending the request body for {seconds:g} s"
    if kind is PoolTimeout:
        return f"timed out after {seconds:g} s waiting for a free connection in the pool"
    return f"{prefix} after {seconds:g} s"


_PHASES: dict[type[TransportError], str] = {
    ConnectTimeout: "connect",
    ReadTimeout: "read",
    WriteTimeout: "write",
    PoolTimeout: "pool",
}


HTTP_VERSIONS = frozenset({"HTTP/1.0", "HTTP/1.1", "HTTP/2"})
"""The versions a response may announce; h11 would take any ``HTTP/<digit>.<digit>``."""


def bad_version(version: str, request: HttpRequest, table: ErrorTable) -> RemoteProtocolError:
    """The error for a status line announcing an HTTP version we do not speak (``HTTP/9.9``).

    libcurl refuses such a reply, h11 accepts it: refusing it here makes both transports raise
    the same error. It is chained to the backend's own ``RemoteProtocolError``, as if httpx had
    raised it.

    Args:
        version: The version the status line announced.
        request: The request that got this reply.
        table: The backend's table.
    """
    text = f"unsupported HTTP version in the status line: {version!r}"
    error = RemoteProtocolError(f"the server's reply is not valid HTTP: {text}", request=request)
    error.__cause__ = table.protocol_error(text)  # what ``raise error from native`` records
    return error


def gate_timeout(request: HttpRequest, seconds: float | None = None) -> PoolTimeout:
    """The error for a request that waited too long at the gate in front of the pool."""
    message = _timeout_message(PoolTimeout, _POOL_TIMEOUT, {"pool": seconds})
    return PoolTimeout(message, request=request)


def _detail(exc: Exception, url: str) -> str:
    # httpx's messages never hold headers, but a few quote the URL, which may carry a secret
    # query value (``?key=``): the URL is cut out; TransportError appends the redacted one.
    detail = _reason(exc)
    return detail.replace(url, "<url>") if url else detail


def _message(prefix: str, exc: Exception, url: str) -> str:
    detail = _detail(exc, url)
    if not detail or detail == prefix:
        return f"{prefix} ({type(exc).__name__})"
    return f"{prefix}: {detail}"


def _reason(exc: BaseException) -> str:
    # Some paths (TLS failures on trio) raise with an empty message and keep the reason on the
    # chained cause, e.g. ssl.SSLCertVerificationError: look a few links down for it.
    # A cancellation (asyncio's CancelledError, trio's Cancelled: BaseException only) is how
    # the event loop stopped the wait, never the reason: its text names a cancel scope.
    current: BaseException | None = exc
    for _ in range(6):
        if not isinstance(current, Exception):
            break
        text = str(current).strip()
        if text:
            return text
        current = current.__cause__ or current.__context__
    return ""
