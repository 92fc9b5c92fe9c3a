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
    """

    native: tuple[type[Exception], ...]
    pairs: tuple[tuple[type[Exception], type[TransportError], str], ...]


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
    return ErrorTable(native=roots, pairs=tuple(pairs))


def translate(exc: Exception, request: HttpRequest, table: ErrorTable) -> TransportError:
    """Return the atoll_wire error for native ``exc``; the caller raises it ``from exc``.

    Args:
        exc: An exception caught as one of ``table.native``.
        request: The request that failed (its URL is redacted on the error).
        table: The backend's table.
    """
    for native, ours, prefix in table.pairs:
        if isinstance(exc, native):
            return ours(_message(prefix, exc, request.url), request=request)
    return TransportError(_message("HTTP exchange failed", exc, request.url), request=request)


def gate_timeout(request: HttpRequest) -> PoolTimeout:
    """The error for a request that waited too long at the gate in front of the pool."""
    return PoolTimeout(_POOL_TIMEOUT, request=request)


def _message(prefix: str, exc: Exception, url: str) -> str:
    # httpx's messages never hold headers, but a few quote the URL, which may carry a secret
    # query value (``?key=``): the URL is cut out; TransportError appends the redacted one.
    detail = _reason(exc)
    if url:
        detail = detail.replace(url, "<url>")
    if not detail or detail == prefix:
        return f"{prefix} ({type(exc).__name__})"
    return f"{prefix}: {detail}"


def _reason(exc: BaseException) -> str:
    # Some paths (TLS failures on trio) raise with an empty message and keep the reason on the
    # chained cause, e.g. ssl.SSLCertVerificationError: look a few links down for it.
    current: BaseException | None = exc
    for _ in range(6):
        if current is None:
            break
        text = str(current).strip()
        if text:
            return text
        current = current.__cause__ or current.__context__
    return ""
