"""Thinking is never lost, and goes back only to the model that wrote it.

The scripted models fail the turn (HTTP 400, as the providers do) when the reasoning they sent
does not come back unchanged on the tool-use turn.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from atoll_agents import Agent
from atoll_testing import ChatInput, FakeLLMServer, ToolCall, Turn

from .conftest import MakeClient
from .test_loop import add

pytestmark = pytest.mark.anyio

REJECT = "status=400; error-type=invalid_request_error; message=thinking was dropped or altered"
THOUGHT = "The user wants a sum; " * 5  # long enough to arrive in several deltas
SIGNATURE = "EqQBCkgIBxABGAIiQL3hJbD4mUO0r2mVx/ZzYq+Zk1L0s=="


def _assistant_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for message in body["messages"]:
        if message["role"] == "assistant" and isinstance(message["content"], list):
            blocks.extend(message["content"])
    return blocks


def signed_thinker(request: ChatInput) -> Turn:
    """Anthropic: thinks (signed) and calls a tool; checks the block comes back unchanged."""
    if not request.tool_results:
        return Turn(
            thinking=THOUGHT,
            signature=SIGNATURE,
            tool_calls=[ToolCall(name="add", arguments={"a": 2, "b": 2})],
        )
    blocks = _assistant_blocks(json.loads(request.body))
    expected = {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE}
    if not blocks or blocks[0] != expected:
        return Turn(fault=REJECT)
    return Turn(text="4")


def reasoner(request: ChatInput) -> Turn:
    """DeepSeek thinking mode: reasoning_content must come back on the tool-use turn."""
    if not request.tool_results:
        return Turn(thinking=THOUGHT, tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 1})])
    assistant = [m for m in json.loads(request.body)["messages"] if m["role"] == "assistant"]
    if assistant[0].get("reasoning_content") != THOUGHT:
        return Turn(fault=REJECT)
    return Turn(text="2")


async def test_signed_thinking_goes_back_unchanged(make_client: MakeClient) -> None:
    agent = Agent(make_client(signed_thinker, "anthropic/claude-sonnet-4-5"), tools=[add])
    result = await agent.run("2+2")
    assert result.output == "4"
    thinking = result.messages[1].parts[0]
    assert getattr(thinking, "signature", None) == SIGNATURE
    assert getattr(thinking, "text", None) == THOUGHT


async def test_reasoning_content_goes_back_unchanged(make_client: MakeClient) -> None:
    agent = Agent(make_client(reasoner, "deepseek/deepseek-reasoner"), tools=[add])
    result = await agent.run("1+1")
    assert result.output == "2"
    assert result.messages[1].thinking == THOUGHT


async def test_after_a_fallback_reasoning_is_left_out(
    make_client: MakeClient, llm: FakeLLMServer
) -> None:
    calls = {"first": 0}

    def first(request: ChatInput) -> Turn:
        calls["first"] += 1
        if calls["first"] == 1:
            return signed_thinker(request)
        return Turn(fault="status=503")

    def second(request: ChatInput) -> Turn:
        # Another Anthropic model must not be sent the first model's signature.
        if SIGNATURE.encode() in request.body or THOUGHT.encode() in request.body:
            return Turn(fault=REJECT)
        return Turn(text="4 (from the fallback)")

    sonnet = make_client(first, "anthropic/claude-sonnet-4-5")
    haiku = make_client(second, "anthropic/claude-haiku-4-5")
    agent = Agent([sonnet, haiku], tools=[add])
    result = await agent.run("2+2")
    assert result.output == "4 (from the fallback)"
    assert [r.served_by for r in result.responses] == [
        sonnet.targets[0].label,
        haiku.targets[0].label,
    ]
    # The stored conversation keeps the thinking: were the first model back, it would get it.
    assert getattr(result.messages[1].parts[0], "signature", None) == SIGNATURE
    last = json.loads(llm.requests[-1].body)
    assert all(b["type"] != "thinking" for b in _assistant_blocks(last))


async def test_reasoning_text_never_reaches_another_model(make_client: MakeClient) -> None:
    calls = {"first": 0}

    def first(request: ChatInput) -> Turn:
        calls["first"] += 1
        return reasoner(request) if calls["first"] == 1 else Turn(fault="status=503")

    def second(request: ChatInput) -> Turn:
        if THOUGHT.encode() in request.body:
            return Turn(fault=REJECT)
        return Turn(text="2 (from the fallback)")

    agent = Agent(
        [
            make_client(first, "deepseek/deepseek-reasoner"),
            make_client(second, "deepseek/deepseek-chat"),
        ],
        tools=[add],
    )
    assert (await agent.run("1+1")).output == "2 (from the fallback)"


async def test_a_signature_cut_short_is_never_sent(
    make_client: MakeClient, llm: FakeLLMServer
) -> None:
    def model(request: ChatInput) -> Turn:
        if not request.tool_results:
            # The stream ends without message_stop: the response is incomplete.
            return Turn(
                thinking=THOUGHT,
                signature=SIGNATURE,
                tool_calls=[ToolCall(name="add", arguments={"a": 2, "b": 2})],
                fault="no-done",
            )
        return Turn(text="4")

    agent = Agent(make_client(model, "anthropic/claude-sonnet-4-5"), tools=[add])
    result = await agent.run("2+2")
    assert result.responses[0].incomplete
    assert SIGNATURE.encode() not in llm.requests[-1].body
    assert result.messages[1].thinking == THOUGHT  # the text is kept, unsigned
