"""The Atoll Client through the SDK transport: the same calls, events, errors and retries.

The registry's ``openai/gpt-4o-mini`` is served by FakeLLMServer under that name, and the openai
client points at the fake server: the Client builds ``https://api.openai.com/v1/...`` and the
transport sends it to the openai client's base URL with the openai client's key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest
from atoll_dialects import Client, RateLimitError, RetryPolicy, SyncClient
from atoll_openai_sdk import OpenAISDKTransport, SyncOpenAISDKTransport
from atoll_testing import FakeLLMServer, Script
from atoll_wire import TextDelta

SDK_KEY = "sk-fake-for-the-sdk"
MODEL = "openai/gpt-4o-mini"
FAST_RETRY = RetryPolicy(attempts=3, initial_backoff=0.01, max_backoff=0.02)


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(api_key=SDK_KEY).run_in_thread() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(llm: FakeLLMServer) -> None:
    llm.clear()
    llm.models["gpt-4o-mini"] = Script(["an atoll is a ring of coral"], repeat_last=True)


@pytest.fixture
async def sdk(llm: FakeLLMServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(api_key=SDK_KEY, base_url=llm.base_url) as client:
        yield client


def atoll_client(sdk: openai.AsyncOpenAI) -> Client:
    # The Client wants a key of its own for a registry model; through this transport it never
    # leaves the process (the openai client's key is sent instead).
    return Client(
        MODEL, api_key="sk-atoll-unused", transport=OpenAISDKTransport(sdk), retry=FAST_RETRY
    )


@pytest.mark.anyio
async def test_chat_and_stream(sdk: openai.AsyncOpenAI, llm: FakeLLMServer) -> None:
    async with atoll_client(sdk) as client:
        reply = await client.chat("What is an atoll?")
        assert reply.text == "an atoll is a ring of coral"
        assert reply.served_by == MODEL
        assert reply.usage.input_tokens is not None
        async with client.stream("And again?") as stream:
            deltas = [event.text async for event in stream if isinstance(event, TextDelta)]
        assert "".join(deltas) == "an atoll is a ring of coral"
    assert [r.path for r in llm.requests] == ["/v1/chat/completions"] * 2


@pytest.mark.anyio
async def test_retries_are_the_clients_alone(sdk: openai.AsyncOpenAI, llm: FakeLLMServer) -> None:
    # Two 429s, then an answer: the server sees three requests (the SDK, left to itself, would
    # have made its own retries too), and the Client records the two failed attempts.
    llm.inject("status=429; retry-after=0", times=2)
    async with atoll_client(sdk) as client:
        reply = await client.chat("What is an atoll?")
    assert reply.text == "an atoll is a ring of coral"
    assert [attempt.status for attempt in reply.attempts] == [429, 429]
    assert len(llm.requests) == 3


@pytest.mark.anyio
async def test_errors_are_the_usual_typed_errors(
    sdk: openai.AsyncOpenAI, llm: FakeLLMServer
) -> None:
    llm.inject("status=429; retry-after=0", times=3)
    async with atoll_client(sdk) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.chat("What is an atoll?")
    assert caught.value.status == 429
    assert len(llm.requests) == 3


def test_sync_client(llm: FakeLLMServer) -> None:
    with openai.OpenAI(api_key=SDK_KEY, base_url=llm.base_url) as sdk:
        transport = SyncOpenAISDKTransport(sdk)
        with SyncClient(MODEL, api_key="sk-atoll-unused", transport=transport) as client:
            assert client.chat("What is an atoll?").text == "an atoll is a ring of coral"
            with client.stream("Again?") as stream:
                text = "".join(e.text for e in stream if isinstance(e, TextDelta))
    assert text == "an atoll is a ring of coral"
    assert llm.requests[-1].headers["authorization"] == "[redacted]"  # sent, and never logged
