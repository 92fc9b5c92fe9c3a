"""``CurlTransport``: the async transport on one libcurl multi handle, for asyncio and trio."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from functools import partial
from operator import attrgetter
from time import monotonic
from typing import Self

import anyio
from atoll_wire import AsyncTransport, HttpRequest, HttpResponse, Timeout

from ._config import (
    DEFAULT_BUFFER_BYTES,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TIMEOUT,
    CurlConfig,
    curl_config,
)
from ._driver import Driver, Slots
from ._exceptions import closed_error, pool_timeout, raise_for
from ._options import Configurator, prepare, url_to_send
from ._reactor import Reactor
from ._transfer import Transfer

_HEADERS_READY = attrgetter("ready_headers")
_BODY_READY = attrgetter("ready_body")


class CurlTransport(AsyncTransport):
    """An ``AsyncTransport`` on libcurl: one ``CurlMulti`` driven by anyio socket readiness.

    Runs on asyncio and trio with no thread and no background task: the tasks waiting for
    responses drive libcurl in turn (see ``atoll_curl._driver``). ``send`` returns as soon as the
    headers arrived; the body streams as it arrives, and a consumer that falls behind pauses the
    transfer once ``buffer_bytes`` are waiting. Closing a response early (or cancelling the task
    that reads it) removes the transfer from libcurl at once and closes its connection.

    Use one transport from one event loop. Always close responses (``async with``): an open one
    holds its connection slot.

    Args:
        verify: Verify the server certificate and host name (on by default).
        ca_bundle: A CA bundle file or hashed directory to verify against (default: the
            system's, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when ``trust_env``).
        trust_env: Take proxies (``HTTP(S)_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) and CA paths
            from the environment.
        proxy: One proxy URL for every request (overrides the environment).
        http2: Offer HTTP/2 over TLS; None means "when libcurl supports it".
        max_connections: Requests in flight at once; more wait up to ``Timeout.pool``.
        max_keepalive_connections: Idle connections kept for reuse (default: max_connections).
        keepalive_expiry: Seconds an idle connection may still be reused.
        buffer_bytes: Body bytes buffered for a slow consumer before the transfer pauses.
        timeout: Default timeouts; a request's own ``Timeout`` phases take precedence.
        max_body_bytes: Larger responses raise ``ResponseTooLarge`` (None: no limit); the
            ``max_body_bytes`` request extension overrides it per request.

    Raises:
        ValueError: An option is out of range or options contradict each other.

    Example:
        >>> import anyio
        >>> from atoll_wire import HttpRequest
        >>> async def main() -> None:
        ...     async with CurlTransport() as transport:
        ...         request = HttpRequest("GET", "https://example.com/")
        ...         async with await transport.send(request) as response:
        ...             async for chunk in response.aiter_bytes():
        ...                 ...
    """

    def __init__(
        self,
        *,
        verify: bool = True,
        ca_bundle: str | os.PathLike[str] | None = None,
        trust_env: bool = True,
        proxy: str | None = None,
        http2: bool | None = None,
        max_connections: int = 100,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float = 60.0,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        config = curl_config(
            verify=verify,
            ca_bundle=ca_bundle,
            trust_env=trust_env,
            proxy=proxy,
            http2=http2,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            buffer_bytes=buffer_bytes,
            timeout=timeout,
            max_body_bytes=max_body_bytes,
        )
        self._config: CurlConfig = config
        self._configurator = Configurator(config)
        self._reactor = Reactor(
            max_connections=config.max_connections,
            max_keepalive=config.max_keepalive_connections,
            http2=config.http2,
            prepare=partial(prepare, config=config),
            forget=self._configurator.forget,
        )
        self._driver = Driver(self._reactor)
        self._slots = Slots(config.max_connections)

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request``; return once the status line and headers arrived.

        Args:
            request: The request.

        Raises:
            ValueError: The request's ``max_body_bytes`` extension is invalid.
            TransportError: Connecting, sending or receiving failed (a subclass says which),
                or the request cannot be sent (not http(s), a malformed header).
        """
        reactor = self._reactor
        if reactor.closed:
            raise closed_error(request)
        config = self._config
        timeout = config.timeouts(request)
        limit = config.body_limit(request)
        url = url_to_send(request)
        if not await self._slots.acquire(timeout.pool):
            raise pool_timeout(request, timeout.pool or 0.0)
        transfer = self._start(request, timeout, limit, url)
        try:
            await self._wait(transfer, _HEADERS_READY, timeout)
        except BaseException:
            reactor.abort(transfer)
            raise
        if not transfer.headers_complete:
            raise_for(transfer)
        body: _Body | bytes
        if transfer.done and transfer.code == 0:
            body = transfer.take()  # it all came with the headers: hand over plain bytes
        else:
            body = _Body(self._wait, reactor, transfer, timeout)
        return HttpResponse(
            transfer.status,
            transfer.header_items(),
            request,
            body,
            elapsed=monotonic() - transfer.started,
        )

    def _start(
        self, request: HttpRequest, timeout: Timeout, limit: int | None, url: str
    ) -> Transfer:
        reactor = self._reactor
        if reactor.closed:
            self._slots.release()
            raise closed_error(request)
        easy = reactor.easy()
        transfer = Transfer(easy, request, high_water=self._config.buffer_bytes, limit=limit)
        transfer.release = self._slots.release
        try:
            self._configurator.configure(transfer, timeout, limit, url)
            reactor.start(transfer)
        except BaseException:
            reactor.abort(transfer)
            raise
        return transfer

    async def _wait(self, transfer: Transfer, ready: attrgetter[bool], limits: Timeout) -> None:
        driver = self._driver
        try:
            while not await driver.wait(transfer, ready, transfer.deadline(limits)):
                error = transfer.stalled(limits)
                if error is not None:
                    raise error
        except anyio.ClosedResourceError:
            raise closed_error(transfer.request) from None

    async def aclose(self) -> None:
        """Abort every transfer still running and close every connection."""
        reactor = self._reactor
        if reactor.closed:
            return
        # Wake a task sleeping on the reactor's descriptor before it goes away.
        anyio.notify_closing(reactor.fileno())
        reactor.close()
        await anyio.lowlevel.checkpoint()


class _Body:
    """The async byte stream behind a :class:`HttpResponse` (``aclose`` aborts the transfer)."""

    __slots__ = ("_reactor", "_timeout", "_transfer", "_wait")

    def __init__(
        self,
        wait: Callable[[Transfer, attrgetter[bool], Timeout], Awaitable[None]],
        reactor: Reactor,
        transfer: Transfer,
        timeout: Timeout,
    ) -> None:
        self._wait = wait
        self._reactor = reactor
        self._transfer = transfer
        self._timeout = timeout

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        transfer = self._transfer
        if not transfer.ready_body:
            try:
                await self._wait(transfer, _BODY_READY, self._timeout)
            except BaseException:
                self._reactor.abort(transfer)
                raise
        data = transfer.take()
        if data:
            if transfer.paused:
                self._reactor.resume(transfer)
            return data
        if transfer.code == 0 and not transfer.too_large:
            raise StopAsyncIteration
        raise_for(transfer)

    async def aclose(self) -> None:
        """Abort the transfer if it is still running (its connection is then closed)."""
        self._reactor.abort(self._transfer)

    def __del__(self) -> None:
        # A response dropped unclosed (e.g. its task was cancelled outside ``async with``)
        # must not hold its connection and pool slot until the transport closes.
        self._reactor.orphan(self._transfer)
