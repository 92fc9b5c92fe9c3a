"""Issue 22's two halves together: the Responses dialect through the openai SDK transport.

The Client keeps the registry's URL (api.openai.com) and its own dialect; the transport sends
each request through a configured ``openai.AsyncOpenAI`` pointed at the local server, whose
checks on sent-back reasoning and call ids then hold as for any transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from atoll_dialects import Client
from atoll_openai_sdk import OpenAISDKTransport
from atoll_testing import ChatInput, FakeLLMServer, ToolCall, Turn
from atoll_wire import Message, RedactedThinkingPart, ToolResultPart, ToolSpec

pytestmark = pytest.mark.anyio

WEATHER = ToolSpec(name="weather", parameters={"type": "object", "properties": {}})


def reasoner(request: ChatInput) -> Turn:
    if request.tool_results:
        return Turn(text=f"It is {request.tool_results[0].content}.")
    return Turn(thinking="Look it up.", tool_calls=[ToolCall(name="weather")])


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(models={"o3-pro": reasoner}, api_key="sk-sdk") as srv:
        yield srv


@pytest.mark.parametrize("streamed", [False, True], ids=["chat", "stream"])
async def test_a_reasoning_tool_loop_through_the_sdk_transport(
    server: FakeLLMServer, streamed: bool
) -> None:
    sdk = openai.AsyncOpenAI(api_key="sk-sdk", base_url=server.base_url)
    async with (
        sdk,
        OpenAISDKTransport(sdk) as transport,
        Client("openai/o3-pro", transport=transport) as client,
    ):
        messages = [Message.user("Weather?")]
        if streamed:
            async with client.stream(messages, tools=[WEATHER]) as stream:
                async for _ in stream:
                    pass
            first = stream.response
        else:
            first = await client.chat(messages, tools=[WEATHER])
        assert any(isinstance(p, RedactedThinkingPart) for p in first.message.parts)
        (call,) = first.message.tool_calls
        result = Message(role="tool", parts=[ToolResultPart.from_text(call.id, "sunny")])
        final = await client.chat([*messages, first.message, result], tools=[WEATHER])
    assert final.text == "It is sunny."
    assert {r.path for r in server.requests} == {"/v1/responses"}
    assert server.requests[-1].json()["input"][1]["type"] == "reasoning"
