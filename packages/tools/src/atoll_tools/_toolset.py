"""``ToolSet``: named tools, their specs, and safe execution of the model's calls."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

import anyio
from atoll_wire import TextPart, ToolCallPart, ToolResultPart, ToolSpec

from ._approval import ApprovalCallback, ApprovalDecision, ApprovalRequest, deny_all
from ._exceptions import (
    DuplicateToolError,
    ToolArgumentsError,
    ToolDeniedError,
    ToolExecutionError,
    ToolTimeoutError,
    UnknownToolError,
    ValidationIssue,
)
from ._results import ContentPart, to_content
from ._tool import ArgumentSource, Tool

_CallError = (
    UnknownToolError,
    ToolArgumentsError,
    ToolDeniedError,
    ToolTimeoutError,
    ToolExecutionError,
)


def _call_arguments(call: ToolCallPart) -> str | dict[str, Any]:
    """The raw JSON text when there is some (it is exactly what the model sent), else the dict."""
    if call.raw_arguments:
        return call.raw_arguments
    if call.arguments_error is not None:
        issue = ValidationIssue("", f"arguments are not valid JSON ({call.arguments_error})")
        raise ToolArgumentsError(call.name, [issue], call_id=call.id)
    return call.arguments


class ToolSet:
    """A set of uniquely named tools that executes the model's tool calls.

    Every call ends as a ``ToolResultPart``: unknown tools, invalid arguments, denials, timeouts
    and exceptions become error results (``is_error=True``) with a message the model can act on,
    unless ``raise_errors=True`` asks for the typed exception instead.

    Args:
        tools: Tools, or plain functions to wrap with ``Tool(function)``.
        approval: Decides calls to tools marked ``requires_approval``; default ``deny_all``.
        max_concurrency: How many calls ``execute_many`` runs at once by default.

    Raises:
        DuplicateToolError: When two tools share a name.
    """

    __slots__ = ("_approval", "_max_concurrency", "_tools")

    def __init__(
        self,
        tools: Iterable[Tool | Callable[..., Any]] = (),
        *,
        approval: ApprovalCallback | None = None,
        max_concurrency: int = 8,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self._tools: dict[str, Tool] = {}
        self._approval: ApprovalCallback = approval if approval is not None else deny_all
        self._max_concurrency = max_concurrency
        for item in tools:
            self.add(item)

    # ------------------------------------------------------------------ the collection
    def add(self, tool: Tool | Callable[..., Any]) -> Tool:
        """Add a tool (a plain function is wrapped with ``Tool``) and return it.

        Args:
            tool: The tool or function.

        Raises:
            DuplicateToolError: When a tool with the same name is already present.
        """
        item = tool if isinstance(tool, Tool) else Tool(tool)
        if item.name in self._tools:
            raise DuplicateToolError(item.name)
        self._tools[item.name] = item
        return item

    def get(self, name: str) -> Tool | None:
        """The tool called ``name``, or None.

        Args:
            name: The tool name.
        """
        return self._tools.get(name)

    def __getitem__(self, name: str) -> Tool:
        tool = self._tools.get(name)
        if tool is None:
            raise UnknownToolError(name, list(self._tools))
        return tool

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __repr__(self) -> str:
        return f"ToolSet({list(self._tools)!r})"

    @property
    def names(self) -> list[str]:
        """The tool names, in the order they were added."""
        return list(self._tools)

    def specs(self) -> list[ToolSpec]:
        """The neutral specs of every tool, in the order they were added, for a ChatRequest."""
        return [tool.spec() for tool in self._tools.values()]

    # ------------------------------------------------------------------ execution
    async def execute(
        self,
        call: ToolCallPart,
        *,
        raise_errors: bool = False,
        approval: ApprovalCallback | None = None,
    ) -> ToolResultPart:
        """Run one call: look up, validate, approve if needed, run, convert the result.

        Args:
            call: The model's tool call. ``raw_arguments`` is used when present, else
                ``arguments``.
            raise_errors: Raise the typed error instead of returning an error result.
            approval: Use this approval callback for this call instead of the ToolSet's.

        Returns:
            The result part answering ``call.id``.

        Raises:
            UnknownToolError: With ``raise_errors``, for a name not in the set.
            ToolArgumentsError: With ``raise_errors``, for arguments that fail the schema.
            ToolDeniedError: With ``raise_errors``, when the approver denied the call.
            ToolTimeoutError: With ``raise_errors``, when the tool ran past its timeout.
            ToolExecutionError: With ``raise_errors``, when the tool raised.
        """
        try:
            content = await self._run(call, approval or self._approval)
        except _CallError as exc:
            if raise_errors:
                raise
            text = exc.repair_message
            return ToolResultPart(
                call_id=call.id, content=[TextPart(text=text)], is_error=True, name=call.name
            )
        return ToolResultPart(call_id=call.id, content=content, name=call.name)

    async def execute_many(
        self,
        calls: Sequence[ToolCallPart],
        *,
        max_concurrency: int | None = None,
        approval: ApprovalCallback | None = None,
    ) -> list[ToolResultPart]:
        """Run several calls concurrently (at most ``max_concurrency`` at once).

        Errors become error results, so one failing call never hides the others' results.
        An exception raised by the approval callback itself is not a call error: it propagates
        (inside an ``ExceptionGroup`` when several calls run at once).

        Args:
            calls: The model's calls, usually ``message.tool_calls``.
            max_concurrency: Overrides the ToolSet's default cap for this batch.
            approval: Use this approval callback for this batch instead of the ToolSet's.

        Returns:
            One result per call, in the calls' order (not completion order).
        """
        limit = self._max_concurrency if max_concurrency is None else max_concurrency
        if limit < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {limit}")
        if len(calls) <= 1 or limit == 1:
            return [await self.execute(call, approval=approval) for call in calls]
        results: list[ToolResultPart | None] = [None] * len(calls)
        limiter = anyio.CapacityLimiter(limit)

        async def run_one(index: int, call: ToolCallPart) -> None:
            async with limiter:
                results[index] = await self.execute(call, approval=approval)

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(run_one, index, call)
        return cast(list[ToolResultPart], results)

    async def _run(self, call: ToolCallPart, approval: ApprovalCallback) -> list[ContentPart]:
        tool = self._tools.get(call.name)
        if tool is None:
            raise UnknownToolError(call.name, list(self._tools), call.id)
        arguments = tool.validate(_call_arguments(call), call_id=call.id)
        source: ArgumentSource = "model"
        if tool.requires_approval:
            request = ApprovalRequest(tool=tool, call=call, arguments=arguments)
            decision = await _decide(approval, request)
            if not decision.approved:
                reason = decision.reason or "the user denied this call"
                raise ToolDeniedError(tool.name, reason, call.id)
            if decision.arguments is not None:
                source = "approval"
                arguments = tool.validate(decision.arguments, call_id=call.id, source=source)
        args, kwargs = tool.bind(arguments, call_id=call.id, source=source)
        value = await tool.run(args, kwargs, call_id=call.id)
        try:
            return to_content(value)
        except TypeError as exc:
            raise tool.execution_error(exc, call.id) from exc


async def _decide(approval: ApprovalCallback, request: ApprovalRequest) -> ApprovalDecision:
    answer: object = cast(object, approval(request))
    if inspect.isawaitable(answer):
        answer = await answer
    # Callbacks are user code: a wrong return type is named here, not deep in execute().
    if not isinstance(answer, ApprovalDecision):
        raise TypeError(
            f"the approval callback returned {type(answer).__name__}, not ApprovalDecision"
        )
    return answer
