"""What runs inside a Ray actor: one Client, one Executor and the shared limiters.

An item becomes an event on the actor's Executor: a ``CallEvent`` (a chat call whose token and
cost estimates meet the limiters, and whose provider rate-limit headers reach them) or, with a
``runner``, an event that awaits ``runner(item, client)`` -- the hook for agent runs: pass a
factory that builds your agent once per actor, and each item runs through it. Every finished
event becomes one flat result record.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Any, Protocol

import anyio
from atoll_dialects import CallEvent, Client
from atoll_generic import (
    BudgetLimiter,
    Event,
    EventStatus,
    Executor,
    Limiter,
    RedisBackend,
    RequestLimiter,
    TokenLimiter,
)
from atoll_wire import Message

__all__ = ["ItemRunner", "RunnerFactory", "WorkerCore", "share_limiters"]


class ItemRunner(Protocol):
    """Runs one item with the actor's client.

    It returns the output: text, JSON-safe data, or an object with ``text``/``output``,
    ``usage`` and ``cost`` attributes (an agent's run, say).
    """

    def __call__(self, item: Mapping[str, Any], client: Client) -> Awaitable[Any]:
        """Run ``item``."""
        ...


RunnerFactory = Callable[[], ItemRunner]
"""Called once in each actor to build its runner (an agent, say); must be picklable."""


def share_limiters(limiters: Sequence[Limiter], actors: int) -> list[Limiter]:
    """Limiters for one of ``actors`` actors.

    A limiter with a shared backend is shared as it is. An in-process one would be copied into
    every actor, multiplying the limit: each actor gets its share (limit / actors) instead.
    """
    out: list[Limiter] = []
    for limiter in limiters:
        if limiter.backend is not None or actors <= 1:
            out.append(limiter)
        elif isinstance(limiter, RequestLimiter | TokenLimiter):
            cls = type(limiter)
            out.append(cls(limiter.limit / actors, limiter.interval, name=limiter.name))
        elif isinstance(limiter, BudgetLimiter):
            out.append(BudgetLimiter(limiter.budget / actors, name=limiter.name))
        else:
            raise TypeError(f"cannot share {limiter!r} across actors: give it a RedisBackend")
    return out


class RunEvent(Event):
    """An item run by a user's runner (an agent run, say)."""

    __element_kind__ = "atoll_ray.RunEvent"

    item: dict[str, Any]

    async def invoke(self) -> Any:
        """Await the runner bound to this event."""
        assert self._bound is not None, "bind(runner, client) first"
        runner, client = self._bound
        return await runner(self.item, client)

    def actual_usage(self, resource: str) -> float | None:
        """Tokens or cost from the runner's result, when it reports them."""
        usage, cost = _usage_and_cost(self.response)
        if resource == "tokens" and usage is not None:
            return float(usage[0] + usage[1])
        if resource == "cost":
            return cost
        return None

    def bind(self, runner: ItemRunner, client: Client) -> RunEvent:
        """Attach what runs this event; returns self."""
        self._bound = (runner, client)
        return self

    # A pydantic private attribute: never validated or serialized.
    _bound: tuple[ItemRunner, Client] | None = None


def _usage_and_cost(response: Any) -> tuple[tuple[int, int] | None, float | None]:
    usage = getattr(response, "usage", None)
    pair = None
    if usage is not None:
        pair = (
            int(getattr(usage, "input_tokens", 0) or 0),
            int(getattr(usage, "output_tokens", 0) or 0),
        )
    cost = getattr(response, "cost", None)
    total = getattr(cost, "total", cost)
    return pair, (None if total is None else float(total))


def _output(response: Any) -> str | None:
    if response is None or isinstance(response, str):
        return response
    for name in ("text", "output"):
        value = getattr(response, name, None)
        if isinstance(value, str):
            return value
    try:
        return json.dumps(response, default=str)
    except (TypeError, ValueError):
        return repr(response)


def record_of(item_id: str, event: Event) -> dict[str, Any]:
    """The flat result record of a finished event."""
    execution = event.execution
    usage, cost = _usage_and_cost(event.response)
    error = execution.error
    return {
        "id": item_id,
        "status": "completed" if execution.status is EventStatus.COMPLETED else "failed",
        "output": _output(event.response) if execution.status is EventStatus.COMPLETED else None,
        "model": getattr(event.response, "served_by", None) or None,
        "input_tokens": None if usage is None else usage[0],
        "output_tokens": None if usage is None else usage[1],
        "cost": cost,
        "error_type": None if error is None else error.type,
        "error_message": None if error is None else error.message,
        "seconds": round(execution.duration or 0.0, 6),
    }


def _messages(raw: list[Mapping[str, Any]]) -> list[Message]:
    makers = {"user": Message.user, "system": Message.system, "assistant": Message.assistant}
    out: list[Message] = []
    for message in raw:
        maker = makers.get(str(message.get("role")))
        if maker is None:
            raise ValueError(f"unknown role {message.get('role')!r}: user, system or assistant")
        out.append(maker(str(message.get("content", ""))))
    return out


class WorkerCore:
    """The per-actor engine: opened once, then fed chunks of items.

    ``serve()`` holds the backends, the Client and the Executor open for the actor's life (they
    must be entered and left by one task); ``run_chunk()`` calls from other tasks of the same
    event loop submit to that Executor and wait for their own items.
    """

    def __init__(
        self,
        model: str | Sequence[str],
        client_options: Mapping[str, Any],
        limiters: Sequence[Limiter],
        concurrency: int,
        runner_factory: RunnerFactory | None,
    ) -> None:
        self.model = model
        self.client_options = dict(client_options)
        self.limiters = list(limiters)
        self.concurrency = max(1, concurrency)
        self.runner_factory = runner_factory
        self._executor: Executor | None = None
        self._client: Client | None = None
        self._runner: ItemRunner | None = None
        self._waiting: dict[Any, tuple[str, list[dict[str, Any]], anyio.Event]] = {}
        self._failure: BaseException | None = None
        self._stop: anyio.Event | None = None

    async def serve(self) -> None:
        """Open everything and dispatch finished events until :meth:`stop`."""
        self._stop = anyio.Event()
        backends: dict[int, RedisBackend] = {}
        for limiter in self.limiters:
            if limiter.backend is not None:
                backends.setdefault(id(limiter.backend), limiter.backend)
        try:
            async with AsyncExitStack() as stack:
                for backend in backends.values():
                    await stack.enter_async_context(backend)
                self._client = await stack.enter_async_context(
                    Client(self.model, **self.client_options)
                )
                if self.runner_factory is not None:
                    self._runner = self.runner_factory()
                executor = Executor(
                    max_concurrency=self.concurrency,
                    queue_size=max(2 * self.concurrency, 64),
                    limiters=self.limiters,
                    retention=0,
                )
                async with executor, anyio.create_task_group() as tg:
                    self._executor = executor
                    tg.start_soon(self._dispatch, executor)
                    await self._stop.wait()
                    await executor.aclose()
        except BaseException as exc:
            self._failure = exc
            raise

    async def _dispatch(self, executor: Executor) -> None:
        async for event in executor.as_completed(until_closed=True):
            waiting = self._waiting.pop(event.id, None)
            if waiting is None:
                continue
            item_id, records, done = waiting
            if event.status is not EventStatus.SKIPPED:
                records.append(record_of(item_id, event))
            else:
                records.append(
                    {"id": item_id, "status": "skipped", "reason": event.execution.reason}
                )
            done.set()

    async def ready(self) -> None:
        """Return once :meth:`serve` has opened everything (raises if it failed)."""
        await self._ready()

    async def _ready(self) -> Executor:
        while self._executor is None:
            if self._failure is not None:
                raise RuntimeError(f"the actor could not start: {self._failure!r}")
            await anyio.sleep(0.01)
        return self._executor

    def _event(self, item: dict[str, Any]) -> Event:
        client = self._client
        assert client is not None
        if self._runner is not None:
            return RunEvent(item=item).bind(self._runner, client)
        options = dict(item.get("options") or {})
        prompt = (
            item["prompt"] if isinstance(item.get("prompt"), str) else _messages(item["messages"])
        )
        return CallEvent.of(client, prompt, feedback=self.limiters, **options)

    async def run_chunk(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run ``items`` on the actor's Executor and return one record each.

        A record's ``status`` may be ``"skipped"``: a limiter refused the item, which then has
        no result.
        """
        executor = await self._ready()
        records: list[dict[str, Any]] = []
        events: list[anyio.Event] = []
        for item in items:
            done = anyio.Event()
            try:
                event = self._event(item)
            except Exception as exc:  # a malformed item is a failed result, not a dead actor
                records.append(_failed(item["id"], exc))
                continue
            self._waiting[event.id] = (item["id"], records, done)
            events.append(done)
            await executor.submit(event)
        for done in events:
            await done.wait()
        return records

    def stop(self) -> None:
        """Close the Executor and the Client once the work in flight is done."""
        if self._stop is not None:
            self._stop.set()


def _failed(item_id: str, exc: Exception) -> dict[str, Any]:
    return {
        "id": item_id,
        "status": "failed",
        "output": None,
        "model": None,
        "input_tokens": None,
        "output_tokens": None,
        "cost": None,
        "error_type": type(exc).__name__,
        "error_message": str(exc),
        "seconds": 0.0,
    }


def per_actor(concurrency: int, actors: int) -> int:
    """Calls in flight per actor so that the cluster holds ``concurrency`` at most."""
    return max(1, math.ceil(concurrency / max(1, actors)))
