"""The one place where the openai SDK's failures become atoll_wire's ``TransportError`` tree.

atoll_openai_sdk defines no exception classes of its own. The SDK wraps what its HTTP library
(httpx2, or httpx for a client built on it) raises while sending, and the HTTP library's errors
surface bare while a body streams (the SDK has returned by then). Both are matched here by the
native class's name, so this package imports no HTTP library itself::

    openai.APITimeoutError (the cause names the phase)
        ConnectTimeout / ReadTimeout / WriteTimeout / PoolTimeout   → the same atoll_wire class
    openai.APIConnectionError, or the HTTP library's error while a body streams
        ConnectError, ProxyError, ssl.SSLError                      → ConnectError
        RemoteProtocolError, ReadError, WriteError, EndOfStream,
        DecodingError                                               → RemoteProtocolError
        UnsupportedProtocol, LocalProtocolError, InvalidURL         → TransportError
    openai.APIStatusError                not an error here: its response (status, headers, body)
                                         goes back to the caller, who parses it (the dialects do)
    any other openai.OpenAIError         → TransportError (an Azure AD token provider failed, ...)

Each error is chained to the SDK's (``raise ... from``). Nothing here reads a header value, and
URLs quoted in native messages are cut out (``TransportError`` shows the redacted one).
"""

from __future__ import annotations

from collections.abc import Mapping

import openai
from atoll_wire import (
    ConnectError,
    ConnectTimeout,
    HttpRequest,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    ResponseTooLarge,
    TransportError,
    TransportTimeout,
    WriteTimeout,
)

from ._native import PROTOCOL_ERROR

_POOL = "timed out waiting for a free connection in the pool"

# (native class name, our class, what to tell the user). First match in the native class's MRO
# order wins, so a subclass (ConnectTimeout is a TimeoutException) finds its own row.
_TABLE: dict[str, tuple[type[TransportError], str]] = {
    "ConnectTimeout": (ConnectTimeout, "timed out connecting"),
    "ReadTimeout": (ReadTimeout, "timed out waiting for the server"),
    "WriteTimeout": (WriteTimeout, "timed out sending the request"),
    "PoolTimeout": (PoolTimeout, _POOL),
    "TimeoutException": (ReadTimeout, "timed out"),
    "ProxyError": (ConnectError, "the proxy refused or failed the connection"),
    "ConnectError": (ConnectError, "could not connect"),
    "SSLError": (ConnectError, "the TLS handshake failed"),
    "RemoteProtocolError": (RemoteProtocolError, "the server broke the HTTP protocol"),
    "ReadError": (RemoteProtocolError, "the connection failed while reading the response"),
    "WriteError": (RemoteProtocolError, "the connection failed while sending the request"),
    "EndOfStream": (RemoteProtocolError, "the server closed the connection"),
    "DecodingError": (RemoteProtocolError, "the response body could not be decoded"),
    "UnsupportedProtocol": (TransportError, "unsupported URL scheme"),
    "LocalProtocolError": (TransportError, "the request is not valid HTTP"),
    "InvalidURL": (TransportError, "invalid URL"),
}
_PHASES: dict[type[TransportError], str] = {
    ConnectTimeout: "connect",
    ReadTimeout: "read",
    WriteTimeout: "write",
    PoolTimeout: "pool",
}
# The roots of the HTTP library's own exceptions (httpx2 and httpx name them alike).
_NATIVE_ROOTS = frozenset({"HTTPError", "InvalidURL", "StreamError"})

HTTP_VERSIONS = frozenset({"HTTP/1.0", "HTTP/1.1", "HTTP/2"})
"""The versions a response may announce; h11 would take any ``HTTP/<digit>.<digit>``."""


def is_native(exc: BaseException) -> bool:
    """True for an exception of the SDK or of its HTTP library (the ones to translate)."""
    if isinstance(exc, openai.OpenAIError):
        return True
    return any(cls.__name__ in _NATIVE_ROOTS for cls in type(exc).__mro__)


