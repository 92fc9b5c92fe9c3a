"""Limiters on a fake clock: windows, reservations from the available pool, settling, feedback."""

from __future__ import annotations

import datetime as dt

import anyio
import pytest
from atoll_generic import (
    BudgetExhaustedError,
    BudgetLimiter,
    LimitExceededError,
    RequestLimiter,
    TokenLimiter,
)

from ._fakes import FakeClock

pytestmark = pytest.mark.anyio


async def test_regression_5_tokens_come_out_of_the_available_pool() -> None:
    """Ancestor defect 5: each reservation was subtracted from the ceiling, not what was left."""
    clock = FakeClock()
    tokens = TokenLimiter(100, 60, clock=clock)
    await tokens.reserve(40)
    await tokens.reserve(40)
    assert tokens.available == 20  # not 60
    await tokens.reserve(40)  # has to wait for the next window
    assert clock.t == 60 and tokens.available == 60


async def test_settle_refunds_the_difference_in_the_same_window() -> None:
    clock = FakeClock()
    tokens = TokenLimiter(100, 60, clock=clock)
    r = await tokens.reserve(50)
    r.settle(10)
    assert tokens.available == 90
    r.settle(0)  # settling twice is ignored
    assert tokens.available == 90
    over = await tokens.reserve(20)
    tokens.settle(over, 50)  # used more than reserved: charged
    assert tokens.available == 40
    keep = await tokens.reserve(5)
    keep.settle(None)  # unknown actual: the estimate stands
    assert tokens.available == 35
    gone = await tokens.reserve(35)
    gone.release()
    assert tokens.available == 35


async def test_overrun_after_the_window_rolled_is_owed_by_the_next() -> None:
    clock = FakeClock()
    tokens = TokenLimiter(100, 10, clock=clock)
    r = await tokens.reserve(50)
    clock.t = 12  # the window rolled while the call ran
    r.settle(80)  # 30 more than reserved
    assert tokens.available == 70
    refund = await tokens.reserve(50)
    clock.t = 25
    refund.settle(0)  # refunds to an old window are dropped: the new one is full anyway
    assert tokens.available == 100


async def test_a_request_larger_than_a_window_is_refused() -> None:
    tokens = TokenLimiter(100, 60, clock=FakeClock())
    with pytest.raises(LimitExceededError) as info:
        await tokens.reserve(101)
    assert info.value.requested == 101 and info.value.limit == 100


async def test_requests_per_window_on_a_fake_clock() -> None:
    clock = FakeClock()
    requests = RequestLimiter(3, 1.0, clock=clock)
    starts: list[float] = []
    for _ in range(10):
        await requests.reserve(1)
        starts.append(clock.t)
    assert starts == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]


async def test_observe_remaining_and_reset_at_slow_everyone_down() -> None:
    clock = FakeClock(1000.0)
    requests = RequestLimiter(10, 60, clock=clock)
    await requests.reserve(1)
    requests.observe(remaining=0, reset_at=1005.0)
    await requests.reserve(1)
    assert clock.t == 1005.0 and requests.available == 9
    requests.observe(remaining=2, reset_after=30)
    assert requests.available == 2 and requests.window_end == 1035.0
    when = dt.datetime.fromtimestamp(1040.0, tz=dt.UTC)
    requests.observe(remaining=0, reset_at=when)
    await requests.reserve(1)
    assert clock.t == 1040.0


async def test_observe_retry_after_blocks_new_work() -> None:
    clock = FakeClock()
    requests = RequestLimiter(100, 60, clock=clock)
    requests.observe(retry_after=7.5)
    await requests.reserve(1)
    assert clock.t == 7.5


async def test_waiters_wake_on_refund_without_waiting_for_the_window() -> None:
    clock = FakeClock()
    tokens = TokenLimiter(100, 60, clock=clock)
    big = await tokens.reserve(100)
    got: list[float] = []

    async def waiter() -> None:
        await tokens.reserve(50)
        got.append(clock.t)

    original_sleep = clock.sleep

    async def slow_sleep(seconds: float) -> None:  # real time passes; fake time does not jump
        await anyio.sleep(10)
        await original_sleep(seconds)

    clock.sleep = slow_sleep  # type: ignore[method-assign]
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.sleep(0.01)
            big.settle(20)  # refund 80: the waiter fits now
    assert got == [0.0]


async def test_budget_reserves_worst_case_settles_actual_then_refuses() -> None:
    budget = BudgetLimiter(1.0)
    a = await budget.reserve(0.6)
    assert budget.remaining == pytest.approx(0.4)
    a.settle(0.25)
    assert budget.spent == pytest.approx(0.25) and budget.remaining == pytest.approx(0.75)
    b = await budget.reserve(0.75)
    b.settle(0.75)
    assert budget.exhausted
    with pytest.raises(BudgetExhaustedError) as info:
        await budget.reserve(0.0)
    assert info.value.limit == 1.0 and info.value.spent == pytest.approx(1.0)


async def test_budget_waits_for_outstanding_reservations_then_decides() -> None:
    budget: BudgetLimiter = BudgetLimiter(1.0)
    first = await budget.reserve(0.9)
    results: list[str] = []

    async def second() -> None:
        try:
            await budget.reserve(0.5)
            results.append("granted")
        except BudgetExhaustedError:
            results.append("refused")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(second)
            await anyio.sleep(0.01)
            assert results == []  # waiting: the first reservation may refund
            first.settle(0.3)
    assert results == ["granted"]
    # Same start, but the outstanding call really spends its worst case: the waiter is refused.
    results.clear()
    budget = BudgetLimiter(1.0)
    held = await budget.reserve(0.9)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(second)
            await anyio.sleep(0.01)
            held.settle(0.9)
    assert results == ["refused"]


async def test_budget_observe_remaining() -> None:
    budget = BudgetLimiter(10.0)
    budget.observe(remaining=4.0)
    assert budget.spent == 6.0
    with pytest.raises(BudgetExhaustedError):
        await budget.reserve(5.0)


def test_bad_construction() -> None:
    with pytest.raises(ValueError):
        RequestLimiter(0)
    with pytest.raises(ValueError):
        TokenLimiter(10, interval=0)
    with pytest.raises(ValueError):
        BudgetLimiter(-1)
