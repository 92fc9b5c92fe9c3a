"""Executor: backpressure, capacity, limiters, permission, results, cancellation, 10k events."""

from __future__ import annotations

import math
from collections import Counter
from typing import ClassVar

import anyio
import pytest
from atoll_generic import (
    BudgetLimiter,
    Event,
    EventStatus,
    Executor,
    ExecutorClosedError,
    IllegalTransitionError,
    ItemExistsError,
    Processor,
    Progress,
    QueueFull,
    RequestLimiter,
    Reservation,
    TokenLimiter,
)

from ._fakes import FakeClock

pytestmark = pytest.mark.anyio


class Counted(Event):
    invocations: ClassVar[Counter[str]] = Counter()
    fail: bool = False

    async def invoke(self) -> str:
        Counted.invocations[str(self.id)] += 1
        if self.fail:
            raise RuntimeError("boom")
        return "ok"


class Sleeper(Event):
    seconds: float = 10.0

    async def invoke(self) -> None:
        await anyio.sleep(self.seconds)


class Gauge(Event):
    """Records the peak number of Gauge events running at once."""

    running: ClassVar[int] = 0
    peak: ClassVar[int] = 0

    async def invoke(self) -> None:
        Gauge.running += 1
        Gauge.peak = max(Gauge.peak, Gauge.running)
        await anyio.sleep(0.005)
        Gauge.running -= 1


class Usage(Event):
    estimate: float = 0.0
    used: float | None = None
    resource: str = "tokens"

    async def invoke(self) -> None:
        return None

    def estimated_usage(self, resource: str) -> float:
        return self.estimate if resource == self.resource else 0.0

    def actual_usage(self, resource: str) -> float | None:
        return self.used if resource == self.resource else None


async def test_runs_events_and_sorts_results() -> None:
    good = [Counted() for _ in range(5)]
    bad = [Counted(fail=True) for _ in range(3)]
    async with Executor(max_concurrency=4) as ex:
        for ev in good + bad:
            await ex.submit(ev)
        await ex.join()
        assert ex.unfinished == 0
    assert set(ex.completed.keys()) == {e.id for e in good}
    assert set(ex.failed.keys()) == {e.id for e in bad}
    assert all(e.status is EventStatus.COMPLETED and e.response == "ok" for e in good)
    assert all(e.execution.error is not None for e in bad)  # captured, siblings unaffected
    assert ex.counts[EventStatus.COMPLETED] == 5 and ex.counts[EventStatus.FAILED] == 3


async def test_ten_thousand_events_none_lost_none_duplicated() -> None:
    Counted.invocations.clear()
    events = [Counted(fail=(i % 97 == 0)) for i in range(10_000)]
    with anyio.fail_after(60):
        async with Executor(max_concurrency=64, queue_size=128) as ex:
            for ev in events:
                await ex.submit(ev)
            await ex.join()
    assert len(Counted.invocations) == 10_000
    assert set(Counted.invocations.values()) == {1}
    assert len(ex.completed) + len(ex.failed) == 10_000
    assert len(ex.failed) == math.ceil(10_000 / 97)


async def test_regression_1_refilling_the_queue_never_invokes_an_event_twice() -> None:
    """Ancestor defect 1: refilling the queue re-enqueued events that had already run."""
    Counted.invocations.clear()
    events = [Counted() for _ in range(500)]
    async with Executor(max_concurrency=3, queue_size=2) as ex:  # refilled ~250 times
        for ev in events:
            await ex.submit(ev)
        await ex.join()
        with pytest.raises(IllegalTransitionError):
            await ex.submit(events[0])  # finished events cannot be queued again
    assert len(Counted.invocations) == 500 and set(Counted.invocations.values()) == {1}


async def test_duplicate_submission_of_a_queued_event_is_refused() -> None:
    blocker, queued = Sleeper(seconds=0.05), Counted()
    async with Executor(max_concurrency=1, queue_size=4) as ex:
        await ex.submit(blocker)
        await ex.submit(queued)
        with pytest.raises(ItemExistsError):
            await ex.submit(queued)
    assert queued.status is EventStatus.COMPLETED and ex.counts[EventStatus.COMPLETED] == 2


