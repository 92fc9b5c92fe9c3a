"""Limiters sharing their pools through a real redis-server (issue 19), on asyncio and trio."""

from __future__ import annotations

import logging
import pickle
import time
from typing import ClassVar

import anyio
import pytest
from atoll_generic import (
    BackendError,
    BackendUnavailableError,
    BudgetExhaustedError,
    BudgetLimiter,
    Event,
    EventStatus,
    Executor,
    LimitExceededError,
    RedisBackend,
    RequestLimiter,
    TokenLimiter,
)

from tests.core_generic._redis_server import RedisServer, free_port

pytestmark = pytest.mark.anyio


def most_in_any_window(times: list[float], amounts: list[float], interval: float) -> float:
    """The largest total granted in any half-open window [t, t + interval)."""
    pairs = sorted(zip(times, amounts, strict=True))
    best, total, start = 0.0, 0.0, 0
    for t, amount in pairs:
        total += amount
        while pairs[start][0] <= t - interval:
            total -= pairs[start][1]
            start += 1
        best = max(best, total)
    return best


async def test_requests_share_a_sliding_window_and_wait_for_the_exact_slot(
    redis_server: RedisServer, prefix: str
) -> None:
    async with (
        RedisBackend(redis_server.url, prefix=prefix) as one,
        RedisBackend(redis_server.url, prefix=prefix) as two,
    ):
        a = RequestLimiter(5, 0.5, name="rpm", backend=one)
        b = RequestLimiter(5, 0.5, name="rpm", backend=two)  # another "process", same key
        granted: list[float] = []

        async def take(limiter: RequestLimiter) -> None:
            for _ in range(6):
                reservation = await limiter.reserve(1)
                assert reservation.granted_at is not None
                granted.append(reservation.granted_at)

        started = time.monotonic()
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(take, a)
                tg.start_soon(take, b)
        elapsed = time.monotonic() - started
    assert len(granted) == 12
    assert most_in_any_window(granted, [1.0] * 12, 0.5) <= 5
    # 12 requests at 5 per 0.5 s: two refills are needed, and the waits are not polls.
    assert 1.0 <= elapsed < 5
    assert max(granted) - min(granted) >= 1.0


async def test_tokens_refund_charge_and_release_through_redis(
    redis_server: RedisServer, prefix: str
) -> None:
    async with RedisBackend(redis_server.url, prefix=prefix) as redis:
        tokens = TokenLimiter(100, 30, name="tpm", backend=redis)
        assert tokens.backend is redis
        big = await tokens.reserve(80)
        await big.asettle(30)  # an over-estimate: 50 come back at once
        assert tokens.available == 70
        more = await tokens.reserve(60)
        await tokens.asettle(more, 70)  # used 10 more than reserved: charged
        assert tokens.available == 0
        await more.asettle(0)  # settling twice is ignored
        assert tokens.available == 0
        with pytest.raises(LimitExceededError):
            await tokens.reserve(101)
        other = TokenLimiter(100, 30, name="tpm-2", backend=redis)
        r = await other.reserve(100)
        await r.arelease()
        again = await other.reserve(100)
        again.settle(20)  # the synchronous form is sent by the backend's sender task
    with anyio.fail_after(5):
        async with RedisBackend(redis_server.url, prefix=prefix) as fresh:
            check = TokenLimiter(100, 30, name="tpm-2", backend=fresh)
            await check.reserve(80)  # fits only if the sync settle reached Redis
            assert check.available == 0


async def test_an_overrun_settled_after_the_window_moved_on_is_owed(
    redis_server: RedisServer, prefix: str
) -> None:
    async with RedisBackend(redis_server.url, prefix=prefix) as redis:
        tokens = TokenLimiter(100, 0.3, name="tpm", backend=redis)
        r = await tokens.reserve(50)
        await anyio.sleep(0.35)  # the grant has left the window
        await r.asettle(90)  # 40 more than reserved: owed by the window that is current now
        await tokens.reserve(60)
        assert tokens.available == pytest.approx(0)


async def test_provider_feedback_reaches_every_process(
    redis_server: RedisServer, prefix: str
) -> None:
    async with (
        RedisBackend(redis_server.url, prefix=prefix) as one,
        RedisBackend(redis_server.url, prefix=prefix) as two,
    ):
        here = RequestLimiter(100, 60, name="rpm", backend=one)
        there = RequestLimiter(100, 60, name="rpm", backend=two)
        await here.reserve(1)
        here.observe(remaining=2, reset_after=0.4)  # the provider: 2 left until 0.4 s from now
        await anyio.sleep(0.05)  # the observation is sent by the backend's sender task
        t0 = time.monotonic()
        for _ in range(3):
            await there.reserve(1)
        assert 0.3 <= time.monotonic() - t0 < 2  # the third waited for the provider's reset
        there.observe(retry_after=0.3)  # a 429 seen by one process stops the other
        await anyio.sleep(0.05)
        t0 = time.monotonic()
        await here.reserve(1)
        assert 0.2 <= time.monotonic() - t0 < 2


