"""``run_many``: one agent over many inputs on the ``Executor``.

Each input is one ``AgentRunEvent`` (an atoll_generic Event); the Executor's workers bound the
concurrency, its limiters reserve per run and settle with the run's real usage and cost, and
its progress reports reach ``on_progress``. The outcome is one entry per input, in input
order: an ``AgentResult``, or a ``RunFailure`` saying what happened to that input.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from atoll_generic import Event, EventStatus, Executor, Limiter, ProgressCallback
from pydantic import ConfigDict

from ._result import AgentResult

if TYPE_CHECKING:
    from ._agent import Agent, Prompt


class AgentRunEvent(Event):
    """One agent run as an Executor event (the agent and input are not serialized)."""

    __element_kind__ = "atoll_agents.AgentRunEvent"
    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: int
    """The input's position."""
    _agent: Any = None
    _input: Any = None
    _deps: Any = None

    def bind(self, agent: Agent[Any], prompt: Prompt, deps: Any) -> AgentRunEvent:
        """Attach what the event runs; returns self."""
        self._agent = agent
        self._input = prompt
        self._deps = deps
        return self

    async def invoke(self) -> AgentResult[Any]:
        """Run the agent on the input."""
        return await self._agent.run(self._input, deps=self._deps)

    def response_to_json(self, response: Any) -> Any:
        """A result as its output and stop reason, for ``to_dict``."""
        if isinstance(response, AgentResult):
            result = cast(AgentResult[Any], response)
            return {"stop_reason": result.stop_reason, "output": repr(result.output)}
        return repr(response)

    def estimated_usage(self, resource: str) -> float:
        """A run's worst case when its limits say it (tokens, cost), else one call's ceiling."""
        agent = self._agent
        limits = agent.limits if agent is not None else None
        if resource == "tokens":
            if limits is not None and limits.max_total_tokens is not None:
                return float(limits.max_total_tokens)
            return float(agent.call_options[0].get("max_tokens") or 0) if agent else 0.0
        if resource == "cost" and limits is not None and limits.max_cost is not None:
            return float(limits.max_cost)
        return 0.0

    def actual_usage(self, resource: str) -> float | None:
        """What the run used (None: keep the reservation as spent)."""
        result = self.response
        if not isinstance(result, AgentResult):
            return None
        if resource == "tokens":
            total = result.usage.total_tokens
            return None if total is None else float(total)
        if resource == "cost":
            return None if result.cost is None else float(result.cost)
        return None


@dataclass(frozen=True, slots=True)
class RunFailure:
    """What happened to an input whose run gave no result.

    Attributes:
        index: The input's position.
        input: The input.
        status: ``failed`` (the run raised), ``cancelled`` (``run_many`` was cancelled before
            it finished) or ``skipped`` (a limiter refused it).
        error: The exception (a ``UsageLimitExceeded`` keeps its partial ``result``), or None.
        reason: Why it was cancelled or skipped, when known.
    """

    index: int
    input: Any
    status: Literal["failed", "cancelled", "skipped"]
    error: BaseException | None = None
    reason: str | None = None


Outcome = AgentResult[Any] | RunFailure


class RunBatch:
    """``run_many``'s awaitable: ``await`` it for the outcomes, in input order.

    If the awaiting task is cancelled, ``outcomes`` still holds every finished result, and
    the runs that had not finished are ``RunFailure(status="cancelled")``.
    """

    def __init__(
        self,
        agent: Agent[Any],
        inputs: Sequence[Prompt],
        *,
        concurrency: int,
        limiters: Sequence[Limiter],
        on_progress: ProgressCallback | None,
        deps: Any,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self._agent = agent
        self._inputs = list(inputs)
        self._concurrency = concurrency
        self._limiters = list(limiters)
        self._on_progress = on_progress
        self._deps = deps
        self._events: list[AgentRunEvent] = []
        self.outcomes: list[Outcome] = []
        """One entry per input once the batch ended (or was cancelled)."""

    def __await__(self) -> Generator[Any, None, list[Outcome]]:
        return self._run().__await__()

    async def _run(self) -> list[Outcome]:
        self._events = [
            AgentRunEvent(index=i).bind(self._agent, item, self._deps)
            for i, item in enumerate(self._inputs)
        ]
        executor = Executor(
            max_concurrency=self._concurrency,
            queue_size=max(len(self._events), 1),
            limiters=self._limiters,
            retention=0,
            on_progress=self._on_progress,
        )
        try:
            async with executor:
                for event in self._events:
                    await executor.submit(event)
                await executor.join()
        finally:
            self.outcomes = [self._outcome(event) for event in self._events]
        return self.outcomes

    def _outcome(self, event: AgentRunEvent) -> Outcome:
        status = event.status
        response: object = event.response
        if status is EventStatus.COMPLETED and isinstance(response, AgentResult):
            return cast(AgentResult[Any], response)
        execution = event.execution
        item = self._inputs[event.index]
        if status is EventStatus.FAILED:
            return RunFailure(event.index, item, "failed", execution.exception)
        if status is EventStatus.SKIPPED:
            return RunFailure(event.index, item, "skipped", execution.exception, execution.reason)
        return RunFailure(
            event.index, item, "cancelled", None, execution.reason or "run_many was cancelled"
        )


def run_many(
    agent: Agent[Any],
    inputs: Sequence[Prompt],
    *,
    concurrency: int = 16,
    limiters: Sequence[Limiter] = (),
    on_progress: ProgressCallback | None = None,
    deps: Any = None,
) -> RunBatch:
    """Run ``agent`` on every input, at most ``concurrency`` at once, on an ``Executor``.

    ``await run_many(...)`` returns one outcome per input, in input order: the
    ``AgentResult``, or a ``RunFailure``. One failure never stops the others. Cancelling the
    await cancels the runs still going; keep the returned object to read ``outcomes`` then::

        batch = run_many(agent, prompts, concurrency=32, on_progress=bar.update)
        with anyio.move_on_after(60):
            await batch
        done = [o for o in batch.outcomes if isinstance(o, AgentResult)]

    Args:
        agent: The agent to run.
        inputs: Prompts (or message lists), one run each.
        concurrency: Runs at once at most.
        limiters: atoll_generic limiters each run reserves from (a run's estimate: its
            ``max_total_tokens`` / ``max_cost`` limits, else one call's ceiling) and settles
            with its real usage.
        on_progress: Called with a ``Progress`` after each run ends.
        deps: Passed to every run.
    """
    return RunBatch(
        agent,
        inputs,
        concurrency=concurrency,
        limiters=limiters,
        on_progress=on_progress,
        deps=deps,
    )
