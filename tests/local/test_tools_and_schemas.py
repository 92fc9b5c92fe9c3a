"""Tool calls and structured output on a local model, through the unchanged Client.

``tool_choice="auto"`` on a plain chat template gives text: the Hermes parser turns
``<tool_call>`` blocks into real tool calls. The tests hold the random model to exact text with
a GBNF grammar (llama.cpp's ``grammar`` extension), so what the parser reads is known. Forced
calls and ``output_schema`` are constrained by grammars built from the schemas: whatever the
random weights pick, the result must validate.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Literal

import jsonschema
import pytest
from atoll_dialects import BadRequestError, Client
from atoll_local import LocalModel, LocalTransport
from atoll_tools import OutputSpec, ToolSet, tool
from atoll_wire import (
    OutputSchema,
    TextDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolChoice,
    ToolSpec,
)
from pydantic import BaseModel

pytestmark = pytest.mark.anyio

ADD = ToolSpec(
    name="add",
    description="Add two integers.",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
)
WEATHER = ToolSpec(
    name="weather",
    description="The weather in a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"enum": ["Paris", "Lima", "Male"]}, "celsius": {"type": "boolean"}},
        "required": ["city", "celsius"],
        "additionalProperties": False,
    },
)


def _literal(text: str) -> str:
    """A GBNF grammar whose only sentence is ``text``."""
    return "root ::= " + json.dumps(text)


@pytest.fixture
async def client(chat_model: LocalModel) -> AsyncIterator[Client]:
    transport = LocalTransport({"tiny": chat_model}, own_models=False)
    async with transport, Client("local/tiny", transport=transport) as client:
        yield client


async def test_auto_turns_hermes_text_into_a_tool_call(client: Client) -> None:
    said = 'Let me add.<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 40}}\n</tool_call>'
    grammar = {"grammar": _literal(said)}
    reply = await client.chat(
        "2+40?", tools=[ADD], tool_choice="auto", extra=grammar, max_tokens=200
    )
    assert reply.finish_reason == "tool_calls"
    assert reply.text == "Let me add."
    (call,) = reply.message.tool_calls
    assert (call.name, call.arguments) == ("add", {"a": 2, "b": 40})
    assert call.id.startswith("call_")

    async with client.stream("2+40?", tools=[ADD], extra=grammar, max_tokens=200) as stream:
        events = [e async for e in stream]
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert [s.name for s in starts] == ["add"]
    assert any(isinstance(e, ToolCallEnd) for e in events)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Let me add."
    assert stream.response.message.tool_calls[0].arguments == {"a": 2, "b": 40}
    assert stream.response.finish_reason == "tool_calls"


async def test_tool_text_is_left_alone_without_tools_or_with_choice_none(client: Client) -> None:
    said = '<tool_call>{"name": "add", "arguments": {"a": 1, "b": 1}}</tool_call>'
    grammar = {"grammar": _literal(said)}
    plain = await client.chat("x", extra=grammar, max_tokens=100)
    refused = await client.chat("x", tools=[ADD], tool_choice="none", extra=grammar, max_tokens=100)
    for reply in (plain, refused):
        assert reply.text == said and not reply.message.tool_calls


async def test_two_calls_in_one_answer(client: Client) -> None:
    said = (
        '<tool_call>{"name": "add", "arguments": {"a": 1, "b": 2}}</tool_call>\n'
        '<tool_call>{"name": "weather", "arguments": {"city": "Lima", "celsius": true}}</tool_call>'
    )
    async with client.stream(
        "x", tools=[ADD, WEATHER], extra={"grammar": _literal(said)}, max_tokens=200
    ) as stream:
        async for _ in stream:
            pass
    calls = stream.response.message.tool_calls
    assert [(c.name, c.arguments) for c in calls] == [
        ("add", {"a": 1, "b": 2}),
        ("weather", {"city": "Lima", "celsius": True}),
    ]
    assert len({c.id for c in calls}) == 2


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_required_forces_a_valid_call_whatever_the_weights(client: Client, seed: int) -> None:
    reply = await client.chat(
        "call something",
        tools=[ADD, WEATHER],
        tool_choice="required",
        seed=seed,
        max_tokens=120,
        temperature=1.0,
    )
    (call,) = reply.message.tool_calls
    spec = {"add": ADD, "weather": WEATHER}[call.name]
    jsonschema.validate(call.arguments, spec.parameters)
    assert reply.finish_reason == "tool_calls"


async def test_a_named_tool_choice_forces_that_tool_in_a_stream(client: Client) -> None:
    async with client.stream(
        "weather?",
        tools=[ADD, WEATHER],
        tool_choice=ToolChoice.tool(WEATHER.name),
        seed=5,
        max_tokens=120,
    ) as stream:
        async for _ in stream:
            pass
    (call,) = stream.response.message.tool_calls
    assert call.name == "weather"
    jsonschema.validate(call.arguments, WEATHER.parameters)


async def test_a_forced_call_runs_through_a_toolset(client: Client) -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add two integers.

        Args:
            a: The first.
            b: The second.
        """
        return a + b

    tools = ToolSet([add])
    reply = await client.chat(
        "add", tools=tools.specs(), tool_choice=ToolChoice.tool("add"), seed=9, max_tokens=200
    )
    (call,) = reply.message.tool_calls
    (result,) = await tools.execute_many([call])
    assert not result.is_error
    assert result.content[0].text == str(call.arguments["a"] + call.arguments["b"])  # type: ignore[union-attr, operator]


