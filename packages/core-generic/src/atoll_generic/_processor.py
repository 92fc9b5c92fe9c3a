"""Processor: a fixed pool of workers in one task group, fed by one bounded queue.

The hot path is deliberately plain: ``max_concurrency`` worker tasks read events from one anyio
memory object stream (the queue) and run them. The pool size *is* the capacity limit -- it cannot
be built and then bypassed. Per event there is no task spawn and no pydantic validation; optional
stages (permission hook, limiters) cost nothing when not configured.

Every accepted event ends in exactly one terminal status and is counted exactly once, so
``join()`` always returns: completed, failed, skipped (denied, budget) and cancelled events all
pass through :meth:`Processor._finish`.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Literal, Self

import anyio
import anyio.abc
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._event import TERMINAL, Event, EventStatus
from ._exceptions import (
    ExecutorClosedError,
    IllegalTransitionError,
    ItemExistsError,
    LimitError,
    QueueFull,
)
from ._limiters import Limiter, Reservation

__all__ = ["PermissionHook", "Processor"]

PermissionHook = Callable[[Event], "bool | str | Awaitable[bool | str]"]
"""Called before an event starts: ``True`` allows it; ``False`` or a reason string denies it."""

_PENDING = EventStatus.PENDING


async def _exit_unwrapped(host: TaskGroup, exc: BaseException | None) -> None:
    """Close the host task group; a Ctrl-C that hit a worker comes out bare, not in a group.

    On trio a ``KeyboardInterrupt`` is raised in whichever task runs when the signal arrives;
    if that was a worker, the task groups would wrap it. Ctrl-C (and ``SystemExit``) reach the
    caller as themselves on both backends, as they do on asyncio.
    """
    try:
        if exc is None:
            await host.__aexit__(None, None, None)
        else:
            await host.__aexit__(type(exc), exc, exc.__traceback__)
    except BaseExceptionGroup as group:
        interrupt = _only_interrupt(group)
        if interrupt is None:
            raise
        raise interrupt from None


def _only_interrupt(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The KeyboardInterrupt/SystemExit of a group holding only those and cancellations."""
    cancelled = anyio.get_cancelled_exc_class()
    interrupt: BaseException | None = None
    for leaf in _leaves(group):
        if isinstance(leaf, KeyboardInterrupt | SystemExit):
            interrupt = interrupt or leaf
        elif not isinstance(leaf, cancelled):
            return None
    return interrupt


def _leaves(exc: BaseException) -> list[BaseException]:
    inner: tuple[BaseException, ...] = getattr(exc, "exceptions", ())
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for child in inner for leaf in _leaves(child)]
    return [exc]


async def _settle(reservations: list[Reservation], event: Event | None) -> None:
    """Settle each reservation with ``event``'s usage, or release it all (``event`` None).

    Shielded: it also runs while the worker is being cancelled, and a shared backend's round
    trip must still happen then (bounded by the backend's own timeout).
    """
    if not reservations:
        return
    with anyio.CancelScope(shield=True):
        for r in reservations:
            if event is None:
                await r.limiter.arelease(r)
            else:
                await r.limiter.afinish(r, event)


