"""Options shared by the async and sync transports: validation, TLS, pool, timeouts, limits.

Everything the caller configures is checked here once, at construction, so a bad option fails
with a message naming it instead of surfacing later as an obscure httpx error.
"""

from __future__ import annotations

import http.cookiejar
import importlib.util
import os
import ssl
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from atoll_wire import HttpRequest, Timeout

from ._backend import Backend, BackendName, backend_of

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT = Timeout(connect=10.0, read=600.0, write=600.0, pool=60.0)
"""Per-phase defaults: quick to fail on connect, patient with slow models."""

DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
"""Responses larger than this raise ``ResponseTooLarge`` unless the caller says otherwise."""

MAX_BODY_EXTENSION = "max_body_bytes"
"""``HttpRequest.extensions`` key overriding the transport's body limit for one request."""

_H2_HINT = 'HTTP/2 needs the h2 package: pip install "httpx[http2]" (or "httpx2[http2]")'


def http2_available() -> bool:
    """True when the ``h2`` package is importable, so httpx can speak HTTP/2."""
    return importlib.util.find_spec("h2") is not None


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """How to build the native client. Built once per transport by :func:`pool_config`."""

    verify: bool | ssl.SSLContext
    trust_env: bool
    proxy: str | None
    http2: bool
    max_connections: int
    max_keepalive_connections: int
    keepalive_expiry: float


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """The connection options as the caller gave them (defaults match the constructors')."""

    verify: bool | ssl.SSLContext = True
    ca_bundle: str | os.PathLike[str] | None = None
    trust_env: bool = True
    proxy: str | None = None
    http2: bool = False
    max_connections: int = 100
    max_keepalive_connections: int | None = None
    keepalive_expiry: float = 5.0


def pool_config(options: PoolOptions) -> PoolConfig:
    """Validate the connection options and resolve TLS and HTTP/2 settings.

    Raises:
        ValueError: An option is out of range or options contradict each other.
        ImportError: ``http2=True`` but h2 is not installed.
    """
    limit = options.max_connections
    if isinstance(limit, bool) or limit < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError(f"max_connections must be a positive int, got {limit!r}")
    keepalive = (
        limit if options.max_keepalive_connections is None else options.max_keepalive_connections
    )
    if keepalive < 0 or keepalive > limit:
        raise ValueError(
            f"max_keepalive_connections must be between 0 and max_connections "
            f"({limit}), got {keepalive!r}"
        )
    if options.keepalive_expiry < 0:
        raise ValueError(f"keepalive_expiry must be >= 0 seconds, got {options.keepalive_expiry!r}")
    if options.http2 and not http2_available():
        raise ImportError(_H2_HINT)
    return PoolConfig(
        verify=_tls(options.verify, options.ca_bundle),
        trust_env=options.trust_env,
        proxy=options.proxy,
        http2=options.http2,
        max_connections=limit,
        max_keepalive_connections=keepalive,
        keepalive_expiry=options.keepalive_expiry,
    )


def adopt(client: object, backend: BackendName | None, options: PoolOptions) -> Backend:
    """The backend of a client the caller brought, after checking nothing contradicts it.

    Raises:
        ValueError: Connection options next to ``client``, or a backend that contradicts it.
        TypeError: ``client`` is not an httpx or httpx2 client.
    """
    # Options next to a ready-made client would be silently ignored: refuse them instead.
    defaults = PoolOptions()
    clashing = [
        field.name
        for field in fields(PoolOptions)
        if getattr(options, field.name) != getattr(defaults, field.name)
    ]
    if clashing:
        raise ValueError(
            f"{', '.join(clashing)} cannot be combined with client=...: "
            "configure the client you pass instead"
        )
    found = backend_of(client)
    if backend is not None and backend != found.name:
        raise ValueError(f"backend={backend!r} but client is an {found.name} client")
    return found


def _tls(
    verify: bool | ssl.SSLContext, ca_bundle: str | os.PathLike[str] | None
) -> bool | ssl.SSLContext:
    if ca_bundle is None:
        return verify
    if verify is not True:
        raise ValueError("ca_bundle cannot be combined with verify=False or an ssl.SSLContext")
    path = os.fspath(ca_bundle)
    if os.path.isdir(path):
        return ssl.create_default_context(capath=path)
    if not os.path.isfile(path):
        raise ValueError(f"ca_bundle {path!r} is neither a file nor a directory")
    return ssl.create_default_context(cafile=path)


def _no_cookies() -> http.cookiejar.CookieJar:
    # A transport is stateless: cookies a server sets must not ride along on later requests
    # (to the same or another provider). A jar whose policy accepts no domain stores nothing.
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _limits(backend: Backend, config: PoolConfig) -> httpx.Limits:
    return backend.limits(
        max_connections=config.max_connections,
        max_keepalive_connections=config.max_keepalive_connections,
        keepalive_expiry=config.keepalive_expiry,
    )


def make_async_client(backend: Backend, config: PoolConfig) -> httpx.AsyncClient:
    """An ``AsyncClient`` of ``backend`` configured from ``config``."""
    return backend.async_client(
        verify=config.verify,
        trust_env=config.trust_env,
        proxy=config.proxy,
        http1=True,
        http2=config.http2,
        limits=_limits(backend, config),
        timeout=None,  # every request carries its own timeouts (see RequestPolicy)
        follow_redirects=False,
        cookies=_no_cookies(),
    )


def make_sync_client(backend: Backend, config: PoolConfig) -> httpx.Client:
    """A ``Client`` of ``backend`` configured from ``config``."""
    return backend.sync_client(
        verify=config.verify,
        trust_env=config.trust_env,
        proxy=config.proxy,
        http1=True,
        http2=config.http2,
        limits=_limits(backend, config),
        timeout=None,
        follow_redirects=False,
        cookies=_no_cookies(),
    )


class RequestPolicy:
    """Per-request timeouts and body limit, with the transport's values filling the gaps."""

    __slots__ = ("_default_timeout", "max_body_bytes", "timeout")

    def __init__(self, timeout: float | Timeout | None, max_body_bytes: int | None) -> None:
        if max_body_bytes is not None:
            _check_limit(max_body_bytes, "max_body_bytes")
        self.timeout = Timeout.of(timeout)
        self.max_body_bytes = max_body_bytes
        self._default_timeout = _as_dict(self.timeout)

    def timeouts(self, request: HttpRequest) -> dict[str, float | None]:
        """The timeout extension for httpx: the request's phases, the transport's where unset."""
        own = request.timeout
        if own.connect is None and own.read is None and own.write is None and own.pool is None:
            return self._default_timeout  # the common case: nothing per request
        base = self.timeout
        return _as_dict(
            Timeout(
                connect=base.connect if own.connect is None else own.connect,
                read=base.read if own.read is None else own.read,
                write=base.write if own.write is None else own.write,
                pool=base.pool if own.pool is None else own.pool,
            )
        )

    def body_limit(self, request: HttpRequest) -> int | None:
        """The body limit for ``request``: its ``max_body_bytes`` extension, else ours."""
        if MAX_BODY_EXTENSION not in request.extensions:
            return self.max_body_bytes
        value: object = request.extensions[MAX_BODY_EXTENSION]
        if value is None:
            return None
        return _check_limit(value, f"extensions[{MAX_BODY_EXTENSION!r}]")


def _check_limit(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{what} must be a positive int or None, got {value!r}")
    return value


def _as_dict(timeout: Timeout) -> dict[str, float | None]:
    return {
        "connect": timeout.connect,
        "read": timeout.read,
        "write": timeout.write,
        "pool": timeout.pool,
    }
