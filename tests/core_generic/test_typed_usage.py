"""Typed usage of the public API: pyright checks these `assert_type`s; pytest runs them."""

from __future__ import annotations

import uuid
from typing import assert_type

import anyio
import pytest
from atoll_generic import (
    BudgetLimiter,
    Element,
    Event,
    EventStatus,
    Execution,
    Executor,
    Pile,
    Progress,
    Progression,
    RequestLimiter,
    Reservation,
    TokenLimiter,
)

pytestmark = pytest.mark.anyio


class Message(Element):
    __element_kind__ = "typed-usage.Message"
    text: str = ""


class Echo(Event):
    __element_kind__ = "typed-usage.Echo"
    text: str = ""

    async def invoke(self) -> str:
        return self.text


def test_collections_are_typed() -> None:
    a, b = Message(text="a"), Message(text="b")
    pile: Pile[Message] = Pile([a, b], item_type=Message)
    assert_type(pile[0], Message)
    assert_type(pile[a.id], Message)
    assert_type(pile[1:], Pile[Message])
    assert_type(pile.pop(slice(0, 1)), Pile[Message])
    assert_type(pile.values(), list[Message])
    assert_type(pile | Pile([a]), Pile[Message])
    order = Progression(pile.keys())
    assert_type(order[0], uuid.UUID)
    assert pile[0].text == "b" and order == [b.id]
    assert_type(order.popleft(), uuid.UUID)
    assert not order
    again = Element.from_dict(a.to_dict())
    assert_type(again, Element)
    assert_type(Message.from_dict(a.to_dict()), Message)


async def test_executor_and_limiters_are_typed() -> None:
    requests = RequestLimiter(100, 60)
    tokens = TokenLimiter(10_000, 60)
    budget = BudgetLimiter(1.0)
    reservation = await tokens.reserve(10)
    assert_type(reservation, Reservation)
    reservation.settle(4)
    assert tokens.available == 10_000 - 4
    async with Executor(max_concurrency=2, queue_size=8, limiters=[requests, budget]) as ex:
        await ex.submit(Echo(text="hi"))
        ex.submit_nowait(Echo(text="there"))
        await ex.join()
        assert_type(ex.progress(), Progress)
    assert_type(ex.completed, Pile[Event])
    finished = ex.completed.values()
    assert sorted(str(e.response) for e in finished) == ["hi", "there"]
    record = finished[0].execution
    assert_type(record, Execution)
    assert_type(record.status, EventStatus)
    with anyio.fail_after(1):
        done = [e async for e in ex.as_completed()]  # the finished ones, even after close
    assert sorted(str(e.response) for e in done) == ["hi", "there"]


def test_the_redis_backend_is_typed() -> None:
    from atoll_generic import BackendErrorPolicy, RedisBackend

    backend = RedisBackend("redis://:pw@127.0.0.1:6379/0", on_backend_error="local")
    assert_type(backend.address, str)
    assert_type(backend.on_backend_error, BackendErrorPolicy)
    limiter = RequestLimiter(10, 1, name="rpm", backend=backend)
    assert_type(limiter.backend, RedisBackend | None)
    assert limiter.backend is backend and backend.address == "redis://:***@127.0.0.1:6379/0"