async def test_a_budget_is_shared_and_refused_once_spent(
    redis_server: RedisServer, prefix: str
) -> None:
    async with (
        RedisBackend(redis_server.url, prefix=prefix) as one,
        RedisBackend(redis_server.url, prefix=prefix) as two,
    ):
        a = BudgetLimiter(1.0, name="usd", backend=one)
        b = BudgetLimiter(1.0, name="usd", backend=two)
        first = await a.reserve(0.6)
        waited: list[float] = []

        async def second() -> None:
            t0 = time.monotonic()
            r = await b.reserve(0.6)  # fits only once the first one refunds
            waited.append(time.monotonic() - t0)
            await r.asettle(0.5)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(second)
                await anyio.sleep(0.2)
                await first.asettle(0.3)  # the worst case was 0.6; 0.3 was spent
        assert waited and waited[0] >= 0.15
        assert b.spent == pytest.approx(0.8) and b.reserved == pytest.approx(0)
        with pytest.raises(BudgetExhaustedError) as info:
            await a.reserve(0.3)
        assert info.value.limit == 1.0 and info.value.spent == pytest.approx(0.8)


async def test_a_crashed_workers_budget_reservation_returns_after_its_lease(
    redis_server: RedisServer, prefix: str
) -> None:
    async with RedisBackend(redis_server.url, prefix=prefix, lease=0.3) as crashed:
        await BudgetLimiter(1.0, name="usd", backend=crashed).reserve(0.9)  # never settled
    async with RedisBackend(redis_server.url, prefix=prefix) as alive:
        budget = BudgetLimiter(1.0, name="usd", backend=alive)
        t0 = time.monotonic()
        with anyio.fail_after(5):
            r = await budget.reserve(0.5)
        assert 0.15 <= time.monotonic() - t0 < 3
        await r.asettle(0.5)
        assert budget.spent == pytest.approx(0.5) and budget.reserved == pytest.approx(0)


async def test_keys_expire_with_the_window(redis_server: RedisServer, prefix: str) -> None:
    async with RedisBackend(redis_server.url, prefix=prefix) as redis:
        tokens = TokenLimiter(100, 0.2, name="tpm", backend=redis)
        await tokens.reserve(40)  # a crashed worker: never settled
        key = redis.key("window", "tpm", "log")
        assert redis_server.command("EXISTS", key).strip() == ":1"
        ttl = int(redis_server.command("PTTL", key).strip()[1:])
        assert 0 < ttl <= 200 + 5000
        assert tokens.available == 60
    await anyio.sleep(0.3)
    async with RedisBackend(redis_server.url, prefix=prefix) as again:
        fresh = TokenLimiter(100, 0.2, name="tpm", backend=again)
        await fresh.reserve(100)  # the crashed reservation left with the window


async def test_scripts_are_called_by_hash_and_reloaded_after_a_flush(
    redis_server: RedisServer, prefix: str
) -> None:
    async with RedisBackend(redis_server.url, prefix=prefix) as redis:
        requests = RequestLimiter(10, 60, name="rpm", backend=redis)
        await requests.reserve(1)
        assert redis_server.command("SCRIPT", "FLUSH").startswith("+OK")
        await requests.reserve(1)  # NOSCRIPT: loaded again, then called by hash
        assert requests.available == 8


async def test_a_restarted_server_is_used_again_after_the_failure_is_raised(
    own_redis: RedisServer, prefix: str
) -> None:
    async with RedisBackend(own_redis.url, prefix=prefix, timeout=1.0) as redis:
        requests = RequestLimiter(10, 60, name="rpm", backend=redis)
        await requests.reserve(1)
        own_redis.stop()
        with pytest.raises(BackendError) as info:
            await requests.reserve(1)
        assert info.value.operation == "window_reserve" and "127.0.0.1" in info.value.backend
        own_redis.start()  # same port; the scripts and the keys are gone
        with anyio.fail_after(5):
            while True:  # the client reconnects on its own; the first call may still fail
                try:
                    await requests.reserve(1)
                    break
                except BackendError:
                    await anyio.sleep(0.1)
        assert requests.available == 9


async def test_an_unreachable_redis_at_start_is_a_clear_error_without_the_password() -> None:
    url = f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0"
    t0 = time.monotonic()
    with pytest.raises(BackendUnavailableError) as info:
        async with RedisBackend(url, timeout=2.0):
            pass
    assert time.monotonic() - t0 < 5
    error = info.value
    assert "s3cret-pass" not in str(error) and "s3cret-pass" not in repr(error)
    assert error.backend.startswith("redis://:***@127.0.0.1:")
    assert "unreachable" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is BackendUnavailableError and copy.backend == error.backend


async def test_a_wrong_password_is_refused_at_start(prefix: str) -> None:
    server = RedisServer(password="right-one").start()
    try:
        bad = server.url.replace("right-one", "wrong-one")
        with pytest.raises(BackendUnavailableError) as info:
            async with RedisBackend(bad, prefix=prefix, timeout=2.0):
                pass
        assert "wrong-one" not in str(info.value)
        async with RedisBackend(server.url, prefix=prefix) as good:
            await RequestLimiter(1, 1, backend=good).reserve(1)
    finally:
        server.close()


