"""``chat(..., output=T)``: each mode, schema fitting per dialect, repairs, errors, records."""

from __future__ import annotations

import json
import pickle
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from atoll_dialects import (
    CallEvent,
    Client,
    InvalidOptionError,
    ParsedResponse,
    StructuredOutputError,
)
from atoll_generic import Executor
from atoll_registry import Capabilities, ModelSpec, Price, ProviderSpec, Registry
from atoll_testing import ChatInput, FakeLLMServer, Script, ToolCall, Turn
from atoll_tools import OutputSpec
from atoll_wire import ToolCallPart, ToolSpec
from pydantic import BaseModel, Field

pytestmark = pytest.mark.anyio


class Review(BaseModel):
    """A product review."""

    score: int = Field(ge=1, le=5, description="Stars")
    summary: str = Field(max_length=40)


GOOD = {"score": 4, "summary": "solid"}
BAD = {"score": 9, "summary": "too keen"}


def registry_for(url: str, dialect: str = "openai-chat", **caps: Any) -> Registry:
    """A registry with one provider at the local server and one model, ``shop``."""
    provider = ProviderSpec(
        name="acme",
        dialect=dialect,
        source="test",
        as_of=date(2026, 1, 1),
        base_url=url,
        key_required=False,
    )
    price = Price(source="test", as_of=date(2026, 1, 1), input=Decimal(1), output=Decimal(2))
    model = ModelSpec(
        id="shop", provider="acme", capabilities=Capabilities(**caps), prices=(price,)
    )
    return Registry(providers=[provider], models=[model])


def bodies(server: FakeLLMServer) -> list[Any]:
    return [r.json() for r in server.requests]


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer() as srv:
        yield srv


# ---------------------------------------------------------------- the three modes


async def test_tool_mode_when_nothing_is_known(server: FakeLLMServer) -> None:
    server.models["shop"] = Script(
        [Turn(tool_calls=[ToolCall(name="final_result", arguments=GOOD)])]
    )
    async with Client("shop", base_url=server.base_url) as client:
        reply = await client.chat("Review the kettle.", output=Review)
    assert isinstance(reply, ParsedResponse)
    assert reply.parsed == Review(score=4, summary="solid")
    assert json.loads(reply.text) == GOOD  # the output tool's call became the reply's text
    assert reply.message.tool_calls == [] and reply.repairs == []
    (body,) = bodies(server)
    assert body["tool_choice"] == {"type": "function", "function": {"name": "final_result"}}
    (tool,) = body["tools"]
    assert tool["function"]["strict"] is True
    summary = tool["function"]["parameters"]["properties"]["summary"]
    # OpenAI's strict mode refuses maxLength: moved into the description, checked here.
    assert "maxLength" not in summary and '"maxLength": 40' in summary["description"]
    score = tool["function"]["parameters"]["properties"]["score"]
    assert (score["minimum"], score["maximum"]) == (1, 5)  # OpenAI takes numeric bounds


async def test_native_mode_where_the_registry_says_so(server: FakeLLMServer) -> None:
    server.models["shop"] = Script([json.dumps(GOOD)])
    registry = registry_for(server.base_url, json_schema=True, tools=True)
    async with Client("acme/shop", registry=registry) as client:
        reply = await client.chat("Review it.", output=Review)
    assert reply.parsed == Review(**GOOD)
    (body,) = bodies(server)
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Review"
    assert fmt["json_schema"]["strict"] is True
    assert "tools" not in body
    assert reply.cost is not None and reply.total_cost == reply.cost.total


async def test_prompted_mode_for_a_model_without_tools(server: FakeLLMServer) -> None:
    server.models["shop"] = Script(["```json\n" + json.dumps(GOOD) + "\n```"])
    registry = registry_for(server.base_url, tools=False)
    async with Client("acme/shop", registry=registry) as client:
        reply = await client.chat("Review it.", system="Be terse.", output=Review)
    assert reply.parsed == Review(**GOOD)
    (body,) = bodies(server)
    assert "tools" not in body and "response_format" not in body
    first, second = body["messages"][:2]
    assert first == {"role": "system", "content": "Be terse."}
    assert second["role"] == "system" and '"score"' in second["content"]


