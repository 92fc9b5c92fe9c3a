"""Human-in-the-loop approval: the callback Protocol, its decision, the stock policies.

A ToolSet asks its approval callback before running a tool marked ``requires_approval``. The
callback sees the validated arguments and answers approve, deny (with a reason the model will
read) or approve with edited arguments, which the ToolSet validates again.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

import anyio
import anyio.to_thread
from atoll_wire import ToolCallPart

if TYPE_CHECKING:
    from ._tool import Tool

NON_INTERACTIVE_REASON = (
    "this tool needs approval and the run is non-interactive (no approver is configured)"
)


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """What an approver decided about one call; build it with ``approve()`` or ``deny()``.

    Attributes:
        approved: Whether the call may run.
        reason: Why it was denied (shown to the model); None when approved.
        arguments: Replacement arguments when the approver edited them, else None.
    """

    approved: bool
    reason: str | None = None
    arguments: dict[str, Any] | None = None

    @classmethod
    def approve(cls, arguments: Mapping[str, Any] | None = None) -> ApprovalDecision:
        """Let the call run, optionally with edited arguments (validated again before use).

        Args:
            arguments: Replacement arguments, or None to keep the model's.
        """
        return cls(approved=True, arguments=dict(arguments) if arguments is not None else None)

    @classmethod
    def deny(cls, reason: str = "the user denied this call") -> ApprovalDecision:
        """Refuse the call; the model receives an error result quoting ``reason``.

        Args:
            reason: Why, in words the model can act on.
        """
        return cls(approved=False, reason=reason)


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What an approver is asked about.

    Attributes:
        tool: The tool to be run.
        call: The model's call, as received.
        arguments: The validated arguments (a JSON object).
    """

    tool: Tool
    call: ToolCallPart
    arguments: dict[str, Any]


class ApprovalCallback(Protocol):
    """Decides whether a call may run; may be a plain function or a coroutine function."""

    def __call__(
        self, request: ApprovalRequest, /
    ) -> ApprovalDecision | Awaitable[ApprovalDecision]:
        """Return (or resolve to) the decision for ``request``."""
        ...


def deny_all(request: ApprovalRequest, /) -> ApprovalDecision:
    """The default policy for non-interactive runs: every call that needs approval is denied.

    Args:
        request: The call in question.
    """
    return ApprovalDecision.deny(NON_INTERACTIVE_REASON)


def approve_all(request: ApprovalRequest, /) -> ApprovalDecision:
    """A policy that approves everything: for trusted, supervised runs and tests.

    Args:
        request: The call in question.
    """
    return ApprovalDecision.approve()


class ConsoleApprover:
    """Asks a person at the terminal: approve, deny (with a reason) or edit the arguments.

    The prompt runs in a worker thread so the event loop keeps serving other work; concurrent
    calls are asked about one at a time, never interleaved. If the waiting call is cancelled,
    it stops waiting at once (the prompt thread is abandoned). End of input counts as a denial.

    Args:
        input: Reads one line after showing a prompt (default ``builtins.input``).
        output: Shows one message (default ``print``).
    """

    def __init__(
        self,
        *,
        input: Callable[[str], str] = builtins.input,
        output: Callable[[str], None] = builtins.print,
    ) -> None:
        self._input = input
        self._output = output
        self._lock = anyio.Lock()

    async def __call__(self, request: ApprovalRequest, /) -> ApprovalDecision:
        """Ask about ``request`` and return the answer.

        Args:
            request: The call in question.
        """
        async with self._lock:
            return await anyio.to_thread.run_sync(self.ask, request, abandon_on_cancel=True)

    def ask(self, request: ApprovalRequest) -> ApprovalDecision:
        """The blocking dialogue behind ``__call__``.

        Args:
            request: The call in question.
        """
        shown = json.dumps(request.arguments, indent=2, ensure_ascii=False, default=str)
        self._output(f"The model wants to call {request.tool.name!r} with:\n{shown}")
        try:
            while True:
                answer = self._input("Approve? [y]es / [n]o / [e]dit arguments: ").strip().lower()
                if answer in {"y", "yes"}:
                    return ApprovalDecision.approve()
                if answer in {"n", "no"}:
                    reason = self._input("Reason (optional, shown to the model): ").strip()
                    return ApprovalDecision.deny(reason or "the user denied this call")
                if answer in {"e", "edit"}:
                    edited = self._edit()
                    if edited is not None:
                        return ApprovalDecision.approve(edited)
        except EOFError:
            return ApprovalDecision.deny("no answer from the user (end of input)")

    def _edit(self) -> dict[str, Any] | None:
        text = self._input("New arguments as one line of JSON: ")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            self._output(f"Not valid JSON ({exc.msg}); try again.")
            return None
        if not isinstance(value, dict):
            self._output("The arguments must be a JSON object; try again.")
            return None
        return cast(dict[str, Any], value)
