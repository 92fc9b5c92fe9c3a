"""One ``CurlMulti``, its sockets gathered behind one pollable descriptor, its timer, its handles.

libcurl's socket interface tells us, through ``M_SOCKETFUNCTION``, which sockets to watch and for
what, and through ``M_TIMERFUNCTION`` when to call it back regardless. We register those sockets in
a private epoll/kqueue selector of our own. Its single descriptor becomes readable as soon as any
watched socket is ready, so a caller needs to wait on ONE descriptor, whatever the number of
connections: ``anyio.wait_readable(reactor.fileno())`` on asyncio or trio, or a blocking
``select`` in a thread. Then :meth:`Reactor.dispatch` hands the ready sockets to
``socket_action``, fires due timers, and reaps finished transfers.

Because the selector is private, descriptor reuse cannot confuse the event loop: libcurl reports
``POLL_REMOVE`` before closing a socket and we drop it from our selector right there, in the same
synchronous call, and an event loop never sees libcurl's sockets at all.

Nothing here blocks or awaits; callers serialise access (one event loop, or one lock).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from time import monotonic

import pycurl

from ._exceptions import ABORTED, native_code
from ._poller import new_poller
from ._transfer import Transfer

_REMOVE = pycurl.POLL_REMOVE
_TIMEOUT_SOCKET = pycurl.SOCKET_TIMEOUT


class Reactor:
    """Drive one ``CurlMulti`` without blocking; callers decide how to wait.

    Args:
        max_connections: libcurl's cap on open connections (``M_MAX_TOTAL_CONNECTIONS``).
        max_keepalive: Idle connections libcurl keeps for reuse (``M_MAXCONNECTS``).
        http2: Allow HTTP/2 multiplexing.
        prepare: Sets the transport's shared options on each new easy handle.
        forget: Called for each easy handle the reactor closes.
    """

    __slots__ = (
        "_active",
        "_awaiting",
        "_closed",
        "_forget",
        "_idle",
        "_idle_cap",
        "_multi",
        "_orphans",
        "_poked",
        "_poller",
        "_prepare",
        "_sleep_deadline",
        "_sleeping",
        "_timer",
        "_wake_r",
        "_wake_w",
    )

    def __init__(
        self,
        *,
        max_connections: int,
        max_keepalive: int,
        http2: bool,
        prepare: Callable[[pycurl.Curl], None],
        forget: Callable[[pycurl.Curl], None],
    ) -> None:
        self._prepare = prepare
        self._forget = forget
        self._poller = new_poller()
        # Wakes a driver asleep on the poller: for close() (closing an epoll descriptor wakes
        # nobody) and for timers armed by other callers.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._poller.watch(self._wake_r.fileno(), pycurl.POLL_IN)
        multi = pycurl.CurlMulti()
        multi.setopt(pycurl.M_SOCKETFUNCTION, self._poller.socket_callback)
        multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)
        multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, max_connections)
        # 0 would mean "libcurl's default"; with no keep-alive the handles forbid reuse instead.
        multi.setopt(pycurl.M_MAXCONNECTS, max(1, max_keepalive))
        multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX if http2 else 0)
        self._multi = multi
        self._timer: float | None = None
        self._active: dict[pycurl.Curl, Transfer] = {}
        self._idle: list[pycurl.Curl] = []
        self._idle_cap = max_connections
        self._orphans: list[Transfer] = []
        self._awaiting: dict[Transfer, None] = {}  # started, headers not complete yet
        self._sleeping = False
        self._sleep_deadline: float | None = None
        self._poked = False
        self._closed = False

    # ------------------------------------------------------------------ libcurl callbacks
    def _on_timer(self, ms: int) -> None:
        timer = None if ms < 0 else monotonic() + ms / 1000
        self._timer = timer
        if self._sleeping and timer is not None:
            until = self._sleep_deadline
            if until is None or timer < until:
                # Someone else's call (a new request, a resume) wants libcurl called back
                # sooner than the sleeping driver planned to wake: wake it to recompute.
                self._poke()

    def _poke(self) -> None:
        if not self._poked:
            self._poked = True
            with contextlib.suppress(OSError):
                self._wake_w.send(b"!")

    # ------------------------------------------------------------------ sleeping
    def sleep_begin(self, wait: float | None) -> None:
        """Note that the driver is about to block for ``wait`` seconds (None: until an event)."""
        self._sleeping = True
        self._sleep_deadline = None if wait is None else monotonic() + wait

    def wake_by(self, deadline: float) -> None:
        """Make sure a sleeping driver wakes no later than ``deadline`` (``monotonic()``)."""
        if self._sleeping:
            until = self._sleep_deadline
            if until is None or deadline < until:
                self._poke()

    def sleep_end(self) -> None:
        """Note that the driver is awake again; finishes a :meth:`close` made meanwhile."""
        self._sleeping = False
        if self._closed:
            self._release_descriptors()

    # ------------------------------------------------------------------ state
    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    @property
    def active(self) -> int:
        """Transfers currently inside the multi handle."""
        return len(self._active)

    def fileno(self) -> int:
        """The descriptor that turns readable when any of libcurl's sockets is ready."""
        return self._poller.fileno()

    def timeout(self) -> float | None:
        """Seconds until libcurl's timer is due (0 when overdue), or None when none is set."""
        timer = self._timer
        if timer is None:
            return None
        return max(0.0, timer - monotonic())

    # ------------------------------------------------------------------ handles
    def easy(self) -> pycurl.Curl:
        """An easy handle with the transport's shared options: a pooled one when available."""
        idle = self._idle
        if idle:
            return idle.pop()
        easy = pycurl.Curl()
        self._prepare(easy)
        return easy

    def _recycle(self, easy: pycurl.Curl) -> None:
        # No reset(): the next request overwrites every per-request option (see _options), and
        # the multi handle keeps the connections, TLS sessions and DNS cache either way.
        if self._closed or len(self._idle) >= self._idle_cap:
            self._forget(easy)
            easy.close()
            return
        self._idle.append(easy)

    def orphan(self, transfer: Transfer) -> None:
        """Queue the transfer of a response dropped without being closed, for abort.

        Called from ``__del__``, which may run anywhere (even inside a libcurl callback), so it
        only records; the next :meth:`start` or :meth:`dispatch` aborts the transfer.
        """
        if not transfer.done:
            self._orphans.append(transfer)

    def _abort_orphans(self) -> None:
        orphans, self._orphans = self._orphans, []
        for transfer in orphans:
            self.abort(transfer)

    def start(self, transfer: Transfer) -> None:
        """Hand a configured transfer to libcurl.

        libcurl arms its timer (0 ms); the next :meth:`run_due` sends the request, and it may
        send many at once: one ``socket_action`` for a whole batch of new requests is much
        cheaper than one each. A sleeping driver is woken by the timer callback.
        """
        if self._orphans:
            self._abort_orphans()
        easy = transfer.easy
        try:
            self._multi.add_handle(easy)
        except pycurl.error as exc:
            code, message = native_code(exc)
            self.abort(transfer, code, message)
            return
        self._active[easy] = transfer
        self._awaiting[transfer] = None

    def abort(
        self, transfer: Transfer, code: int = ABORTED, message: str = "aborted by the client"
    ) -> None:
        """Take a transfer out of libcurl now; a half-read connection is closed, not reused.

        Args:
            transfer: The transfer.
            code: The result to record (``ABORTED`` unless libcurl refused a call).
            message: Its text.
        """
        if transfer.done:
            return
        easy = transfer.easy
        if self._active.pop(easy, None) is not None:
            self._multi.remove_handle(easy)
        self._recycle(easy)  # (or the handle was never started: configuring it failed)
        self._awaiting.pop(transfer, None)
        transfer.finish(code, message)
        release = transfer.release
        if release is not None:
            transfer.release = None
            release()

    def resume(self, transfer: Transfer) -> None:
        """Unpause a transfer whose consumer drained the buffer."""
        if not transfer.paused or transfer.done:
            return
        transfer.paused = False
        try:
            # May call on_write synchronously with the chunk libcurl held back; arms a timer.
            transfer.easy.pause(pycurl.PAUSE_CONT)
        except pycurl.error as exc:  # the consumer then sees the mapped error, not pycurl's
            code, message = native_code(exc)
            self.abort(transfer, code, message)
        self.run_due()

    # ------------------------------------------------------------------ progress
    def dispatch(self, ready: list[tuple[int, int]]) -> None:
        """Feed ready sockets (from ``select``) to libcurl, then run timers and reap."""
        if self._closed:
            return
        if self._orphans:
            self._abort_orphans()
        action = self._multi.socket_action
        wake_fd = self._wake_r.fileno()
        for fd, flags in ready:
            if fd == wake_fd:
                with contextlib.suppress(OSError):
                    self._wake_r.recv(4096)
                self._poked = False
                continue
            try:
                action(fd, flags)
            except pycurl.error:
                pass  # a socket closed by an earlier action in this batch (CURLM_BAD_SOCKET)
        self.run_due()

    def poll(self) -> None:
        """Process whatever is ready right now, without blocking."""
        if not self._closed:
            self.dispatch(self._poller.poll(0))

    def wait(self, timeout: float | None) -> list[tuple[int, int]]:
        """Block up to ``timeout`` seconds for socket readiness (sync path; needs no lock).

        Returns:
            The ready sockets for :meth:`dispatch`; none once the reactor was closed.
        """
        if self._closed:
            return []
        try:
            return self._poller.poll(timeout)
        except (OSError, ValueError):
            if self._closed:  # closed by another thread while we slept
                return []
            raise

    def run_due(self) -> None:
        """Fire libcurl's timer if it is due, then reap finished transfers."""
        multi = self._multi
        while self._timer is not None and self._timer <= monotonic():
            self._timer = None
            with contextlib.suppress(pycurl.error):
                multi.socket_action(_TIMEOUT_SOCKET, 0)
        if self._awaiting:
            self._scan_headers()
        self._reap()

    def _scan_headers(self) -> None:
        # Cheaper than a Python callback per header line: one look per transfer per dispatch.
        complete = [
            transfer
            for transfer in self._awaiting
            if len(transfer.header_lines) > transfer.scanned and transfer.check_headers()
        ]
        for transfer in complete:
            del self._awaiting[transfer]

    def _reap(self) -> None:
        multi = self._multi
        while True:
            queued, ok, failed = multi.info_read()
            for easy in ok:
                self._finish(easy, 0, "")
            for easy, code, message in failed:
                self._finish(easy, code, message)
            if not queued:
                return

    def _finish(self, easy: pycurl.Curl, code: int, message: str) -> None:
        transfer = self._active.pop(easy, None)
        self._multi.remove_handle(easy)
        if transfer is None:
            return
        self._awaiting.pop(transfer, None)
        transfer.finish(code, message)
        self._recycle(easy)
        release = transfer.release
        if release is not None:
            transfer.release = None
            release()

    def close(self) -> None:
        """Abort every transfer and free libcurl's handles and every socket."""
        if self._closed:
            return
        for transfer in list(self._active.values()):
            self.abort(transfer)
        self._closed = True
        self._multi.close()
        for easy in self._idle:
            self._forget(easy)
            easy.close()
        self._idle.clear()
        if self._sleeping:
            # Closing an epoll descriptor does not wake a thread blocked on it, and closing the
            # wake socket would unregister it first: poke, and let the sleeper release them.
            self._poke()
        else:
            self._release_descriptors()

    def _release_descriptors(self) -> None:
        if self._wake_w.fileno() < 0:
            return
        self._poller.close()
        self._wake_r.close()
        self._wake_w.close()
