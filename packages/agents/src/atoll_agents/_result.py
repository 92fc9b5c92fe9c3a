"""What a run gives back: ``AgentResult``, the record of each tool call, and the cost tally."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar

import msgspec
from atoll_tools import ApprovalDecision
from atoll_wire import Message, ToolCallPart, ToolResultPart, Usage

from ._conversation import Conversation

if TYPE_CHECKING:
    from atoll_dialects import ClientResponse

    from ._state import RunState

OutputT = TypeVar("OutputT")

StopReason: TypeAlias = Literal[
    "completed",
    "length",
    "content_filter",
    "incomplete",
    "approval_required",
    "loop_detected",
    "usage_limit",
    "output_invalid",
    "cancelled",
]
"""Why a run ended.

``completed``: a final answer (valid output when an output type was given). ``length`` /
``content_filter``: the final reply was cut off by ``max_tokens`` or a provider filter.
``incomplete``: the final reply's stream ended without the provider saying it was done.
``approval_required``: calls wait for a person (``result.pending``, ``result.state``).
``loop_detected``: the same call repeated too often in a row. ``usage_limit``,
``output_invalid``: on the ``result`` of ``UsageLimitExceeded`` / ``OutputValidationError``.
``cancelled``: on ``run.result`` of a stream that was cancelled.
"""


class ToolCallRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One tool call of a run: what was asked, what came back, how long it took.

    Attributes:
        id: The model's call id.
        name: The tool name the model asked for.
        raw_arguments: The argument text exactly as the model sent it.
        arguments: The parsed arguments (``{}`` when they were not a JSON object).
        turn: The model turn (1-based) that asked for the call.
        result: The result sent back to the model.
        is_error: Whether the result reports a failure.
        error: The failure's kind: ``ToolArgumentsError``, ``UnknownToolError``,
            ``ToolDeniedError``, ``ToolTimeoutError``, ``ToolExecutionError``, ``cancelled``
            or ``not_run`` (the run stopped before it); None on success.
        duration: Seconds from start to result (approval wait included), 0 when not run.
        approval: The approval decision, for tools that need one.
    """

    id: str
    name: str
    raw_arguments: str = ""
    arguments: dict[str, Any] = {}
    turn: int = 0
    result: ToolResultPart | None = None
    is_error: bool = False
    error: str | None = None
    duration: float = 0.0
    approval: ApprovalDecision | None = None


class PendingCall(msgspec.Struct, kw_only=True):
    """A call that waits for a person's decision (``approval=defer``).

    Attributes:
        id: The call id: the key of the ``decisions`` mapping given to ``Agent.resume``.
        name: The tool name.
        arguments: The validated arguments the tool would run with.
        call: The model's call as received.
    """

    id: str
    name: str
    arguments: dict[str, Any]
    call: ToolCallPart


@dataclass(slots=True)
class Tally:
    """Usage and cost summed over every model call of a run (sub-agents included).

    ``cost`` is a sum only while every price is known: one unknown price makes it None, with
    the reason in ``note``, never a partial sum presented as the total.
    """

    usage: Usage = field(default_factory=Usage)
    cost: Decimal | None = Decimal(0)
    note: str | None = None
    turns: int = 0
    tool_calls: int = 0

    def add_response(self, response: ClientResponse) -> None:
        """Count one model call."""
        self.usage = self.usage + response.usage
        cost = response.cost
        self.add_cost(
            None if cost is None else cost.total,
            response.cost_note or f"the price of {response.served_by or 'a model'} is unknown",
        )

    def add_cost(self, amount: Decimal | None, note: str | None) -> None:
        """Add an amount, or mark the total unknown with ``note``."""
        if amount is None:
            if self.cost is not None:
                self.cost = None
                self.note = note
        elif self.cost is not None:
            self.cost += amount


class AgentResult(Generic[OutputT]):
    """The outcome of one run.

    Attributes:
        output: The typed output when the agent has an output type, else the final text (None
            when the run stopped before a final answer).
        usage: Tokens summed over every model call, sub-agents included.
        cost: USD summed over every model call, or None when any price is unknown.
        cost_note: Why ``cost`` is None.
        turns: Model calls made.
        tool_calls: Every tool call, in the order the model asked for them.
        stop_reason: Why the run ended.
        pending: Calls waiting for approval (``stop_reason="approval_required"``).
        state: The serializable state to resume from, when calls are pending.
        responses: Every model response, in order.
        conversation: The whole conversation (history included) as a ``Conversation``.
        run_id: This run's id (also on ``RunContext`` and the span).
    """

    __slots__ = (
        "_new_from",
        "conversation",
        "cost",
        "cost_note",
        "output",
        "pending",
        "responses",
        "run_id",
        "state",
        "stop_reason",
        "tool_calls",
        "turns",
        "usage",
    )

    def __init__(
        self,
        *,
        output: OutputT,
        conversation: Conversation,
        new_from: int,
        tally: Tally,
        tool_calls: list[ToolCallRecord],
        stop_reason: StopReason,
        responses: list[ClientResponse],
        run_id: str,
        pending: list[PendingCall] | None = None,
        state: RunState | None = None,
    ) -> None:
        self.output = output
        self.conversation = conversation
        self._new_from = new_from
        self.usage = tally.usage
        self.cost = tally.cost
        self.cost_note = tally.note if tally.cost is None else None
        self.turns = tally.turns
        self.tool_calls = tool_calls
        self.stop_reason: StopReason = stop_reason
        self.responses = responses
        self.run_id = run_id
        self.pending: list[PendingCall] = pending or []
        self.state = state

    @property
    def messages(self) -> list[Message]:
        """The whole conversation: history, the new prompt, every turn and tool result."""
        return self.conversation.messages

    @property
    def new_messages(self) -> list[Message]:
        """The messages this run added (the prompt onwards), without the history."""
        return self.conversation.messages[self._new_from :]

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        cost = f"${self.cost}" if self.cost is not None else "unknown"
        return (
            f"AgentResult(stop_reason={self.stop_reason!r}, turns={self.turns}, "
            f"tool_calls={len(self.tool_calls)}, cost={cost}, output={self.output!r:.80})"
        )