async def test_regression_2_denied_batch_never_wedges_capacity_or_drops_events() -> None:
    """Ancestor defect 2: a batch of denials left capacity at zero and lost the denied event."""
    events = [Counted() for _ in range(20)]
    denied = {e.id for e in events[:8]}  # the whole first batch is denied

    def permit(ev: Event) -> bool | str:
        return "not on the allow-list" if ev.id in denied else True

    with anyio.fail_after(10):
        async with Executor(max_concurrency=2, queue_size=4, permission=permit) as ex:
            for ev in events:
                await ex.submit(ev)
            await ex.join()
            assert ex.in_flight == 0 and ex.queued == 0
    assert {e.id for e in ex.skipped} == denied
    assert all(e.execution.reason == "not on the allow-list" for e in ex.skipped)
    assert len(ex.completed) == 12


async def test_denied_events_are_requeued_then_run() -> None:
    seen: Counter[str] = Counter()

    async def permit(ev: Event) -> bool:
        seen[str(ev.id)] += 1
        return seen[str(ev.id)] > 1  # deny every event once

    events = [Counted() for _ in range(6)]
    with anyio.fail_after(10):
        async with Executor(
            max_concurrency=2, permission=permit, on_deny="requeue", requeue_delay=0.001
        ) as ex:
            for ev in events:
                await ex.submit(ev)
            await ex.join()
    assert len(ex.completed) == 6 and set(seen.values()) == {2}


async def test_denied_too_often_is_skipped_and_a_broken_hook_denies() -> None:
    def never(ev: Event) -> bool:
        return False

    def broken(ev: Event) -> bool:
        raise KeyError("oops")

    ev = Counted()
    async with Executor(permission=never, on_deny="requeue", max_requeues=2, requeue_delay=0) as ex:
        await ex.submit(ev)
    assert ev.status is EventStatus.SKIPPED and ev.execution.reason == "denied by permission hook"
    ev2 = Counted()
    async with Executor(permission=broken) as ex2:
        await ex2.submit(ev2)
    assert ev2.status is EventStatus.SKIPPED
    assert ev2.execution.reason is not None and "KeyError" in ev2.execution.reason


async def test_regression_3_join_always_returns() -> None:
    """Ancestor defect 3: join() waited forever (skipped/failed events were never counted)."""
    with anyio.fail_after(10):
        async with Executor(
            max_concurrency=2,
            limiters=[BudgetLimiter(1.0)],
            permission=lambda ev: not isinstance(ev, Sleeper),
        ) as ex:
            await ex.join()  # nothing submitted: returns at once
            await ex.submit(Counted())
            await ex.submit(Counted(fail=True))
            await ex.submit(Sleeper())  # denied -> skipped
            await ex.submit(Usage(resource="cost", estimate=5.0))  # over budget -> skipped
            await ex.join()
            await ex.join()  # again: still returns
    assert sum(ex.counts.values()) == 4 and len(ex.skipped) == 2


async def test_regression_4_concurrency_limit_is_enforced() -> None:
    """Ancestor defect 4: a concurrency limit was built but never applied."""
    Gauge.running = Gauge.peak = 0
    async with Executor(max_concurrency=5, queue_size=100) as ex:
        for _ in range(60):
            await ex.submit(Gauge())
    assert Gauge.peak == 5


async def test_regression_6_request_limit_is_enforced() -> None:
    """Ancestor defect 6: a requests-per-interval limit was never enforced."""
    clock = FakeClock()
    starts: list[float] = []

    class Stamp(Event):
        async def invoke(self) -> None:
            starts.append(clock.now())

    limiter = RequestLimiter(4, 1.0, clock=clock)
    with anyio.fail_after(10):
        async with Executor(max_concurrency=8, limiters=[limiter]) as ex:
            for _ in range(20):
                await ex.submit(Stamp())
    per_window = Counter(math.floor(t) for t in starts)
    assert len(starts) == 20 and max(per_window.values()) == 4 and len(per_window) == 5


async def test_token_and_budget_limiters_stack_and_settle_actual_usage() -> None:
    clock = FakeClock()
    tokens = TokenLimiter(1000, 60, clock=clock)
    budget = BudgetLimiter(10.0)
    events = [Usage(estimate=400, used=100) for _ in range(5)]
    async with Executor(max_concurrency=2, limiters=[tokens, budget]) as ex:
        for ev in events:
            await ex.submit(ev)
    # Estimates of 400 each would need two windows; actual usage of 100 each fits in one.
    assert clock.t == 0 and tokens.available == 500
    assert budget.spent == 0 and budget.reserved == 0
    costly = [Usage(resource="cost", estimate=4.0, used=3.0) for _ in range(5)]
    async with Executor(max_concurrency=1, limiters=[budget]) as ex2:
        for ev in costly:
            await ex2.submit(ev)
    assert [e.status for e in costly].count(EventStatus.COMPLETED) == 3
    assert budget.spent == pytest.approx(9.0) and len(ex2.skipped) == 2
    assert all("budget" in (e.execution.reason or "") for e in ex2.skipped)


