"""How a request proves who sends it: the ``Auth`` interface and the built-in schemes.

An ``Auth`` gives the headers that authenticate one attempt. The Client asks for them on every
attempt (so a refreshed token is used by a retry) and adds them after the dialect built the
request, so dialects never see a secret. Keys travel in headers only: no scheme puts a key in a
URL, where proxies and logs would keep it.

Built-in schemes (registry ids): ``bearer``, ``x-api-key``, ``api-key``, ``x-goog-api-key``
(a static key in that header) and ``none``. ``TokenAuth`` wraps a token source that expires
(OAuth access tokens, Microsoft Entra ID): it refreshes before expiry, one refresh at a time
however many calls are in flight, and never runs a blocking source on the event loop thread.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import anyio
import anyio.to_thread

from ._exceptions import AuthError

__all__ = [
    "Auth",
    "HeaderKeyAuth",
    "NoAuth",
    "Token",
    "TokenAuth",
]


class Auth(ABC):
    """The headers that authenticate a request; one instance per Client target.

    Implement ``headers`` (sync callers) and, for sources that wait on I/O, ``aheaders``
    (async callers; by default it calls ``headers``). The returned mapping is merged into the
    request's headers for each attempt; keep its values out of logs (the Client does).
    """

    @abstractmethod
    def headers(self) -> Mapping[str, str]:
        """The authentication headers for the next attempt (blocking callers)."""

    async def aheaders(self) -> Mapping[str, str]:
        """The authentication headers for the next attempt (async callers)."""
        return self.headers()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NoAuth(Auth):
    """No authentication (local servers)."""

    def headers(self) -> Mapping[str, str]:
        """No headers."""
        return _EMPTY


_EMPTY: Mapping[str, str] = {}


class HeaderKeyAuth(Auth):
    """A static key in one header: ``Authorization: Bearer <key>``, ``x-api-key: <key>``, ...

    Args:
        header: The header name.
        key: The secret.
        prefix: Put before the key (``"Bearer "`` for the bearer scheme).
    """

    __slots__ = ("_headers", "header")

    def __init__(self, header: str, key: str, *, prefix: str = "") -> None:
        if not key:
            raise ValueError("HeaderKeyAuth needs a non-empty key")
        self.header = header
        self._headers: Mapping[str, str] = {header: f"{prefix}{key}"}

    def headers(self) -> Mapping[str, str]:
        """The one header with the key."""
        return self._headers

    def __repr__(self) -> str:
        return f"HeaderKeyAuth(header={self.header!r}, key=[redacted])"


@dataclass(frozen=True, slots=True)
class Token:
    """An access token and when it stops working.

    Attributes:
        value: The token (a secret; never shown in reprs).
        expires_at: Unix time after which it is invalid, or None if it never expires.
    """

    value: str
    expires_at: float | None = None

    def __repr__(self) -> str:
        return f"Token(value=[redacted], expires_at={self.expires_at!r})"


TokenSource = Callable[[], "Token | str"]
"""A blocking callable that fetches a fresh token (``google.auth`` credentials, Entra ID)."""

AsyncTokenSource = Callable[[], Awaitable["Token | str"]]
"""An async callable that fetches a fresh token."""


class TokenAuth(Auth):
    """A refreshing token sent as ``<header>: <prefix><token>`` (by default a bearer token).

    The source is called when there is no token yet or the current one expires within
    ``refresh_margin`` seconds. Concurrent callers share one refresh: 200 calls in flight when
    the token expires make exactly one call to the source. A blocking source runs in a worker
    thread for async callers, never on the event loop thread. A source that returns a plain
    string gives a token with no known expiry (refreshed only by ``invalidate``).

    Args:
        source: A blocking callable returning a ``Token`` or a string.
        async_source: An async callable used by async callers instead of ``source`` in a thread.
        header: The header name.
        prefix: Put before the token.
        refresh_margin: Seconds before expiry at which the token is refreshed.
        clock: The Unix clock (for tests).

    Raises:
        ValueError: Neither source was given.
    """

    def __init__(
        self,
        source: TokenSource | None = None,
        *,
        async_source: AsyncTokenSource | None = None,
        header: str = "Authorization",
        prefix: str = "Bearer ",
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if source is None and async_source is None:
            raise ValueError("TokenAuth needs a source or an async_source")
        self._source = source
        self._async_source = async_source
        self._header = header
        self._prefix = prefix
        self._margin = refresh_margin
        self._clock = clock
        self._token: Token | None = None
        self._headers: Mapping[str, str] = _EMPTY
        self._thread_lock = threading.Lock()
        self._async_lock: anyio.Lock | None = None
        self.refreshes = 0
        """How many times the source was called (for tests and metrics)."""

    def __repr__(self) -> str:
        return f"TokenAuth(header={self._header!r}, refreshes={self.refreshes})"

    def _fresh(self) -> bool:
        token = self._token
        if token is None:
            return False
        return token.expires_at is None or token.expires_at - self._margin > self._clock()

    def invalidate(self) -> None:
        """Forget the current token, so the next attempt fetches a new one (after a 401)."""
        self._token = None

    def _store(self, fetched: Token | str) -> Mapping[str, str]:
        token = Token(fetched) if isinstance(fetched, str) else fetched
        if not token.value:
            raise AuthError("the token source returned an empty token")
        self._token = token
        self.refreshes += 1
        self._headers = {self._header: f"{self._prefix}{token.value}"}
        return self._headers

    def _refresh_blocking(self) -> Mapping[str, str]:
        with self._thread_lock:
            if self._fresh():
                return self._headers
            if self._source is None:
                raise AuthError("this TokenAuth has only an async source; use an async client")
            try:
                fetched = self._source()
            except AuthError:
                raise
            except Exception as exc:
                raise AuthError(f"the token source failed: {type(exc).__name__}") from exc
            return self._store(fetched)

    def headers(self) -> Mapping[str, str]:
        """The token header, refreshed first when needed (blocks while refreshing)."""
        if self._fresh():
            return self._headers
        return self._refresh_blocking()

    async def aheaders(self) -> Mapping[str, str]:
        """The token header, refreshed first when needed (one refresh for all waiters)."""
        if self._fresh():
            return self._headers
        if self._async_lock is None:
            self._async_lock = anyio.Lock()
        async with self._async_lock:
            if self._fresh():
                return self._headers
            if self._async_source is not None:
                try:
                    fetched = await self._async_source()
                except AuthError:
                    raise
                except Exception as exc:
                    raise AuthError(f"the token source failed: {type(exc).__name__}") from exc
                return self._store(fetched)
            return await anyio.to_thread.run_sync(self._refresh_blocking)
