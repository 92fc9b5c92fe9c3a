"""End to end on the local server: every ai* function, sync and async (asyncio and trio)."""

from __future__ import annotations

import asyncio
import io
import logging
import queue
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from atoll import (
    AIMessage,
    AIToolRequest,
    CustomOpenAISchema,
    DataMessage,
    ExtractionError,
    ToolMessage,
    ToolNotFoundError,
    aiclassify,
    aiclassify_async,
    aiembed,
    aiembed_async,
    aiextract,
    aiextract_async,
    aigenerate,
    aigenerate_async,
    aiscan,
    aiscan_async,
    aitools,
    aitools_async,
    execute_tool,
    execute_tool_async,
    register_model,
)
from atoll_registry import Registry
from atoll_testing import FakeLLMServer
from atoll_tools import ToolArgumentsError, ToolExecutionError
from pydantic import BaseModel

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str
    age: int


def get_weather(city: str) -> str:
    """The weather in a city.

    Args:
        city: The city.
    """
    return f"sunny in {city}"


async def get_weather_async(city: str) -> str:
    """The weather in a city, asynchronously.

    Args:
        city: The city.
    """
    await anyio.lowlevel.checkpoint()
    return f"sunny in {city}"


def _local(server: FakeLLMServer, **api: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "verbose": False, "api_kwargs": {"url": server.base_url, **api}}


# ------------------------------------------------------------------ aigenerate


def test_aigenerate_without_schema_uses_the_registry(redirect: FakeLLMServer) -> None:
    reply = aigenerate("Hi {{who}}", who="there", model="gpt4om", verbose=False)
    assert reply.content == "echo: Hi there"
    assert reply.extras["served_by"] == "openai/gpt-4o-mini"
    assert redirect.requests[-1].json()["model"] == "gpt-4o-mini"


@pytest.mark.parametrize("kind", ["file", "callable", "queue"])
def test_streamcallback_kinds_with_api_kwargs(server: FakeLLMServer, kind: str) -> None:
    pieces: list[str] = []
    sink: Any
    if kind == "file":
        sink = io.StringIO()
    elif kind == "callable":
        sink = pieces.append
    else:
        sink = queue.Queue()
    # The legacy quirk: streamcallback together with api_kwargs failed; here both apply.
    reply = aigenerate(
        CustomOpenAISchema(),
        "stream these words",
        streamcallback=sink,
        **_local(server, temperature=0.2, max_tokens=50),
    )
    body = server.requests[-1].json()
    assert (
        body["stream"] is True
        and body["temperature"] == 0.2
        and body["max_completion_tokens"] == 50
    )
    if kind == "file":
        text = sink.getvalue()
    elif kind == "queue":
        items = [sink.get_nowait() for _ in range(sink.qsize())]
        assert items[-1] is None
        text = "".join(items[:-1])
    else:
        text = "".join(pieces)
    assert text == reply.content == "echo: stream these words"


async def test_async_streamcallback(server: FakeLLMServer) -> None:
    pieces: list[str] = []

    async def collect(text: str) -> None:
        await anyio.lowlevel.checkpoint()
        pieces.append(text)

    reply = await aigenerate_async(
        CustomOpenAISchema(), "async words", streamcallback=collect, **_local(server)
    )
    assert "".join(pieces) == reply.content == "echo: async words"
    send, receive = anyio.create_memory_object_stream[str | None](100)
    async with receive:
        await aigenerate_async(
            CustomOpenAISchema(), "memory stream", streamcallback=send, **_local(server)
        )
        received = [item async for item in receive]
    assert "".join(str(i) for i in received) == "echo: memory stream"


def test_an_async_callback_in_a_sync_call_is_refused_before_sending(server: FakeLLMServer) -> None:
    async def collect(text: str) -> None: ...

    with pytest.raises(TypeError, match="_async"):
        aigenerate(CustomOpenAISchema(), "x", streamcallback=collect, **_local(server))
    assert server.requests == []


# ------------------------------------------------------------------ aiextract


def test_aiextract_forces_its_tool(server: FakeLLMServer) -> None:
    message = aiextract(CustomOpenAISchema(), "Jack is 19.", return_type=Person, **_local(server))
    assert isinstance(message, DataMessage)
    assert message.content == Person(name="Jack", age=19)
    body = server.requests[-1].json()
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Person"}}
    assert body["tools"][0]["function"]["description"].endswith("A person mentioned in the text.")
    assert message.extras["tool_calls"][0]["name"] == "Person"
    assert message.cost is not None


def test_aiextract_json_mode_and_field_lists(server: FakeLLMServer) -> None:
    message = aiextract(
        CustomOpenAISchema(), "James", return_type=Person, json_mode=True, **_local(server)
    )
    assert message.content == Person(name="James", age=30)
    assert server.requests[-1].json()["response_format"]["type"] == "json_schema"
    fields = ["name", ("age", int), ("age__description", "Age in years")]
    schema = aiextract(
        CustomOpenAISchema(),
        "x",
        return_type=fields,
        dry_run=True,
        return_all=True,
        **_local(server),
    )
    assert schema[-1]["content"] == "x"
    assert server.requests[-1].json()["response_format"]["type"] == "json_schema"


