"""The agent loop over Client and tools.

An ``Agent`` is a model (with fallbacks), instructions, tools, an output type and budgets. A run
calls the model, runs the tools it asks for (concurrently, validated, approved when needed),
sends the results back, and repeats until a final answer or a stop; ``run_stream`` yields the
model's own stream events and the agent's, ``run`` drains it. Approval can wait for a person
(``approval=defer`` ends the run with a JSON ``RunState``; ``Agent.resume`` goes on), budgets
stop a run before a step that could overrun them, and ``run_many`` runs many inputs on the
atoll_generic Executor.

Example:
    >>> from atoll_agents import Agent, UsageLimits
    >>> UsageLimits(max_turns=5).max_turns
    5
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._agent import Agent
from ._context import RunContext, with_context
from ._conversation import Conversation, MessageItem
from ._events import (
    AgentEvent,
    ApprovalDecided,
    ApprovalRequested,
    PartialOutput,
    RepairRequested,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
)
from ._exceptions import (
    AgentDefinitionError,
    AgentsError,
    OutputValidationError,
    ResumeError,
    UsageLimitExceeded,
)
from ._limits import UsageLimits
from ._many import AgentRunEvent, RunBatch, RunFailure, run_many
from ._result import AgentResult, PendingCall, StopReason, ToolCallRecord
from ._run import AgentRun
from ._state import RunState, defer

__version__ = "0.1.0"

for _cls in (
    AgentDefinitionError,
    AgentsError,
    OutputValidationError,
    ResumeError,
    UsageLimitExceeded,
):
    _cls.__module__ = __name__

__all__: tuple[str, ...] = (
    "Agent",
    "AgentDefinitionError",
    "AgentEvent",
    "AgentResult",
    "AgentRun",
    "AgentRunEvent",
    "AgentsError",
    "ApprovalDecided",
    "ApprovalRequested",
    "AtollError",
    "Conversation",
    "MessageItem",
    "OutputValidationError",
    "PartialOutput",
    "PendingCall",
    "RepairRequested",
    "ResumeError",
    "RunBatch",
    "RunContext",
    "RunFailure",
    "RunState",
    "StopReason",
    "ToolCallFinished",
    "ToolCallRecord",
    "ToolCallStarted",
    "TurnFinished",
    "UsageLimitExceeded",
    "UsageLimits",
    "defer",
    "run_many",
    "with_context",
)
