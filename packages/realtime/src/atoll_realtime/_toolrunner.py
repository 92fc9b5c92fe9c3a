"""Run the model's tool calls on an ``atoll_tools.ToolSet`` and answer them in the session.

Each call starts as soon as its arguments are complete (so a slow tool overlaps the rest of the
response); when the response ends, the results go back as ``function_call_output`` items in
the calls' order, followed by one new response, which is how the provider expects a tool round
trip to continue. Approval works as in atoll_tools (the ToolSet's callback, or the session's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import anyio.abc
from atoll_tools import ApprovalCallback, ToolSet
from atoll_wire import TextPart, ToolResultPart

from ._events import ToolCall, ToolResult

__all__ = ["ToolRunner"]

Send = Callable[[ToolResult], Awaitable[None]]


def result_text(result: ToolResultPart) -> str:
    """The text sent as ``function_call_output``: text parts joined; other parts named."""
    texts: list[str] = []
    for part in result.content:
        if isinstance(part, TextPart):
            texts.append(part.text)
        else:  # realtime function outputs are strings: say what could not be sent
            texts.append(f"[{type(part).__name__} omitted: realtime tool output is text only]")
    return "\n".join(texts)


class _Pending:
    __slots__ = ("call", "done", "result")

    def __init__(self, call: ToolCall) -> None:
        self.call = call
        self.done = anyio.Event()
        self.result: ToolResult | None = None


class ToolRunner:
    """Starts tool calls in the session's task group and answers them per response."""

    def __init__(
        self, tools: ToolSet, approval: ApprovalCallback | None, group: anyio.abc.TaskGroup
    ) -> None:
        self._tools = tools
        self._approval = approval
        self._group = group
        self._by_response: dict[str, list[_Pending]] = {}
        self._started: set[str] = set()

    def start(self, call: ToolCall) -> None:
        """Run ``call`` in the background (once per call id)."""
        if call.call_id in self._started:
            return
        self._started.add(call.call_id)
        pending = _Pending(call)
        self._by_response.setdefault(call.response_id, []).append(pending)
        self._group.start_soon(self._run, pending)

    async def _run(self, pending: _Pending) -> None:
        call = pending.call
        try:
            result = await self._tools.execute(call.to_part(), approval=self._approval)
            pending.result = ToolResult(
                call_id=call.call_id,
                name=call.name,
                output=result_text(result),
                is_error=result.is_error,
            )
        finally:  # an approval callback that raised still releases the response's answer
            pending.done.set()

    def finish(
        self, response_id: str, answer: Callable[[list[ToolResult]], Awaitable[None]]
    ) -> None:
        """When every call of ``response_id`` is done, hand their results to ``answer``."""
        pendings = self._by_response.pop(response_id, [])
        if pendings:
            self._group.start_soon(self._wait_and_answer, pendings, answer)

    def forget(self) -> None:
        """Drop the calls of responses that will never end (the connection was lost)."""
        self._by_response.clear()

    async def _wait_and_answer(
        self, pendings: list[_Pending], answer: Callable[[list[ToolResult]], Awaitable[None]]
    ) -> None:
        for pending in pendings:
            await pending.done.wait()
        results = [p.result for p in pendings if p.result is not None]
        if results:
            await answer(results)
