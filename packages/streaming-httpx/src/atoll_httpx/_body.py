"""Response bodies as the consumer pulls them: counted against the limit, errors mapped, closable.

Nothing is read ahead: each ``__anext__``/``__next__`` asks httpx for the next chunk, which reads
the socket only then. A slow consumer therefore leaves bytes in the kernel buffers and the server
blocks (TCP backpressure) instead of the client buffering without bound.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Self, cast

import anyio
from atoll_wire import HttpRequest, ResponseTooLarge

from ._errors import ErrorTable, translate
from ._gate import Permit

if TYPE_CHECKING:
    import httpx


# Enough pulls to go through an h11 buffer full of tiny chunks: a safety bound, not a tuning knob.
_UNWIND_LIMIT = 100_000


def too_large(request: HttpRequest, limit: int, size: int, *, declared: bool) -> ResponseTooLarge:
    """The error for a body of ``size`` bytes (announced, or counted so far) over ``limit``."""
    what = f"announces {size} bytes" if declared else f"exceeded {limit} bytes"
    return ResponseTooLarge(
        f"response body {what} (limit {limit})", limit=limit, size=size, request=request
    )


def declared_size(native: httpx.Response, method: str) -> int | None:
    """The body size the server announced in ``Content-Length``, if any (and valid).

    A response to HEAD, a 204 and a 304 carry no body whatever their ``Content-Length`` says.
    """
    if method == "HEAD" or native.status_code in (204, 304):
        return None
    value = native.headers.get("content-length")
    if value is None or not value.isdigit():
        return None
    return int(value)


def _timeouts(native: httpx.Response) -> Mapping[str, float | None] | None:
    # The per-phase timeouts this exchange was sent with (the extension the transport set).
    value: object = native.request.extensions.get("timeout")
    return cast("Mapping[str, float | None]", value) if isinstance(value, Mapping) else None


def _identity(native: httpx.Response) -> bool:
    encoding = native.headers.get("content-encoding")
    return encoding is None or encoding.strip().lower() == "identity"


def _async_chunks(native: httpx.Response) -> AsyncIterator[bytes]:
    # Undecoded bodies skip httpx's decoder and re-chunker: one generator layer less per chunk.
    return native.aiter_raw() if _identity(native) else native.aiter_bytes()


def _sync_chunks(native: httpx.Response) -> Iterator[bytes]:
    return native.iter_raw() if _identity(native) else native.iter_bytes()


class AsyncBody:
    """An async iterator over a streamed httpx response body, with ``aclose``."""

    __slots__ = (
        "_chunks",
        "_errors",
        "_finished",
        "_limit",
        "_native",
        "_permit",
        "_request",
        "_size",
    )

    def __init__(
        self,
        native: httpx.Response,
        request: HttpRequest,
        limit: int | None,
        errors: ErrorTable,
        permit: Permit,
    ) -> None:
        self._native = native
        self._request = request
        self._limit = limit
        self._errors = errors
        self._permit = permit
        self._size = 0
        self._chunks: AsyncIterator[bytes] | None = None
        self._finished = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        chunks = self._chunks
        if chunks is None:
            chunks = self._chunks = _async_chunks(self._native)
        try:
            chunk = await chunks.__anext__()
        except BaseException as exc:
            # End of body, an error or a cancellation went through httpx's chain: it is finished,
            # and httpx has released (or closed) the connection.
            self._finished = True
            self._permit.release()
            if isinstance(exc, self._errors.native):
                await self._native.aclose()
                raise translate(exc, self._request, self._errors, _timeouts(self._native)) from exc
            raise
        if self._limit is not None:
            self._size += len(chunk)
            if self._size > self._limit:
                # Unread bytes remain, so closing drops the connection rather than pooling it.
                await self.aclose()
                raise too_large(self._request, self._limit, self._size, declared=False)
        return chunk

    async def aclose(self) -> None:
        """Close the response; an unfinished body drops its HTTP/1.1 connection or HTTP/2 stream."""
        try:
            await self._native.aclose()
            chunks = self._chunks
            if chunks is not None and not self._finished:
                self._finished = True
                await _unwind(chunks)
        finally:
            self._permit.release()


async def _unwind(chunks: AsyncIterator[bytes]) -> None:
    # httpx reads through a chain of nested async generators. Abandoned mid-body they stay
    # suspended, and trio warns (ResourceWarning) when it garbage-collects them. One more pull
    # inside an already-cancelled scope finishes them all without any I/O: chunks h11 still
    # buffers come back at once, and the first wait for the network raises the cancellation,
    # which runs through (and closes) every generator of the chain before the scope absorbs it.
    with anyio.CancelScope() as scope:
        scope.cancel()
        for _ in range(_UNWIND_LIMIT):
            try:
                await chunks.__anext__()
            except Exception:
                return


class SyncBody:
    """A blocking iterator over a streamed httpx response body, with ``close``."""

    __slots__ = ("_chunks", "_errors", "_limit", "_native", "_request", "_size")

    def __init__(
        self,
        native: httpx.Response,
        request: HttpRequest,
        limit: int | None,
        errors: ErrorTable,
    ) -> None:
        self._native = native
        self._request = request
        self._limit = limit
        self._errors = errors
        self._size = 0
        self._chunks: Iterator[bytes] | None = None

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> bytes:
        chunks = self._chunks
        if chunks is None:
            chunks = self._chunks = _sync_chunks(self._native)
        try:
            chunk = next(chunks)
        except self._errors.native as exc:
            self._native.close()
            raise translate(exc, self._request, self._errors, _timeouts(self._native)) from exc
        if self._limit is not None:
            self._size += len(chunk)
            if self._size > self._limit:
                self._native.close()
                raise too_large(self._request, self._limit, self._size, declared=False)
        return chunk

    def close(self) -> None:
        """Close the response; an unfinished body closes its connection."""
        self._native.close()
