"""Approval flows: approve, deny with a reason, edit (re-validated), defaults, console helper."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from atoll_tools import (
    ApprovalDecision,
    ApprovalRequest,
    ConsoleApprover,
    Tool,
    ToolArgumentsError,
    ToolDeniedError,
    ToolSet,
    approve_all,
    deny_all,
)
from atoll_wire import TextPart, ToolCallPart, ToolResultPart

pytestmark = pytest.mark.anyio


def text_of(result: ToolResultPart) -> str:
    part = result.content[0]
    assert isinstance(part, TextPart)
    return part.text


class Recorder:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_file(self, path: str, force: bool = False) -> str:
        """Delete a file."""
        self.deleted.append(path)
        return f"deleted {path}"


def make(approval: Any = None) -> tuple[ToolSet, Recorder]:
    recorder = Recorder()
    tools = ToolSet(
        [Tool(recorder.delete_file, requires_approval=True), Tool(lambda: "free", name="free")],
        approval=approval,
    )
    return tools, recorder


def delete(path: str = "/tmp/x") -> ToolCallPart:
    return ToolCallPart(id="d1", name="delete_file", raw_arguments=f'{{"path": "{path}"}}')


async def test_default_policy_denies_without_calling() -> None:
    tools, recorder = make()
    result = await tools.execute(delete())
    assert result.is_error
    assert "non-interactive" in text_of(result)
    assert recorder.deleted == []
    # tools that do not need approval are unaffected
    free = await tools.execute(ToolCallPart(id="f", name="free"))
    assert text_of(free) == "free" and not free.is_error


async def test_approve_runs_the_call_and_sees_validated_arguments() -> None:
    requests: list[ApprovalRequest] = []

    def approver(request: ApprovalRequest) -> ApprovalDecision:
        requests.append(request)
        return ApprovalDecision.approve()

    tools, recorder = make(approver)
    result = await tools.execute(delete("/a"))
    assert text_of(result) == "deleted /a" and recorder.deleted == ["/a"]
    assert requests[0].tool.name == "delete_file"
    assert requests[0].call.id == "d1"
    assert requests[0].arguments == {"path": "/a"}


async def test_deny_with_reason_is_an_error_result_or_raises() -> None:
    async def approver(request: ApprovalRequest) -> ApprovalDecision:
        await anyio.lowlevel.checkpoint()
        return ApprovalDecision.deny("not in the home directory")

    tools, recorder = make(approver)
    result = await tools.execute(delete())
    assert result.is_error
    assert text_of(result) == "The call to tool 'delete_file' was denied: not in the home directory"
    with pytest.raises(ToolDeniedError) as info:
        await tools.execute(delete(), raise_errors=True)
    assert info.value.reason == "not in the home directory" and info.value.call_id == "d1"
    assert recorder.deleted == []


async def test_edited_arguments_are_validated_again_and_used() -> None:
    edits: list[dict[str, Any]] = [{"path": "/safe", "force": True}, {"path": 5}]

    def approver(request: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision.approve(edits.pop(0))

    tools, recorder = make(approver)
    result = await tools.execute(delete("/danger"))
    assert text_of(result) == "deleted /safe" and recorder.deleted == ["/safe"]
    bad = await tools.execute(delete("/danger"))
    assert bad.is_error
    assert "edited by the approver" in text_of(bad)
    assert recorder.deleted == ["/safe"]


async def test_edited_invalid_arguments_raise_with_source() -> None:
    tools, _ = make(lambda request: ApprovalDecision.approve({"nope": 1}))
    with pytest.raises(ToolArgumentsError) as info:
        await tools.execute(delete(), raise_errors=True)
    assert info.value.source == "approval"


async def test_invalid_model_arguments_never_reach_the_approver() -> None:
    asked: list[ApprovalRequest] = []

    def approver(request: ApprovalRequest) -> ApprovalDecision:
        asked.append(request)
        return ApprovalDecision.approve()

    tools, _ = make(approver)
    result = await tools.execute(ToolCallPart(id="x", name="delete_file", raw_arguments="{}"))
    assert result.is_error and asked == []


async def test_stock_policies_and_bad_callbacks() -> None:
    tools, recorder = make(approve_all)
    assert not (await tools.execute(delete())).is_error and recorder.deleted == ["/tmp/x"]
    tools, _ = make(deny_all)
    assert (await tools.execute(delete())).is_error
    tools, _ = make(lambda request: "yes")
    with pytest.raises(TypeError, match="not ApprovalDecision"):
        await tools.execute(delete())


async def test_waiting_for_approval_does_not_count_against_the_timeout() -> None:
    ran: list[str] = []

    async def quick(path: str) -> str:
        ran.append(path)
        return "done"

    async def slow_approver(request: ApprovalRequest) -> ApprovalDecision:
        await anyio.sleep(0.2)  # four times the tool's whole timeout
        return ApprovalDecision.approve()

    tools = ToolSet([Tool(quick, requires_approval=True, timeout=0.05)], approval=slow_approver)
    with anyio.fail_after(5):
        result = await tools.execute(
            ToolCallPart(id="q", name="quick", raw_arguments='{"path": "/a"}')
        )
    assert not result.is_error and text_of(result) == "done" and ran == ["/a"]


async def test_an_approver_that_raises_propagates_and_nothing_runs() -> None:
    def broken(request: ApprovalRequest) -> ApprovalDecision:
        raise RuntimeError("approver bug")

    tools, recorder = make(broken)
    with pytest.raises(RuntimeError, match="approver bug"):
        await tools.execute(delete())
    assert recorder.deleted == []


def scripted(answers: list[str]) -> tuple[ConsoleApprover, list[str]]:
    shown: list[str] = []

    def read(prompt: str) -> str:
        shown.append(prompt)
        if not answers:
            raise EOFError
        return answers.pop(0)

    return ConsoleApprover(input=read, output=shown.append), shown


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["y"], ApprovalDecision.approve()),
        (["YES"], ApprovalDecision.approve()),
        (["n", "too risky"], ApprovalDecision.deny("too risky")),
        (["no", ""], ApprovalDecision.deny("the user denied this call")),
        (
            ["maybe", "e", "not json", "e", "[1]", "e", '{"path": "/b"}'],
            ApprovalDecision.approve({"path": "/b"}),
        ),
        ([], ApprovalDecision.deny("no answer from the user (end of input)")),
    ],
)
async def test_console_approver_dialogue(answers: list[str], expected: ApprovalDecision) -> None:
    approver, shown = scripted(list(answers))
    tools, _ = make(approver)
    request = ApprovalRequest(tool=tools["delete_file"], call=delete(), arguments={"path": "/a"})
    decision = await approver(request)
    assert decision == expected
    assert shown[0].startswith("The model wants to call 'delete_file' with:")
    assert '"path": "/a"' in shown[0]


async def test_console_approver_inside_a_toolset() -> None:
    approver, _ = scripted(["e", '{"path": "/edited"}'])
    tools, recorder = make(approver)
    result = await tools.execute(delete("/orig"))
    assert text_of(result) == "deleted /edited" and recorder.deleted == ["/edited"]


async def test_per_call_approval_overrides_the_toolsets() -> None:
    tools, recorder = make()  # the ToolSet default denies
    result = await tools.execute(delete("/one"), approval=approve_all)
    assert not result.is_error and recorder.deleted == ["/one"]
    many = await tools.execute_many([delete("/two"), delete("/three")], approval=approve_all)
    assert [r.is_error for r in many] == [False, False]
    assert sorted(recorder.deleted) == ["/one", "/three", "/two"]
    assert (await tools.execute(delete("/four"))).is_error  # the default is unchanged


async def test_console_approver_asks_one_call_at_a_time() -> None:
    lines: list[str] = []
    answers = ["y", "n", "no thanks"]

    def read(prompt: str) -> str:
        lines.append(prompt)
        return answers.pop(0)

    approver = ConsoleApprover(input=read, output=lines.append)
    tools, recorder = make(approver)
    results = await tools.execute_many([delete("/p"), delete("/q")])
    # each dialogue is contiguous: shown, asked (and for the denial, the reason)
    starts = [i for i, line in enumerate(lines) if line.startswith("The model wants")]
    assert len(starts) == 2 and lines[starts[0] + 1].startswith("Approve?")
    assert lines[starts[1] + 1].startswith("Approve?")
    assert sorted(r.is_error for r in results) == [False, True]
    assert len(recorder.deleted) == 1


async def test_cancelling_a_waiting_console_approval_does_not_hang() -> None:
    import threading

    release = threading.Event()

    def read(prompt: str) -> str:
        release.wait(5)
        return "y"

    approver = ConsoleApprover(input=read, output=lambda text: None)
    tools, recorder = make(approver)
    try:
        with anyio.move_on_after(0.1) as scope, anyio.fail_after(3):
            await tools.execute(delete())
        assert scope.cancelled_caught and recorder.deleted == []
    finally:
        release.set()
