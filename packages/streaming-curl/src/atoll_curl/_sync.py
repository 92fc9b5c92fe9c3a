"""``SyncCurlTransport``: the blocking transport, on the same reactor and options as the async one.

A call that needs progress drives libcurl itself: one thread at a time blocks in ``select`` on
the reactor's one descriptor (without the lock) and dispatches for everybody under the lock;
other threads sleep on their transfer's ``threading.Event`` until their data is buffered, so
several threads share one transport and one connection pool.
Nothing runs in the background: a response body is read from the network only while someone
iterates it, so a slow consumer pauses the transfer exactly as on the async path.
"""

from __future__ import annotations

import os
import threading
from functools import partial
from operator import attrgetter
from time import monotonic
from typing import Self

from atoll_wire import HttpRequest, SyncHttpResponse, SyncTransport, Timeout

from ._config import (
    DEFAULT_BUFFER_BYTES,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TIMEOUT,
    CurlConfig,
    curl_config,
)
from ._exceptions import closed_error, pool_timeout, raise_for
from ._options import Configurator, prepare, url_to_send
from ._reactor import Reactor
from ._transfer import Transfer

_HEADERS_READY = attrgetter("ready_headers")
_BODY_READY = attrgetter("ready_body")


class SyncCurlTransport(SyncTransport):
    """A ``SyncTransport`` on libcurl; the same options and behaviour as ``CurlTransport``.

    Thread-safe: threads share one connection pool. Always close responses (``with``): an open
    one holds its connection slot.

    Args:
        verify: Verify the server certificate and host name (on by default).
        ca_bundle: A CA bundle file or hashed directory to verify against.
        trust_env: Take proxies and CA paths from the environment.
        proxy: One proxy URL for every request (overrides the environment).
        http2: Offer HTTP/2 over TLS; None means "when libcurl supports it".
        max_connections: Requests in flight at once; more wait up to ``Timeout.pool``.
        max_keepalive_connections: Idle connections kept for reuse (default: max_connections).
        keepalive_expiry: Seconds an idle connection may still be reused.
        buffer_bytes: Body bytes buffered for a slow consumer before the transfer pauses.
        timeout: Default timeouts; a request's own ``Timeout`` phases take precedence.
        max_body_bytes: Larger responses raise ``ResponseTooLarge`` (None: no limit).

    Raises:
        ValueError: An option is out of range or options contradict each other.

    Example:
        >>> from atoll_wire import HttpRequest
        >>> with SyncCurlTransport() as transport:  # doctest: +SKIP
        ...     with transport.send(HttpRequest("GET", "https://example.com/")) as response:
        ...         body = response.read()
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
        self._engine = _Engine(config)

    @property
    def default_timeout(self) -> Timeout:
        """The per-phase limits this transport applies where a request sets none."""
        return self._engine.config.timeout

    def send(self, request: HttpRequest) -> SyncHttpResponse:
        """Send ``request``; return once the status line and headers arrived.

        Args:
            request: The request.

        Raises:
            ValueError: The request's ``max_body_bytes`` extension is invalid.
            TransportError: Connecting, sending or receiving failed (a subclass says which),
                or the request cannot be sent (not http(s), a malformed header).
        """
        engine = self._engine
        if engine.reactor.closed:
            raise closed_error(request)
        config = engine.config
        timeout = config.timeouts(request)
        limit = config.body_limit(request)
        url = url_to_send(request)
        if not engine.slots.acquire(timeout=timeout.pool):
            raise pool_timeout(request, timeout.pool or 0.0)
        transfer = engine.start(request, timeout, limit, url)
        try:
            engine.wait(transfer, _HEADERS_READY, timeout)
        except BaseException:
            engine.abort(transfer)
            raise
        if not transfer.headers_complete:
            raise_for(transfer)
        return SyncHttpResponse(
            transfer.status,
            transfer.header_items(),
            request,
            _SyncBody(engine, transfer, timeout),
            elapsed=monotonic() - transfer.started,
        )

    def close(self) -> None:
        """Abort every transfer still running and close every connection."""
        self._engine.close()


class _Engine:
    """The reactor, its lock and the pool slots shared by a transport and its responses."""

    __slots__ = ("_leading", "_waiting", "config", "configurator", "lock", "reactor", "slots")

    def __init__(self, config: CurlConfig) -> None:
        self.config = config
        self.configurator = Configurator(config)
        self.reactor = Reactor(
            max_connections=config.max_connections,
            max_keepalive=config.max_keepalive_connections,
            http2=config.http2,
            prepare=partial(prepare, config=config),
            forget=self.configurator.forget,
        )
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(config.max_connections)
        self._leading = False
        self._waiting: dict[Transfer, None] = {}

    def start(
        self, request: HttpRequest, timeout: Timeout, limit: int | None, url: str
    ) -> Transfer:
        """Configure a transfer for ``request`` and hand it to libcurl (a slot is held)."""
        with self.lock:
            reactor = self.reactor
            if reactor.closed:
                self.slots.release()
                raise closed_error(request)
            transfer = Transfer(
                reactor.easy(), request, high_water=self.config.buffer_bytes, limit=limit
            )
            transfer.release = self.slots.release
            try:
                self.configurator.configure(transfer, timeout, limit, url)
                reactor.start(transfer)
            except BaseException:
                reactor.abort(transfer)
                raise
        return transfer

    def wait(self, transfer: Transfer, ready: attrgetter[bool], timeout: Timeout) -> None:
        """Block until ``ready(transfer)``, raising a timeout error if the transfer stalls."""
        while not self._wait_until(transfer, ready, transfer.deadline(timeout)):
            with self.lock:
                error = transfer.stalled(timeout)
            if error is not None:
                raise error

    def _wait_until(
        self, transfer: Transfer, ready: attrgetter[bool], deadline: float | None
    ) -> bool:
        # Leader/follower, as on the async path: one thread sleeps in select() and dispatches
        # for everybody; the others sleep on their transfer's Event. (epoll wakes only one
        # thread per event, so threads all sleeping in select() would miss each other's data.)
        with self.lock:
            try:
                while not ready(transfer):
                    if self.reactor.closed:
                        raise closed_error(transfer.request)
                    if deadline is not None and monotonic() >= deadline:
                        return False
                    if self._leading:
                        self._follow(transfer, deadline)
                    else:
                        self._leading = True
                        try:
                            self._lead(transfer, ready, deadline)
                        finally:
                            self._leading = False
                return True
            finally:
                if not self._leading and self._waiting:
                    next(iter(self._waiting)).wake()

    def _follow(self, transfer: Transfer, deadline: float | None) -> None:
        event = threading.Event()
        transfer.waiter = event
        self._waiting[transfer] = None
        self.lock.release()
        try:
            event.wait(None if deadline is None else max(0.0, deadline - monotonic()))
        finally:
            self.lock.acquire()
            transfer.waiter = None
            self._waiting.pop(transfer, None)

    def _lead(self, transfer: Transfer, ready: attrgetter[bool], deadline: float | None) -> None:
        reactor = self.reactor
        while not ready(transfer) and not reactor.closed:
            wait = reactor.timeout()
            if deadline is not None:
                left = deadline - monotonic()
                if left <= 0:
                    return
                wait = left if wait is None else min(wait, left)
            reactor.sleep_begin(wait)
            self.lock.release()  # others may start, resume or abort transfers meanwhile
            try:
                events = reactor.wait(wait)
            finally:
                self.lock.acquire()
                reactor.sleep_end()
            reactor.dispatch(events)

    def abort(self, transfer: Transfer) -> None:
        """Take ``transfer`` out of libcurl (closing a half-read connection)."""
        with self.lock:
            self.reactor.abort(transfer)

    def take(self, transfer: Transfer) -> bytes:
        """Hand over the buffered body, resuming the transfer if it was paused."""
        with self.lock:
            data = transfer.take()
            if data and transfer.paused:
                self.reactor.resume(transfer)
        return data

    def close(self) -> None:
        """Close the reactor: every transfer is aborted, every connection closed."""
        with self.lock:
            self.reactor.close()


class _SyncBody:
    """The blocking byte iterator behind a :class:`SyncHttpResponse`."""

    __slots__ = ("_engine", "_timeout", "_transfer")

    def __init__(self, engine: _Engine, transfer: Transfer, timeout: Timeout) -> None:
        self._engine = engine
        self._transfer = transfer
        self._timeout = timeout

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> bytes:
        transfer = self._transfer
        engine = self._engine
        if not transfer.ready_body:
            try:
                engine.wait(transfer, _BODY_READY, self._timeout)
            except BaseException:
                engine.abort(transfer)
                raise
        data = engine.take(transfer)
        if data:
            return data
        if transfer.code == 0 and not transfer.too_large:
            raise StopIteration
        raise_for(transfer)

    def close(self) -> None:
        """Abort the transfer if it is still running (its connection is then closed)."""
        self._engine.abort(self._transfer)

    def __del__(self) -> None:
        # Dropped unclosed: queue the abort for the next time anyone uses the transport.
        self._engine.reactor.orphan(self._transfer)