async def test_backpressure_and_queue_full() -> None:
    async with Executor(max_concurrency=1, queue_size=2) as ex:
        ex.submit_nowait(Sleeper())
        await anyio.sleep(0.01)  # the worker picks it up
        ex.submit_nowait(Sleeper())
        ex.submit_nowait(Sleeper())
        with pytest.raises(QueueFull) as info:
            ex.submit_nowait(Sleeper())
        assert info.value.queue_size == 2
        with anyio.move_on_after(0.05) as scope:
            await ex.submit(Sleeper())  # waits: the queue is full
        assert scope.cancelled_caught
        assert ex.queued == 2 and ex.in_flight == 1
        await ex.aclose(cancel=True)
    assert ex.counts[EventStatus.CANCELLED] == 3


async def test_regression_12_cancel_marks_cancelled_never_failed() -> None:
    """Ancestor defect 12 at executor level: cancelled work was recorded as FAILED."""
    running = [Sleeper() for _ in range(2)]
    waiting = [Sleeper() for _ in range(3)]
    async with Executor(max_concurrency=2, queue_size=10) as ex:
        for ev in running + waiting:
            await ex.submit(ev)
        await anyio.sleep(0.02)
        await ex.aclose(cancel=True)
        assert all(e.status is EventStatus.CANCELLED for e in running + waiting)
        await ex.join()
    assert len(ex.failed) == 0 and len(ex.cancelled) == 5
    assert all(e.execution.reason for e in waiting)  # never started, with a reason
    assert all(e.execution.started_at is not None for e in running)


async def test_error_in_the_body_cancels_work_and_propagates() -> None:
    ev = Sleeper()
    with pytest.raises(ZeroDivisionError):
        async with Executor() as ex:
            await ex.submit(ev)
            await anyio.sleep(0.01)
            _ = 1 / 0
    assert ev.status is EventStatus.CANCELLED


async def test_blocked_submitter_is_released_on_cancel() -> None:
    outcome: list[str] = []
    late_event = Sleeper()

    async with Executor(max_concurrency=1, queue_size=1) as ex:
        await ex.submit(Sleeper())
        await anyio.sleep(0.01)
        await ex.submit(Sleeper())

        async def late() -> None:
            try:
                await ex.submit(late_event)  # blocks: the queue is full
                outcome.append("accepted")
            except ExecutorClosedError:
                outcome.append("closed")

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(late)
                await anyio.sleep(0.01)
                assert outcome == []
                await ex.aclose(cancel=True)
    # Released either way, never left hanging: refused, or accepted and then cancelled.
    assert outcome in (["closed"], ["accepted"])
    if outcome == ["accepted"]:
        assert late_event.status is EventStatus.CANCELLED
    assert ex.unfinished == 0 and ex.counts[EventStatus.CANCELLED] >= 2


async def test_submit_outside_the_running_window() -> None:
    ex = Executor()
    with pytest.raises(ExecutorClosedError, match="not started"):
        await ex.submit(Counted())
    async with ex:
        pass
    with pytest.raises(ExecutorClosedError):
        ex.submit_nowait(Counted())
    with pytest.raises(ExecutorClosedError):
        async with ex:
            pass


async def test_as_completed_yields_every_event() -> None:
    events = [Counted(fail=(i % 4 == 0)) for i in range(40)]
    async with Executor(max_concurrency=4, queue_size=64) as ex:
        for ev in events:
            ex.submit_nowait(ev)
        got = [ev async for ev in ex.as_completed()]
    assert sorted(e.id for e in got) == sorted(e.id for e in events)
    assert all(e.status.is_terminal for e in got)


async def test_as_completed_until_closed_follows_a_producer() -> None:
    events = [Counted() for _ in range(30)]
    got: list[Event] = []
    async with Executor(max_concurrency=2, queue_size=4) as ex:

        async def producer() -> None:
            for ev in events:
                await ex.submit(ev)
                await anyio.sleep(0.001)
            await ex.aclose()

        async with anyio.create_task_group() as tg:
            tg.start_soon(producer)
            async for ev in ex.as_completed(until_closed=True):
                got.append(ev)
    assert len(got) == 30