def test_aiextract_without_the_data_raises(server: FakeLLMServer) -> None:
    class Other(BaseModel):
        value: int

    # The scripted model answers Other's forced call with plain text, so there is nothing to read.
    with pytest.raises(ExtractionError) as caught:
        aiextract(CustomOpenAISchema(), "plain", return_type=Other, **_local(server))
    assert caught.value.return_type == "Other"
    assert caught.value.text == "echo: plain"


async def test_aiextract_async(server: FakeLLMServer) -> None:
    message = await aiextract_async(
        CustomOpenAISchema(), "James", return_type=Person, **_local(server)
    )
    assert message.content == Person(name="James", age=30)


# ------------------------------------------------------------------ aiclassify


def test_aiclassify_by_structured_output(server: FakeLLMServer) -> None:
    reply = aiclassify(
        CustomOpenAISchema(),
        ":InputClassifier",
        choices=[("animal", "any creature"), ("plant", "anything green")],
        input="a plant in a pot",
        **_local(server),
    )
    assert isinstance(reply, AIMessage) and reply.content == "plant"
    body = server.requests[-1].json()
    assert body["temperature"] == 0.0
    assert body["response_format"]["json_schema"]["schema"]["properties"]["choice"]["enum"] == [
        "animal",
        "plant",
    ]
    assert '"animal" for any creature\n"plant" for anything green' in body["messages"][0]["content"]


def test_aiclassify_defaults_and_the_callers_temperature(server: FakeLLMServer) -> None:
    reply = aiclassify(CustomOpenAISchema(), "No idea: unknown", **_local(server, temperature=0.4))
    assert reply.content == "unknown"
    assert server.requests[-1].json()["temperature"] == 0.4


async def test_aiclassify_async(server: FakeLLMServer) -> None:
    reply = await aiclassify_async(
        CustomOpenAISchema(), "false!", choices=["true", "false"], **_local(server)
    )
    assert reply.content == "false"


# ------------------------------------------------------------------ aiembed


def test_aiembed_prices_what_the_registry_knows(redirect: FakeLLMServer) -> None:
    one = aiembed("hello world", verbose=False)
    assert isinstance(one.content, list) and len(one.content) == 8
    assert one.cost is None and "not in the registry" in one.extras["cost_note"]
    register_model("text-embedding-3-small", cost_of_token_prompt=2e-8)
    many = aiembed(["a b", "c"], lambda v: [round(x, 3) for x in v], verbose=False)
    assert len(many.content) == 2 and all(len(v) == 8 for v in many.content)
    assert many.cost == pytest.approx(many.tokens[0] * 2e-8)
    assert redirect.requests[-1].json()["input"] == ["a b", "c"]


async def test_aiembed_async(redirect: FakeLLMServer) -> None:
    message = await aiembed_async(["x", "y"], verbose=False, api_kwargs={"dimensions": 4})
    assert [len(v) for v in message.content] == [4, 4]


# ------------------------------------------------------------------ aiscan


