"""Events a streaming run yields besides the model's own stream events.

``async for event in run`` gives the model's ``atoll_wire`` stream events unchanged (text,
thinking and tool-call deltas with their partial arguments) interleaved with these.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from atoll_tools import ApprovalDecision, JSONValue
from atoll_wire import StreamEvent, ToolCallPart, Usage

if TYPE_CHECKING:
    from atoll_dialects import ClientResponse

    from ._result import ToolCallRecord


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """A tool call is about to run (before validation and approval).

    Attributes:
        call: The model's call.
        turn: The model turn that asked for it.
    """

    call: ToolCallPart
    turn: int


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """A tool call has its result (success, error result, denial or timeout).

    Attributes:
        record: The call's record: arguments, result, duration, approval decision.
    """

    record: ToolCallRecord


@dataclass(frozen=True, slots=True)
class ApprovalRequested:
    """A call needs approval.

    The approval callback is being asked, or (``defer``) the run will end with it pending.

    Attributes:
        call: The model's call.
        arguments: The validated arguments.
        deferred: True when the decision is deferred to ``Agent.resume``.
    """

    call: ToolCallPart
    arguments: dict[str, Any]
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class ApprovalDecided:
    """The approval callback (or a ``resume`` decision) answered.

    Attributes:
        call: The model's call.
        decision: Approve, approve with edited arguments, or deny with a reason.
    """

    call: ToolCallPart
    decision: ApprovalDecision


@dataclass(frozen=True, slots=True)
class RepairRequested:
    """Something the model sent was sent back for it to fix.

    Attributes:
        kind: ``arguments`` (invalid or non-JSON arguments), ``unknown_tool`` (a tool name
            the model invented) or ``output`` (a final reply that failed the output type).
        message: What the model was told.
        retries_left: Further failures allowed for that tool (or for the output).
        call: The call concerned, when there is one.
    """

    kind: Literal["arguments", "unknown_tool", "output"]
    message: str
    retries_left: int
    call: ToolCallPart | None = None


@dataclass(frozen=True, slots=True)
class TurnFinished:
    """A model call finished.

    Attributes:
        turn: The turn number (1-based).
        response: The model's whole response.
        usage: This call's usage.
        cost: This call's cost in USD, or None when its price is unknown.
        cost_note: Why ``cost`` is None.
    """

    turn: int
    response: ClientResponse
    usage: Usage
    cost: Decimal | None
    cost_note: str | None


@dataclass(frozen=True, slots=True)
class PartialOutput:
    """The structured output received so far, while the final reply streams (not validated).

    Attributes:
        value: The partially filled value (plain JSON data).
    """

    value: JSONValue


AgentEvent: TypeAlias = (
    StreamEvent
    | ToolCallStarted
    | ToolCallFinished
    | ApprovalRequested
    | ApprovalDecided
    | RepairRequested
    | TurnFinished
    | PartialOutput
)
"""Everything ``async for event in run`` can yield."""