async def test_progress_callback_and_retention_cap() -> None:
    reports: list[Progress] = []
    events = [Counted(fail=(i % 10 == 0)) for i in range(100)]
    async with Executor(max_concurrency=4, retention=10, on_progress=reports.append) as ex:
        for ev in events:
            await ex.submit(ev)
    assert len(reports) == 100
    assert reports[-1] == Progress(done=100, failed=10, in_flight=0, queued=0)
    assert [r.done for r in reports] == list(range(1, 101))
    assert len(ex.completed) == 10 and len(ex.failed) == 10
    assert ex.counts[EventStatus.COMPLETED] == 90
    completed_in_order = [e for e in events if not e.execution.error]
    assert set(ex.completed.keys()) <= {e.id for e in completed_in_order}
    async with Executor(retention=0) as none_kept:
        await none_kept.submit(Counted())
    assert len(none_kept.completed) == 0 and none_kept.counts[EventStatus.COMPLETED] == 1


async def test_processor_alone_runs_events() -> None:
    ev = Counted()
    async with Processor(max_concurrency=1) as proc:
        await proc.submit(ev)
        await proc.join()
    assert ev.status is EventStatus.COMPLETED


def test_bad_configuration() -> None:
    with pytest.raises(ValueError):
        Executor(max_concurrency=0)
    with pytest.raises(ValueError):
        Executor(queue_size=0)
    with pytest.raises(ValueError):
        Executor(on_deny="drop")  # type: ignore[arg-type]


async def test_a_broken_limiter_skips_the_event_and_keeps_going() -> None:
    class Broken(RequestLimiter):
        async def reserve(self, amount: float) -> Reservation:
            raise OSError("redis is down")

    ev = Counted()
    async with Executor(limiters=[Broken(10)]) as ex:
        await ex.submit(ev)
        await ex.join()
        assert ex.in_flight == 0
    assert ev.status is EventStatus.SKIPPED
    assert ev.execution.reason == "limiter raised OSError: redis is down"


async def test_limiter_reservations_are_released_when_a_later_one_refuses() -> None:
    clock = FakeClock()
    tokens = TokenLimiter(1000, 60, clock=clock)
    budget = BudgetLimiter(1.0)
    ev = Usage(resource="cost", estimate=2.0)
    async with Executor(limiters=[tokens, RequestLimiter(5, clock=clock), budget]) as ex:
        await ex.submit(ev)
    assert ev.status is EventStatus.SKIPPED
    assert tokens.available == 1000 and budget.reserved == 0


async def test_holding_a_result_pile_session_does_not_break_the_workers() -> None:
    events = [Counted() for _ in range(10)]
    with anyio.fail_after(10):
        async with Executor(max_concurrency=2) as ex:
            async with ex.completed:  # a reader holding the result pile across awaits
                for ev in events:
                    await ex.submit(ev)
                await ex.join()
                assert len(ex.completed) == 0  # results wait for the session to end
    assert len(ex.completed) == 10 and ex.counts[EventStatus.COMPLETED] == 10


async def test_breaking_out_of_as_completed_is_clean() -> None:
    events = [Counted() for _ in range(10)]
    async with Executor(max_concurrency=2) as ex:
        for ev in events:
            await ex.submit(ev)
        stream = ex.as_completed()
        async for first in stream:
            assert first.status.is_terminal
            break
        await stream.aclose()
        await ex.join()
        assert not ex._listeners  # pyright: ignore[reportPrivateUsage]
        for _ in range(5):
            await ex.submit(Counted())
        async for ev in ex.as_completed():  # abandoned without aclose: nothing to clean up
            assert ev.status.is_terminal
            break
        await ex.join()
        assert not ex._listeners  # pyright: ignore[reportPrivateUsage]
    assert len(ex.completed) == 15


async def test_outer_cancellation_cancels_the_work_and_exits_promptly() -> None:
    ev, queued = Sleeper(), Sleeper()
    with anyio.fail_after(5):
        with anyio.move_on_after(0.05) as scope:
            async with Executor(max_concurrency=1) as ex:
                await ex.submit(ev)
                await ex.submit(queued)
                await ex.join()  # would take 20 s
    assert scope.cancelled_caught
    assert ev.status is EventStatus.CANCELLED and queued.status is EventStatus.CANCELLED


