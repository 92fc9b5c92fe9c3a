"""The two drivers of an ``AttemptLoop``: one awaits, one blocks. They only do the I/O.

Each asks the loop for the next request, adds its auth headers, sends it, and hands the
outcome back; the loop decides everything else (see ``_attempts.py``). The async driver
enforces the call's deadline around each exchange; the sync driver cannot interrupt a blocking
call, so the loop caps every transport phase by the time left instead.
"""

from __future__ import annotations

import builtins
import time

import anyio
from atoll_wire import (
    AsyncTransport,
    HttpRequest,
    HttpResponse,
    SyncHttpResponse,
    SyncTransport,
    TransportError,
)

from ._attempts import AttemptLoop
from ._engine import MAX_ERROR_BODY_BYTES
from ._exceptions import AuthError

__all__ = ["read_error_body", "send_async", "send_sync"]


async def send_async(
    loop: AttemptLoop, transport: AsyncTransport, *, read: bool
) -> tuple[HttpResponse, bytes | None]:
    """Send until a success response arrives (its body read when ``read``), as the loop says.

    Raises:
        BaseException: The call's final error, as the loop decided it.
    """
    try:
        while True:
            http = loop.next_request()
            try:
                loop.authorize(http, await loop.target.auth.aheaders())
                left = loop.deadline.remaining()
                if left is None:
                    response, body = await _exchange(loop, transport, http, read)
                else:
                    with anyio.fail_after(left):
                        response, body = await _exchange(loop, transport, http, read)
            except (TransportError, AuthError) as exc:
                wait = loop.failed(exc)
            except builtins.TimeoutError as exc:  # anyio's deadline scope fired
                raise loop.timed_out() from exc
            else:
                if response.status < 400:
                    return response, body
                wait = loop.failed(loop.error_for(response.status, response.headers, body or b""))
            if wait:
                await anyio.sleep(wait)
    except BaseException as error:
        loop.abandon(error)  # cancelled, or the final error: the span ends either way
        raise


async def _exchange(
    loop: AttemptLoop, transport: AsyncTransport, http: HttpRequest, read: bool
) -> tuple[HttpResponse, bytes | None]:
    response = await transport.send(http)
    if response.status >= 400:
        # Only a bounded prefix of an error body is read; closing drops the rest.
        try:
            return response, await read_error_body(response)
        finally:
            await _close(response)
    if not read:
        return response, None
    try:
        return response, await response.aread(loop.max_response_bytes)
    finally:
        await _close(response)


async def _close(response: HttpResponse) -> None:
    if not response.closed:  # a body read to its end has closed itself: no scope to pay for
        with anyio.CancelScope(shield=True):
            await response.aclose()


async def read_error_body(response: HttpResponse) -> bytes:
    """Up to ``MAX_ERROR_BODY_BYTES`` of an error body; a broken body gives what arrived."""
    body = bytearray()
    chunks = response.aiter_bytes()
    try:
        async for chunk in chunks:
            body += chunk
            if len(body) >= MAX_ERROR_BODY_BYTES:
                break
    except TransportError:
        pass
    finally:
        # Close the generator now, not in a finaliser (trio warns about that).
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    return bytes(body[:MAX_ERROR_BODY_BYTES])


def send_sync(
    loop: AttemptLoop, transport: SyncTransport, *, read: bool
) -> tuple[SyncHttpResponse, bytes | None]:
    """The blocking twin of ``send_async``; the deadline caps each phase's timeout.

    Raises:
        BaseException: The call's final error, as the loop decided it.
    """
    try:
        while True:
            if loop.deadline.expired:
                raise loop.timed_out()
            http = loop.next_request()
            try:
                loop.authorize(http, loop.target.auth.headers())
                response, body = _exchange_sync(loop, transport, http, read)
            except (TransportError, AuthError) as exc:
                if loop.deadline.expired:
                    raise loop.timed_out() from exc
                wait = loop.failed(exc)
            else:
                if response.status < 400:
                    return response, body
                wait = loop.failed(loop.error_for(response.status, response.headers, body or b""))
            if wait:
                time.sleep(wait)
    except BaseException as error:
        loop.abandon(error)
        raise


def _exchange_sync(
    loop: AttemptLoop, transport: SyncTransport, http: HttpRequest, read: bool
) -> tuple[SyncHttpResponse, bytes | None]:
    response = transport.send(http)
    if response.status >= 400:
        try:
            return response, _read_error_body_sync(response)
        finally:
            response.close()
    if not read:
        return response, None
    return response, response.read(loop.max_response_bytes)


def _read_error_body_sync(response: SyncHttpResponse) -> bytes:
    body = bytearray()
    chunks = response.iter_bytes()
    try:
        for chunk in chunks:
            body += chunk
            if len(body) >= MAX_ERROR_BODY_BYTES:
                break
    except TransportError:
        pass
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return bytes(body[:MAX_ERROR_BODY_BYTES])
