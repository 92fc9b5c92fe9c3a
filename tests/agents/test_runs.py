"""Sub-agents as tools, cancellation, conversations, run_many, and agent construction errors."""

from __future__ import annotations

import pickle
from decimal import Decimal

import anyio
import pytest
from atoll_agents import (
    Agent,
    AgentDefinitionError,
    AgentResult,
    Conversation,
    RunFailure,
    ToolCallFinished,
    ToolCallStarted,
    UsageLimitExceeded,
    UsageLimits,
    run_many,
)
from atoll_generic import Progress
from atoll_testing import ChatInput, FakeLLMServer, Script, ToolCall, Turn
from atoll_tools import Tool, ToolSet
from atoll_wire import Message, ToolResultPart
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import MakeClient
from .test_loop import add, assert_valid, text_of

pytestmark = pytest.mark.anyio


def priced(text: str) -> Turn:
    return Turn(text=text, input_tokens=1000, output_tokens=500)


async def test_an_agent_as_a_tool_rolls_up_usage_and_cost(make_client: MakeClient) -> None:
    def researcher_model(request: ChatInput) -> Turn:
        return priced(f"notes on {request.last_user_text}")

    def lead_model(request: ChatInput) -> Turn:
        if request.tool_results:
            return priced(f"report: {request.tool_results[0].content}")
        return Turn(
            tool_calls=[ToolCall(name="research", arguments={"prompt": "atolls"})],
            input_tokens=1000,
            output_tokens=500,
        )

    researcher = Agent(
        make_client(researcher_model, "openai/gpt-4o-mini"),
        instructions="You research.",
        name="researcher",
    )
    lead = Agent(
        make_client(lead_model, "openai/gpt-4.1-mini"),
        tools=[researcher.as_tool("research", "Research a topic.")],
        name="lead",
    )
    result = await lead.run("write a report")
    assert result.output == "report: notes on atolls"
    assert result.turns == 2  # the lead's own calls
    assert result.usage.input_tokens == 3000 and result.usage.output_tokens == 1500
    own = sum((r.cost.total for r in result.responses), Decimal(0))
    assert result.cost == own + Decimal("0.00045")  # plus the researcher's one call
    spec = lead.toolset["research"].spec()
    assert spec.description == "Research a topic."
    assert set(spec.parameters["properties"]) == {"prompt"}


async def test_unpriced_sub_agent_makes_the_total_unknown(make_client: MakeClient) -> None:
    helper = Agent(make_client(lambda r: Turn(text="hi")), name="helper")
    lead = Agent(
        make_client(
            Script([Turn(tool_calls=[ToolCall(name="helper", arguments={"prompt": "x"})]), "ok"]),
            "openai/gpt-4o-mini",
        ),
        tools=[helper.as_tool("helper")],
    )
    result = await lead.run("go")
    assert result.cost is None
    assert result.cost_note is not None and "helper" in result.cost_note


async def test_cancelling_a_run_leaves_the_conversation_valid(make_client: MakeClient) -> None:
    started = anyio.Event()
    cancelled: list[bool] = []

    async def slow(n: int) -> int:
        """Slow.

        Args:
            n: A number.
        """
        started.set()
        try:
            await anyio.sleep(30)
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise
        return n

    script = Script(
        [
            Turn(tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 1}, id="a1")]),
            Turn(
                tool_calls=[
                    ToolCall(name="slow", arguments={"n": 1}, id="s1"),
                    ToolCall(name="add", arguments={"a": 2, "b": 2}, id="a2"),
                ]
            ),
        ]
    )
    agent = Agent(make_client(script), tools=[add, slow])
    run = agent.run_stream("go")
    with anyio.move_on_after(10) as scope:
        async with run:
            async for event in run:
                # Cancel once the quick sibling finished and the slow call is running.
                if isinstance(event, ToolCallFinished) and event.record.id == "a2":
                    await started.wait()
                    scope.cancel()
    assert scope.cancelled_caught
    assert cancelled == [True], "the running tool was cancelled"
    messages = run.messages
    assert_valid(messages)
    results = {p.call_id: p for p in messages[-1].parts if isinstance(p, ToolResultPart)}
    assert results["s1"].is_error and "cancelled" in text_of(results["s1"])
    assert not results["a2"].is_error
    assert run.result.stop_reason == "cancelled"
    records = {r.id: r.error for r in run.result.tool_calls}
    assert records == {"a1": None, "s1": "cancelled", "a2": None}
    # The run can go on from there.
    script.push("resumed")
    again = await agent.run("go on", history=run.messages)
    assert again.output == "resumed"


async def test_cancelling_during_the_model_stream(make_client: MakeClient) -> None:
    slow = Turn(text="a b c d e f g h i j", fault="chunk-delay=0.2")
    agent = Agent(make_client(Script([slow])))
    run = agent.run_stream("go")
    with anyio.move_on_after(0.3):
        async with run:
            async for _ in run:
                pass
    assert run.messages == [Message.user("go")]
    assert run.result.stop_reason == "cancelled"


async def test_leaving_the_stream_early_stops_the_run(make_client: MakeClient) -> None:
    script = Script([Turn(tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 1})]), "2"])
    agent = Agent(make_client(script), tools=[add])
    async with agent.run_stream("go") as run:
        async for event in run:
            if isinstance(event, ToolCallStarted):
                break
    assert_valid(run.messages)
    assert script.remaining == 1


