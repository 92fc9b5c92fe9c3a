"""``RedisBackend``: limiter state shared by every process that points at one Redis.

The client is coredis, which is built on anyio and so runs on asyncio and trio alike, as the
rest of the stack does (redis-py's asyncio client runs on asyncio only; docs/scale.md has the
comparison and the measurements). It is an optional dependency: ``import atoll_generic`` never
imports it, and opening a backend without it raises ImportError naming the extra.

The backend is an async resource: ``async with RedisBackend(url) as redis:`` connects, loads
every Lua script once (they are then called by SHA1; after a server restart forgets them, the
first call reloads them) and starts two small tasks -- one sends the operations that synchronous
callers (``Reservation.settle``, ``Limiter.observe``) hand over, the other records this worker
in a members set every ``heartbeat`` seconds, so each worker knows how many share the limits
(the ``"local"`` fallback splits a limit by that count).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import deque
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import urlsplit, urlunsplit

import anyio
from anyio.abc import TaskGroup

from ._exceptions import BackendError, BackendUnavailableError
from ._redis_scripts import SCRIPTS

if TYPE_CHECKING:
    import coredis

__all__ = ["BackendErrorPolicy", "RedisBackend", "redact_url"]

_log = logging.getLogger("atoll_generic")

BackendErrorPolicy = Literal["fail", "local"]
"""What a limiter does when its backend fails mid-run: raise, or fall back to a local share."""


def redact_url(url: str) -> str:
    """``url`` without its password (``redis://:***@host:6379/0``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class RedisBackend:
    """Shared state for limiters, in Redis: pass it as ``backend=`` to any limiter.

    Processes share a limit when their limiters have the same ``name`` (the key) and point at
    the same Redis and ``prefix``. Use it as an async context manager; a limiter with this
    backend must be used while it is open.

    Example:
        >>> async with RedisBackend("redis://127.0.0.1:6379/0") as redis:  # doctest: +SKIP
        ...     rpm = RequestLimiter(500, 60, name="openai-rpm", backend=redis)
        ...     async with Executor(limiters=[rpm]) as ex:
        ...         ...

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]`` or ``rediss://`` for TLS. The
            password never appears in reprs, logs or errors.
        prefix: Prefix of every key, to keep several jobs apart in one Redis.
        on_backend_error: ``"fail"`` raises :class:`BackendError` when Redis fails mid-run
            (the Executor then skips the event with that reason); ``"local"`` falls back to a
            per-process share of each limit (the limit divided by the live workers last
            seen), logs it once, and returns to Redis when it answers again.
        timeout: Seconds allowed for connecting and for each round trip.
        lease: Seconds a budget reservation stays open without being settled; after that a
            crashed worker's reservation returns to the pool.
        ttl: Seconds a budget's totals live after their last change.
        heartbeat: Seconds between two records of this worker in the members set.
        retry_backend_after: Under ``"local"``, seconds before Redis is tried again.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "atoll",
        on_backend_error: BackendErrorPolicy = "fail",
        timeout: float = 5.0,
        lease: float = 900.0,
        ttl: float = 86_400.0,
        heartbeat: float = 2.0,
        retry_backend_after: float = 5.0,
    ) -> None:
        if on_backend_error not in ("fail", "local"):
            raise ValueError(
                f"on_backend_error must be 'fail' or 'local', got {on_backend_error!r}"
            )
        for label, value in (("timeout", timeout), ("lease", lease), ("ttl", ttl)):
            if not value > 0:
                raise ValueError(f"{label} must be positive, got {value}")
        if not heartbeat > 0 or retry_backend_after < 0:
            raise ValueError("heartbeat must be positive and retry_backend_after >= 0")
        self.url = url
        self.prefix = prefix
        self.on_backend_error: BackendErrorPolicy = on_backend_error
        self.timeout = timeout
        self.lease = lease
        self.ttl = ttl
        self.heartbeat = heartbeat
        self.retry_backend_after = retry_backend_after
        self.worker_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        """This backend's entry in the members set."""
        self.peers = 1
        """Live workers sharing this Redis and prefix, as last seen (at least 1)."""
        self._client: coredis.Redis[bytes] | None = None
        self._shas: dict[str, str] = {}
        self._tg: TaskGroup | None = None
        self._outbox: deque[tuple[str, list[str], list[str]]] = deque()
        self._outbox_ready: anyio.Event | None = None
        self._fallback_logged = False
        self._send_failure_logged = False
        self._suspect = False  # the last call failed: probe the socket before using coredis
        self._state: Literal["new", "open", "closed"] = "new"

    # ------------------------------------------------------------------ identity
    @property
    def address(self) -> str:
        """The URL without its password."""
        return redact_url(self.url)

    def key(self, kind: str, name: str, part: str) -> str:
        """The Redis key of one part of a limiter's state.

        The ``{...}`` hash tag keeps all of one limiter's keys in one Redis Cluster slot, so
        each script touches a single slot.
        """
        return f"{self.prefix}:{{{kind}:{name}}}:{part}"

    def __repr__(self) -> str:
        return (
            f"RedisBackend({self.address!r}, prefix={self.prefix!r}, "
            f"on_backend_error={self.on_backend_error!r}, state={self._state})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # The configuration crosses process boundaries (Ray actors, multiprocessing); the live
        # connection does not: the copy is opened again where it is used.
        return (_rebuild, (self.url, self._config()))

    def _config(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "on_backend_error": self.on_backend_error,
            "timeout": self.timeout,
            "lease": self.lease,
            "ttl": self.ttl,
            "heartbeat": self.heartbeat,
            "retry_backend_after": self.retry_backend_after,
        }

    # ------------------------------------------------------------------ lifecycle
    @property
    def is_open(self) -> bool:
        """True between entering and leaving ``async with``."""
        return self._state == "open"

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("a RedisBackend is opened once; make a new one")
        client = _make_client(self.url, self.timeout)  # ImportError naming the extra first
        try:
            await self._probe()
        except OSError as exc:
            raise BackendUnavailableError(self.address, "connect", _reason(exc)) from exc
        try:
            # No fail_after around it: the pool opens a task group that outlives this call.
            await client.__aenter__()
        except Exception as exc:
            raise BackendUnavailableError(self.address, "connect", _reason(exc)) from exc
        self._client = client
        try:
            with anyio.fail_after(self.timeout * 2):
                await self._load_scripts()
                self.peers = max(1, int(await self._members()))
        except Exception as exc:
            await self._close_client()
            raise BackendUnavailableError(self.address, "load scripts", _reason(exc)) from exc
        except BaseException:
            await self._close_client()
            raise
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        tg.start_soon(self._send_loop)
        tg.start_soon(self._heartbeat_loop)
        self._state = "open"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Send what synchronous callers handed over, stop the tasks, close the connection."""
        if self._state != "open":
            self._state = "closed"
            return
        self._state = "closed"
        tg, self._tg = self._tg, None
        try:
            with anyio.CancelScope(shield=True), anyio.move_on_after(self.timeout):
                await self._flush()
        finally:
            # The task group and the client's pool were entered in this task, outside any
            # scope opened here: they are exited the same way (anyio scopes nest strictly).
            if tg is not None:
                tg.cancel_scope.cancel()
                await tg.__aexit__(None, None, None)
            await self._close_client()

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(None, None, None)

    # ------------------------------------------------------------------ scripts
    async def _load_scripts(self) -> None:
        client = self._require()
        for name, source in SCRIPTS.items():
            sha = await client.script_load(source)
            self._shas[name] = sha.decode()

    async def _probe(self) -> None:
        """Open and close a plain TCP connection to the server.

        coredis (6.9) leaves a failed connection's memory streams unclosed, which warns at
        garbage collection; a server known to be down is therefore probed here first, and
        coredis only tries once the socket answers.

        Raises:
            OSError: the server does not accept connections (or did not within ``timeout``).
        """
        parts = urlsplit(self.url)
        if parts.scheme not in ("redis", "rediss") or parts.hostname is None:
            return  # a unix socket or another scheme: coredis reports it
        try:
            with anyio.fail_after(self.timeout):
                stream = await anyio.connect_tcp(parts.hostname, parts.port or 6379)
        except TimeoutError as exc:
            raise OSError(f"no answer from {parts.hostname} within {self.timeout:g}s") from exc
        await stream.aclose()

    def _require(self) -> coredis.Redis[bytes]:
        if self._client is not None:
            return self._client  # open, or being opened (loading the scripts)
        if self._state == "new":
            # A usage error, not an outage: no fallback policy applies to it.
            raise RuntimeError(
                f"{self!r} is not open: use its limiters inside `async with RedisBackend(...)`"
            )
        raise BackendError(self.address, "call", f"the backend is {self._state}")

    async def call(self, script: str, keys: Sequence[str], args: Sequence[str]) -> Any:
        """Run one of the named scripts atomically and return its reply.

        Called by hash; a server that forgot the script (it restarted) gets it again once.

        Raises:
            BackendError: Redis could not be reached, timed out or rejected the call.
        """
        from coredis.exceptions import NoScriptError

        client = self._require()
        try:
            if self._suspect:
                await self._probe()
            with anyio.fail_after(self.timeout):
                try:
                    reply = await client.evalsha(self._shas[script], list(keys), list(args))
                except NoScriptError:
                    await self._load_scripts()
                    reply = await client.evalsha(self._shas[script], list(keys), list(args))
        except Exception as exc:
            self._suspect = True
            raise BackendError(self.address, script, _reason(exc)) from exc
        self._suspect = False
        return reply

    async def _members(self) -> int:
        reply = await self.call(
            "members", [f"{self.prefix}:members"], [self.worker_id, str(self.heartbeat * 3)]
        )
        return int(reply)

    # ------------------------------------------------------------------ sync callers
    def post(self, script: str, keys: Sequence[str], args: Sequence[str]) -> None:
        """Hand a script call to the background sender (for synchronous callers).

        Raises:
            BackendError: The backend is not open.
        """
        if self._state == "new":
            raise RuntimeError(
                f"{self!r} is not open: use its limiters inside `async with RedisBackend(...)`"
            )
        if self._state != "open":
            raise BackendError(self.address, script, f"the backend is {self._state}")
        self._outbox.append((script, list(keys), list(args)))
        if self._outbox_ready is not None:
            self._outbox_ready.set()

    async def _send_loop(self) -> None:
        while True:
            if not self._outbox:
                self._outbox_ready = anyio.Event()
                await self._outbox_ready.wait()
                self._outbox_ready = None
            await self._flush()

    async def _flush(self) -> None:
        while self._outbox:
            script, keys, args = self._outbox.popleft()
            try:
                await self.call(script, keys, args)
            except BackendError as exc:
                # Nobody awaits this call. What it would have returned expires with the window
                # (or the budget lease), so it is logged once and dropped.
                if not self._send_failure_logged:
                    self._send_failure_logged = True
                    _log.warning("%s; a settle or observe was dropped (logged once)", exc)

    async def _heartbeat_loop(self) -> None:
        while True:
            await anyio.sleep(self.heartbeat)
            try:
                self.peers = max(1, await self._members())
            except BackendError:
                pass  # the limiters see the failure on their own calls and apply the policy

    # ------------------------------------------------------------------ fallback bookkeeping
    def log_fallback(self, limiter: str, exc: BackendError, share: float, unit: str) -> None:
        """Log the switch to local shares once per outage."""
        if not self._fallback_logged:
            self._fallback_logged = True
            _log.warning(
                "%s; limiters fall back to a per-process share (%s: %g %s, split over %d "
                "workers) until Redis answers again (logged once)",
                exc,
                limiter,
                share,
                unit,
                self.peers,
            )

    def log_recovered(self) -> None:
        """Log the return to Redis once per outage."""
        if self._fallback_logged:
            self._fallback_logged = False
            _log.warning("limiter backend %s answers again; limits are shared again", self.address)


# The memory streams each coredis connection makes in its constructor; coredis (6.9) closes
# them only when the connection was established, so a failed attempt warned at collection.
_CONNECTION_STREAMS = (
    "_write_buffer_in",
    "_write_buffer_out",
    "_push_message_buffer_in",
    "_push_message_buffer_out",
    "_streamed_message_buffer_in",
    "_streamed_message_buffer_out",
)


def _make_client(url: str, timeout: float) -> coredis.Redis[bytes]:
    """A coredis client without retries whose failed connection attempts leave nothing open."""
    try:
        import coredis
        from coredis.pool import ConnectionPool
        from coredis.retry import NoRetryPolicy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'RedisBackend needs coredis: pip install "atoll-core-generic[redis]"'
        ) from exc
    pool: Any = ConnectionPool.from_url(url, connect_timeout=timeout, stream_timeout=timeout)
    base: Any = pool.connection_class

    class ClosingConnection(base):  # type: ignore[misc, valid-type]
        async def run(self, *args: Any, **kwargs: Any) -> None:
            try:
                await super().run(*args, **kwargs)  # pyright: ignore[reportUnknownMemberType]
            finally:
                for name in _CONNECTION_STREAMS:
                    stream = getattr(self, name, None)
                    if stream is not None:
                        stream.close()

    pool.connection_class = ClosingConnection
    # No retries inside the client: a reserve whose reply was lost must not be sent twice.
    return coredis.Redis(connection_pool=pool, retry_policy=NoRetryPolicy())


def _rebuild(url: str, config: dict[str, Any]) -> RedisBackend:
    return RedisBackend(url, **config)
