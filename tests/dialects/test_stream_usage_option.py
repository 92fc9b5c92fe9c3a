"""Streamed usage on custom servers: asked for by default, dropped once when a server refuses it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from atoll_dialects import BadRequestError, Client, SyncClient
from atoll_testing import ChatInput, FakeLLMServer, Turn

pytestmark = pytest.mark.anyio

REFUSAL = "status=400; message=Unrecognized request argument supplied: stream_options"


def picky(request: ChatInput) -> Turn:
    """A server that refuses ``stream_options`` the way older OpenAI-compatible servers do."""
    if request.include_usage:
        return Turn(fault=REFUSAL)
    return Turn(text="no usage here", input_tokens=4, output_tokens=3)


def asked(server: FakeLLMServer) -> list[bool]:
    return ["stream_options" in r.json() for r in server.requests]


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(models={"picky": picky}) as srv:
        yield srv


async def collect(client: Client, prompt: str) -> str:
    async with client.stream(prompt) as stream:
        async for _ in stream:
            pass
    return stream.response.text


async def test_a_custom_server_is_asked_for_usage(server: FakeLLMServer) -> None:
    async with Client("echo", base_url=server.base_url) as client:
        async with client.stream("count me") as stream:
            async for _ in stream:
                pass
    assert stream.response.usage.output_tokens == 2  # the usage chunk came, as asked
    assert server.requests[0].json()["stream_options"] == {"include_usage": True}


async def test_a_refusal_is_retried_once_without_it_and_remembered(server: FakeLLMServer) -> None:
    async with Client("picky", base_url=server.base_url) as client:
        async with client.stream("first") as stream:
            async for _ in stream:
                pass
        assert stream.response.text == "no usage here"
        (refused,) = stream.response.attempts
        assert refused.status == 400 and "stream_options" in refused.message
        assert asked(server) == [True, False]
        # The client remembers: later streams and streamed completions leave it out.
        assert await collect(client, "second") == "no usage here"
        async with client.complete_stream("third") as completion:
            async for _ in completion:
                pass
        assert asked(server) == [True, False, False, False]
    async with Client("picky", base_url=server.base_url) as fresh:
        assert await collect(fresh, "fourth") == "no usage here"
    assert asked(server)[-2:] == [True, False]  # per client: a new one asks again


async def test_other_refusals_are_not_retried(server: FakeLLMServer) -> None:
    server.inject("status=400; message=messages: too many", times=2)
    async with Client("echo", base_url=server.base_url) as client:
        with pytest.raises(BadRequestError, match="too many"):
            await collect(client, "x")
    assert len(server.requests) == 1


async def test_a_second_refusal_is_raised(server: FakeLLMServer) -> None:
    server.inject(REFUSAL, times=2)
    async with Client("echo", base_url=server.base_url) as client:
        with pytest.raises(BadRequestError, match="stream_options"):
            await collect(client, "x")
    assert asked(server) == [True, False]


def test_the_sync_client_relaxes_too() -> None:
    with FakeLLMServer(models={"picky": picky}).run_in_thread() as server:
        with SyncClient("picky", base_url=server.base_url) as client:
            with client.stream("x") as stream:
                text = "".join(getattr(e, "text", "") for e in stream)
            assert text == "no usage here"
        assert asked(server) == [True, False]
