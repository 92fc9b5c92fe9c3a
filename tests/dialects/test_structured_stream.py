"""``stream(..., output=T)``: the partial object as it arrives, then the validated value."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from atoll_dialects import (
    ChatStream,
    Client,
    OutputStream,
    ParsedResponse,
    StructuredOutputError,
    SyncClient,
    SyncOutputStream,
)
from atoll_registry import Capabilities, ModelSpec, ProviderSpec, Registry
from atoll_testing import FakeLLMServer, Script, ToolCall, Turn
from atoll_wire import MessageStart, StreamEvent, TextDelta, ToolCallDelta, ToolCallStart
from pydantic import BaseModel, Field

pytestmark = pytest.mark.anyio


class City(BaseModel):
    name: str
    population: int = Field(ge=0)


GOOD = {"name": "Male", "population": 211908}
BAD = {"name": "Male", "population": -1}


def native(url: str) -> Registry:
    provider = ProviderSpec(
        name="acme",
        dialect="openai-chat",
        source="test",
        as_of=date(2026, 1, 1),
        base_url=url,
        key_required=False,
    )
    model = ModelSpec(
        id="shop", provider="acme", capabilities=Capabilities(json_schema=True, tools=True)
    )
    return Registry(providers=[provider], models=[model])


def pieces(value: dict[str, Any], size: int = 7) -> list[str]:
    text = json.dumps(value)
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer() as srv:
        yield srv


async def test_tool_mode_streams_json_text_and_a_growing_partial(server: FakeLLMServer) -> None:
    server.models["shop"] = Script(
        [Turn(tool_calls=[ToolCall(name="final_result", arguments=GOOD)])]
    )
    seen: list[StreamEvent] = []
    partials: list[object] = []
    async with Client("shop", base_url=server.base_url) as client:
        async with client.stream("The capital.", output=City) as stream:
            assert isinstance(stream, OutputStream) and isinstance(stream, ChatStream)
            assert stream.partial is None and stream.parsed is None
            async for event in stream:
                seen.append(event)
                partials.append(stream.partial)
    assert not any(isinstance(e, ToolCallStart | ToolCallDelta) for e in seen)
    text = "".join(e.text for e in seen if isinstance(e, TextDelta))
    assert json.loads(text) == GOOD
    dicts = [p for p in partials if isinstance(p, dict)]
    assert dicts[0] != GOOD and dicts[-1] == GOOD  # grew field by field
    assert stream.parsed == City(**GOOD)
    assert stream.attempts == [] and stream.target is not None
    assert stream.target.label == "custom/shop"
    response = stream.response
    assert isinstance(response, ParsedResponse) and json.loads(response.text) == GOOD
    assert response.message.tool_calls == []


async def test_native_stream_with_a_repair_streams_twice(server: FakeLLMServer) -> None:
    server.models["shop"] = Script(
        [
            Turn(text=json.dumps(BAD), chunks=pieces(BAD)),
            Turn(text=json.dumps(GOOD), chunks=pieces(GOOD)),
        ]
    )
    starts = 0
    async with Client("acme/shop", registry=native(server.base_url)) as client:
        async with client.stream("The capital.", output=City) as stream:
            async for event in stream:
                starts += isinstance(event, MessageStart)
    assert starts == 2
    assert stream.parsed == City(**GOOD)
    assert [json.loads(r.text) for r in stream.repairs] == [BAD]
    repair = server.requests[1].json()["messages"]
    assert repair[-1]["role"] == "user" and "population" in repair[-1]["content"]
    assert all(r.json()["stream"] is True for r in server.requests)


async def test_a_stream_without_repairs_left_raises(server: FakeLLMServer) -> None:
    server.models["shop"] = Script([json.dumps(BAD)])
    async with Client("acme/shop", registry=native(server.base_url)) as client:
        with pytest.raises(StructuredOutputError, match="population"):
            async with client.stream("x", output=City, output_retries=0) as stream:
                async for _ in stream:
                    pass
    assert len(server.requests) == 1


async def test_leaving_early_closes_the_stream(server: FakeLLMServer) -> None:
    server.models["shop"] = Script(
        [Turn(text=json.dumps(GOOD), chunks=pieces(GOOD, 2)), json.dumps(GOOD)]
    )
    async with Client("acme/shop", registry=native(server.base_url)) as client:
        async with client.stream("x", output=City) as stream:
            async for _ in stream:
                break
        assert stream.parsed is None  # never validated: the caller left
        assert not isinstance(stream.response, ParsedResponse)
        again = await client.chat("y", output=City)
    assert again.parsed == City(**GOOD)
    assert len(server.requests) == 2  # no repair was sent for the abandoned stream


def test_sync_client_parses_and_streams() -> None:
    with FakeLLMServer().run_in_thread() as server:
        server.models["shop"] = Script(
            [
                json.dumps(GOOD),
                Turn(text=json.dumps(BAD), chunks=pieces(BAD)),
                Turn(text=json.dumps(GOOD), chunks=pieces(GOOD)),
            ]
        )
        with SyncClient("acme/shop", registry=native(server.base_url)) as client:
            reply = client.chat("x", output=City)
            assert isinstance(reply, ParsedResponse) and reply.parsed == City(**GOOD)
            with client.stream("y", output=City) as stream:
                assert isinstance(stream, SyncOutputStream)
                partials = [stream.partial for _ in stream]
            assert stream.parsed == City(**GOOD) and len(stream.repairs) == 1
            assert partials[-1] == GOOD
