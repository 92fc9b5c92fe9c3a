"""The loop end to end on scripted models: turns, parallel calls, bad input, repair, loops."""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import pytest
from atoll_agents import (
    Agent,
    RepairRequested,
    RunContext,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
)
from atoll_testing import ChatInput, Script, ToolCall, Turn
from atoll_tools import Tool, tool
from atoll_wire import Message, TextDelta, TextPart, ToolCallStart, ToolResultPart

from .conftest import MakeClient

pytestmark = pytest.mark.anyio


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


def text_of(result: ToolResultPart | None) -> str:
    """The text of a tool result ("" for none)."""
    if result is None:
        return ""
    return "".join(p.text for p in result.content if isinstance(p, TextPart))


def assert_valid(messages: list[Message]) -> None:
    """Every tool call is answered, in order, by the message right after it."""
    for position, message in enumerate(messages):
        calls = message.tool_calls
        if not calls:
            continue
        answer = messages[position + 1]
        results = [p for p in answer.parts if isinstance(p, ToolResultPart)]
        assert [r.call_id for r in results] == [c.id for c in calls]


async def test_multi_turn_tool_use(make_client: MakeClient) -> None:
    script = Script(
        [
            Turn(tool_calls=[ToolCall(name="add", arguments={"a": 2, "b": 3})]),
            Turn(tool_calls=[ToolCall(name="add", arguments={"a": 5, "b": 10})]),
            "The sum is 15.",
        ]
    )
    agent = Agent(make_client(script), tools=[add], instructions="Use the tool.", name="calc")
    result = await agent.run("2+3, then +10")
    assert result.output == "The sum is 15."
    assert result.stop_reason == "completed"
    assert result.turns == 3
    assert [text_of(r.result) for r in result.tool_calls] == ["5", "15"]
    assert [r.turn for r in result.tool_calls] == [1, 2]
    assert all(r.duration >= 0 and not r.is_error for r in result.tool_calls)
    assert [m.role for m in result.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert result.new_messages == result.messages
    assert_valid(result.messages)
    assert script.remaining == 0


async def test_parallel_calls_run_concurrently_results_in_model_order(
    make_client: MakeClient,
) -> None:
    both = anyio.Event()
    arrived: list[str] = []
    finished: list[str] = []

    async def slow(name: str) -> str:
        """Wait for the other call.

        Args:
            name: Who.
        """
        arrived.append(name)
        if len(arrived) == 2:
            both.set()
        with anyio.fail_after(5):
            await both.wait()  # only returns if both calls run at once
        if name == "first":
            await anyio.sleep(0.05)  # the first call finishes last
        finished.append(name)
        return name.upper()

    def boom() -> str:
        """Always fails."""
        raise RuntimeError("disk on fire")

    script = Script(
        [
            Turn(
                tool_calls=[
                    ToolCall(name="slow", arguments={"name": "first"}, id="c1"),
                    ToolCall(name="boom", id="c2"),
                    ToolCall(name="slow", arguments={"name": "second"}, id="c3"),
                ]
            ),
            "done",
        ]
    )
    agent = Agent(make_client(script), tools=[slow, boom])
    result = await agent.run("go")
    assert finished == ["second", "first"]
    results = result.messages[2].parts
    assert [p.call_id for p in results if isinstance(p, ToolResultPart)] == ["c1", "c2", "c3"]
    texts = [text_of(r.result) for r in result.tool_calls]
    assert texts[0] == "FIRST" and texts[2] == "SECOND"
    assert "disk on fire" in texts[1] and result.tool_calls[1].error == "ToolExecutionError"


async def test_sequential_tool_runs_calls_one_at_a_time(make_client: MakeClient) -> None:
    running = 0
    peak = 0

    async def write(line: str) -> str:
        """Append a line.

        Args:
            line: The line.
        """
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.01)
        running -= 1
        return line

    calls = [ToolCall(name="write", arguments={"line": str(i)}) for i in range(4)]
    agent = Agent(
        make_client(Script([Turn(tool_calls=calls), "ok"])), tools=[write], sequential=["write"]
    )
    result = await agent.run("write")
    assert peak == 1
    assert [text_of(r.result) for r in result.tool_calls] == ["0", "1", "2", "3"]


