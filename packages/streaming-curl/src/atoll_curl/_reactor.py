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
import selectors
import socket
from time import monotonic

import pycurl

from ._exceptions import ABORTED
from ._transfer import Transfer

_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
_IN, _OUT = pycurl.CSELECT_IN, pycurl.CSELECT_OUT
_REMOVE = pycurl.POLL_REMOVE
_TIMEOUT_SOCKET = pycurl.SOCKET_TIMEOUT


def _new_selector() -> selectors.BaseSelector:
    selector = selectors.DefaultSelector()
    if not hasattr(selector, "fileno"):
        selector.close()
        raise RuntimeError(
            "atoll_curl needs an epoll or kqueue selector (Linux, macOS or BSD); "
            f"this platform offers {type(selector).__name__}"
        )
    return selector


class Reactor:
    """Drive one ``CurlMulti`` without blocking; callers decide how to wait.

    Args:
        max_connections: libcurl's cap on open connections (``M_MAX_TOTAL_CONNECTIONS``).
        max_keepalive: Idle connections libcurl keeps for reuse (``M_MAXCONNECTS``).
        http2: Allow HTTP/2 multiplexing.
    """

    __slots__ = (
        "_active",
        "_closed",
        "_idle",
        "_idle_cap",
        "_multi",
        "_orphans",
        "_poked",
        "_selector",
        "_sleep_deadline",
        "_sleeping",
        "_timer",
        "_wake_r",
        "_wake_w",
    )

    def __init__(self, *, max_connections: int, max_keepalive: int, http2: bool) -> None:
        self._selector = _new_selector()
        # Lets close() wake a thread blocked in select (closing an epoll fd does not).
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, _READ)
        multi = pycurl.CurlMulti()
        multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)
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
        self._sleeping = False
        self._sleep_deadline: float | None = None
        self._poked = False
        self._closed = False

    # ------------------------------------------------------------------ libcurl callbacks
    def _on_socket(self, what: int, fd: int, multi: object, socketp: object) -> None:
        selector = self._selector
        if what == _REMOVE:
            with contextlib.suppress(KeyError, ValueError, OSError):
                selector.unregister(fd)
            return
        events = (_READ if what & pycurl.POLL_IN else 0) | (_WRITE if what & pycurl.POLL_OUT else 0)
        try:
            selector.modify(fd, events)
        except KeyError:
            selector.register(fd, events)
        except OSError:
            # The number was reused by a new socket after a close we were not told about.
            with contextlib.suppress(KeyError, ValueError, OSError):
                selector.unregister(fd)
            selector.register(fd, events)

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
        return self._selector.fileno()  # pyright: ignore[reportAttributeAccessIssue, reportUnknownVariableType, reportUnknownMemberType]

    def timeout(self) -> float | None:
        """Seconds until libcurl's timer is due (0 when overdue), or None when none is set."""
        timer = self._timer
        if timer is None:
            return None
        return max(0.0, timer - monotonic())

    # ------------------------------------------------------------------ handles
    def easy(self) -> pycurl.Curl:
        """A clean easy handle: a pooled one when available (its options were reset)."""
        idle = self._idle
        return idle.pop() if idle else pycurl.Curl()

    def _recycle(self, easy: pycurl.Curl) -> None:
        # reset() drops every option and callback (so the finished Transfer can be freed) while
        # the multi handle keeps the connection, TLS session and DNS caches.
        if self._closed or len(self._idle) >= self._idle_cap:
            easy.close()
            return
        easy.reset()
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
        """Hand a configured transfer to libcurl and let it make what progress it can now."""
        if self._orphans:
            self._abort_orphans()
        easy = transfer.easy
        self._multi.add_handle(easy)
        self._active[easy] = transfer
        self.run_due()

    def abort(self, transfer: Transfer) -> None:
        """Take a transfer out of libcurl now; a half-read connection is closed, not reused."""
        if transfer.done:
            return
        easy = transfer.easy
        if self._active.pop(easy, None) is not None:
            self._multi.remove_handle(easy)
        self._recycle(easy)  # (or the handle was never started: configuring it failed)
        transfer.finish(ABORTED, "aborted by the client")
        release = transfer.release
        if release is not None:
            transfer.release = None
            release()

    def resume(self, transfer: Transfer) -> None:
        """Unpause a transfer whose consumer drained the buffer."""
        if not transfer.paused or transfer.done:
            return
        transfer.paused = False
        # May call on_write synchronously with the chunk libcurl held back, and arms a timer.
        transfer.easy.pause(pycurl.PAUSE_CONT)
        self.run_due()

    # ------------------------------------------------------------------ progress
    def dispatch(self, ready: list[tuple[selectors.SelectorKey, int]]) -> None:
        """Feed ready sockets (from ``select``) to libcurl, then run timers and reap."""
        if self._closed:
            return
        if self._orphans:
            self._abort_orphans()
        action = self._multi.socket_action
        wake_fd = self._wake_r.fileno()
        for key, mask in ready:
            if key.fd == wake_fd:
                with contextlib.suppress(OSError):
                    self._wake_r.recv(4096)
                self._poked = False
                continue
            flags = (_IN if mask & _READ else 0) | (_OUT if mask & _WRITE else 0)
            try:
                action(key.fd, flags)
            except pycurl.error:
                pass  # a socket closed by an earlier action in this batch (CURLM_BAD_SOCKET)
        self.run_due()

    def poll(self) -> None:
        """Process whatever is ready right now, without blocking."""
        if not self._closed:
            self.dispatch(self._selector.select(0))

    def wait(self, timeout: float | None) -> list[tuple[selectors.SelectorKey, int]]:
        """Block up to ``timeout`` seconds for socket readiness (sync path; needs no lock).

        Returns:
            The ready sockets for :meth:`dispatch`; none once the reactor was closed.
        """
        if self._closed:
            return []
        try:
            return self._selector.select(timeout)
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
        self._reap()

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
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