async def test_output_mode_overrides_the_registry(server: FakeLLMServer) -> None:
    server.models["shop"] = Script([json.dumps(GOOD)])
    registry = registry_for(server.base_url, json_schema=True, tools=True)
    async with Client("acme/shop", registry=registry) as client:
        reply = await client.chat("Review it.", output=Review, output_mode="prompted")
    assert reply.parsed == Review(**GOOD)
    assert "response_format" not in bodies(server)[0]


# ---------------------------------------------------------------- Anthropic's schema subset


async def test_anthropic_gets_a_fitted_schema_and_bounds_hold_locally(
    server: FakeLLMServer,
) -> None:
    server.models["shop"] = Script([json.dumps(BAD), json.dumps(GOOD)])
    registry = registry_for(server.base_url, "anthropic-messages", json_schema=True, tools=True)
    async with Client("acme/shop", registry=registry) as client:
        reply = await client.chat("Review it.", output=Review)
    first, repair = bodies(server)
    schema = first["output_config"]["format"]["schema"]
    score = schema["properties"]["score"]
    assert "minimum" not in score and "maximum" not in score
    assert '"minimum": 1' in score["description"] and "Stars" in score["description"]
    assert schema["additionalProperties"] is False
    # The model answered 9 stars: refused locally, repaired, then accepted.
    assert reply.parsed == Review(**GOOD)
    assert [json.loads(r.text) for r in reply.repairs] == [BAD]
    turns = repair["messages"]
    assert turns[1] == {"role": "assistant", "content": [{"type": "text", "text": json.dumps(BAD)}]}
    assert turns[2]["role"] == "user" and "score" in json.dumps(turns[2])
    assert reply.total_usage.input_tokens == (reply.usage.input_tokens or 0) + (
        reply.repairs[0].usage.input_tokens or 0
    )


async def test_a_repair_in_tool_mode_answers_the_call(server: FakeLLMServer) -> None:
    server.models["shop"] = Script(
        [
            Turn(tool_calls=[ToolCall(name="final_result", arguments=BAD, id="call_1")]),
            Turn(tool_calls=[ToolCall(name="final_result", arguments=GOOD, id="call_2")]),
        ]
    )
    async with Client("shop", base_url=server.base_url) as client:
        reply = await client.chat("Review it.", output=Review)
    assert reply.parsed == Review(**GOOD)
    repair = bodies(server)[1]["messages"]
    assert repair[1]["tool_calls"][0]["id"] == "call_1"
    assert repair[2]["role"] == "tool" and repair[2]["tool_call_id"] == "call_1"
    assert "score" in repair[2]["content"]


async def test_no_repair_left_raises_with_the_record(server: FakeLLMServer) -> None:
    server.models["shop"] = Script([json.dumps(BAD), json.dumps(BAD)])
    registry = registry_for(server.base_url, json_schema=True)
    async with Client("acme/shop", registry=registry) as client:
        with pytest.raises(StructuredOutputError) as caught:
            await client.chat("Review it.", output=Review, output_retries=1)
    error = caught.value
    assert (error.output, error.replies, error.provider) == ("Review", 2, "acme")
    assert "score" in error.reason and json.loads(error.text) == BAD
    assert error.response is not None and json.loads(error.response.text) == BAD
    again = pickle.loads(pickle.dumps(error))
    assert (again.output, again.replies, again.reason) == (error.output, 2, error.reason)
    assert type(again).__module__ == "atoll_dialects"


async def test_zero_retries_sends_one_request(server: FakeLLMServer) -> None:
    server.models["shop"] = Script([json.dumps(BAD)])
    registry = registry_for(server.base_url, json_schema=True)
    async with Client("acme/shop", registry=registry) as client:
        with pytest.raises(StructuredOutputError, match="reply did not match"):
            await client.chat("Review it.", output=Review, output_retries=0)
    assert len(server.requests) == 1


# ---------------------------------------------------------------- what output= accepts


