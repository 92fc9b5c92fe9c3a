"""``RunContext``: what a tool may ask about the run calling it, outside its schema.

A tool function asks for it with a parameter annotated ``RunContext`` (any name, any
position). ``with_context`` hides that parameter from the signature atoll_tools reads, so it
never reaches the tool's JSON Schema, and fills it at call time from a context variable the
run sets around each call (worker threads of sync tools inherit it).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from atoll_wire import Message, Usage

if TYPE_CHECKING:
    from ._run import AgentRun

DepsT = TypeVar("DepsT")


class RunContext(Generic[DepsT]):
    """The run a tool call belongs to.

    Attributes:
        deps: What the caller passed as ``deps=`` to ``run`` (None if nothing).
        run_id: The run's id.
        agent: The agent's name.
        tool_name: The tool being called.
        tool_call_id: The model's id for this call.
        turn: The model turn that asked for the call.
    """

    __slots__ = ("_run", "agent", "deps", "run_id", "tool_call_id", "tool_name", "turn")

    def __init__(
        self, run: AgentRun[Any], *, tool_name: str = "", tool_call_id: str = "", turn: int = 0
    ) -> None:
        self._run = run
        self.deps: DepsT = run.deps
        self.run_id: str = run.run_id
        self.agent: str = run.agent_name
        self.tool_name = tool_name
        self.tool_call_id = tool_call_id
        self.turn = turn

    @property
    def usage(self) -> Usage:
        """Tokens used by the run so far (sub-agents included)."""
        return self._run.tally.usage

    @property
    def cost(self) -> Decimal | None:
        """USD spent by the run so far, or None when a price is unknown."""
        return self._run.tally.cost

    @property
    def messages(self) -> list[Message]:
        """The conversation so far (a copy)."""
        return self._run.messages

    def __repr__(self) -> str:
        return (
            f"RunContext(agent={self.agent!r}, run_id={self.run_id!r}, "
            f"tool_name={self.tool_name!r}, turn={self.turn})"
        )


CURRENT: contextvars.ContextVar[RunContext[Any] | None] = contextvars.ContextVar(
    "atoll_agents_run_context", default=None
)


def current_context() -> RunContext[Any]:
    """The RunContext of the tool call running in this task (or thread).

    Raises:
        RuntimeError: Called outside a tool call made by an agent run.
    """
    context = CURRENT.get()
    if context is None:
        raise RuntimeError("this tool needs a RunContext: call it through an atoll_agents Agent")
    return context


def _is_context(annotation: object) -> bool:
    if isinstance(annotation, str):
        name = annotation.split("[", 1)[0].rsplit(".", 1)[-1].strip()
        return name == "RunContext"
    return annotation is RunContext or typing.get_origin(annotation) is RunContext


def _context_parameter(function: Callable[..., Any]) -> inspect.Parameter | None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    for parameter in signature.parameters.values():
        if _is_context(parameter.annotation):
            return parameter
    return None


def wants_context(function: Callable[..., Any]) -> bool:
    """Whether ``function`` has a parameter annotated ``RunContext``."""
    return _context_parameter(function) is not None


def with_context(function: Callable[..., Any]) -> Callable[..., Any]:
    """Hide a function's ``RunContext`` parameter and fill it in when the tool is called.

    Agents do this for plain functions in ``tools=`` by themselves; use it to build a ``Tool``
    with options: ``Tool(with_context(search), timeout=5)``.

    Args:
        function: A sync or async function with one parameter annotated ``RunContext``.

    Returns:
        ``function`` itself when it has no such parameter, else a wrapper whose signature and
        annotations leave the parameter out.
    """
    parameter = _context_parameter(function)
    if parameter is None:
        return function
    signature = inspect.signature(function)
    name = parameter.name
    positional = parameter.kind is inspect.Parameter.POSITIONAL_ONLY
    index = list(signature.parameters).index(name)
    wrapper: Callable[..., Any]

    if inspect.iscoroutinefunction(function):

        async def call_async(*args: Any, **kwargs: Any) -> Any:
            if positional:
                return await function(*args[:index], current_context(), *args[index:], **kwargs)
            return await function(*args, **kwargs, **{name: current_context()})

        wrapper = call_async
    else:

        def call_sync(*args: Any, **kwargs: Any) -> Any:
            if positional:
                return function(*args[:index], current_context(), *args[index:], **kwargs)
            return function(*args, **kwargs, **{name: current_context()})

        wrapper = call_sync
    functools.update_wrapper(wrapper, function)
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name != name]
    )
    annotations = dict(getattr(function, "__annotations__", {}))
    annotations.pop(name, None)
    wrapper.__annotations__ = annotations
    return wrapper
