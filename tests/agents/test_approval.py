"""People in the loop: approval callbacks, denials, and approval deferred and resumed from JSON."""

from __future__ import annotations

import json

import pytest
from atoll_agents import (
    Agent,
    ApprovalDecided,
    ApprovalRequested,
    ResumeError,
    RunState,
    defer,
)
from atoll_testing import ChatInput, ToolCall, Turn
from atoll_tools import ApprovalDecision, ApprovalRequest, tool
from atoll_wire import ToolResultPart

from .conftest import MakeClient

pytestmark = pytest.mark.anyio

deleted: list[str] = []


@tool(requires_approval=True)
def delete(path: str) -> str:
    """Delete a file.

    Args:
        path: The file.
    """
    deleted.append(path)
    return f"deleted {path}"


@tool
def look(path: str) -> str:
    """List a folder.

    Args:
        path: The folder.
    """
    return f"{path}: a.txt b.txt"


def cleaner(request: ChatInput) -> Turn:
    """Asks to look and to delete two files in one turn, then reports what came back."""
    if request.tool_results:
        return Turn(text=" | ".join(f"{r.call_id}={r.content}" for r in request.tool_results))
    return Turn(
        tool_calls=[
            ToolCall(name="look", arguments={"path": "/tmp"}, id="c1"),
            ToolCall(name="delete", arguments={"path": "/tmp/a.txt"}, id="c2"),
            ToolCall(name="delete", arguments={"path": "/tmp/b.txt"}, id="c3"),
        ]
    )


@pytest.fixture(autouse=True)
def _clean() -> None:
    deleted.clear()


async def test_approval_callback_approves_edits_and_denies(make_client: MakeClient) -> None:
    async def approve(request: ApprovalRequest) -> ApprovalDecision:
        if request.arguments["path"].endswith("a.txt"):
            return ApprovalDecision.approve({"path": "/tmp/a.bak"})
        return ApprovalDecision.deny("b.txt is precious")

    agent = Agent(make_client(cleaner), tools=[look, delete], approval=approve)
    async with agent.run_stream("clean up") as run:
        events = [e async for e in run]
    result = run.result
    assert deleted == ["/tmp/a.bak"]
    assert result.output == (
        "c1=/tmp: a.txt b.txt | c2=deleted /tmp/a.bak | "
        "c3=The call to tool 'delete' was denied: b.txt is precious"
    )
    records = {r.id: r for r in result.tool_calls}
    assert records["c1"].approval is None
    assert records["c2"].approval == ApprovalDecision.approve({"path": "/tmp/a.bak"})
    assert records["c3"].approval is not None and not records["c3"].approval.approved
    assert records["c3"].error == "ToolDeniedError"
    asked = [e.call.id for e in events if isinstance(e, ApprovalRequested)]
    decided = [e.call.id for e in events if isinstance(e, ApprovalDecided)]
    assert sorted(asked) == sorted(decided) == ["c2", "c3"]


async def test_no_approver_means_denied(make_client: MakeClient) -> None:
    agent = Agent(make_client(cleaner), tools=[look, delete])
    result = await agent.run("clean up")
    assert deleted == []
    assert "non-interactive" in str(result.output)


async def test_deferred_approval_resumes_from_json_in_a_fresh_agent(
    make_client: MakeClient,
) -> None:
    served: list[ChatInput] = []

    def model(request: ChatInput) -> Turn:
        served.append(request)
        return cleaner(request)

    client = make_client(model)
    first = Agent(client, tools=[look, delete], approval=defer, name="janitor")
    async with first.run_stream("clean up") as run:
        events = [e async for e in run]
    result = run.result
    assert result.stop_reason == "approval_required"
    assert [p.id for p in result.pending] == ["c2", "c3"]
    assert result.pending[0].arguments == {"path": "/tmp/a.txt"}
    assert [e.call.id for e in events if isinstance(e, ApprovalRequested) and e.deferred] == [
        "c2",
        "c3",
    ]
    assert deleted == []
    assert [r.id for r in result.tool_calls if r.result is not None] == ["c1"]
    assert result.state is not None
    text = result.state.to_json()
    json.loads(text)  # plain JSON, for a database or a queue
    assert len(served) == 1

    # Days later, another process: a fresh agent with the same tools.
    second = Agent(client, tools=[look, delete], approval=defer, name="janitor")
    state = RunState.from_json(text)
    resumed = await second.resume(
        state,
        {"c2": ApprovalDecision.approve(), "c3": ApprovalDecision.deny("keep b")},
    )
    assert len(served) == 2, "the model is not asked again for the turn that asked"
    assert deleted == ["/tmp/a.txt"]
    assert resumed.stop_reason == "completed"
    assert resumed.output == (
        "c1=/tmp: a.txt b.txt | c2=deleted /tmp/a.txt | "
        "c3=The call to tool 'delete' was denied: keep b"
    )
    assert resumed.run_id == result.run_id and resumed.turns == 2
    records = {r.id: r for r in resumed.tool_calls}
    assert records["c2"].approval == ApprovalDecision.approve()
    assert records["c3"].error == "ToolDeniedError"
    tool_message = resumed.messages[2]
    assert [p.call_id for p in tool_message.parts if isinstance(p, ToolResultPart)] == [
        "c1",
        "c2",
        "c3",
    ]


async def test_resume_checks_the_decisions(make_client: MakeClient) -> None:
    agent = Agent(make_client(cleaner), tools=[look, delete], approval=defer)
    result = await agent.run("clean up")
    assert result.state is not None
    with pytest.raises(ResumeError) as missing:
        await agent.resume(result.state, {"c2": ApprovalDecision.approve()})
    assert missing.value.missing == ("c3",)
    with pytest.raises(ResumeError) as unknown:
        await agent.resume(
            result.state,
            {
                "c2": ApprovalDecision.approve(),
                "c3": ApprovalDecision.approve(),
                "c9": ApprovalDecision.approve(),
            },
        )
    assert unknown.value.unknown == ("c9",)
    without = Agent(make_client(cleaner), tools=[look])
    with pytest.raises(ResumeError, match="no tool named"):
        await without.resume(
            result.state, {"c2": ApprovalDecision.approve(), "c3": ApprovalDecision.approve()}
        )
    with pytest.raises(ResumeError, match="not a RunState"):
        RunState.from_json("{}")


def test_defer_outside_an_agent_denies() -> None:
    decision = defer(ApprovalRequest(tool=delete, call=None, arguments={}))  # type: ignore[arg-type]
    assert not decision.approved and "Agent" in (decision.reason or "")