async def test_conversations_fork_save_load_and_continue(make_client: MakeClient) -> None:
    def model(request: ChatInput) -> Turn:
        return Turn(text=f"{request.message_count}: {request.last_user_text}")

    agent = Agent(make_client(model))
    first = await agent.run("one")
    convo = first.conversation
    branch = convo.fork(0)  # only the first user message
    assert branch.pile is convo.pile and len(branch) == 1
    loaded = Conversation.from_json(convo.to_json())
    assert loaded.messages == convo.messages
    assert [i.producer for i in loaded.items] == [None, "custom/scripted"]
    assert [i.id for i in loaded.items] == [i.id for i in convo.items]
    later = await agent.run("two", history=loaded)
    assert later.output == "3: two"
    assert len(loaded) == 2, "a history given as a Conversation is forked, not changed"
    other = await agent.run("elsewhere", history=branch)
    assert other.output == "2: elsewhere"
    assert pickle.loads(pickle.dumps(convo)).messages == convo.messages


@settings(max_examples=50, deadline=None)
@given(
    texts=st.lists(st.text(max_size=20), min_size=1, max_size=12),
    data=st.data(),
)
def test_forks_share_the_prefix_and_never_each_others_tails(
    texts: list[str], data: st.DataObject
) -> None:
    convo = Conversation(Message.user(t) for t in texts)
    at = data.draw(st.integers(min_value=0, max_value=len(texts) - 1))
    fork = convo.fork(at)
    fork.append(Message.assistant("branch"))
    convo.append(Message.assistant("trunk"))
    assert fork.messages[: at + 1] == convo.messages[: at + 1]
    assert fork[-1].text == "branch" and convo[-1].text == "trunk"
    assert len(fork) == at + 2 and len(convo) == len(texts) + 1
    assert len(convo.pile) == len(texts) + 2  # one Pile, nothing copied
    assert Conversation.from_json(fork.to_json()).messages == fork.messages


async def test_run_many_two_hundred_runs_with_progress(make_client: MakeClient) -> None:
    def model(request: ChatInput) -> Turn:
        if request.tool_results:
            return Turn(text=request.tool_results[0].content)
        n = int(request.last_user_text)
        if n == 13:
            return Turn(fault="status=400; message=unlucky")
        return Turn(tool_calls=[ToolCall(name="add", arguments={"a": n, "b": 1})])

    agent = Agent(make_client(model), tools=[add])
    progress: list[Progress] = []
    outcomes = await run_many(
        agent, [str(n) for n in range(200)], concurrency=16, on_progress=progress.append
    )
    assert len(outcomes) == 200
    for n, outcome in enumerate(outcomes):
        if n == 13:
            assert isinstance(outcome, RunFailure) and outcome.status == "failed"
            assert outcome.index == 13 and "unlucky" in str(outcome.error)
        else:
            assert isinstance(outcome, AgentResult) and outcome.output == str(n + 1)
    assert len(progress) == 200 and progress[-1].done == 200 and progress[-1].failed == 1
    assert max(p.in_flight for p in progress) <= 16


async def test_cancelling_run_many_keeps_every_finished_result(make_client: MakeClient) -> None:
    def model(request: ChatInput) -> Turn:
        n = int(request.last_user_text)
        return Turn(text=str(n), fault=None if n < 5 else "delay=5")

    agent = Agent(make_client(model))
    batch = run_many(agent, [str(n) for n in range(10)], concurrency=10)
    with anyio.move_on_after(1.5):
        await batch
    done = [o for o in batch.outcomes if isinstance(o, AgentResult)]
    assert sorted(o.output for o in done) == ["0", "1", "2", "3", "4"]
    cancelled = [o for o in batch.outcomes if isinstance(o, RunFailure)]
    assert [o.index for o in cancelled] == [5, 6, 7, 8, 9]
    assert all(o.status == "cancelled" for o in cancelled)


async def test_run_many_failure_keeps_the_partial_result(make_client: MakeClient) -> None:
    script = Script([Turn(tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": 1})])])
    agent = Agent(
        make_client(script, "openai/gpt-4o-mini"), tools=[add], limits=UsageLimits(max_turns=1)
    )
    [outcome] = await run_many(agent, ["go"])
    assert isinstance(outcome, RunFailure) and isinstance(outcome.error, UsageLimitExceeded)
    assert outcome.error.result is not None and outcome.error.result.turns == 1


async def test_agent_definition_errors(make_client: MakeClient, llm: FakeLLMServer) -> None:
    client = make_client(Script([]))

    def other_add(a: int) -> int:
        """Add.

        Args:
            a: A.
        """
        return a

    with pytest.raises(AgentDefinitionError, match="two tools are named 'add'"):
        Agent(client, tools=[add, Tool(other_add, name="add")])
    with pytest.raises(AgentDefinitionError, match="two tools are named 'add'"):
        Agent(client, tools=[ToolSet([add]), add])
    with pytest.raises(AgentDefinitionError, match="temprature"):
        Agent(client, temprature=0.2)
    with pytest.raises(AgentDefinitionError, match="tool_choice cannot be a model setting"):
        Agent(client, tools=[add], tool_choice="none")
    with pytest.raises(AgentDefinitionError, match="reserved for the output type"):
        Agent(client, tools=[Tool(other_add, name="final_result")], output=int)
    with pytest.raises(AgentDefinitionError, match="at least one model"):
        Agent([])
    with pytest.raises(AgentDefinitionError, match="sequential names unknown tools"):
        Agent(client, tools=[add], sequential=["nope"])
    error = AgentDefinitionError("bad", agent="a")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.agent, str(copy)) == ("bad", "a", str(error))
    assert type(copy).__module__ == "atoll_agents"
    assert len(llm.requests) == 0