async def test_an_event_started_elsewhere_while_queued_never_breaks_the_executor() -> None:
    """Run directly (or by another executor) while queued here: not run twice, siblings go on."""
    Counted.invocations.clear()
    blocker, stolen, sibling = Sleeper(seconds=0.05), Counted(), Counted()
    clock = FakeClock()
    tokens = TokenLimiter(1000, 60, clock=clock)
    with anyio.fail_after(10):
        async with Executor(max_concurrency=1) as ex:
            await ex.submit(blocker)
            await ex.submit(stolen)
            await ex.submit(sibling)
            await stolen.run()  # the caller runs it while it waits in the queue
            await ex.join()
            assert ex.unfinished == 0
        # The same with a limiter in the way: nothing stays reserved for the stolen event.
        stolen2 = Usage(estimate=300)
        async with Executor(max_concurrency=1, limiters=[tokens]) as ex2:
            await ex2.submit(Sleeper(seconds=0.05))
            await ex2.submit(stolen2)
            await stolen2.run()
            await ex2.join()
    assert Counted.invocations[str(stolen.id)] == 1
    assert sibling.status is EventStatus.COMPLETED and blocker.status is EventStatus.COMPLETED
    assert stolen.id not in ex.completed  # not this executor's result
    assert ex.counts[EventStatus.COMPLETED] == 2
    assert tokens.available == 1000


async def test_one_event_submitted_to_two_executors_runs_once() -> None:
    Counted.invocations.clear()
    shared = Counted()
    with anyio.fail_after(10):
        async with Executor() as one, Executor() as two:
            await one.submit(shared)
            await two.submit(shared)
            await one.join()
            await two.join()
    assert Counted.invocations[str(shared.id)] == 1
    assert one.counts[EventStatus.COMPLETED] + two.counts[EventStatus.COMPLETED] == 1


async def test_cancel_while_the_permission_hook_decides_marks_cancelled() -> None:
    """A variant of ancestor defect 3: an event cancelled in the hook stayed PENDING forever."""

    async def slow_hook(ev: Event) -> bool:
        await anyio.sleep(10)
        return True

    ev = Counted()
    with anyio.fail_after(5):
        async with Executor(max_concurrency=1, permission=slow_hook) as ex:
            await ex.submit(ev)
            await anyio.sleep(0.02)
            await ex.aclose(cancel=True)
            await ex.join()
    assert ev.status is EventStatus.CANCELLED
    assert ev.execution.reason == "cancelled while the permission hook decided"
    assert ex.unfinished == 0 and ex.counts[EventStatus.CANCELLED] == 1


async def test_a_broken_progress_callback_is_logged_once_and_the_work_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(progress: Progress) -> None:
        raise ValueError("the progress bar broke")

    events = [Counted() for _ in range(20)]
    with anyio.fail_after(10):
        async with Executor(max_concurrency=4, on_progress=broken) as ex:
            for ev in events:
                await ex.submit(ev)
    assert all(e.status is EventStatus.COMPLETED for e in events)
    errors = [r for r in caplog.records if r.name == "atoll_generic"]
    assert len(errors) == 1 and "on_progress" in errors[0].getMessage()
    assert errors[0].exc_info is not None and "progress bar broke" in str(errors[0].exc_info[1])


async def test_as_completed_yields_events_that_finished_before_it_was_called() -> None:
    """Issue 24 item 2: the docs' batch (submit 20, then iterate) printed 1 or 2 lines."""
    events = [Counted(fail=(i % 5 == 0)) for i in range(20)]
    async with Executor(max_concurrency=8) as ex:
        for ev in events:
            await ex.submit(ev)
        await anyio.sleep(0.05)  # most, or all, are finished before the loop starts
        got = [ev async for ev in ex.as_completed()]
        again = [ev async for ev in ex.as_completed()]  # a second iterator sees them all too
    assert sorted(e.id for e in got) == sorted(e.id for e in events)
    assert len(got) == 20 and [e.id for e in again] == [e.id for e in got]
    finished = [e.execution.ended_at or 0 for e in got]
    assert finished == sorted(finished), "already-finished events come in finishing order"


async def test_as_completed_mixes_finished_and_running_events_once_each() -> None:
    quick = [Counted() for _ in range(5)]
    slow = [Sleeper(seconds=0.05) for _ in range(3)]
    async with Executor(max_concurrency=8) as ex:
        for ev in quick:
            await ex.submit(ev)
        await ex.join()
        for ev in slow:
            await ex.submit(ev)
        with anyio.fail_after(5):
            got = [ev.id async for ev in ex.as_completed()]
    assert sorted(got[:5]) == sorted(e.id for e in quick)  # the finished ones come first
    assert sorted(got[5:]) == sorted(e.id for e in slow) and len(set(got)) == 8


async def test_as_completed_knows_only_the_retained_past() -> None:
    async with Executor(max_concurrency=2, retention=3) as ex:
        for _ in range(10):
            await ex.submit(Counted())
        await ex.join()
        assert len([ev async for ev in ex.as_completed()]) == 3
