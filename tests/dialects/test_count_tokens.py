"""``client.count_tokens``: the provider's count, a tokenizer's, or a labelled estimate."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from atoll_dialects import Client, InvalidOptionError, RetryPolicy, SyncClient, TokenCount
from atoll_testing import FakeLLMServer
from atoll_wire import ImagePart, Message, TextPart, ToolSpec
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.anyio

KEY = "sk-ant-test"
WEATHER = ToolSpec(
    name="weather",
    description="The weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


class Words:
    """A stand-in tokenizer: one token per whitespace-separated word (tiktoken's shape)."""

    def encode(self, text: str) -> list[int]:
        return [len(word) for word in text.split()]


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(api_key=KEY) as srv:
        yield srv


async def test_anthropic_counts_with_its_endpoint(server: FakeLLMServer) -> None:
    messages = [Message.user("one two three"), Message.assistant("four five")]
    async with Client("anthropic/claude-sonnet-4-5", base_url=server.base_url, api_key=KEY) as c:
        count = await c.count_tokens(messages, system="six", tools=[WEATHER])
    assert count == TokenCount(
        6, exact=True, method="provider", model="anthropic/claude-sonnet-4-5"
    )
    (sent,) = server.requests
    assert sent.path == "/v1/messages/count_tokens"
    body = sent.json()
    assert set(body) == {"model", "messages", "system", "tools"}  # no max_tokens, no stream
    assert body["tools"][0]["name"] == "weather"


async def test_the_counting_call_is_retried(server: FakeLLMServer) -> None:
    server.inject("status=429; retry-after=0")
    retry = RetryPolicy(attempts=2, initial_backoff=0.0, max_backoff=0.0)
    async with Client(
        "anthropic/claude-sonnet-4-5", base_url=server.base_url, api_key=KEY, retry=retry
    ) as client:
        count = await client.count_tokens("a b c")
    assert count.input_tokens == 3 and len(server.requests) == 2


async def test_without_an_endpoint_it_is_an_estimate(server: FakeLLMServer) -> None:
    async with Client("echo", base_url=server.base_url) as client:
        count = await client.count_tokens("hello there, how are you today?", system="Be brief.")
    assert count.method == "estimate" and count.exact is False
    assert count.note is not None and "tokenizer=" in count.note
    assert 8 <= count.input_tokens <= 30
    assert server.requests == []  # counted locally


async def test_a_tokenizer_counts_locally_with_the_chat_framing(server: FakeLLMServer) -> None:
    async with Client("anthropic/claude-sonnet-4-5", base_url=server.base_url, api_key=KEY) as c:
        plain = await c.count_tokens("one two three", system="four", tokenizer=Words())
        tooled = await c.count_tokens("one two three", tools=[WEATHER], tokenizer=Words())
        pictured = await c.count_tokens(
            [Message(role="user", parts=[TextPart(text="look"), ImagePart(url="https://x/y.png")])],
            tokenizer=Words(),
        )
    # 2 messages x (3 + words) + 3 priming: OpenAI's documented framing.
    assert plain == TokenCount(
        (3 + 1) + (3 + 3) + 3, exact=True, method="tokenizer", model=plain.model
    )
    assert tooled.exact is False and tooled.note == "estimated: tool definitions"
    assert pictured.exact is False and pictured.note == "estimated: images"
    assert pictured.input_tokens > 1_000
    assert server.requests == []  # tokenizer= never sends


async def test_a_bad_tokenizer_is_refused(server: FakeLLMServer) -> None:
    class Opaque:
        def encode(self, text: str) -> object:
            return object()

    async with Client("echo", base_url=server.base_url) as client:
        with pytest.raises(InvalidOptionError, match="tokenizer"):
            await client.count_tokens("x", tokenizer=object())  # type: ignore[arg-type]
        with pytest.raises(InvalidOptionError, match="tokenizer"):
            await client.count_tokens("x", tokenizer=Opaque())
        with pytest.raises(InvalidOptionError, match="tools"):
            await client.count_tokens("x", tools=5)  # type: ignore[arg-type]


def test_sync_count_tokens() -> None:
    with FakeLLMServer(api_key=KEY).run_in_thread() as server:
        model = "anthropic/claude-sonnet-4-5"
        with SyncClient(model, base_url=server.base_url, api_key=KEY) as client:
            assert client.count_tokens("a b").input_tokens == 2
            assert client.count_tokens("a b", tokenizer=Words()).method == "tokenizer"


@given(text=st.text(max_size=200), more=st.text(min_size=1, max_size=50))
def test_estimates_grow_with_the_text_and_never_run_short(text: str, more: str) -> None:
    from atoll_dialects._token_count import count_locally
    from atoll_wire import ChatRequest

    def estimate(prompt: str) -> int:
        request = ChatRequest(model="m", messages=[Message.user(prompt)])
        return count_locally(request, "x/m", None).input_tokens

    assert estimate(text + more) >= estimate(text)
    assert estimate(text) >= len(text) // 4  # at least one token per four characters
