"""``client.complete`` and ``complete_stream``: legacy text completions, FIM, the attempt loop."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import pytest
from atoll_dialects import (
    Client,
    InvalidOptionError,
    RetryPolicy,
    SyncClient,
    UnsupportedRequestError,
)
from atoll_testing import ChatInput, FakeLLMServer, Turn
from atoll_wire import AsyncTransport, MessageEnd, MessageStart, TextDelta, UsageUpdate

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(attempts=3, initial_backoff=0.0, max_backoff=0.0)


def fill_in(request: ChatInput) -> Turn:
    """Fill the middle: what comes between the prompt and the suffix."""
    suffix = json.loads(request.body).get("suffix")
    middle = "    return a + b\n" if suffix else " world"
    return Turn(text=middle, input_tokens=12, output_tokens=6)


def _transports() -> dict[str, Callable[[], AsyncTransport]]:
    from atoll_curl import CurlTransport
    from atoll_httpx import HttpxTransport

    return {"curl": CurlTransport, "httpx": HttpxTransport}


@pytest.fixture(params=["curl", "httpx"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[AsyncTransport]:
    async with _transports()[request.param]() as made:
        yield made


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(models={"coder": fill_in}) as srv:
        yield srv


async def test_complete_returns_text_usage_and_record(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    async with Client("coder", base_url=server.base_url, transport=transport) as client:
        reply = await client.complete("hello", max_tokens=5, temperature=0.0, stop="\n\n")
    assert reply.text == " world"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (12, 6)
    assert reply.finish_reason == "stop" and reply.served_by == "custom/coder"
    (sent,) = server.requests
    assert sent.path == "/v1/completions"
    assert sent.json() == {
        "model": "coder",
        "prompt": "hello",
        "max_tokens": 5,
        "temperature": 0.0,
        "stop": ["\n\n"],
    }


async def test_fill_in_the_middle_sends_the_suffix(server: FakeLLMServer) -> None:
    async with Client("coder", base_url=server.base_url) as client:
        reply = await client.complete("def add(a, b):\n", suffix="\nprint(add(1, 2))\n")
    assert reply.text == "    return a + b\n"
    assert server.requests[0].json()["suffix"] == "\nprint(add(1, 2))\n"


async def test_complete_stream_events_and_usage(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    async with Client("coder", base_url=server.base_url, transport=transport) as client:
        async with client.complete_stream("def add(a, b):\n", suffix="\n") as stream:
            events = [event async for event in stream]
    assert isinstance(events[0], MessageStart)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "    return a + b\n"
    assert any(isinstance(e, UsageUpdate) for e in events)
    assert isinstance(events[-1], MessageEnd) and events[-1].finish_reason == "stop"
    response = stream.response
    assert response.text == "    return a + b\n" and not response.incomplete
    assert response.usage.output_tokens == 6
    body = server.requests[0].json()
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


async def test_complete_retries_and_falls_back(server: FakeLLMServer) -> None:
    server.inject("status=503", times=3)
    async with Client(["coder", "echo"], base_url=server.base_url, retry=FAST) as client:
        reply = await client.complete("hi there")
    assert reply.served_by == "custom/echo" and reply.text == "hi there"
    assert [a.status for a in reply.attempts] == [503, 503, 503]


async def test_a_provider_without_completions_refuses_before_sending() -> None:
    async with Client("groq/llama-3.3-70b-versatile", api_key="k") as client:
        with pytest.raises(UnsupportedRequestError, match="completions"):
            await client.complete("x")
    async with Client("anthropic/claude-sonnet-4-5", api_key="k") as client:
        with pytest.raises(UnsupportedRequestError, match="anthropic-messages dialect has no"):
            await client.complete("x")


async def test_deepseek_completions_go_to_its_beta_path(server: FakeLLMServer) -> None:
    server.models["deepseek-chat"] = fill_in  # the registry's quirk: completions under /beta
    async with Client("deepseek/deepseek-chat", api_key="k", base_url=server.url) as client:
        reply = await client.complete("def f(a):", suffix="\n")
    assert reply.text == "    return a + b\n"
    assert reply.cost is not None  # a registry model: priced like a chat call
    assert server.requests[0].path == "/beta/completions"


@pytest.mark.parametrize(
    ("prompt", "options", "names"),
    [
        (5, {}, "prompt"),
        ("x", {"suffix": 3}, "suffix"),
        ("x", {"max_tokens": 0}, "max_tokens"),
        ("x", {"temperature": "hot"}, "temperature"),
        ("x", {"tools": []}, "known option"),
    ],
)
async def test_bad_completion_options_send_nothing(
    server: FakeLLMServer, prompt: object, options: dict[str, object], names: str
) -> None:
    async with Client("coder", base_url=server.base_url) as client:
        with pytest.raises(InvalidOptionError, match=names):
            await client.complete(prompt, **options)  # type: ignore[arg-type]
    assert server.requests == []


async def test_extra_headers_and_extra_body_fields(server: FakeLLMServer) -> None:
    async with Client("coder", base_url=server.base_url, default_headers={"x-team": "a"}) as c:
        await c.complete("x", extra={"echo": False}, extra_headers={"x-call": "1"})
    sent = server.requests[0]
    assert sent.json()["echo"] is False
    assert (sent.headers["x-team"], sent.headers["x-call"]) == ("a", "1")


def test_sync_complete_and_stream() -> None:
    with FakeLLMServer(models={"coder": fill_in}).run_in_thread() as server:
        with SyncClient("coder", base_url=server.base_url) as client:
            assert client.complete("hello").text == " world"
            with client.complete_stream("def f():\n", suffix="\n") as stream:
                text = "".join(e.text for e in stream if isinstance(e, TextDelta))
            assert text == "    return a + b\n" == stream.response.text