def test_aiscan_sends_the_image(server: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    reply = aiscan(
        CustomOpenAISchema(), "Describe it", image_path=path, image_detail="low", **_local(server)
    )
    assert reply.content == "echo: Describe it"
    content = server.requests[-1].json()["messages"][-1]["content"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content[1]["image_url"]["detail"] == "low"
    assert server.requests[-1].json()["max_completion_tokens"] == 2500
    with pytest.raises(ValueError, match="image_url or image_path"):
        aiscan(CustomOpenAISchema(), "x", **_local(server))


async def test_aiscan_async(server: FakeLLMServer) -> None:
    reply = await aiscan_async(
        CustomOpenAISchema(), "What?", image_url="https://x.test/a.png", **_local(server)
    )
    assert reply.content == "echo: What?"


# ------------------------------------------------------------------ aitools and execute_tool


def test_aitools_returns_calls_and_never_runs_them(server: FakeLLMServer) -> None:
    ran: list[str] = []

    def get_weather(city: str) -> str:
        """The weather.

        Args:
            city: The city.
        """
        ran.append(city)
        return f"sunny in {city}"

    conversation = aitools(
        CustomOpenAISchema(),
        "weather in Paris?",
        tools=[get_weather],
        return_all=True,
        **_local(server),
    )
    request = conversation[-1]
    assert isinstance(request, AIToolRequest)
    assert ran == [], "a call is returned, not executed"
    assert "tool_choice" not in server.requests[-1].json(), "aitools does not force a tool"
    (call,) = request.tool_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    call.content = execute_tool(get_weather, call)
    assert ran == ["Paris"]
    final = aitools(
        CustomOpenAISchema(),
        "thanks",
        tools=get_weather,
        conversation=[*conversation, call],
        **_local(server),
    )
    assert final.content == "tool said: sunny in Paris"
    sent = server.requests[-1].json()["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "user"]


def test_execute_tool_validates_before_running() -> None:
    call = ToolMessage(tool_call_id="c", raw='{"city": 5}', args={"city": 5}, name="get_weather")
    with pytest.raises(ToolArgumentsError):
        execute_tool(get_weather, call)
    with pytest.raises(ToolNotFoundError):
        execute_tool({"other": get_weather}, ToolMessage(name="nope", args={}))

    def boom(x: int) -> int:
        raise RuntimeError("broken")

    error = execute_tool(boom, {"x": 1}, throw_on_error=False)
    assert isinstance(error, ToolExecutionError) and error.error_type == "RuntimeError"
    with pytest.raises(TypeError, match="execute_tool_async"):
        execute_tool(get_weather_async, {"city": "x"})


def test_execute_tool_context_comes_first() -> None:
    def lookup(city: str, context: dict[str, Any], unit: str = "C") -> str:
        return f"{city} in {unit} for {context['user']}"

    result = execute_tool(lookup, {"city": "Rome", "unit": "F"}, {"user": "ann", "unit": "K"})
    assert result == "Rome in K for ann"


async def test_aitools_and_execute_tool_async(server: FakeLLMServer) -> None:
    request = await aitools_async(
        CustomOpenAISchema(),
        "weather please",
        tools=[get_weather_async],
        **_local(server, tool_choice="exact"),
    )
    assert server.requests[-1].json()["tool_choice"]["function"]["name"] == "get_weather_async"
    (call,) = request.tool_calls
    assert call.name == "get_weather_async"
    assert await execute_tool_async(get_weather_async, call) == "sunny in Paris"
    assert await execute_tool_async(get_weather, {"city": "Oslo"}) == "sunny in Oslo"


# ------------------------------------------------------------------ both forms alike

SyncForm = Callable[..., Any]
AsyncForm = Callable[..., Awaitable[Any]]


@pytest.mark.parametrize(
    ("sync", "async_", "extra"),
    [
        (aigenerate, aigenerate_async, {}),
        (aiextract, aiextract_async, {"return_type": Person}),
        (aiclassify, aiclassify_async, {}),
        (aitools, aitools_async, {"tools": [get_weather]}),
    ],
)
async def test_sync_and_async_send_the_same_request(
    server: FakeLLMServer, sync: SyncForm, async_: AsyncForm, extra: dict[str, Any]
) -> None:
    await anyio.to_thread.run_sync(
        lambda: sync(CustomOpenAISchema(), "James says hi", **extra, **_local(server))
    )
    first = server.requests[-1].json()
    await async_(CustomOpenAISchema(), "James says hi", **extra, **_local(server))
    second = server.requests[-1].json()
    assert first == second


def test_registered_model_is_called_and_priced(server: FakeLLMServer) -> None:
    spec = register_model(
        "echo-custom",
        schema=CustomOpenAISchema(),
        cost_of_token_prompt=1e-6,
        cost_of_token_generation=2e-6,
    )
    assert spec.name == "custom/echo-custom"
    reply = aigenerate(
        "price me", model="echo-custom", api_kwargs={"url": server.base_url}, verbose=False
    )
    registry = Registry.default()
    expected = registry.cost("custom/echo-custom", reply.usage)
    assert expected is not None
    assert reply.cost == float(expected.total)
    assert reply.cost == pytest.approx(reply.tokens[0] * 1e-6 + reply.tokens[1] * 2e-6)


def test_asyncio_queue_is_a_queue(server: FakeLLMServer) -> None:
    sink: asyncio.Queue[str | None] = asyncio.Queue()
    aigenerate(CustomOpenAISchema(), "q", streamcallback=sink, **_local(server))
    assert sink.qsize() > 1


def test_http_kwargs_map_onto_the_clients_policy(
    server: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    from atoll_dialects import ServerError

    server.inject("status=503", times=2)
    with pytest.raises(ServerError):
        aigenerate(CustomOpenAISchema(), "x", http_kwargs={"retries": 0}, **_local(server))
    assert server.counts["gpt-4o-mini"] == 1, "retries=0: one attempt"
    server.clear()
    server.inject("status=503; retry-after-ms=1", times=2)
    reply = aigenerate(CustomOpenAISchema(), "x", http_kwargs={"retries": 2}, **_local(server))
    assert reply.content == "echo: x"
    assert len(reply.extras["attempts"]) == 2
    with caplog.at_level(logging.WARNING, logger="atoll"):
        aigenerate(
            CustomOpenAISchema(),
            "x",
            http_kwargs={"readtimeout": 30, "proxy": "p"},
            **_local(server),
        )
    assert "http_kwargs proxy have no meaning here" in caplog.text


def test_an_api_key_never_shows_in_reprs(server: FakeLLMServer) -> None:
    from atoll._engine import Common, plan_chat
    from atoll._target import resolve_call

    secret = "sk-very-secret-123"
    plan = plan_chat("aigenerate", "hi", None, Common(model="gpt4om", api_key=secret))
    assert secret not in repr(plan)
    assert secret not in repr(resolve_call(None, "gpt4om", api_key=secret))
