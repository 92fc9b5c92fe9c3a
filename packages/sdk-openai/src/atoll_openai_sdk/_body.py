"""Response bodies read from the SDK's raw response as the consumer pulls them.

Nothing is read ahead: each ``__anext__``/``__next__`` asks the HTTP library for the next chunk,
which reads the socket only then, so a slow consumer leaves the bytes in the kernel's buffers
and the server waits. Bytes are counted against the body limit; the HTTP library's errors are
mapped in ``_errors``; closing an unfinished body closes its connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Self

from atoll_wire import HttpRequest

from ._errors import is_native, too_large, translate
from ._native import NativeResponse

# Enough pulls to go through a buffer full of tiny chunks: a safety bound, not a tuning knob.
_UNWIND_LIMIT = 100_000


def declared_size(native: NativeResponse, method: str) -> int | None:
    """The body size announced in ``Content-Length``, if any and valid.

    A response to HEAD, a 204 and a 304 carry no body whatever their ``Content-Length`` says.
    """
    if method == "HEAD" or native.status_code in (204, 304):
        return None
    value = native.headers.get("content-length")
    if value is None or not value.isdigit():
        return None
    return int(value)


def _identity(native: NativeResponse) -> bool:
    encoding = native.headers.get("content-encoding")
    return encoding is None or encoding.strip().lower() == "identity"


class AsyncBody:
    """An async iterator over a streamed response body, with ``aclose``.

    Args:
        native: The SDK's raw response, unread.
        request: The request it answers (for errors).
        limit: The body limit in bytes, or None.
        timeouts: The per-phase timeouts in force (for error messages).
    """

    __slots__ = ("_chunks", "_finished", "_limit", "_native", "_request", "_size", "_timeouts")

    def __init__(
        self,
        native: NativeResponse,
        request: HttpRequest,
        limit: int | None,
        timeouts: Mapping[str, float | None],
    ) -> None:
        self._native = native
        self._request = request
        self._limit = limit
        self._timeouts = timeouts
        self._size = 0
        self._chunks: AsyncIterator[bytes] | None = None
        self._finished = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        chunks = self._chunks
        if chunks is None:
            native = self._native
            # Undecoded bodies skip the library's decoder: one generator layer less per chunk.
            chunks = self._chunks = (
                native.aiter_raw() if _identity(native) else native.aiter_bytes()
            )
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            self._finished = True
            raise
        except Exception as exc:
            self._finished = True
            if not is_native(exc):
                raise
            await self._native.aclose()
            raise translate(exc, self._request, self._timeouts) from exc
        except BaseException:
            self._finished = True  # a cancellation went through the library's generators
            raise
        if self._limit is not None:
            self._size += len(chunk)
            if self._size > self._limit:
                await self.aclose()
                raise too_large(self._request, self._limit, self._size, declared=False)
        return chunk

    async def aclose(self) -> None:
        """Close the response; an unfinished body closes its connection."""
        await self._native.aclose()
        chunks = self._chunks
        if chunks is not None and not self._finished:
            self._finished = True
            await _unwind(chunks)


async def _unwind(chunks: AsyncIterator[bytes]) -> None:
    # The library reads through a chain of nested async generators. Abandoned mid-body they stay
    # suspended, and trio warns (ResourceWarning) when it garbage-collects them. The response is
    # closed now, so pulling again runs down the chain without waiting on the network: it yields
    # what was still buffered, then ends or fails, and either way finishes every generator.
    for _ in range(_UNWIND_LIMIT):
        try:
            await chunks.__anext__()
        except Exception:
            return


class SyncBody:
    """A blocking iterator over a streamed response body, with ``close``.

    Args:
        native: The SDK's raw response, unread.
        request: The request it answers (for errors).
        limit: The body limit in bytes, or None.
        timeouts: The per-phase timeouts in force (for error messages).
    """

    __slots__ = ("_chunks", "_limit", "_native", "_request", "_size", "_timeouts")

    def __init__(
        self,
        native: NativeResponse,
        request: HttpRequest,
        limit: int | None,
        timeouts: Mapping[str, float | None],
    ) -> None:
        self._native = native
        self._request = request
        self._limit = limit
        self._timeouts = timeouts
        self._size = 0
        self._chunks: Iterator[bytes] | None = None

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> bytes:
        chunks = self._chunks
        if chunks is None:
            native = self._native
            chunks = self._chunks = native.iter_raw() if _identity(native) else native.iter_bytes()
        try:
            chunk = next(chunks)
        except StopIteration:
            raise
        except Exception as exc:
            if not is_native(exc):
                raise
            self._native.close()
            raise translate(exc, self._request, self._timeouts) from exc
        if self._limit is not None:
            self._size += len(chunk)
            if self._size > self._limit:
                self._native.close()
                raise too_large(self._request, self._limit, self._size, declared=False)
        return chunk

    def close(self) -> None:
        """Close the response; an unfinished body closes its connection."""
        self._native.close()