async def test_a_list_is_asked_for_inside_an_object(server: FakeLLMServer) -> None:
    server.models["shop"] = Script([json.dumps({"result": ["atoll", "reef"]})])
    registry = registry_for(server.base_url, json_schema=True)
    async with Client("acme/shop", registry=registry) as client:
        reply = await client.chat("Two words.", output=list[str])
    assert reply.parsed == ["atoll", "reef"]
    schema = bodies(server)[0]["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["result"] and schema["properties"]["result"]["type"] == "array"


async def test_a_raw_schema_gives_a_dict(server: FakeLLMServer) -> None:
    server.models["shop"] = Script([json.dumps({"n": 3})])
    registry = registry_for(server.base_url, json_schema=True)
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    async with Client("acme/shop", registry=registry) as client:
        reply = await client.chat("A number.", output=schema)
    assert reply.parsed == {"n": 3}


async def test_an_output_spec_is_used_as_given(server: FakeLLMServer) -> None:
    server.models["shop"] = Script([json.dumps(GOOD)])
    registry = registry_for(server.base_url, json_schema=True)
    spec = OutputSpec.of(Review, name="verdict", strict=False)
    async with Client("acme/shop", registry=registry) as client:
        reply = await client.chat("Review it.", output=spec)
    assert reply.parsed == Review(**GOOD)
    sent = bodies(server)[0]["response_format"]["json_schema"]
    assert (sent["name"], sent["strict"]) == ("verdict", False)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"output": 5}, "atoll_tools.OutputSpec"),
        ({"output": Review, "output_retries": -1}, "output_retries"),
        ({"output": Review, "output_mode": "json"}, "output_mode"),
        ({"output_retries": 2}, "only with output="),
        ({"output_mode": "tool"}, "only with output="),
        (
            {"output": Review, "tools": [ToolSpec(name="final_result")]},
            "tool names other than 'final_result'",
        ),
    ],
)
async def test_bad_output_options_send_nothing(
    server: FakeLLMServer, kwargs: dict[str, Any], names: str
) -> None:
    async with Client("shop", base_url=server.base_url) as client:
        with pytest.raises(InvalidOptionError, match=names):
            await client.chat("x", **kwargs)
        with pytest.raises(InvalidOptionError, match=names):
            client.stream("x", **kwargs)
    assert server.requests == []


async def test_output_schema_and_output_together_are_refused(server: FakeLLMServer) -> None:
    async with Client("shop", base_url=server.base_url) as client:
        with pytest.raises(InvalidOptionError, match="output_schema"):
            await client.chat("x", output=Review, output_schema=OutputSpec.of(Review))
    assert server.requests == []


# ---------------------------------------------------------------- with the caller's tools


def weather_then_answer(request: ChatInput) -> Turn:
    if request.tool_results:
        return Turn(tool_calls=[ToolCall(name="final_result", arguments=GOOD)])
    return Turn(tool_calls=[ToolCall(name="weather", arguments={"city": "Male"}, id="w1")])


async def test_the_tool_loop_by_hand_ends_in_a_parsed_reply(server: FakeLLMServer) -> None:
    server.models["shop"] = weather_then_answer
    tools = [ToolSpec(name="weather", parameters={"type": "object"})]
    async with Client("shop", base_url=server.base_url) as client:
        first = await client.chat("Weather, then review.", output=Review, tools=tools)
        assert first.parsed is None and first.finish_reason == "tool_calls"
        (call,) = first.message.tool_calls
        assert isinstance(call, ToolCallPart) and call.name == "weather"
        history = [
            {"role": "user", "content": "Weather, then review."},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": "weather", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ]
        final = await client.chat(history, output=Review, tools=tools)
    assert final.parsed == Review(**GOOD)
    assert bodies(server)[0]["tool_choice"] == "required"


# ---------------------------------------------------------------- the record


async def test_call_event_runs_with_output(server: FakeLLMServer) -> None:
    server.models["shop"] = Script([json.dumps(BAD), json.dumps(GOOD)])
    registry = registry_for(server.base_url, json_schema=True)
    async with Client("acme/shop", registry=registry) as client:
        event = CallEvent.of(client, "Review it.", output=Review, output_retries=2)
        async with Executor(max_concurrency=1) as executor:
            await executor.submit(event)
            await executor.join()
    response = event.response
    assert isinstance(response, ParsedResponse)
    assert response.parsed == Review(**GOOD) and len(response.repairs) == 1
    restored = CallEvent.from_dict(event.to_dict())
    assert isinstance(restored, CallEvent) and restored.output_retries == 2
    assert isinstance(restored.response, ParsedResponse)
    assert restored.response.parsed == GOOD  # plain JSON data after a round trip
