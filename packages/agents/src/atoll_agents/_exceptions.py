"""Errors raised by atoll_agents, each carrying structured fields.

Hierarchy::

    AtollError (atoll_wire)            root of every error the Atoll stack raises
    └── AgentsError                    base of everything raised here
        ├── AgentDefinitionError       an agent cannot be made as asked (ValueError)
        ├── UsageLimitExceeded         the next step would overrun a UsageLimits budget
        ├── OutputValidationError      the final reply failed its output type after every
        │                              repair turn (also atoll_tools.OutputValidationError)
        └── ResumeError                a RunState cannot be resumed with these decisions
                                       (ValueError)

Errors that end a run part-way carry the run so far as ``result`` (an ``AgentResult`` whose
``messages`` are a valid conversation), so nothing already paid for is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import atoll_tools
from atoll_wire import AtollError

if TYPE_CHECKING:
    from ._result import AgentResult


class AgentsError(AtollError):
    """Base class of every error raised by atoll_agents."""


class AgentDefinitionError(AgentsError, ValueError):
    """An agent cannot be made from what was given (raised by ``Agent(...)``, never mid-run).

    Attributes:
        reason: What is wrong, in words that name the offending tool, model or limit.
        agent: The agent's name, when known.
    """

    def __init__(self, reason: str, *, agent: str | None = None) -> None:
        self.reason = reason
        self.agent = agent
        super().__init__(f"cannot make agent {agent!r}: {reason}" if agent else reason)


class UsageLimitExceeded(AgentsError):
    """The run stopped before a step that could overrun one of its ``UsageLimits``.

    The check happens before the step (a model call is reserved at its worst case), so the
    limit itself was never passed.

    Attributes:
        limit: The limit's name (``max_turns``, ``max_cost``, ...).
        value: The limit's value.
        used: What the run had used of it before the refused step.
        requested: What the refused step could have used at worst.
        result: The run so far (``stop_reason="usage_limit"``), its conversation valid.
    """

    def __init__(
        self,
        limit: str,
        value: Any,
        used: Any,
        requested: Any,
        result: AgentResult[Any] | None = None,
    ) -> None:
        self.limit = limit
        self.value = value
        self.used = used
        self.requested = requested
        self.result = result
        super().__init__(
            f"{limit}={value} would be exceeded: {used} used, the next step needs up to "
            f"{requested}; the run stopped before it"
        )


class OutputValidationError(AgentsError, atoll_tools.OutputValidationError):
    """The model's final reply failed the output type on every try (first answer and repairs).

    Also an ``atoll_tools.OutputValidationError``: ``name``, ``issues`` and ``text`` describe
    the last reply.

    Attributes:
        replies: Every reply that failed, oldest first (text, or a final-answer tool's
            arguments).
        result: The run so far (``stop_reason="output_invalid"``).
    """

    def __init__(
        self,
        last: atoll_tools.OutputValidationError,
        replies: Sequence[str],
        result: AgentResult[Any] | None = None,
    ) -> None:
        atoll_tools.OutputValidationError.__init__(self, last.name, last.issues, last.text)
        self.replies = tuple(replies)
        self.result = result
        self.args = (
            f"output does not match {last.name!r} after {len(self.replies)} replies; "
            f"last: {'; '.join(str(i) for i in last.issues)}",
        )


class ResumeError(AgentsError, ValueError):
    """``Agent.resume`` was given decisions that do not match the state's pending calls.

    Attributes:
        missing: Pending call ids with no decision.
        unknown: Decided call ids that are not pending.
        reason: A sentence saying what is wrong.
    """

    def __init__(
        self, reason: str, *, missing: Sequence[str] = (), unknown: Sequence[str] = ()
    ) -> None:
        self.reason = reason
        self.missing = tuple(missing)
        self.unknown = tuple(unknown)
        super().__init__(reason)
