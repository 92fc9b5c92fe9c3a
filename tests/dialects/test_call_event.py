"""CallEvent: chat calls as Events on the Executor, with limiters fed by usage and headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from atoll_dialects import CallEvent, Client, ClientResponse, RateLimits, UnsupportedRequestError
from atoll_dialects._ratelimit import parse_rate_limits
from atoll_generic import Event, EventStatus, Executor, RequestLimiter, TokenLimiter
from atoll_testing import ChatInput, FakeLLMServer, Turn

pytestmark = pytest.mark.anyio


def priced(request: ChatInput) -> Turn:
    return Turn(text=request.last_user_text.upper(), input_tokens=10, output_tokens=5)


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(models={"gpt-4o-mini": priced}) as srv:
        yield srv


async def test_many_calls_run_once_each(server: FakeLLMServer) -> None:
    client = Client("echo", base_url=server.base_url)
    events = [CallEvent.of(client, f"call {n}") for n in range(60)]
    async with Executor(max_concurrency=8) as executor:
        for event in events:
            await executor.submit(event)
        await executor.join()
    assert all(e.status is EventStatus.COMPLETED for e in events)
    assert sorted(e.response.text for e in events) == sorted(f"call {n}" for n in range(60))
    assert len(server.requests) == 60
    await client.aclose()


async def test_token_estimate_and_actual(server: FakeLLMServer) -> None:
    client = Client("openai/gpt-4o-mini", base_url=server.base_url, api_key="k")
    event = CallEvent.of(client, "x" * 400, max_tokens=50)
    assert event.estimated_usage("tokens") == 101 + 50
    assert event.actual_usage("tokens") is None
    limiter = TokenLimiter(limit=10_000, interval=60)
    async with Executor(max_concurrency=2, limiters=[limiter]) as executor:
        await executor.submit(event)
        await executor.join()
    assert event.status is EventStatus.COMPLETED
    assert event.actual_usage("tokens") == 15
    cost = event.actual_usage("cost")
    assert cost is not None and 0 < cost < event.estimated_usage("cost")
    await client.aclose()


async def test_a_budget_cannot_be_kept_on_an_unknown_price(server: FakeLLMServer) -> None:
    client = Client("echo", base_url=server.base_url)
    event = CallEvent.of(client, "free?")
    with pytest.raises(UnsupportedRequestError, match="price of custom/echo is unknown"):
        event.estimated_usage("cost")
    await client.aclose()


async def test_rate_limit_headers_feed_the_limiters(server: FakeLLMServer) -> None:
    server.inject("rl.requests.remaining=0; rl.requests.reset=2s; rl.tokens.remaining=77")
    client = Client("echo", base_url=server.base_url)
    requests = RequestLimiter(limit=100, interval=60, name="requests")
    tokens = TokenLimiter(limit=1000, interval=60, name="tokens")
    event = CallEvent.of(client, "limited", feedback=[requests, tokens])
    await event.run()
    assert event.status is EventStatus.COMPLETED
    limits = event.response.rate_limits
    assert limits == RateLimits(requests_remaining=0, requests_reset=2.0, tokens_remaining=77)
    assert event.feedback_names == ["requests", "tokens"]
    await client.aclose()


async def test_event_serializes_and_restores(server: FakeLLMServer) -> None:
    client = Client("echo", base_url=server.base_url)
    event = CallEvent.of(client, "persist me", temperature=0.5)
    await event.run()
    data = event.to_dict()
    restored = Event.from_dict(data)
    assert isinstance(restored, CallEvent)
    assert restored.chat_request().temperature == 0.5
    # The restored response is the typed one, not its JSON form.
    assert isinstance(restored.execution.response, ClientResponse)
    assert restored.execution.response.text == "persist me"
    assert restored.execution.response == event.execution.response
    with pytest.raises(UnsupportedRequestError, match="bind"):
        await restored.invoke()
    await client.aclose()


def test_rate_limit_header_shapes() -> None:
    openai = {"x-ratelimit-remaining-requests": "59", "x-ratelimit-reset-requests": "6m0.5s"}
    assert parse_rate_limits(openai, 0.0) == RateLimits(requests_remaining=59, requests_reset=360.5)
    anthropic = {
        "anthropic-ratelimit-tokens-remaining": "1000",
        "anthropic-ratelimit-tokens-reset": "1970-01-01T00:01:40Z",
    }
    assert parse_rate_limits(anthropic, 40.0) == RateLimits(
        tokens_remaining=1000, tokens_reset=60.0
    )
    assert parse_rate_limits({"content-type": "text/plain"}, 0.0) is None
    assert parse_rate_limits({"x-ratelimit-reset-tokens": "soon"}, 0.0) is None
