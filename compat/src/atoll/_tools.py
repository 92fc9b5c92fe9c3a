"""Tools for ``aitools``, and ``execute_tool``: the model's calls are returned, run only when asked.

A tool is a plain function (sync or async; its schema from the signature and docstring), a
pydantic model, dataclass or TypedDict (the call's arguments are the value), an
``atoll_tools.Tool`` or a whole ``ToolSet``. ``execute_tool`` validates the arguments against
the tool's schema before the function runs, as ``atoll_tools`` always does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from atoll_tools import Tool, ToolExecutionError, ToolsError, ToolSet
from atoll_wire import ToolChoice

from ._engine import ChatPlan, Sample
from ._exceptions import ToolNotFoundError
from ._messages import AbstractMessage, AIToolRequest, ToolMessage
from ._neutral import record

ToolLike = Tool | ToolSet | type[Any] | Callable[..., Any]
Tools = ToolLike | Sequence[ToolLike] | Mapping[str, ToolLike]


def as_tools(tools: Tools) -> list[Tool]:
    """The ``atoll_tools.Tool`` objects for a legacy ``tools`` argument.

    Raises:
        ToolDefinitionError: A function or type that cannot be a tool.
    """
    if isinstance(tools, Mapping):
        items: list[Any] = list(tools.values())  # pyright: ignore[reportUnknownArgumentType]
    elif isinstance(tools, Sequence) and not isinstance(tools, str):
        items = list(cast(Sequence[Any], tools))
    else:
        items = [tools]
    out: list[Tool] = []
    for item in items:
        if isinstance(item, Tool):
            out.append(item)
        elif isinstance(item, ToolSet):
            out.extend(item)
        elif isinstance(item, type):
            out.append(Tool.from_model(item))
        else:
            out.append(Tool(item))
    return out


def tools_options(plan: ChatPlan, tools: list[Tool], json_mode: bool | None) -> None:
    """Offer the tools; the model decides whether to call one unless ``tool_choice`` says so.

    Raises:
        ValueError: ``json_mode`` or ``tool_choice="exact"`` with other than one tool.
    """
    if json_mode:
        if len(tools) != 1:
            raise ValueError("json_mode=True takes exactly one tool")
        from atoll_tools import OutputSpec

        plan.call["output_schema"] = OutputSpec.of(tools[0].parameters, name=tools[0].name)
        return
    if not tools:
        return
    plan.call["tools"] = [t.spec() for t in tools]
    choice = plan.options.tool_choice
    if choice == "exact":
        if len(tools) != 1:
            raise ValueError('tool_choice="exact" needs exactly one tool')
        plan.call["tool_choice"] = ToolChoice.tool(tools[0].name)
    elif choice is not None:
        plan.call["tool_choice"] = "required" if choice == "any" else choice


def tool_requests(
    plan: ChatPlan, samples: list[Sample], tools: list[Tool], json_mode: bool
) -> list[AbstractMessage]:
    """One ``AIToolRequest`` per sample, listing the calls the model asked for (not run)."""
    many = len(samples) > 1
    out: list[AbstractMessage] = []
    for i, sample in enumerate(samples):
        fields = record(sample.response, sample.elapsed, plan.run_id, i + 1 if many else None)
        message = sample.response.message
        calls = [
            ToolMessage(
                tool_call_id=c.id,
                raw=c.raw_arguments,
                args=dict(c.arguments),
                name=c.name,
                req_id=plan.run_id,
            )
            for c in message.tool_calls
        ]
        text = message.text or None
        if json_mode and text is not None:
            import json

            calls = [
                ToolMessage(
                    tool_call_id="json_mode",
                    raw=text,
                    args=json.loads(text),
                    name=tools[0].name,
                    req_id=plan.run_id,
                )
            ]
        out.append(
            AIToolRequest(content=text, tool_calls=calls, name=plan.common.name_assistant, **fields)
        )
    return out


# ------------------------------------------------------------------ execute_tool


def _pick_tool(tool: Tools, name: str | None) -> Tool:
    tools = as_tools(tool)
    if name is None:
        if len(tools) != 1:
            raise TypeError("several tools given: pass the ToolMessage, whose name picks one")
        return tools[0]
    for candidate in tools:
        if candidate.name == name:
            return candidate
    if isinstance(tool, Mapping) and name in tool:
        return as_tools(tool[name])[0]  # pyright: ignore[reportUnknownArgumentType]
    if len(tools) == 1 and not isinstance(tool, Mapping | ToolSet | Sequence):
        return tools[0]  # one tool given: run it whatever name the call used, as before
    raise ToolNotFoundError(name, [t.name for t in tools])


def _arguments(
    tool: Tool, args: Mapping[str, Any], context: Mapping[str, Any], unused_as_kwargs: bool
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if not context:
        return tool.bind(tool.validate(args))
    # Legacy context injection: ``context`` first, then the model's arguments, by name.
    parameters = inspect.signature(tool.function).parameters
    chosen: dict[str, Any] = {}
    for name in parameters:
        if name == "context":
            chosen[name] = dict(context)
        elif name in context:
            chosen[name] = context[name]
        elif name in args:
            chosen[name] = args[name]
    if unused_as_kwargs:
        chosen.update({k: v for k, v in args.items() if k not in parameters})
    return (), chosen


def _prepare(
    tool: Tools,
    call: ToolMessage | Mapping[str, Any],
    context: Mapping[str, Any] | None,
    unused_as_kwargs: bool,
) -> tuple[Tool, tuple[Any, ...], dict[str, Any]]:
    name = call.name if isinstance(call, ToolMessage) else None
    found = _pick_tool(tool, name)
    args = (call.args or {}) if isinstance(call, ToolMessage) else call
    positional, keywords = _arguments(found, args, context or {}, unused_as_kwargs)
    return found, positional, keywords


def execute_tool(
    tool: Tools,
    call: ToolMessage | Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
    *,
    throw_on_error: bool = True,
    unused_as_kwargs: bool = False,
) -> Any:
    """Run a tool on a model's call (or on an arguments mapping) and return its result.

    Args:
        tool: A function, a type, an ``atoll_tools.Tool``, a ``ToolSet``, or several (a list
            or a name-to-tool mapping); with several, the call's ``name`` picks one.
        call: A ``ToolMessage`` from ``aitools`` or the arguments as a mapping.
        context: Values passed by name before the model's arguments (a ``context`` parameter
            receives the whole mapping); with a context the arguments are not validated.
        throw_on_error: Raise a failure; with False it is returned instead.
        unused_as_kwargs: With a context, pass the model's other arguments as keywords.

    Raises:
        ToolNotFoundError: The call names a tool not given.
        ToolArgumentsError: The arguments fail the tool's schema (the function did not run).
        ToolExecutionError: The function raised (the original is the ``__cause__``).
    """
    found, positional, keywords = _prepare(tool, call, context, unused_as_kwargs)
    try:
        result = found.function(*positional, **keywords)
    except Exception as exc:
        error = found.execution_error(exc, None)
        if throw_on_error:
            raise error from exc
        return error
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()  # never leave an un-awaited coroutine behind
        raise TypeError(f"tool {found.name!r} is async: use execute_tool_async")
    return result


async def execute_tool_async(
    tool: Tools,
    call: ToolMessage | Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
    *,
    throw_on_error: bool = True,
    unused_as_kwargs: bool = False,
) -> Any:
    """``execute_tool`` for async tools too (sync ones run in a worker thread); same arguments."""
    found, positional, keywords = _prepare(tool, call, context, unused_as_kwargs)
    try:
        return await found.run(positional, keywords)
    except ToolExecutionError as error:
        if throw_on_error:
            raise
        return error
    except ToolsError:
        raise