def translate(
    exc: BaseException,
    request: HttpRequest,
    timeouts: Mapping[str, float | None] | None = None,
) -> TransportError:
    """Return the atoll_wire error for ``exc``; the caller raises it ``from exc``.

    Args:
        exc: An exception for which :func:`is_native` is true (never an ``APIStatusError``:
            that one is a response).
        request: The request that failed (its URL is redacted on the error).
        timeouts: The per-phase timeouts the exchange ran with, so a timeout says which limit
            expired.
    """
    native = exc
    if isinstance(exc, openai.APIConnectionError) and exc.__cause__ is not None:
        native = exc.__cause__  # the HTTP library's error says what happened
    for cls in type(native).__mro__:
        row = _TABLE.get(cls.__name__)
        if row is None:
            continue
        ours, prefix = row
        if issubclass(ours, TransportTimeout):
            return ours(_timeout_message(ours, prefix, native, request, timeouts), request=request)
        return ours(_message(prefix, native, request.url), request=request)
    if isinstance(exc, openai.APITimeoutError):
        message = _timeout_message(ReadTimeout, "timed out", native, request, timeouts)
        return ReadTimeout(message, request=request)
    if isinstance(exc, openai.APIConnectionError):
        message = _message("the connection failed", native, request.url)
        return TransportError(message, request=request)
    message = _message("the openai client failed", native, request.url)
    return TransportError(message, request=request)


def bad_version(version: str, request: HttpRequest) -> RemoteProtocolError:
    """The error for a status line announcing an HTTP version we do not speak (``HTTP/9.9``).

    atoll_curl refuses such a reply and h11 accepts it: refusing it here keeps every transport
    alike. It is chained to the HTTP library's own ``RemoteProtocolError``, as if it had raised.
    """
    text = f"unsupported HTTP version in the status line: {version!r}"
    error = RemoteProtocolError(f"the server's reply is not valid HTTP: {text}", request=request)
    error.__cause__ = PROTOCOL_ERROR(text)  # what ``raise error from native`` records
    return error


def too_large(request: HttpRequest, limit: int, size: int, *, declared: bool) -> ResponseTooLarge:
    """The error for a body of ``size`` bytes (announced, or counted so far) over ``limit``."""
    what = f"announces {size} bytes" if declared else f"exceeded {limit} bytes"
    return ResponseTooLarge(
        f"response body {what} (limit {limit})", limit=limit, size=size, request=request
    )


def _timeout_message(
    kind: type[TransportError],
    prefix: str,
    native: BaseException,
    request: HttpRequest,
    timeouts: Mapping[str, float | None] | None,
) -> str:
    # The HTTP library's timeouts carry no text of their own (only their context does: the event
    # loop's cancellation, "Cancelled via cancel scope 7f55..."): say which limit expired, in the
    # words of the other transports.
    seconds = None if timeouts is None else timeouts.get(_PHASES.get(kind, ""))
    if seconds is None:
        base = prefix
    elif kind is ReadTimeout:
        base = f"no bytes from the server for {seconds:g} s"
    elif kind is WriteTimeout:
        base = f"no progress sending the request body for {seconds:g} s"
    elif kind is PoolTimeout:
        base = f"timed out after {seconds:g} s waiting for a free connection in the pool"
    else:
        base = f"{prefix} after {seconds:g} s"
    detail = _detail(native, request.url)
    return f"{base}: {detail}" if detail and detail != prefix else base


def _detail(exc: BaseException, url: str) -> str:
    # Native messages never hold headers, but a few quote the URL, which may carry a secret query
    # value: the URL is cut out; TransportError appends the redacted one.
    detail = _reason(exc)
    return detail.replace(url, "<url>") if url else detail


def _message(prefix: str, exc: BaseException, url: str) -> str:
    detail = _detail(exc, url)
    if not detail or detail == prefix:
        return f"{prefix} ({type(exc).__name__})"
    return f"{prefix}: {detail}"


def _reason(exc: BaseException) -> str:
    # Some failures (TLS on trio, the SDK's "Connection error.") keep the reason on a chained
    # cause: look a few links down. A cancellation (BaseException only) is how the event loop
    # stopped a wait, never the reason, and its text names a cancel scope: stop there.
    current: BaseException | None = exc
    for _ in range(6):
        if not isinstance(current, Exception):
            break
        text = str(current).strip()
        if text and text != "Connection error.":
            return text
        current = current.__cause__ or current.__context__
    return ""
