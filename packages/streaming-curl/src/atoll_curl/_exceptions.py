"""The one place where libcurl's error codes become atoll_wire's ``TransportError`` tree.

atoll_curl defines no exception classes of its own; every failure a caller sees is one of
atoll_wire's, chained (``raise ... from``) to a ``pycurl.error(code, message)`` that carries
libcurl's own code and text::

    TransportError                      anything not listed below (bad URL, out of memory, ...)
    ├── ConnectError                    5, 6 resolve · 7 connect · 35, 53, 58-60, 64, 66, 77,
    │                                   80, 82, 83, 90, 91 TLS · 45 interface · 96 QUIC · 97 proxy
    ├── TransportTimeout
    │   ├── ConnectTimeout              28 while resolving or connecting (CONNECTTIMEOUT_MS)
    │   ├── ReadTimeout                 28 otherwise, or our own inactivity timer (reading)
    │   ├── WriteTimeout                our own inactivity timer while the body was being sent
    │   └── PoolTimeout                 no free connection slot within ``Timeout.pool``
    ├── RemoteProtocolError             1 once the request went out (the reply is not HTTP:
    │                                   a garbage status line, HTTP/0.9, an unknown version) ·
    │                                   8 weird reply · 16, 92 HTTP/2 · 18 partial body ·
    │                                   52 empty reply · 55 send · 56 receive · 61 bad encoding ·
    │                                   95 HTTP/3 · 42 when we refused libcurl's resend of a
    │                                   request whose reused connection died without an answer
    └── ResponseTooLarge                63 (declared length over the limit) or our running count

Nothing here reads a header value, so no credential can leak into a message; URLs are redacted by
``TransportError`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import pycurl
from atoll_wire import (
    ConnectError,
    ConnectTimeout,
    HttpRequest,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    ResponseTooLarge,
    TransportError,
    WriteTimeout,
)

if TYPE_CHECKING:
    from ._transfer import Transfer

UNSUPPORTED_PROTOCOL = 1
TIMED_OUT = 28
FILESIZE_EXCEEDED = 63
WRITE_ERROR = 23
ABORTED = 42  # CURLE_ABORTED_BY_CALLBACK: we use it to mark transfers we removed ourselves

# libcurl's texts for code 28 name the phase; its timings cannot (a failed connect reports a
# pre-transfer time, and a reused connection reports no connect time).
_CONNECT_PHASE = ("Resolving timed out", "Connection timed out", "Failed to connect")
_CONNECT = frozenset({5, 6, 7, 35, 45, 53, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 96, 97})
_PROTOCOL = frozenset({8, 16, 18, 52, 55, 56, 61, 92, 95})


def transport_error(
    code: int,
    message: str,
    request: HttpRequest,
    *,
    limit: int | None = None,
    size: int = 0,
) -> TransportError:
    """Translate one libcurl result into the atoll_wire error a caller should see.

    Args:
        code: The ``CURLcode``.
        message: libcurl's error text for it.
        request: The request that failed.
        limit: The body limit in force, for ``ResponseTooLarge``.
        size: Bytes received (or announced) when the limit was crossed.
    """
    text = message or f"libcurl error {code}"
    if code == TIMED_OUT:
        if text.startswith(_CONNECT_PHASE):
            return ConnectTimeout(f"timed out connecting: {text}", request=request)
        return ReadTimeout(f"timed out waiting for the server: {text}", request=request)
    if code == FILESIZE_EXCEEDED and limit is not None:
        return too_large(request, limit, size)
    if code in _CONNECT:
        return ConnectError(f"could not connect: {text}", request=request)
    if code in _PROTOCOL:
        return RemoteProtocolError(f"the connection failed mid-exchange: {text}", request=request)
    return TransportError(f"libcurl failed: {text}", request=request)


def native_code(exc: pycurl.error) -> tuple[int, str]:
    """The ``(code, message)`` a ``pycurl.error`` carries (a CURLcode or CURLMcode)."""
    args = exc.args
    code = args[0] if args and isinstance(args[0], int) else -1
    message = str(args[1]) if len(args) > 1 else str(exc)
    return code, message or f"libcurl error {code}"


def too_large(request: HttpRequest, limit: int, size: int) -> ResponseTooLarge:
    """The error for a body that passed ``limit`` bytes.

    Args:
        request: The request whose response was too large.
        limit: The limit in bytes.
        size: How many bytes had arrived (or were announced) when it was crossed.
    """
    return ResponseTooLarge(
        f"response body exceeded the {limit}-byte limit", limit=limit, size=size, request=request
    )


def raise_curl_error(
    code: int,
    message: str,
    request: HttpRequest,
    *,
    limit: int | None = None,
    size: int = 0,
    too_big: bool = False,
    resend_refused: bool = False,
    sent: bool = False,
) -> NoReturn:
    """Raise the atoll_wire error for a failed transfer, chained to the native ``pycurl.error``.

    Args:
        code: The ``CURLcode`` (0 when libcurl saw success but no response came).
        message: libcurl's error text.
        request: The request that failed.
        limit: The body limit in force.
        size: Bytes received (or announced) when the limit was crossed.
        too_big: Our own running count crossed ``limit`` (libcurl then reports a write error).
        resend_refused: The transfer ended because libcurl wanted to send the request again.
        sent: The request had gone out (libcurl's ``CURLE_UNSUPPORTED_PROTOCOL`` then means
            the reply was not HTTP, not that the URL's scheme was refused).
    """
    native = pycurl.error(code, message)
    if too_big and limit is not None:
        raise too_large(request, limit, size) from native
    if resend_refused:
        raise RemoteProtocolError(
            "the server closed the connection without a response after the request was sent; "
            "it was not sent again (the server may have received it)",
            request=request,
        ) from native
    if code == ABORTED:
        raise TransportError("the response was closed", request=request) from native
    if code == UNSUPPORTED_PROTOCOL and sent:
        raise RemoteProtocolError(
            f"the server's reply is not valid HTTP: {message}", request=request
        ) from native
    if code == 0:
        raise RemoteProtocolError(
            "the server closed the connection without a response", request=request
        ) from native
    raise transport_error(code, message, request, limit=limit, size=size) from native


def pool_timeout(request: HttpRequest, seconds: float) -> PoolTimeout:
    """The error for a request that found no free connection slot in time.

    Args:
        request: The waiting request.
        seconds: The pool timeout that expired.
    """
    return PoolTimeout(
        f"timed out after {seconds:g} s waiting for a free connection in the pool",
        request=request,
    )


def stall_timeout(request: HttpRequest, seconds: float, *, writing: bool) -> TransportError:
    """The error for a transfer our inactivity timer found stalled for ``seconds``.

    libcurl has no read or write timeout of its own (only a whole-transfer one, and a low-speed
    limit in whole seconds), so atoll_curl keeps one and aborts the transfer itself. The error is
    chained, as if raised ``from``, to the native error libcurl would have given:
    ``pycurl.error(CURLE_OPERATION_TIMEDOUT, ...)``.

    Args:
        request: The stalled request.
        seconds: The read or write timeout that expired.
        writing: True when the request body was still being sent.
    """
    what = "sending the request body" if writing else "waiting for the server"
    native = pycurl.error(TIMED_OUT, f"Operation timed out: no progress {what} for {seconds:g} s")
    error: TransportError
    if writing:
        error = WriteTimeout(
            f"no progress sending the request body for {seconds:g} s", request=request
        )
    else:
        error = ReadTimeout(f"no bytes from the server for {seconds:g} s", request=request)
    error.__cause__ = native  # what ``raise error from native`` records
    return error


def closed_error(request: HttpRequest) -> TransportError:
    """The error for using a transport (or a response) after it was closed.

    Args:
        request: The request that could not proceed.
    """
    return TransportError("the transport was closed", request=request)


def raise_for(transfer: Transfer) -> NoReturn:
    """Raise the error a finished (failed or aborted) transfer ended with.

    Args:
        transfer: A transfer whose ``done`` is set and which ended without a full response.
    """
    raise_curl_error(
        transfer.code,
        transfer.message,
        transfer.request,
        limit=transfer.limit,
        size=transfer.received,
        too_big=transfer.too_large,
        resend_refused=transfer.resend_refused,
        sent=transfer.sent,
    )
