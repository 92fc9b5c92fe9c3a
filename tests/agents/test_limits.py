"""Budgets: every limit stops the run before the step that could overrun it; honest cost."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from atoll_agents import Agent, AgentDefinitionError, UsageLimitExceeded, UsageLimits
from atoll_testing import ChatInput, FakeLLMServer, ToolCall, Turn
from atoll_wire import ToolResultPart

from .conftest import MakeClient
from .test_loop import add, assert_valid, text_of

pytestmark = pytest.mark.anyio


def adder(request: ChatInput) -> Turn:
    """Calls add once per turn, forever; 1,000 tokens in and 500 out per call."""
    return Turn(
        tool_calls=[ToolCall(name="add", arguments={"a": 1, "b": len(request.tool_results)})],
        input_tokens=1000,
        output_tokens=500,
    )


async def test_max_turns_stops_before_the_call(make_client: MakeClient, llm: FakeLLMServer) -> None:
    agent = Agent(make_client(adder), tools=[add], limits=UsageLimits(max_turns=2))
    with pytest.raises(UsageLimitExceeded) as caught:
        await agent.run("go")
    error = caught.value
    assert (error.limit, error.value, error.used, error.requested) == ("max_turns", 2, 2, 1)
    assert len(llm.requests) == 2
    assert error.result is not None and error.result.turns == 2
    assert error.result.stop_reason == "usage_limit"
    assert_valid(error.result.messages)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.limit == "max_turns" and copy.result.turns == 2
    assert copy.result.messages == error.result.messages


async def test_max_tool_calls_stops_before_running_them(make_client: MakeClient) -> None:
    ran: list[int] = []

    def count(n: int) -> int:
        """Count.

        Args:
            n: A number.
        """
        ran.append(n)
        return n

    def model(request: ChatInput) -> Turn:
        return Turn(tool_calls=[ToolCall(name="count", arguments={"n": i}) for i in range(3)])

    agent = Agent(make_client(model), tools=[count], limits=UsageLimits(max_tool_calls=2))
    with pytest.raises(UsageLimitExceeded) as caught:
        await agent.run("go")
    assert caught.value.limit == "max_tool_calls" and caught.value.requested == 3
    assert ran == []
    result = caught.value.result
    assert result is not None
    assert_valid(result.messages)
    answers = [p for p in result.messages[-1].parts if isinstance(p, ToolResultPart)]
    assert all(a.is_error and "not run" in text_of(a) for a in answers)


@pytest.mark.parametrize(
    ("limits", "name", "calls"),
    [
        # The second call's input is at least 1,000 + 500 reported tokens: refused at 1,400.
        (UsageLimits(max_input_tokens=1400), "max_input_tokens", 1),
        # 500 used + a ceiling of 100 fits 600; the third call would need 1,100.
        (UsageLimits(max_output_tokens=1050), "max_output_tokens", 2),
        (UsageLimits(max_total_tokens=1700), "max_total_tokens", 1),
    ],
)
async def test_token_budgets_reserve_the_worst_case(
    make_client: MakeClient,
    llm: FakeLLMServer,
    limits: UsageLimits,
    name: str,
    calls: int,
) -> None:
    client = make_client(adder, "openai/gpt-4o-mini")
    agent = Agent(client, tools=[add], limits=limits, max_tokens=100)
    with pytest.raises(UsageLimitExceeded) as caught:
        await agent.run("go")
    assert caught.value.limit == name
    assert len(llm.requests) == calls
    assert caught.value.result is not None and caught.value.result.turns == calls
    used = caught.value.result.usage
    assert used.input_tokens == 1000 * calls and used.output_tokens == 500 * calls
    # Never after: what was used stays within the limit.
    value = caught.value.value
    total = {"max_input_tokens": used.input_tokens, "max_output_tokens": used.output_tokens}
    assert total.get(name, (used.total_tokens or 0)) <= value


async def test_max_cost_reserves_the_priced_worst_case(
    make_client: MakeClient, llm: FakeLLMServer
) -> None:
    client = make_client(adder, "openai/gpt-4o-mini")
    # gpt-4o-mini: $0.15 in, $0.60 out per million. One call: 1,000 in + 500 out = $0.00045;
    # the worst case of the next (max_tokens=1,000) is over $0.0006 more: refused at $0.001.
    agent = Agent(
        client, tools=[add], limits=UsageLimits(max_cost=Decimal("0.001")), max_tokens=1000
    )
    with pytest.raises(UsageLimitExceeded) as caught:
        await agent.run("go")
    error = caught.value
    assert error.limit == "max_cost" and len(llm.requests) == 1
    assert error.result is not None and error.result.cost == Decimal("0.00045")
    assert error.used == Decimal("0.00045") and error.requested > Decimal("0.0006")
    sent = llm.requests[0].json()
    assert sent["max_completion_tokens"] == 1000


async def test_a_budget_sends_the_ceiling_it_reserved(
    make_client: MakeClient, llm: FakeLLMServer
) -> None:
    client = make_client(lambda r: Turn(text="ok"), "openai/gpt-4o-mini")
    agent = Agent(client, limits=UsageLimits(max_output_tokens=100_000))
    await agent.run("hi")
    # The registry's ceiling for the model.
    assert llm.requests[0].json()["max_completion_tokens"] == 16384


async def test_cost_is_summed_or_none_with_a_note(make_client: MakeClient) -> None:
    priced = Agent(
        make_client(adder, "openai/gpt-4o-mini"), tools=[add], limits=UsageLimits(max_turns=3)
    )
    with pytest.raises(UsageLimitExceeded) as caught:
        await priced.run("go")
    result = caught.value.result
    assert result is not None
    assert result.cost == sum((r.cost.total for r in result.responses), Decimal(0))
    assert result.cost == Decimal("0.00135") and result.cost_note is None
    unpriced = Agent(make_client(lambda r: Turn(text="ok")))
    result = await unpriced.run("hi")
    assert result.cost is None
    assert result.cost_note is not None and "scripted" in result.cost_note


async def test_max_cost_on_an_unknown_price_is_refused_when_the_agent_is_made(
    make_client: MakeClient,
) -> None:
    with pytest.raises(AgentDefinitionError, match="custom/scripted"):
        Agent(make_client(adder), limits=UsageLimits(max_cost=1))


@pytest.mark.parametrize(
    "field",
    ["max_turns", "max_tool_calls", "max_input_tokens", "max_output_tokens", "max_total_tokens"],
)
def test_limits_below_zero_fail_clearly(field: str) -> None:
    with pytest.raises(AgentDefinitionError, match=f"{field} must be >= 0, got -1"):
        UsageLimits(**{field: -1})  # type: ignore[arg-type]


def test_a_negative_or_odd_cost_limit_fails_clearly() -> None:
    with pytest.raises(AgentDefinitionError, match="max_cost must be >= 0"):
        UsageLimits(max_cost=-0.5)
    with pytest.raises(AgentDefinitionError, match="max_cost must be a number"):
        UsageLimits(max_cost="lots")
    assert UsageLimits(max_cost=0.25).max_cost == Decimal("0.25")
