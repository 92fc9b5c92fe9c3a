"""Structured output: native schema mode, a final-answer tool, prompted JSON; repair; partials."""

from __future__ import annotations

import json
from dataclasses import dataclass

import atoll_tools
import pytest
from atoll_agents import (
    Agent,
    AgentDefinitionError,
    OutputValidationError,
    PartialOutput,
    RepairRequested,
)
from atoll_testing import ChatInput, FakeLLMServer, Script, ToolCall, Turn
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from .conftest import MakeClient
from .test_loop import add, assert_valid

pytestmark = pytest.mark.anyio


class City(BaseModel):
    """A city."""

    name: str
    population: int = Field(ge=0)


@dataclass
class Point:
    x: int
    y: int


class Pet(TypedDict):
    name: str
    legs: int


CITY = '{"name": "Paris", "population": 2100000}'


async def test_native_schema_mode_where_the_registry_says_so(
    make_client: MakeClient, llm: FakeLLMServer
) -> None:
    agent = Agent(make_client(Script([CITY]), "openai/gpt-4o-mini"), output=City)
    result = await agent.run("Tell me about Paris")
    assert result.output == City(name="Paris", population=2_100_000)
    body = llm.requests[0].json()
    assert body["response_format"]["json_schema"]["name"] == "City"
    assert "tools" not in body


async def test_final_answer_tool_without_native_support(
    make_client: MakeClient, llm: FakeLLMServer
) -> None:
    script = Script(
        [
            Turn(tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 1})]),
            Turn(tool_calls=[ToolCall(name="final_result", arguments={"x": 2, "y": 3})]),
        ]
    )
    agent = Agent(make_client(script, "deepseek/deepseek-chat"), tools=[add], output=Point)
    result = await agent.run("where?")
    assert result.output == Point(x=2, y=3)
    assert result.stop_reason == "completed"
    body = llm.requests[0].json()
    assert [t["function"]["name"] for t in body["tools"]] == ["add", "final_result"]
    assert body["tool_choice"] == "required"
    assert "response_format" not in body
    assert [r.name for r in result.tool_calls] == ["add"]
    assert_valid(result.messages)


async def test_prompted_json_for_models_without_tools(
    make_client: MakeClient, llm: FakeLLMServer
) -> None:
    agent = Agent(
        make_client(Script(['{"name": "Rex", "legs": 4}']), "openai/o1-mini"),
        output=Pet,
        instructions="You know pets.",
    )
    result = await agent.run("a dog")
    assert result.output == {"name": "Rex", "legs": 4}
    system = llm.requests[0].json()["messages"][0]
    assert system["content"].startswith("You know pets.")
    assert '"legs"' in system["content"] and "JSON Schema" in system["content"]


async def test_union_and_scalar_outputs_are_wrapped(make_client: MakeClient) -> None:
    script = Script([Turn(tool_calls=[ToolCall(name="final_result", arguments={"result": 7})])])
    agent: Agent[int | list[str]] = Agent(
        make_client(script, "deepseek/deepseek-chat"), output=int | list[str]
    )
    assert (await agent.run("a number")).output == 7
    native = Agent(
        make_client(Script(['{"result": {"x": 1, "y": 2}}']), "openai/gpt-4o-mini"),
        output=Point | Pet,
    )
    assert (await native.run("a point")).output == Point(x=1, y=2)


async def test_a_bad_reply_becomes_a_repair_turn(make_client: MakeClient) -> None:
    seen: list[str] = []

    def model(request: ChatInput) -> Turn:
        seen.append(request.last_user_text)
        if len(seen) == 1:
            return Turn(text='{"name": "Paris", "population": -5}')
        return Turn(text=CITY)

    agent = Agent(make_client(model, "openai/gpt-4o-mini"), output=City)
    async with agent.run_stream("Paris") as run:
        repairs = [e async for e in run if isinstance(e, RepairRequested)]
    assert run.result.output.population == 2_100_000
    assert repairs[0].kind == "output" and repairs[0].retries_left == 1
    assert "population" in seen[1] and "greater than or equal to 0" in seen[1]


async def test_tool_mode_text_reply_and_bad_arguments_are_repaired(make_client: MakeClient) -> None:
    script = Script(
        [
            "Paris, about two million people.",
            Turn(tool_calls=[ToolCall(name="final_result", arguments={"name": "Paris"})]),
            Turn(
                tool_calls=[
                    ToolCall(name="final_result", arguments=json.loads(CITY)),
                    ToolCall(name="add", arguments={"a": 1, "b": 2}),
                ]
            ),
        ]
    )
    ran: list[int] = []

    def add2(a: int, b: int) -> int:
        """Add.

        Args:
            a: First.
            b: Second.
        """
        ran.append(a)
        return a + b

    agent = Agent(
        make_client(script, "deepseek/deepseek-chat"),
        tools=[atoll_tools.Tool(add2, name="add")],
        output=City,
    )
    result = await agent.run("Paris")
    assert result.output.name == "Paris" and result.turns == 3
    assert ran == [], "a call in the same turn as the final answer is not run"
    assert "Call the final_result tool" in result.messages[2].text
    assert_valid(result.messages)


async def test_output_retries_exhausted_raise_with_every_reply(make_client: MakeClient) -> None:
    replies = ["not json", '{"name": 1}', '{"population": 3}']
    agent = Agent(make_client(Script(replies), "openai/gpt-4o-mini"), output=City, output_retries=2)
    with pytest.raises(OutputValidationError) as caught:
        await agent.run("Paris")
    error = caught.value
    assert error.replies == tuple(replies)
    assert isinstance(error, atoll_tools.OutputValidationError)
    assert error.result is not None and error.result.stop_reason == "output_invalid"
    assert error.result.turns == 3


async def test_streaming_runs_show_the_partial_object(make_client: MakeClient) -> None:
    chunks = ['{"na', 'me": "Par', 'is", "popu', 'lation": 21', "00000}"]
    script = Script([Turn(text="".join(chunks), chunks=chunks)])
    agent = Agent(make_client(script, "openai/gpt-4o-mini"), output=City)
    async with agent.run_stream("Paris") as run:
        partials = [e.value async for e in run if isinstance(e, PartialOutput)]
    assert partials[0] == {"na": ""} or partials[0] == {}
    assert {"name": "Par"} in partials
    assert partials[-1] == {"name": "Paris", "population": 2100000}
    assert run.partial_output == partials[-1]
    assert run.result.output == City(name="Paris", population=2_100_000)


async def test_partial_object_from_a_final_answer_tool(make_client: MakeClient) -> None:
    script = Script([Turn(tool_calls=[ToolCall(name="final_result", arguments=json.loads(CITY))])])
    agent = Agent(make_client(script, "deepseek/deepseek-chat"), output=City)
    async with agent.run_stream("Paris") as run:
        partials = [e.value async for e in run if isinstance(e, PartialOutput)]
    assert partials[-1] == {"name": "Paris", "population": 2100000}


async def test_output_type_that_cannot_be_a_schema(make_client: MakeClient) -> None:
    class Opaque:
        pass

    with pytest.raises(AgentDefinitionError, match="cannot be a JSON Schema"):
        Agent(make_client(Script([])), output=Opaque)
