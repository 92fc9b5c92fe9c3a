"""``Client(limiters=...)``: rate-limit headers and 429s of plain calls reach the limiters."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import anyio
import pytest
from atoll_dialects import Client, InvalidOptionError, RateLimitError, RetryPolicy, SyncClient
from atoll_generic import BudgetLimiter, RequestLimiter, TokenLimiter
from atoll_testing import FakeLLMServer

pytestmark = pytest.mark.anyio

HEADERS = "rl.requests.remaining=3; rl.requests.reset=2s; rl.tokens.remaining=77"
FAST = RetryPolicy(attempts=2, initial_backoff=0.0, max_backoff=0.0)


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer() as srv:
        yield srv


def limiters() -> tuple[RequestLimiter, TokenLimiter, BudgetLimiter]:
    return (
        RequestLimiter(limit=100, interval=60, name="requests"),
        TokenLimiter(limit=1000, interval=60, name="tokens"),
        BudgetLimiter(5.0, name="budget"),
    )


async def blocked(limiter: RequestLimiter | TokenLimiter) -> bool:
    """Whether taking one unit would have to wait."""
    with anyio.move_on_after(0.05):
        reservation = await limiter.reserve(1)
        reservation.release()
        return False
    return True


async def test_chat_headers_lower_the_pools(server: FakeLLMServer) -> None:
    requests, tokens, budget = limiters()
    server.inject(HEADERS)
    async with Client("echo", base_url=server.base_url, limiters=[requests, tokens, budget]) as c:
        reply = await c.chat("hi")
    assert reply.rate_limits is not None
    assert requests.available == 3 and tokens.available == 77
    assert budget.remaining == 5.0  # headers say nothing about money


async def test_streams_and_other_calls_report_too(server: FakeLLMServer) -> None:
    requests, tokens, _ = limiters()
    async with Client("echo", base_url=server.base_url, limiters=[requests, tokens]) as client:
        server.inject(HEADERS)
        async with client.stream("hi") as stream:
            async for _ in stream:
                pass
        assert requests.available == 3 and tokens.available == 77
        server.inject("rl.requests.remaining=2")
        await client.complete("hi")
        assert requests.available == 2
        server.inject("rl.requests.remaining=1")
        await client.embed("hi")
        assert requests.available == 1


async def test_every_429_blocks_the_limiters(server: FakeLLMServer) -> None:
    requests, tokens, budget = limiters()
    server.inject("status=429; retry-after=0")  # retried at once; the limiters still heard it
    async with Client(
        "echo", base_url=server.base_url, retry=FAST, limiters=[requests, tokens, budget]
    ) as client:
        reply = await client.chat("hi")
        assert reply.attempts[0].status == 429
        assert not await blocked(requests)  # retry-after 0: blocked for no time
        server.inject("status=429; retry-after=30", times=2)
        with pytest.raises(RateLimitError):
            await client.chat("hi")
    assert await blocked(requests) and await blocked(tokens)
    assert budget.remaining == 5.0


async def test_limiters_are_checked(server: FakeLLMServer) -> None:
    with pytest.raises(InvalidOptionError, match="limiters"):
        Client("echo", base_url=server.base_url, limiters=[5])  # type: ignore[list-item]
    with pytest.raises(InvalidOptionError, match="limiters"):
        Client("echo", base_url=server.base_url, limiters="requests")  # type: ignore[arg-type]
    async with Client("echo", base_url=server.base_url, limiters=[]) as client:
        assert (await client.chat("hi")).text == "hi"


def test_sync_client_feeds_its_limiters() -> None:
    requests = RequestLimiter(limit=100, interval=60)
    with FakeLLMServer().run_in_thread() as server:
        server.inject("rl.requests.remaining=4")
        with SyncClient("echo", base_url=server.base_url, limiters=[requests]) as client:
            client.chat("hi")
    assert requests.available == 4


def test_importing_the_client_stays_light() -> None:
    code = (
        "import sys, atoll_dialects; "
        "heavy = [m for m in ('pydantic', 'atoll_generic', 'atoll_tools', 'importlib.metadata') "
        "if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
