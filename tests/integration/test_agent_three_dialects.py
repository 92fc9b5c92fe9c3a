"""The same agent-style tool loop on OpenAI, Anthropic and Gemini scripted models, unchanged.

One script, one agent definition; only the model name differs. On Gemini the scripted model
signs its first call and checks, on the next turn, that the signature came back on it: the
agent's conversation keeps the parts as they came, so the loop passes there too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from atoll_agents import Agent
from atoll_dialects import Client, RetryPolicy
from atoll_testing import (
    FakeLLMServer,
    GeminiServer,
    Script,
    ToolCall,
    Turn,
    registered_server_dialects,
)
from atoll_tools import tool


@tool
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first.
        b: The second.
    """
    return a + b


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    dialects = [*registered_server_dialects(), GeminiServer()]
    with FakeLLMServer(dialects=dialects, api_key="k").run_in_thread() as srv:
        yield srv


def _script() -> Script:
    return Script(
        [
            Turn(
                thinking="Add first.",
                tool_calls=[
                    ToolCall(name="add", arguments={"a": 2, "b": 3}),
                    ToolCall(name="add", arguments={"a": 1, "b": 1}),
                ],
            ),
            Turn(tool_calls=[ToolCall(name="add", arguments={"a": 5, "b": 10})]),
            Turn(text="The sum is 15."),
        ]
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("openai/gpt-4o-mini", "/v1"),
        ("anthropic/claude-sonnet-4-5", "/v1"),
        ("gemini/gemini-2.5-flash", "/v1beta"),
    ],
)
async def test_same_loop_on_three_dialects(llm: FakeLLMServer, name: str, path: str) -> None:
    client = Client(name, base_url=llm.url + path, api_key="k", retry=RetryPolicy(attempts=1))
    script = _script()
    llm.models[client.targets[0].request_model] = script
    async with client:
        agent = Agent(client, tools=[add], instructions="Use the tool.", name="calc")
        result = await agent.run("2+3, 1+1, then +10")
    assert result.output == "The sum is 15."
    assert result.stop_reason == "completed"
    assert result.turns == 3
    assert [str(r.result.content[0].text) for r in result.tool_calls] == ["5", "2", "15"]  # type: ignore[union-attr]
    assert script.remaining == 0