def test_the_backend_pickles_as_configuration_and_hides_the_password() -> None:
    backend = RedisBackend(
        "redis://:hunter2@127.0.0.1:6390/3", prefix="job", on_backend_error="local", lease=5
    )
    assert "hunter2" not in repr(backend) and backend.address == "redis://:***@127.0.0.1:6390/3"
    copy = pickle.loads(pickle.dumps(backend))
    assert copy.url == backend.url and copy.prefix == "job" and copy.lease == 5
    assert copy.on_backend_error == "local" and not copy.is_open
    with pytest.raises(ValueError):
        RedisBackend(on_backend_error="ignore")  # type: ignore[arg-type]


async def test_redis_lost_mid_run_falls_back_to_a_local_share_and_logs_once(
    own_redis: RedisServer, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="atoll_generic")
    async with (
        RedisBackend(
            own_redis.url, prefix=prefix, on_backend_error="local", timeout=1.0,
            retry_backend_after=0.5, heartbeat=0.1,
        ) as redis,
        RedisBackend(own_redis.url, prefix=prefix, heartbeat=0.1),  # a second live worker
    ):  # fmt: skip
        await anyio.sleep(0.3)  # both heartbeats seen: the share is half the limit
        requests = RequestLimiter(10, 1.0, name="rpm", backend=redis)
        await requests.reserve(1)
        own_redis.stop()
        t0 = time.monotonic()
        with anyio.fail_after(10):
            for _ in range(5):  # the local share: 10 / 2 workers = 5 per second
                await requests.reserve(1)
            assert time.monotonic() - t0 < 1.5
            await requests.reserve(1)  # the sixth waits for the local window
        assert time.monotonic() - t0 >= 0.9
        fallbacks = [r for r in caplog.records if "per-process share" in r.getMessage()]
        assert len(fallbacks) == 1 and "rpm: 5 per 1s" in fallbacks[0].getMessage()
        own_redis.start()
        await anyio.sleep(0.6)  # past retry_backend_after: Redis is tried again
        with anyio.fail_after(10):
            while True:
                reservation = await requests.reserve(1)
                if reservation.token is not None:  # granted by Redis again
                    break
                await anyio.sleep(0.1)
        assert any("answers again" in r.getMessage() for r in caplog.records)


class Call(Event):
    """Uses ``tokens`` of a TokenLimiter; reserved ``estimate``."""

    estimate: float = 50.0
    tokens: float = 10.0
    started: ClassVar[list[float]] = []

    async def invoke(self) -> float:
        Call.started.append(time.monotonic())
        await anyio.sleep(0.01)
        return self.tokens

    def estimated_usage(self, resource: str) -> float:
        return self.estimate if resource == "tokens" else 0.0

    def actual_usage(self, resource: str) -> float | None:
        return self.tokens if resource == "tokens" else None


async def test_the_executor_reserves_and_settles_through_redis(
    redis_server: RedisServer, prefix: str
) -> None:
    async with RedisBackend(redis_server.url, prefix=prefix) as redis:
        tokens = TokenLimiter(200, 30, name="tpm", backend=redis)
        requests = RequestLimiter(1000, 30, name="rpm", backend=redis)
        events = [Call() for _ in range(16)]
        with anyio.fail_after(10):
            async with Executor(max_concurrency=4, limiters=[requests, tokens]) as ex:
                for event in events:
                    await ex.submit(event)
        # 16 x 50 reserved would need 4 windows of 30 s; the refunds (40 each) let 16 calls
        # through at once: 15 x 10 used, then the last reservation of 50 fits exactly.
        assert all(e.status is EventStatus.COMPLETED for e in events)
        probe = TokenLimiter(200, 30, name="tpm", backend=redis)
        await probe.reserve(40)  # 16 x 10 actual tokens are in the window
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.3):
                await probe.reserve(1)


async def test_under_the_fail_policy_the_executor_skips_events_with_the_typed_reason(
    own_redis: RedisServer, prefix: str
) -> None:
    async with RedisBackend(own_redis.url, prefix=prefix, timeout=1.0) as redis:
        requests = RequestLimiter(100, 60, name="rpm", backend=redis)
        events = [Call() for _ in range(3)]
        own_redis.stop()
        with anyio.fail_after(15):
            async with Executor(max_concurrency=2, limiters=[requests]) as ex:
                for event in events:
                    await ex.submit(event)
    assert all(e.status is EventStatus.SKIPPED for e in events)
    reason = events[0].execution.reason or ""
    assert reason.startswith("limiter raised BackendError: limiter backend redis://127.0.0.1:")


async def test_a_limiter_on_a_backend_that_was_never_opened_is_a_usage_error() -> None:
    requests = RequestLimiter(10, 60, backend=RedisBackend(on_backend_error="local"))
    with pytest.raises(RuntimeError, match="not open"):
        await requests.reserve(1)