async def test_bad_input_becomes_results_the_model_can_act_on(make_client: MakeClient) -> None:
    @tool(timeout=0.05)
    async def nap() -> str:
        """Sleep too long."""
        await anyio.sleep(5)
        return "rested"

    @tool(requires_approval=True)
    def delete(path: str) -> str:
        """Delete a file.

        Args:
            path: The file.
        """
        raise AssertionError("never approved")

    seen: list[ChatInput] = []

    def model(request: ChatInput) -> Turn:
        seen.append(request)
        if request.tool_results:
            return Turn(text="handled")
        return Turn(
            tool_calls=[
                ToolCall(name="serch", arguments={"q": "x"}, id="unknown"),
                ToolCall(name="add", arguments='{"a": 1, "b":', id="cut"),
                ToolCall(name="add", arguments={"a": "one", "b": 2}, id="typed"),
                ToolCall(name="nap", id="slow"),
                ToolCall(name="delete", arguments={"path": "/etc"}, id="denied"),
            ]
        )

    agent = Agent(make_client(model), tools=[add, nap, delete])
    result = await agent.run("try everything")
    assert result.output == "handled"
    errors = {r.id: r.error for r in result.tool_calls}
    assert errors == {
        "unknown": "UnknownToolError",
        "cut": "ToolArgumentsError",
        "typed": "ToolArgumentsError",
        "slow": "ToolTimeoutError",
        "denied": "ToolDeniedError",
    }
    sent = {r.call_id: r.content for r in seen[-1].tool_results}
    assert "Available tools: add, delete, nap" in sent["unknown"]
    assert "cut off" in sent["cut"] or "JSON" in sent["cut"]
    # Two bad calls of one tool in one turn: each uses up a retry (in whichever order they ran).
    told = {sent["cut"].rsplit("\n", 1)[-1], sent["typed"].rsplit("\n", 1)[-1]}
    assert told == {
        "You have 2 retries left for this tool.",
        "You have 1 retry left for this tool.",
    }
    assert "timed out" in sent["slow"]
    assert "denied" in sent["denied"]
    assert_valid(result.messages)


async def test_repair_turn_tells_the_retries_left_then_refuses(make_client: MakeClient) -> None:
    bad = Turn(tool_calls=[ToolCall(name="add", arguments={"a": "x", "b": 1})])
    fixed = Turn(tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 1})])
    script = Script([bad, fixed, "2"])
    agent = Agent(make_client(script), tools=[add], tool_retries=2)
    async with agent.run_stream("1+1") as run:
        events = [e async for e in run]
    repairs = [e for e in events if isinstance(e, RepairRequested)]
    assert len(repairs) == 1 and repairs[0].kind == "arguments" and repairs[0].retries_left == 2
    assert "You have 2 retries left" in repairs[0].message
    assert run.result.output == "2"
    # Three bad calls in a row: told 2, then 1, then none left; a fourth is refused unrun.
    calls = [Turn(tool_calls=[ToolCall(name="add", arguments={"a": str(i)})]) for i in range(4)]
    script = Script([*calls, "gave up"])
    ran: list[int] = []

    def counting(a: int) -> int:
        """Count.

        Args:
            a: A number.
        """
        ran.append(a)
        return a

    agent = Agent(make_client(script), tools=[Tool(counting, name="add")], tool_retries=2)
    result = await agent.run("go")
    texts = [text_of(r.result) for r in result.tool_calls]
    assert "2 retries left" in texts[0] and "1 retry left" in texts[1]
    assert "No retries left" in texts[2] and "refuses further calls" in texts[3]
    assert ran == []


async def test_loop_detection_stops_the_run(make_client: MakeClient) -> None:
    same = Turn(tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 1})])
    script = Script([same], repeat_last=True)
    agent = Agent(make_client(script), tools=[add], max_repeats=3)
    result = await agent.run("loop")
    assert result.stop_reason == "loop_detected"
    assert result.turns == 3
    assert [r.error for r in result.tool_calls] == [None, None, "not_run"]
    assert_valid(result.messages)
    assert result.output is None


async def test_long_tool_output_is_truncated_with_a_note(make_client: MakeClient) -> None:
    def dump() -> str:
        """A lot of text."""
        return "x" * 5000

    seen: list[str] = []

    def model(request: ChatInput) -> Turn:
        if request.tool_results:
            seen.append(request.tool_results[0].content)
            return Turn(text="ok")
        return Turn(tool_calls=[ToolCall(name="dump")])

    agent = Agent(make_client(model), tools=[dump], max_tool_output=100)
    await agent.run("dump")
    assert seen[0].startswith("x" * 100) and "x" * 101 not in seen[0]
    assert "first 100 of 5000 characters" in seen[0]