class Verdict(BaseModel):
    """A verdict."""

    approved: bool
    colour: Literal["red", "green", "blue"]
    score: int


@pytest.mark.parametrize("seed", [11, 12])
async def test_output_schema_is_enforced_by_a_grammar(client: Client, seed: int) -> None:
    spec = OutputSpec.of(Verdict)
    reply = await client.chat(
        "judge", output_schema=spec, seed=seed, max_tokens=150, temperature=1.0
    )
    verdict = spec.parse(reply.text)  # validates against the schema, as for any model
    assert isinstance(verdict, Verdict)
    async with client.stream(
        "judge", output_schema=spec, seed=seed, max_tokens=150, temperature=1.0
    ) as stream:
        async for _ in stream:
            pass
    assert stream.response.text == reply.text  # same seed, same grammar-held text


async def test_json_object_mode_gives_json(client: Client) -> None:
    reply = await client.chat(
        "json please", extra={"response_format": {"type": "json_object"}}, seed=4, max_tokens=200
    )
    if reply.finish_reason == "stop":  # a random model may still be inside a long string at 200
        json.loads(reply.text)
    else:
        assert reply.finish_reason == "length"


async def test_raw_output_schema(client: Client) -> None:
    schema = {
        "type": "object",
        "properties": {"ids": {"type": "array", "items": {"enum": [1, 2, 3]}, "maxItems": 3}},
        "required": ["ids"],
        "additionalProperties": False,
    }
    reply = await client.chat(
        "ids", output_schema=OutputSchema(name="ids", schema=schema), seed=6, max_tokens=100
    )
    jsonschema.validate(json.loads(reply.text), schema)


async def test_a_bad_grammar_is_a_bad_request(client: Client) -> None:
    with pytest.raises(BadRequestError, match="grammar"):
        await client.chat("x", extra={"grammar": "root ::= ( unclosed"}, max_tokens=5)
    with pytest.raises(BadRequestError, match="unknown tool_choice"):
        await client.chat("x", tools=[ADD], tool_choice="missing", max_tokens=5)
    with pytest.raises(BadRequestError, match="not in tools"):
        await client.chat("x", tools=[ADD], tool_choice=ToolChoice.tool("sub"), max_tokens=5)


async def test_the_local_provider_splits_think_tags_as_registry_data_says(client: Client) -> None:
    said = "<think>the user wants a number</think>Forty-two."
    reply = await client.chat("?", extra={"grammar": _literal(said)}, max_tokens=100)
    assert (reply.message.thinking, reply.text) == ("the user wants a number", "Forty-two.")
