"""Approval that waits for a person: ``defer`` and the ``RunState`` a run is resumed from.

With ``approval=defer`` a run that reaches calls needing approval ends at once with
``stop_reason="approval_required"``: the turn's other calls have run, the pending ones are in
``result.pending``, and ``result.state`` holds everything needed to go on, as JSON. Days later,
in another process, ``agent.resume(RunState.from_json(text), decisions)`` runs the decided
calls and continues with the next model call: the model is not asked again for the turn that
asked for the calls.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from atoll_tools import ApprovalDecision, ApprovalRequest
from atoll_wire import ToolCallPart, ToolResultPart, Usage

from ._exceptions import ResumeError
from ._result import PendingCall, Tally, ToolCallRecord

_VERSION = 1


class Deferred:
    """The ``defer`` approval policy: decide later, in ``Agent.resume``.

    Only an ``Agent`` can defer. Called directly (by a plain ``ToolSet``), it denies the call
    and says why, rather than run something nobody approved.
    """

    __slots__ = ()

    def __call__(self, request: ApprovalRequest, /) -> ApprovalDecision:
        """Deny: deferral needs an agent run to end and resume."""
        return ApprovalDecision.deny(
            "approval was deferred, and only an atoll_agents Agent can wait for a decision"
        )

    def __repr__(self) -> str:
        return "defer"


defer = Deferred()
"""Pass as ``Agent(approval=defer)``: calls needing approval end the run until resumed."""


class RunState(msgspec.Struct, kw_only=True):
    """Where a run stopped to wait for approval; JSON with ``to_json`` / ``from_json``.

    Attributes:
        run_id: The run's id (kept when it resumes).
        agent: The name of the agent that ran it.
        conversation: The conversation up to the assistant turn that asked for the calls.
        new_from: Where the run's own messages start in it (after the history).
        turn: The turn that asked for the calls.
        calls: Every call of that turn, in the model's order.
        results: Results of the calls that already ran, by call id.
        pending: The calls waiting for a decision.
        usage: Usage so far.
        cost: USD so far as a decimal string, or None when a price was unknown.
        cost_note: Why ``cost`` is None.
        turns: Model calls so far.
        tool_call_count: Tool calls counted against ``max_tool_calls`` so far.
        records: The tool call records so far.
        argument_failures: Consecutive invalid-argument calls per tool.
        output_replies: Replies that failed the output type so far.
        recent_calls: The last calls' signatures, for loop detection.
        version: The format version.
    """

    run_id: str
    agent: str
    conversation: dict[str, Any]
    new_from: int
    turn: int
    calls: list[ToolCallPart]
    results: dict[str, ToolResultPart]
    pending: list[PendingCall]
    usage: Usage
    cost: str | None
    cost_note: str | None = None
    turns: int = 0
    tool_call_count: int = 0
    records: list[ToolCallRecord] = msgspec.field(default_factory=list[ToolCallRecord])
    argument_failures: dict[str, int] = msgspec.field(default_factory=dict[str, int])
    output_replies: list[str] = msgspec.field(default_factory=list[str])
    recent_calls: list[str] = msgspec.field(default_factory=list[str])
    version: int = _VERSION

    def to_json(self) -> str:
        """The state as JSON text."""
        return msgspec.json.encode(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> RunState:
        """Read a state written by ``to_json``.

        Raises:
            ResumeError: The text is not a run state this version can resume.
        """
        try:
            state = msgspec.json.decode(text, type=cls)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ResumeError(f"not a RunState: {exc}") from None
        if state.version != _VERSION:
            raise ResumeError(f"RunState version {state.version} is not {_VERSION}")
        return state

    def tally(self) -> Tally:
        """The usage and cost totals as a ``Tally``."""
        return Tally(
            usage=self.usage,
            cost=None if self.cost is None else Decimal(self.cost),
            note=self.cost_note,
            turns=self.turns,
            tool_calls=self.tool_call_count,
        )
