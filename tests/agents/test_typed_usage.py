"""Typed usage of the public API: pyright checks these annotations, pytest runs them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, assert_type

import pytest
from atoll_agents import (
    Agent,
    AgentEvent,
    AgentResult,
    AgentRun,
    Conversation,
    RunBatch,
    RunContext,
    RunFailure,
    RunState,
    ToolCallRecord,
    UsageLimits,
    defer,
    run_many,
)
from atoll_testing import ChatInput, Script, ToolCall, Turn
from atoll_wire import Message, Usage
from pydantic import BaseModel

from .conftest import MakeClient

pytestmark = pytest.mark.anyio


class Answer(BaseModel):
    value: int


def lookup(ctx: RunContext[str], key: str) -> str:
    """Look a key up.

    Args:
        ctx: The run.
        key: The key.
    """
    return f"{ctx.deps}:{key}"


async def test_typed_usage(make_client: MakeClient) -> None:
    def model(request: ChatInput) -> Turn:
        if request.tool_results:
            return Turn(tool_calls=[ToolCall(name="final_result", arguments={"value": 3})])
        return Turn(tool_calls=[ToolCall(name="lookup", arguments={"key": "k"})])

    agent: Agent[Answer] = Agent(
        make_client(model, "deepseek/deepseek-chat"),
        tools=[lookup],
        output=Answer,
        limits=UsageLimits(max_turns=4),
        approval=defer,
    )
    result = await agent.run("go", deps="d")
    assert_type(result, AgentResult[Answer])
    assert_type(result.usage, Usage)
    assert_type(result.cost, Decimal | None)
    assert_type(result.messages, list[Message])
    assert_type(result.tool_calls, list[ToolCallRecord])
    assert result.output == Answer(value=3)
    stream = agent.run_stream("go", deps="d")
    assert_type(stream, AgentRun[Answer])
    batch = run_many(agent, ["a"], concurrency=1)
    assert_type(batch, RunBatch)
    outcomes = await batch
    assert isinstance(outcomes[0], AgentResult | RunFailure)
    events: list[AgentEvent] = []
    assert events == []
    convo: Conversation = result.conversation
    state: RunState | None = result.state
    assert state is None and len(convo) == 5
    text_agent: Agent[Any] = Agent(make_client(Script(["hi"])))
    assert (await text_agent.run("hi")).output == "hi"
