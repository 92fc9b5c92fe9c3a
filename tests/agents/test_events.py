"""A run's events: model calls, tool calls and messages, in order, stamped with the run id;
async callbacks in the agent's block; content only when captured, masked; the message hook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from atoll_agents import Agent, Conversation
from atoll_dialects import (
    Callbacks,
    Client,
    FallbackUsed,
    InvalidOptionError,
    JsonlSink,
    MessageAdded,
    RequestFinished,
    RequestStarted,
    TelemetryEvent,
    ToolCalled,
    ToolFinished,
)
from atoll_testing import ChatInput, FakeLLMServer, Script, ToolCall, Turn
from atoll_wire import Message

from .conftest import MakeClient

pytestmark = pytest.mark.anyio

KEY = "sk-proj-AGENTPLANTEDAb3dE5gH7jK9mN1pQ3sT5v"


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


def _script() -> Script:
    return Script(
        [
            Turn(
                tool_calls=[
                    ToolCall(name="add", arguments={"a": 2, "b": 3}, id="call_a"),
                    ToolCall(name="add", arguments={"a": 4, "b": 5}, id="call_b"),
                ]
            ),
            Turn(text="5 and 9"),
        ]
    )


async def test_a_run_emits_calls_tools_and_messages_in_order(make_client: MakeClient) -> None:
    events: list[Any] = []
    agent = Agent(make_client(_script()), tools=[add], callbacks=[events.append])
    result = await agent.run("add things")
    assert result.output == "5 and 9"
    names = [type(e).__name__ for e in events]
    # The two calls run concurrently: each finishes after it was called, in any interleaving.
    tool_part = names[5:9]
    assert sorted(tool_part) == ["ToolCalled", "ToolCalled", "ToolFinished", "ToolFinished"]
    for call_id in ("call_a", "call_b"):
        ids = [(type(e).__name__, e.tool_call_id) for e in events[5:9]]
        assert ids.index(("ToolCalled", call_id)) < ids.index(("ToolFinished", call_id))
    assert names[:5] + names[9:] == [
        "MessageAdded",  # the prompt
        "RequestStarted",
        "FirstToken",
        "RequestFinished",
        "MessageAdded",  # the assistant turn asking for two calls
        "MessageAdded",  # the tool results
        "RequestStarted",
        "FirstToken",
        "RequestFinished",
        "MessageAdded",  # the answer
    ]
    assert {e.run_id for e in events} == {result.run_id}
    first_call = events[1].call_id
    tools = [e for e in events if isinstance(e, ToolCalled | ToolFinished)]
    assert {e.call_id for e in tools} == {first_call}, "tool calls belong to the call that asked"
    assert sorted((e.tool, e.tool_call_id) for e in tools if isinstance(e, ToolCalled)) == [
        ("add", "call_a"),
        ("add", "call_b"),
    ]
    finished = [e for e in tools if isinstance(e, ToolFinished)]
    assert all(e.duration >= 0 and not e.is_error and e.turn == 1 for e in finished)
    assert all(e.arguments is None for e in tools if isinstance(e, ToolCalled)), "not captured"
    messages = [e for e in events if isinstance(e, MessageAdded)]
    assert [(m.index, m.role) for m in messages] == [
        (0, "user"),
        (1, "assistant"),
        (2, "tool"),
        (3, "assistant"),
    ]
    assert messages[1].producer == "custom/scripted" and messages[0].producer is None
    assert all(m.message is None for m in messages)
    assert (messages[1].model, messages[1].provider) == ("scripted", "custom")


async def test_captured_content_is_masked(make_client: MakeClient) -> None:
    events: list[Any] = []
    script = Script(
        [
            Turn(tool_calls=[ToolCall(name="echo_back", arguments={"text": KEY}, id="c1")]),
            Turn(text="done"),
        ]
    )

    def echo_back(text: str) -> str:
        """Say it back.

        Args:
            text: The text.
        """
        return f"you said {text}"

    agent = Agent(
        make_client(script), tools=[echo_back], callbacks=[events.append], capture_content=True
    )
    await agent.run(f"use {KEY}")
    called = next(e for e in events if isinstance(e, ToolCalled))
    done = next(e for e in events if isinstance(e, ToolFinished))
    assert called.arguments == '{"text":"[redacted]"}'
    assert done.result == "you said [redacted]"
    prompt = next(e for e in events if isinstance(e, MessageAdded))
    assert prompt.message is not None and prompt.message.text == "use [redacted]"
    assert KEY not in repr(events)


async def test_async_callbacks_run_in_the_agents_block(
    make_client: MakeClient, tmp_path: Path
) -> None:
    heard: list[TelemetryEvent] = []

    async def listener(event: TelemetryEvent) -> None:
        heard.append(event)

    agent = Agent(make_client(_script()), tools=[add], callbacks=[listener])
    with pytest.raises(InvalidOptionError, match="async with"):
        await agent.run("too early")
    path = tmp_path / "run.jsonl"
    with JsonlSink(path) as sink:
        async with Agent(
            make_client(_script()), tools=[add], callbacks=[listener, sink]
        ) as running:
            result = await running.run("add things")
    assert len(heard) == 14 and heard[-1].run_id == result.run_id
    assert list(JsonlSink.read(path, strict=True)) == heard


async def test_the_agent_falls_back_with_an_event(make_client: MakeClient) -> None:
    def down(request: ChatInput) -> Turn:
        return Turn(text="", fault="status=503")

    def up(request: ChatInput) -> Turn:
        return Turn(text="from the second")

    events: list[Any] = []
    agent = Agent(
        [make_client(down, name="down"), make_client(up, name="up")], callbacks=[events.append]
    )
    result = await agent.run("hello")
    assert result.output == "from the second"
    fallback = next(e for e in events if isinstance(e, FallbackUsed))
    assert (fallback.from_model, fallback.to_model) == ("custom/down", "custom/up")
    assert fallback.reason == "ServerError 503"
    names = [type(e).__name__ for e in events]
    assert (
        names.index("RequestFailed")
        < names.index("FallbackUsed")
        < names.index("RequestStarted", 3)
    )
    started = [e for e in events if isinstance(e, RequestStarted)]
    assert [e.model for e in started] == ["down", "up"]
    assert isinstance(events[-2], RequestFinished) and events[-2].served_by == "custom/up"


async def test_a_shared_callbacks_set_and_no_callbacks(make_client: MakeClient) -> None:
    events: list[Any] = []
    shared = Callbacks([events.append])
    agent = Agent(make_client(_script()), tools=[add], callbacks=shared)
    await agent.run("one")
    assert agent.callbacks is shared and len(events) == 14
    quiet = Agent(make_client(_script()), tools=[add])
    assert quiet.callbacks is None
    assert (await quiet.run("two")).output == "5 and 9"


def test_the_conversation_message_hook() -> None:
    heard: list[tuple[str, str | None]] = []
    conversation = Conversation([Message.user("before the listener")])
    stop = conversation.on_message(lambda m, producer: heard.append((m.text, producer)))
    conversation.add(Message.assistant("hi"), "openai/gpt-4o-mini")
    conversation.append(Message.user("and you?"))
    fork = conversation.fork()
    fork.add(Message.assistant("not heard: forks keep no listeners"))
    stop()
    conversation.add(Message.assistant("not heard: stopped"))
    stop()  # stopping twice is harmless
    assert heard == [("hi", "openai/gpt-4o-mini"), ("and you?", None)]


async def test_the_agents_events_mask_its_clients_keys(llm: FakeLLMServer) -> None:
    bare = "Qm3xT9vLp2RkW8nZc4HjY6bFd1GsA7eU"  # no prefix: masked only because it is known
    llm.models["keyed"] = Script(
        [
            Turn(tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 2}, id="k1")]),
            Turn(text=f"the key was {bare}"),
        ]
    )
    events: list[Any] = []
    async with Client("keyed", base_url=llm.base_url, api_key=bare) as client:
        agent = Agent(client, tools=[add], callbacks=[events.append], capture_content=True)
        result = await agent.run(f"remember {bare}")
    assert bare in result.output, "the run's own data is not masked"
    texts = [msgspec.json.encode(e).decode() for e in events]
    assert any("[redacted]" in t for t in texts)
    assert not any(bare in t for t in texts)
