"""A tool loop across the layers: server → transport → dialect → Client → tools → back.

Every dialect, both transports, both anyio backends, streamed and not: the model asks for two
tools in parallel, atoll_tools validates and runs them, the results go back, the model answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from atoll_curl import CurlTransport
from atoll_dialects import Client
from atoll_httpx import HttpxTransport
from atoll_testing import ChatInput, FakeLLMServer, ToolCall, Turn
from atoll_tools import ToolSet, tool
from atoll_wire import AsyncTransport, Message, ToolCallStart

pytestmark = pytest.mark.anyio


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: First addend.
        b: Second addend.
    """
    return a + b


@tool
async def shout(text: str) -> str:
    """Upper-case a text.

    Args:
        text: What to shout.
    """
    return text.upper()


def agent(request: ChatInput) -> Turn:
    if request.tool_results:
        joined = ", ".join(f"{r.name}={r.content}" for r in request.tool_results)
        return Turn(text=f"done: {joined}", input_tokens=request.input_tokens, output_tokens=4)
    return Turn(
        tool_calls=[
            ToolCall(name="add", arguments={"a": 2, "b": 40}),
            ToolCall(name="shout", arguments={"text": "lagoon"}),
        ],
        input_tokens=request.input_tokens,
        output_tokens=20,
    )


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(models={"agent": agent}) as srv:
        yield srv


@pytest.fixture(params=["curl", "httpx"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[AsyncTransport]:
    made: AsyncTransport = CurlTransport() if request.param == "curl" else HttpxTransport()
    async with made:
        yield made


@pytest.mark.parametrize("dialect", ["openai-chat", "anthropic-messages", "openai-responses"])
@pytest.mark.parametrize("streamed", [False, True], ids=["chat", "stream"])
async def test_parallel_tool_round_trip(
    server: FakeLLMServer, transport: AsyncTransport, dialect: str, streamed: bool
) -> None:
    tools = ToolSet([add, shout])
    client = Client(
        "agent", base_url=server.base_url, dialect=dialect, api_key="k", transport=transport
    )
    messages = [Message.user("add 2 and 40, and shout lagoon")]
    starts: list[ToolCallStart] = []
    if streamed:
        async with client.stream(messages, tools=tools) as stream:
            starts = [e async for e in stream if isinstance(e, ToolCallStart)]
        first = stream.response
    else:
        first = await client.chat(messages, tools=tools)
    calls = first.message.tool_calls
    assert [c.name for c in calls] == ["add", "shout"]
    assert calls[0].arguments == {"a": 2, "b": 40}
    assert len({c.id for c in calls}) == 2, "each call keeps its own id"
    if streamed:
        assert [s.name for s in starts] == ["add", "shout"]
    assert first.finish_reason == "tool_calls"
    results = await tools.execute_many(calls)
    assert [r.is_error for r in results] == [False, False]
    assert [r.call_id for r in results] == [c.id for c in calls]
    messages += [first.message, Message(role="tool", parts=list(results))]
    final = await client.chat(messages, tools=tools)
    assert final.text == "done: add=42, shout=LAGOON"
    sent = server.requests[-1].body
    assert b"lagoon" in sent.lower() and b"42" in sent


async def test_invalid_arguments_never_reach_the_tool(server: FakeLLMServer) -> None:
    calls_seen: list[int] = []

    @tool
    def count(n: int) -> int:
        """Count.

        Args:
            n: A number.
        """
        calls_seen.append(n)
        return n

    def bad_model(request: ChatInput) -> Turn:
        return Turn(tool_calls=[ToolCall(name="count", arguments='{"n": "not a number"}')])

    async with FakeLLMServer(models={"bad": bad_model}) as srv:
        client = Client("bad", base_url=srv.base_url)
        reply = await client.chat("count", tools=ToolSet([count]))
        (result,) = await ToolSet([count]).execute_many(reply.message.tool_calls)
        await client.aclose()
    assert result.is_error
    assert calls_seen == []
