"""The transport contract: send an ``HttpRequest``, get an ``HttpResponse`` whose body streams.

Backends (httpx, libcurl) subclass ``AsyncTransport``/``SyncTransport`` and map their native
errors onto the ``TransportError`` tree in one place. Responses are concrete: a backend hands the
body over as an (async) iterable of bytes plus a close callback, so in-memory responses for tests
need no subclass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from types import TracebackType
from typing import Any, Self, cast

import msgspec

from ._exceptions import ResponseConsumed, ResponseTooLarge
from ._redact import redact_headers, redact_url


class Timeout(msgspec.Struct, kw_only=True, frozen=True):
    """Per-phase timeouts in seconds.

    On a transport, a phase left None has no limit. On a request, a phase left None takes the
    transport's own value for it (a request's ``Timeout`` wins phase by phase).

    Attributes:
        connect: Opening the connection (TCP + TLS).
        read: Waiting for the next bytes of the response.
        write: Sending the request body.
        pool: Waiting for a free connection in the pool.
    """

    connect: float | None = None
    read: float | None = None
    write: float | None = None
    pool: float | None = None

    def __post_init__(self) -> None:
        for phase in _PHASES:
            _check_seconds(getattr(self, phase), phase)

    @classmethod
    def of(cls, timeout: float | Timeout | Mapping[str, float | None] | None) -> Timeout:
        """Normalise one number (every phase), per-phase values, or None (nothing set).

        Args:
            timeout: Seconds for every phase; a ``Timeout`` or a mapping such as
                ``{"connect": 5, "read": 60}`` for per-phase values; or None.

        Raises:
            ValueError: A value is not a positive number of seconds, or a key is not a phase.
        """
        if timeout is None:
            return cls()
        if isinstance(timeout, Timeout):
            return timeout
        if isinstance(timeout, Mapping):
            unknown = sorted(str(k) for k in timeout if k not in _PHASES)
            if unknown:
                raise ValueError(
                    f"unknown timeout phase(s) {', '.join(unknown)}; use {', '.join(_PHASES)}"
                )
            return cls(**timeout)
        _check_seconds(timeout, "timeout")
        t = float(timeout)
        return cls(connect=t, read=t, write=t, pool=t)


_PHASES = ("connect", "read", "write", "pool")


def _check_seconds(value: object, name: str) -> None:
    if value is None and name in _PHASES:
        return
    # `not value > 0` also refuses NaN.
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


class HttpRequest:
    """One HTTP request, fully built (the body is bytes, not a stream).

    Args:
        method: ``GET``, ``POST``, ...
        url: The absolute URL.
        headers: Header names to values.
        body: The request body.
        timeout: One number of seconds for every phase; per-phase values as a ``Timeout`` or
            a mapping (``{"connect": 5, "read": 60}``); or None. Phases left unset take the
            transport's own values.
        extensions: Per-request options for the transport (e.g. ``{"max_body_bytes": ...}``).

    The repr and errors never show credential headers or secret query values.
    """

    __slots__ = ("body", "extensions", "headers", "method", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        timeout: float | Timeout | Mapping[str, float | None] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        if not method:
            raise ValueError("HttpRequest needs a method")
        if not isinstance(body, bytes | bytearray | memoryview):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"HttpRequest body must be bytes, got {type(body).__name__}")
        self.method = method.upper()
        self.url = url
        self.headers: dict[str, str] = dict(headers) if headers else {}
        self.body = bytes(body)
        self.timeout: Timeout = Timeout.of(timeout)
        self.extensions: dict[str, Any] = dict(extensions) if extensions else {}

    def __repr__(self) -> str:
        return (
            f"HttpRequest(method={self.method!r}, url={redact_url(self.url)!r}, "
            f"headers={redact_headers(self.headers)!r}, body=<{len(self.body)} bytes>, "
            f"timeout={self.timeout!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HttpRequest):
            return NotImplemented
        return (
            self.method == other.method
            and self.url == other.url
            and self.headers == other.headers
            and self.body == other.body
            and self.timeout == other.timeout
            and self.extensions == other.extensions
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dict


def _lower_headers(headers: Iterable[tuple[str, str]] | dict[str, str] | None) -> dict[str, str]:
    if headers is None:
        return {}
    items: Iterable[tuple[str, str]] = (
        cast("dict[str, str]", headers).items() if isinstance(headers, dict) else headers
    )
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        # Repeated headers are joined as RFC 9110 allows for list-valued fields.
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


async def _no_close() -> None:
    return None


def _no_close_sync() -> None:
    return None


class _ResponseBase:
    __slots__ = ("_closed", "_consumed", "elapsed", "headers", "request", "status")

    def __init__(
        self,
        status: int,
        headers: Iterable[tuple[str, str]] | dict[str, str] | None,
        request: HttpRequest,
        elapsed: float,
    ) -> None:
        self.status = status
        self.headers: dict[str, str] = _lower_headers(headers)
        self.request = request
        self.elapsed = elapsed
        self._consumed = False
        self._closed = False

    @property
    def is_success(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def closed(self) -> bool:
        """True once the response was closed."""
        return self._closed

    def _take(self) -> None:
        if self._consumed:
            raise ResponseConsumed(
                f"the body of this response ({self.request.method} "
                f"{redact_url(self.request.url)}) was already consumed"
            )
        self._consumed = True

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, "
            f"request={self.request.method} {redact_url(self.request.url)!r})"
        )


class HttpResponse(_ResponseBase):
    """A response whose body arrives as an async byte stream.

    Args:
        status: The HTTP status code.
        headers: Response headers; names are stored lowercase, repeats joined with ``", "``.
        request: The request this answers.
        stream: The body: an async iterable of byte chunks, or all of it as bytes.
        elapsed: Seconds from sending to receiving the headers.
        on_close: Called once by ``aclose`` to release the connection.

    Attributes:
        status: The HTTP status code.
        headers: Lowercase header names to values.
        request: The request.
        elapsed: Seconds from sending to receiving the headers.
    """

    __slots__ = ("_on_close", "_stream")

    def __init__(
        self,
        status: int,
        headers: Iterable[tuple[str, str]] | dict[str, str] | None,
        request: HttpRequest,
        stream: AsyncIterable[bytes] | bytes = b"",
        *,
        elapsed: float = 0.0,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(status, headers, request, elapsed)
        self._stream = stream
        self._on_close = on_close or _no_close

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive; the body can be consumed once.

        The response closes itself (releasing the connection) when the iteration ends: at the
        end of the body, on an error, or when the iterator is closed. Breaking out of an
        ``async for`` does not close an async iterator, though: it is closed only when the event
        loop finalises it after garbage collection (trio warns about that). Deterministic
        release after stopping early needs ``async with response:`` (or ``await
        response.aclose()``), or ``contextlib.aclosing(response.aiter_bytes())``.

        Raises:
            ResponseConsumed: The body was already iterated or read.
            TransportError: The transport failed while reading.
        """
        self._take()
        stream = self._stream
        try:
            if isinstance(stream, bytes):
                if stream:
                    yield stream
                return
            async for chunk in stream:
                if chunk:
                    yield chunk
        finally:
            # The body can never be read again: nothing is lost by hanging up now.
            await self.aclose()

    async def aread(self, max_bytes: int | None = None) -> bytes:
        """Read the whole body, then close the response.

        Args:
            max_bytes: Refuse bodies larger than this many bytes.

        Raises:
            ResponseTooLarge: The body passed ``max_bytes``.
            ResponseConsumed: The body was already consumed.
        """
        parts: list[bytes] = []
        size = 0
        body = self.aiter_bytes()
        try:
            async for chunk in body:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ResponseTooLarge(
                        f"response body exceeded {max_bytes} bytes",
                        limit=max_bytes,
                        size=size,
                        request=self.request,
                    )
                parts.append(chunk)
        finally:
            # An early exit leaves the iterator suspended; close it before the connection.
            close_body = getattr(body, "aclose", None)
            if close_body is not None:
                await close_body()
            await self.aclose()
        return b"".join(parts)

    async def aclose(self) -> None:
        """Release the connection; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        aclose = getattr(self._stream, "aclose", None)
        try:
            if aclose is not None:
                await aclose()
        finally:
            await self._on_close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class SyncHttpResponse(_ResponseBase):
    """A response whose body arrives as a blocking byte iterator.

    Args:
        status: The HTTP status code.
        headers: Response headers; names are stored lowercase, repeats joined with ``", "``.
        request: The request this answers.
        stream: The body: an iterable of byte chunks, or all of it as bytes.
        elapsed: Seconds from sending to receiving the headers.
        on_close: Called once by ``close`` to release the connection.
    """

    __slots__ = ("_on_close", "_stream")

    def __init__(
        self,
        status: int,
        headers: Iterable[tuple[str, str]] | dict[str, str] | None,
        request: HttpRequest,
        stream: Iterable[bytes] | bytes = b"",
        *,
        elapsed: float = 0.0,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(status, headers, request, elapsed)
        self._stream = stream
        self._on_close = on_close or _no_close_sync

    def iter_bytes(self) -> Iterator[bytes]:
        """Yield the body in chunks as they arrive; the body can be consumed once.

        The response closes itself when the iteration ends: at the end of the body, on an
        error, or when the iterator is closed (in CPython also as soon as a ``for`` loop that
        broke out drops it). ``with response:`` releases the connection in every case.

        Raises:
            ResponseConsumed: The body was already iterated or read.
        """
        self._take()
        stream = self._stream
        try:
            if isinstance(stream, bytes):
                if stream:
                    yield stream
                return
            for chunk in stream:
                if chunk:
                    yield chunk
        finally:
            self.close()

    def read(self, max_bytes: int | None = None) -> bytes:
        """Read the whole body, then close the response.

        Args:
            max_bytes: Refuse bodies larger than this many bytes.

        Raises:
            ResponseTooLarge: The body passed ``max_bytes``.
        """
        parts: list[bytes] = []
        size = 0
        body = self.iter_bytes()
        try:
            for chunk in body:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ResponseTooLarge(
                        f"response body exceeded {max_bytes} bytes",
                        limit=max_bytes,
                        size=size,
                        request=self.request,
                    )
                parts.append(chunk)
        finally:
            close_body = getattr(body, "close", None)
            if close_body is not None:
                close_body()
            self.close()
        return b"".join(parts)

    def close(self) -> None:
        """Release the connection; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        close = getattr(self._stream, "close", None)
        try:
            if close is not None:
                close()
        finally:
            self._on_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncTransport(ABC):
    """Sends requests asynchronously. Subclass it for a new HTTP backend.

    ``send`` returns as soon as the status and headers arrived; the body streams through
    ``HttpResponse.aiter_bytes``. Every native error is raised as a ``TransportError`` subclass.
    """

    @property
    def authenticates(self) -> bool:
        """Whether the transport puts its own credentials on requests (an SDK client's).

        A Client on such a transport needs no API key of its own. False by default.
        """
        return False

    @abstractmethod
    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` and return the response once its headers arrived.

        Args:
            request: The request.

        Raises:
            TransportError: Connecting, sending or receiving failed.
        """

    @abstractmethod
    async def aclose(self) -> None:
        """Close every pooled connection."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class SyncTransport(ABC):
    """Sends requests, blocking. Subclass it for a new HTTP backend."""

    @property
    def authenticates(self) -> bool:
        """Whether the transport puts its own credentials on requests (an SDK client's).

        A Client on such a transport needs no API key of its own. False by default.
        """
        return False

    @property
    def default_timeout(self) -> Timeout:
        """The transport's own per-phase limits, used for phases a request leaves unset.

        A caller that must cap every phase itself (the sync Client, by its deadline) reads
        it; the base returns ``Timeout()`` (nothing known), so a backend should override it.
        """
        return Timeout()

    @abstractmethod
    def send(self, request: HttpRequest) -> SyncHttpResponse:
        """Send ``request`` and return the response once its headers arrived.

        Args:
            request: The request.

        Raises:
            TransportError: Connecting, sending or receiving failed.
        """

    @abstractmethod
    def close(self) -> None:
        """Close every pooled connection."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
