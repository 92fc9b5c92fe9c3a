"""A private readiness poller for libcurl's sockets, with one descriptor of its own to wait on.

On Linux it is a raw ``select.epoll`` (the hot path: every call is one C call); elsewhere it wraps
``selectors.DefaultSelector`` (kqueue on macOS and the BSDs). Either way the poller's own
descriptor turns readable when any registered socket is ready, which is what lets one
``anyio.wait_readable`` (or one blocking ``select``) stand for all of libcurl's sockets.

Masks are libcurl's: ``POLL_IN`` (1), ``POLL_OUT`` (2); :meth:`Poller.poll` answers with
``socket_action`` flags (``CSELECT_IN``/``OUT``/``ERR``).
"""

from __future__ import annotations

import contextlib
import select
import selectors
from abc import ABC, abstractmethod

import pycurl

_IN, _OUT, _ERR = pycurl.CSELECT_IN, pycurl.CSELECT_OUT, pycurl.CSELECT_ERR
_REMOVE = pycurl.POLL_REMOVE


class Poller(ABC):
    """The interface both implementations offer."""

    __slots__ = ()

    @abstractmethod
    def fileno(self) -> int:
        """The descriptor that turns readable when a registered socket is ready."""

    @abstractmethod
    def watch(self, fd: int, mask: int) -> None:
        """Watch ``fd`` for libcurl's ``POLL_IN``/``POLL_OUT`` ``mask`` (replacing any earlier)."""

    @abstractmethod
    def forget(self, fd: int) -> None:
        """Stop watching ``fd`` (it may already be closed)."""

    def socket_callback(self, what: int, fd: int, multi: object, socketp: object) -> None:
        """Serve as libcurl's ``M_SOCKETFUNCTION``: watch ``fd`` as asked, forget it on removal.

        libcurl reports ``POLL_REMOVE`` before it closes a socket, so the poller never holds a
        closed descriptor whose number a new socket could reuse.
        """
        try:
            if what == _REMOVE:
                self.forget(fd)
            else:
                self.watch(fd, what)
        except OSError:
            # Never raise into libcurl (pycurl would print it and fail every transfer); a socket
            # we cannot watch stalls only its own transfer, which its timeout then ends.
            pass

    @abstractmethod
    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        """Wait up to ``timeout`` seconds (0: not at all); ``(fd, CSELECT flags)`` pairs."""

    @abstractmethod
    def close(self) -> None:
        """Release the poller's descriptor."""


class _EpollPoller(Poller):
    __slots__ = ("_epoll", "_masks")

    _TO_EPOLL = (0, select.EPOLLIN, select.EPOLLOUT, select.EPOLLIN | select.EPOLLOUT)

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._masks: dict[int, int] = {}

    def fileno(self) -> int:
        return self._epoll.fileno()

    def watch(self, fd: int, mask: int) -> None:
        events = self._TO_EPOLL[mask & 3]
        epoll = self._epoll
        if fd in self._masks:
            try:
                epoll.modify(fd, events)
            except FileNotFoundError:
                # Closed behind our back and the number reused: the kernel forgot the old one.
                epoll.register(fd, events)
        else:
            try:
                epoll.register(fd, events)
            except FileExistsError:
                epoll.modify(fd, events)
        self._masks[fd] = mask

    def forget(self, fd: int) -> None:
        if self._masks.pop(fd, None) is not None:
            with contextlib.suppress(OSError):
                self._epoll.unregister(fd)

    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        ready = self._epoll.poll(-1 if timeout is None else timeout)
        if not ready:
            return []
        out: list[tuple[int, int]] = []
        for fd, events in ready:
            flags = (_IN if events & select.EPOLLIN else 0) | (
                _OUT if events & select.EPOLLOUT else 0
            )
            if events & (select.EPOLLERR | select.EPOLLHUP):
                flags |= _ERR | self._masks.get(fd, 0)  # wake whichever direction libcurl waits on
            out.append((fd, flags))
        return out

    def close(self) -> None:
        self._epoll.close()


class _SelectorPoller(Poller):
    __slots__ = ("_selector",)

    def __init__(self) -> None:
        selector = selectors.DefaultSelector()
        if not hasattr(selector, "fileno"):
            selector.close()
            raise RuntimeError(
                "atoll_curl needs an epoll or kqueue selector (Linux, macOS or BSD); "
                f"this platform offers {type(selector).__name__}"
            )
        self._selector = selector

    def fileno(self) -> int:
        return self._selector.fileno()  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]

    def watch(self, fd: int, mask: int) -> None:
        events = (selectors.EVENT_READ if mask & 1 else 0) | (
            selectors.EVENT_WRITE if mask & 2 else 0
        )
        try:
            self._selector.modify(fd, events)
        except KeyError:
            self._selector.register(fd, events)
        except OSError:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(fd)
            self._selector.register(fd, events)

    def forget(self, fd: int) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(fd)

    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        return [
            (key.fd, (_IN if mask & selectors.EVENT_READ else 0) | (_OUT if mask & 2 else 0))
            for key, mask in self._selector.select(timeout)
        ]

    def close(self) -> None:
        self._selector.close()


def new_poller() -> Poller:
    """The fastest poller this platform offers.

    Raises:
        RuntimeError: The platform has neither epoll nor kqueue.
    """
    if hasattr(select, "epoll"):
        return _EpollPoller()
    return _SelectorPoller()