class Processor:
    """Runs submitted events on a fixed pool of workers under stacked limiters.

    Use it as ``async with``: entering starts the workers in one task group, leaving drains the
    queue (or cancels everything if the block raised).

    Args:
        max_concurrency: Events in flight at most (the number of workers).
        queue_size: Events waiting at most; ``submit`` waits beyond it, ``submit_nowait`` raises
            :class:`QueueFull`.
        limiters: Limiters every event reserves from before it starts, in order.
        permission: Hook deciding whether an event may start.
        on_deny: ``"skip"`` marks a denied event SKIPPED with the reason; ``"requeue"`` puts it
            back (after ``requeue_delay`` seconds) up to ``max_requeues`` times, then skips it.
        max_requeues: Denials tolerated per event under ``"requeue"``.
        requeue_delay: Seconds before a denied event re-enters the queue.
    """

    def __init__(
        self,
        *,
        max_concurrency: int = 16,
        queue_size: int = 1024,
        limiters: Sequence[Limiter] = (),
        permission: PermissionHook | None = None,
        on_deny: Literal["skip", "requeue"] = "skip",
        max_requeues: int = 3,
        requeue_delay: float = 0.05,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        if on_deny not in ("skip", "requeue"):
            raise ValueError(f"on_deny must be 'skip' or 'requeue', got {on_deny!r}")
        self.max_concurrency = max_concurrency
        self.queue_size = queue_size
        self.limiters: tuple[Limiter, ...] = tuple(limiters)
        self.permission = permission
        self.on_deny = on_deny
        self.max_requeues = max_requeues
        self.requeue_delay = requeue_delay
        self._send: MemoryObjectSendStream[Event] | None = None
        self._receive: MemoryObjectReceiveStream[Event] | None = None
        self._tg: TaskGroup | None = None
        self._host: TaskGroup | None = None
        self._state: Literal["new", "running", "closing", "closed"] = "new"
        self._tracked: set[uuid.UUID] = set()
        self._denials: dict[uuid.UUID, int] = {}
        self._unfinished = 0
        self._queued = 0
        self._in_flight = 0
        self._idle: anyio.Event | None = None

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise ExecutorClosedError("already started; an executor runs once")
        self._send, self._receive = anyio.create_memory_object_stream[Event](self.queue_size)
        self._workers_done = anyio.Event()
        host = anyio.create_task_group()
        await host.__aenter__()
        self._host = host
        try:
            # Workers live in an inner task group so that cancelling them never cancels the
            # caller's own `async with` body.
            await host.start(self._supervise)
        except BaseException:
            await host.__aexit__(None, None, None)
            raise
        self._state = "running"
        return self

    async def _supervise(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        try:
            async with anyio.create_task_group() as workers:
                self._tg = workers
                for _ in range(self.max_concurrency):
                    workers.start_soon(self._worker)
                task_status.started()
        finally:
            self._workers_done.set()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            await self.aclose(cancel=exc is not None)
        finally:
            host, self._host = self._host, None
            if host is not None:
                if exc is None or not isinstance(exc, anyio.get_cancelled_exc_class()):
                    # The workers are finished; let the caller's own error (an Exception, or a
                    # KeyboardInterrupt/SystemExit that trio delivered to this task) propagate
                    # as it is rather than wrapped in an ExceptionGroup.
                    await _exit_unwrapped(host, None)
                else:  # cancellation: the scope machinery must see it
                    await _exit_unwrapped(host, exc)
        return None

    async def aclose(self, *, cancel: bool = False) -> None:
        """Stop accepting work, then drain the queue (or cancel everything if ``cancel``).

        Draining waits for every submitted event to finish. With ``cancel=True`` in-flight
        events are cancelled (CANCELLED) and queued ones are marked CANCELLED without running;
        callers blocked in ``submit`` get :class:`ExecutorClosedError`. Safe to call twice.
        """
        if self._state in ("new", "closed"):
            self._state = "closed"
            return
        self._state = "closing"
        if cancel:
            if self._tg is not None:
                self._tg.cancel_scope.cancel()
            with anyio.CancelScope(shield=True):
                await self._workers_done.wait()  # in-flight events are now CANCELLED
            self._cancel_queued()
            if self._receive is not None:
                self._receive.close()  # wakes blocked submitters with BrokenResourceError
            self._cancel_queued()  # anything a released submitter managed to queue meanwhile
        else:
            await self.join()
        if self._send is not None:
            self._send.close()  # idle workers see the end of the stream and return
        with anyio.CancelScope(shield=True):
            await self._workers_done.wait()
        if self._receive is not None:
            self._receive.close()
        self._state = "closed"

    def _cancel_queued(self) -> None:
        receive = self._receive
        if receive is None:
            return
        while True:
            try:
                event = receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                return
            self._queued -= 1
            if vars(event.execution)["status"] is _PENDING:
                event.cancel("executor closed with cancel=True before the event started")
                self._finish(event)
            else:
                self._forget(event)  # started elsewhere meanwhile

    # ------------------------------------------------------------------ submission
    def _accept(self, event: Event) -> None:
        if self._state != "running":
            raise ExecutorClosedError("not started" if self._state == "new" else self._state)
        status = vars(event.execution)["status"]
        if status is not _PENDING:
            raise IllegalTransitionError(str(status), "pending (submit)", event.id)
        if event.id in self._tracked:
            raise ItemExistsError(event.id, type(self).__name__)
        self._tracked.add(event.id)
        self._unfinished += 1
        self._queued += 1

    def _reject(self, event: Event) -> None:
        self._tracked.discard(event.id)
        self._unfinished -= 1
        self._queued -= 1
        self._check_idle()

    async def submit(self, event: Event) -> None:
        """Queue ``event``, waiting while the queue is full (backpressure).

        Raises:
            ExecutorClosedError: the executor is not running.
            IllegalTransitionError: the event is not PENDING (it already ran).
            ItemExistsError: the event is already queued or running here.
        """
        self._accept(event)
        assert self._send is not None
        try:
            await self._send.send(event)
        except BaseException as exc:
            self._reject(event)
            if isinstance(exc, anyio.BrokenResourceError | anyio.ClosedResourceError):
                raise ExecutorClosedError("closed") from exc
            raise

    def submit_nowait(self, event: Event) -> None:
        """Queue ``event`` or fail at once.

        Raises:
            QueueFull: the queue holds ``queue_size`` events.
            ExecutorClosedError: the executor is not running.
        """
        self._accept(event)
        assert self._send is not None
        try:
            self._send.send_nowait(event)
        except anyio.WouldBlock:
            self._reject(event)
            raise QueueFull(self.queue_size) from None
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            self._reject(event)
            raise ExecutorClosedError("closed") from exc

    # ------------------------------------------------------------------ waiting
    async def join(self) -> None:
        """Return once every event submitted so far is in a terminal status."""
        while self._unfinished:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()

    def _check_idle(self) -> None:
        if not self._unfinished and self._idle is not None:
            self._idle.set()
            self._idle = None

    # ------------------------------------------------------------------ workers
    async def _worker(self) -> None:
        receive = self._receive
        assert receive is not None
        simple = self.permission is None and not self.limiters
        finish = self._finish
        while True:
            try:
                event = await receive.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                return
            self._queued -= 1
            self._in_flight += 1
            foreign = False
            try:
                if simple:
                    await event.run()
                else:
                    await self._process(event)
            except IllegalTransitionError:
                # Only raised before any work: the event was started elsewhere (run directly,
                # or by another executor) while it waited here. It is not run twice, and its
                # failure to start must not take the other workers down.
                foreign = True
            finally:
                self._in_flight -= 1
                if foreign:
                    self._forget(event)
                # A requeued event is still unfinished: it comes back through the queue.
                elif vars(event.execution)["status"] in TERMINAL:
                    finish(event)

    async def _process(self, event: Event) -> None:
        if self.permission is not None and not await self._permitted(event):
            return
        reservations = await self._reserve(event)
        if reservations is None:
            return
        try:
            await event.run()
        except IllegalTransitionError:
            await _settle(reservations, None)  # it never ran here: nothing was used
            raise
        except BaseException:
            await _settle(reservations, event)
            raise
        await _settle(reservations, event)

    async def _reserve(self, event: Event) -> list[Reservation] | None:
        """Reserve from every limiter in order; None when a limiter refused (event SKIPPED)."""
        reservations: list[Reservation] = []
        try:
            for limiter in self.limiters:
                reservations.append(await limiter.acquire(event))
        except LimitError as exc:
            await _settle(reservations, None)
            event.skip(str(exc))
            return None
        except Exception as exc:
            # A broken custom limiter (or a shared backend that failed under the "fail"
            # policy) must not kill the worker or lose the event.
            await _settle(reservations, None)
            event.skip(f"limiter raised {type(exc).__name__}: {exc}")
            return None
        except BaseException:
            await _settle(reservations, None)
            if vars(event.execution)["status"] is _PENDING:
                event.cancel("cancelled while waiting for a limiter")
            raise
        return reservations

    async def _permitted(self, event: Event) -> bool:
        assert self.permission is not None
        try:
            verdict = self.permission(event)
            if inspect.isawaitable(verdict):
                verdict = await verdict
        except Exception as exc:
            # A broken hook must not lose the event: it is denied, with the error as reason.
            verdict = f"permission hook raised {type(exc).__name__}: {exc}"
        except BaseException:
            # Cancelled (the executor is closing) while the hook decided: never left PENDING.
            if vars(event.execution)["status"] is _PENDING:
                event.cancel("cancelled while the permission hook decided")
            raise
        if verdict is True:
            return True
        reason = verdict if isinstance(verdict, str) and verdict else "denied by permission hook"
        denials = self._denials.get(event.id, 0) + 1
        if self.on_deny == "requeue" and denials <= self.max_requeues:
            self._denials[event.id] = denials
            self._queued += 1
            assert self._tg is not None
            self._tg.start_soon(self._requeue, event)
        else:
            self._denials.pop(event.id, None)
            event.skip(reason)
        return False

    async def _requeue(self, event: Event) -> None:
        assert self._send is not None
        try:
            await anyio.sleep(self.requeue_delay)
            await self._send.send(event)
        except BaseException:
            self._queued -= 1
            if vars(event.execution)["status"] is _PENDING:
                event.cancel("executor closed before a denied event was retried")
                self._finish(event)
            else:
                self._forget(event)  # started elsewhere meanwhile
            raise

    def _finish(self, event: Event) -> None:
        """Count a terminal event exactly once (subclasses extend to record results)."""
        self._forget(event)

    def _forget(self, event: Event) -> None:
        """Stop tracking an accepted event, without recording it as a result of this executor.

        For an event another party started while it was queued here.
        """
        self._tracked.discard(event.id)
        self._denials.pop(event.id, None)
        self._unfinished -= 1
        if not self._unfinished and self._idle is not None:
            self._idle.set()
            self._idle = None

    # ------------------------------------------------------------------ introspection
    @property
    def in_flight(self) -> int:
        """Events running now."""
        return self._in_flight

    @property
    def queued(self) -> int:
        """Events waiting (including denied events waiting to be retried)."""
        return self._queued

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` has finished (or the ``async with`` block was left)."""
        return self._state == "closed"

    @property
    def unfinished(self) -> int:
        """Events submitted and not yet terminal."""
        return self._unfinished

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(state={self._state}, max_concurrency={self.max_concurrency}, "
            f"in_flight={self._in_flight}, queued={self._queued})"
        )