async def test_history_processor_trims_what_is_sent(make_client: MakeClient) -> None:
    counts: list[int] = []

    def model(request: ChatInput) -> Turn:
        counts.append(request.message_count)
        return Turn(text="ok")

    def last_two(messages: list[Message]) -> list[Message]:
        return messages[-2:]

    history = [Message.user(f"old {i}") for i in range(6)]
    agent = Agent(make_client(model), history_processor=last_two)
    result = await agent.run("new", history=history)
    assert counts == [2]
    assert len(result.messages) == 8 and len(result.new_messages) == 2


async def test_tools_see_run_context_outside_their_schema(make_client: MakeClient) -> None:
    seen: dict[str, Any] = {}

    async def whoami(ctx: RunContext[dict[str, str]], loud: bool = False) -> str:
        """Say who is asking.

        Args:
            ctx: The run.
            loud: Shout.
        """
        seen.update(
            user=ctx.deps["user"],
            run_id=ctx.run_id,
            call=ctx.tool_call_id,
            messages=len(ctx.messages),
            turns=ctx.turn,
        )
        return ctx.deps["user"].upper() if loud else ctx.deps["user"]

    def model(request: ChatInput) -> Turn:
        if request.tool_results:
            return Turn(text=request.tool_results[0].content)
        tools = json.loads(request.body)["tools"]
        assert set(tools[0]["function"]["parameters"]["properties"]) == {"loud"}
        return Turn(tool_calls=[ToolCall(name="whoami", arguments={"loud": True}, id="w1")])

    agent = Agent(make_client(model), tools=[whoami])
    result = await agent.run("who?", deps={"user": "ann"})
    assert result.output == "ANN"
    assert seen == {
        "user": "ann",
        "run_id": result.run_id,
        "call": "w1",
        "messages": 2,
        "turns": 1,
    }


async def test_run_is_run_stream_drained_and_waits_for_the_complete_response(
    make_client: MakeClient,
) -> None:
    # Text first, then a tool call in the same response: the run must not end on the text.
    script = Script(
        [
            Turn(
                text="Let me add that up.",
                tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 2})],
            ),
            "3",
        ]
    )
    client = make_client(script)
    agent = Agent(client, tools=[add])
    async with agent.run_stream("1+2") as run:
        kinds = [type(e).__name__ async for e in run]
    streamed = run.result
    assert streamed.output == "3" and streamed.turns == 2
    assert kinds.index("TextDelta") < kinds.index("ToolCallStart") < kinds.index("TurnFinished")
    assert kinds.index("TurnFinished") < kinds.index("ToolCallStarted")
    assert kinds.index("ToolCallStarted") < kinds.index("ToolCallFinished")
    assert kinds.count("TurnFinished") == 2
    script.push(
        Turn(
            text="Let me add that up.",
            tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 2})],
        ),
        "3",
    )
    drained = await agent.run("1+2")
    assert drained.output == streamed.output
    assert [m.role for m in drained.messages] == [m.role for m in streamed.messages]


async def test_stream_events_are_the_models_own_and_typed(make_client: MakeClient) -> None:
    script = Script([Turn(tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 2})]), "3"])
    agent = Agent(make_client(script), tools=[add])
    async with agent.run_stream("1+2") as run:
        events = [e async for e in run]
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert starts[0].name == "add"
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert started[0].call.name == "add" and finished[0].record.result is not None
    turns = [e for e in events if isinstance(e, TurnFinished)]
    assert [t.turn for t in turns] == [1, 2]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "3"


async def test_text_only_agent_and_message_history(make_client: MakeClient) -> None:
    def model(request: ChatInput) -> Turn:
        return Turn(text=f"{request.message_count} messages; last: {request.last_user_text}")

    agent = Agent(make_client(model), instructions="Be brief.")
    first = await agent.run("hello")
    again = await agent.run("and again", history=first.messages)
    assert again.output == "4 messages; last: and again"  # the instructions, then three
    assert [m.text for m in again.new_messages] == ["and again", again.output]


async def test_many_concurrent_runs_on_one_agent(make_client: MakeClient) -> None:
    def model(request: ChatInput) -> Turn:
        if request.tool_results:
            return Turn(text=request.tool_results[0].content)
        n = int(request.last_user_text)
        return Turn(tool_calls=[ToolCall(name="add", arguments={"a": n, "b": n})])

    agent = Agent(make_client(model), tools=[add])
    outputs: dict[int, str] = {}

    async def one(n: int) -> None:
        outputs[n] = (await agent.run(str(n))).output

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for n in range(20):
            group.start_soon(one, n)
    assert outputs == {n: str(2 * n) for n in range(20)}
    assert time.perf_counter() - started < 30
