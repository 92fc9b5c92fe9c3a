"""``HttpxTransport``: atoll_wire's ``AsyncTransport`` on ``httpx.AsyncClient`` (or httpx2's)."""

from __future__ import annotations

import os
import ssl
import time
from typing import TYPE_CHECKING

from atoll_wire import AsyncTransport, HttpRequest, HttpResponse, Timeout, TransportError

from ._backend import BackendName, load_backend
from ._body import AsyncBody, declared_size, too_large
from ._config import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TIMEOUT,
    PoolOptions,
    RequestPolicy,
    adopt,
    make_async_client,
    pool_config,
)
from ._errors import HTTP_VERSIONS, bad_version, translate
from ._gate import NO_PERMIT, RequestGate
from ._headers import checked_headers
from ._loop import LoopBinding, other_loop_error

if TYPE_CHECKING:
    import httpx


class HttpxTransport(AsyncTransport):
    """Send requests with ``httpx.AsyncClient``: pooled, streamed, on asyncio or trio.

    Connections are pooled and kept alive; TLS certificates are verified; proxies come from the
    environment (``HTTPS_PROXY``, ``NO_PROXY``, ...) unless ``trust_env=False``; HTTP/2 is
    available on request (``http2=True``, needs ``h2``). Response bodies stream as the caller
    iterates them. Every httpx error is raised as an atoll_wire ``TransportError``, chained.

    Args:
        timeout: Default seconds per phase (connect, read, write, pool): one number, a
            ``Timeout``, or None for no limits. A request's own ``timeout`` phases win.
        max_body_bytes: Largest response body accepted, or None for no limit; a request can
            override it with ``extensions={"max_body_bytes": n}``.
        verify: Verify TLS certificates (True), skip verification (False), or an
            ``ssl.SSLContext`` to use as is.
        ca_bundle: A PEM file (or directory) of CA certificates to trust instead of the defaults.
        trust_env: Read proxies, ``NO_PROXY`` and ``SSL_CERT_FILE`` from the environment.
        proxy: One proxy URL for every request (overrides the environment's).
        http2: Offer HTTP/2 through ALPN (needs ``h2``). Off by default: httpcore does not
            reset an HTTP/2 stream closed early, so the server keeps sending into it and its
            unacknowledged data eats the connection's flow-control window.
        max_connections: Connections open at once; more requests wait for one (pool timeout).
        max_keepalive_connections: Idle connections kept for reuse (default: max_connections).
        keepalive_expiry: Seconds an idle connection is kept.
        backend: ``"httpx"`` or ``"httpx2"``; None picks httpx, or httpx2 when only it is
            installed.
        client: A ready-made ``AsyncClient`` of httpx or httpx2 to send through instead. You
            keep ownership: ``aclose`` does not close it. Connection options cannot be combined
            with it.

    Raises:
        ValueError: An option is out of range or options contradict each other.
        ImportError: The backend, or ``h2`` for ``http2=True``, is not installed.
    """

    def __init__(
        self,
        *,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
        verify: bool | ssl.SSLContext = True,
        ca_bundle: str | os.PathLike[str] | None = None,
        trust_env: bool = True,
        proxy: str | None = None,
        http2: bool = False,
        max_connections: int = 100,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float = 5.0,
        backend: BackendName | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._policy = RequestPolicy(timeout, max_body_bytes)
        self._closed = False
        options = PoolOptions(
            verify=verify,
            ca_bundle=ca_bundle,
            trust_env=trust_env,
            proxy=proxy,
            http2=http2,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
        )
        self._owns_client = client is None
        self._loop = LoopBinding()
        self._http2: bool | None = None
        self._gate: RequestGate | None = None
        if client is not None:
            self._backend = adopt(client, backend, options)
            self._client = client
            return
        self._backend = load_backend(backend)
        config = pool_config(options)
        self._client = make_async_client(self._backend, config)
        self._http2 = config.http2
        if self._backend.name == "httpx":
            # Only httpcore 1.x's pool needs the gate (see _gate.py).
            self._gate = RequestGate(config.max_connections)

    @property
    def backend(self) -> str:
        """``"httpx"`` or ``"httpx2"``: the library doing the work."""
        return self._backend.name

    @property
    def http2(self) -> bool | None:
        """Whether HTTP/2 may be negotiated (None when the client was passed in)."""
        return self._http2

    @property
    def closed(self) -> bool:
        """True once ``aclose`` ran."""
        return self._closed

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request``; return once the status and headers arrived.

        Args:
            request: The request.

        Raises:
            ConnectError: The connection could not be opened (refused, DNS, TLS).
            ConnectTimeout: Connecting took longer than the connect timeout.
            PoolTimeout: No connection became free within the pool timeout.
            WriteTimeout: Sending the body took longer than the write timeout.
            ReadTimeout: The response did not start within the read timeout.
            RemoteProtocolError: The server broke HTTP or hung up.
            ResponseTooLarge: ``Content-Length`` announces more than the body limit.
            TransportError: Any other failure (bad URL, unsupported scheme, a header name
                that is not a token or a value with control or non-ASCII characters, ...).
            ValueError: The request's ``max_body_bytes`` extension is invalid.
            TransportError: The transport is closed, or belongs to another event loop (the
                one that first used it).
        """
        if self._closed:
            raise TransportError("this HttpxTransport is closed; create a new one", request=request)
        if self._loop.foreign():
            raise other_loop_error("HttpxTransport", request)
        policy = self._policy
        limit = policy.body_limit(request)
        errors = self._backend.errors
        client = self._client
        timeouts = policy.timeouts(request)
        headers = checked_headers(request)  # before any I/O: a bad value never reaches httpx
        permit = (
            NO_PERMIT if self._gate is None else await self._gate.enter(request, timeouts["pool"])
        )
        started = time.perf_counter()
        try:
            native_request = client.build_request(
                request.method,
                request.url,
                headers=headers,
                content=request.body,
                extensions={"timeout": timeouts},
            )
            if request.body:
                native_request.stream = self._backend.request_body(request.body)
            native = await client.send(native_request, stream=True)
        except errors.native as exc:
            permit.release()
            raise translate(exc, request, errors, timeouts) from exc
        except BaseException:
            permit.release()
            raise
        elapsed = time.perf_counter() - started
        body = AsyncBody(native, request, limit, errors, permit)
        if native.http_version not in HTTP_VERSIONS:
            await body.aclose()  # drops the connection and frees the permit
            raise bad_version(native.http_version, request, errors)
        if limit is not None:
            size = declared_size(native, request.method)
            if size is not None and size > limit:
                await body.aclose()
                raise too_large(request, limit, size, declared=True)
        return HttpResponse(
            native.status_code, native.headers.multi_items(), request, body, elapsed=elapsed
        )

    async def aclose(self) -> None:
        """Close every pooled connection (not a client passed in); safe to call twice.

        Raises:
            TransportError: Called from an event loop other than the one that used the
                transport: its connections belong to that loop and cannot be closed here.
        """
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            if self._loop.seen() and self._loop.foreign():
                raise other_loop_error("HttpxTransport")
            await self._client.aclose()

    def __repr__(self) -> str:
        origin = "own client" if self._owns_client else "client passed in"
        return (
            f"HttpxTransport(backend={self._backend.name!r}, http2={self._http2!r}, "
            f"max_body_bytes={self._policy.max_body_bytes!r}, {origin})"
        )
