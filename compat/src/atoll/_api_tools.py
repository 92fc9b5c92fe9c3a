"""The public ``aitools`` function and its ``_async`` twin.

The shared keyword arguments are those of ``aigenerate`` (see its docstring).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ._engine import ChatPlan, Common, PromptLike, dry_run_output, finish, plan_chat
from ._engine import send_async as _send_async
from ._engine import send_sync as _send_sync
from ._generate import attach_images
from ._messages import AbstractMessage
from ._schemas import AbstractPromptSchema
from ._tools import Tools, as_tools, tool_requests, tools_options

PathSource = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None


def _tools_plan(
    first: AbstractPromptSchema | PromptLike,
    second: PromptLike | None,
    common: Common,
    tools: Tools,
    json_mode: bool | None,
    image_path: PathSource,
) -> tuple[ChatPlan, Any]:
    made = as_tools(tools)

    def attach(ms: list[AbstractMessage]) -> list[AbstractMessage]:
        return attach_images(ms, image_path=image_path)

    transform = attach if image_path is not None else None
    plan = plan_chat("aitools", first, second, common, transform=transform)
    tools_options(plan, made, json_mode)
    return plan, made


def aitools(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    tools: Tools = (),
    json_mode: bool | None = None,
    image_path: PathSource = None,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    name_user: str | None = None,
    name_assistant: str | None = None,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Chat with tools on offer; the model may answer in text or ask for tool calls.

    The calls are returned in ``tool_calls``, never run for you: run one with
    ``execute_tool``, set its ``content``, append it to the conversation and call again.

    Args:
        schema_or_prompt: A prompt schema, or the prompt.
        prompt: The prompt, when the first argument is a schema.
        tools: Functions, types, ``atoll_tools.Tool`` objects or a ``ToolSet``.
        json_mode: Ask for the one tool's arguments as native structured output.
        image_path: Local image file(s) attached to the last user message.
        model: See ``aigenerate``.
        api_key: See ``aigenerate``.
        verbose: See ``aigenerate``.
        return_all: See ``aigenerate``.
        dry_run: See ``aigenerate``.
        conversation: See ``aigenerate``.
        no_system_message: See ``aigenerate``.
        name_user: See ``aigenerate``.
        name_assistant: See ``aigenerate``.
        http_kwargs: See ``aigenerate``.
        api_kwargs: See ``aigenerate``; ``tool_choice``: ``"auto"`` (default), ``"exact"``
            (force the one tool), ``"any"``/``"required"``, ``"none"``.
        tracer_kwargs: See ``aigenerate``.
        **kwargs: Placeholder values.

    Returns:
        An ``AIToolRequest`` (text in ``content``, calls in ``tool_calls``); see
        ``aigenerate`` for ``return_all``, ``dry_run`` and samples.
    """
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        name_user=name_user,
        name_assistant=name_assistant,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        placeholders=kwargs,
    )
    plan, made = _tools_plan(schema_or_prompt, prompt, common, tools, json_mode, image_path)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, tool_requests(plan, _send_sync(plan), made, bool(json_mode)))


async def aitools_async(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    tools: Tools = (),
    json_mode: bool | None = None,
    image_path: PathSource = None,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    name_user: str | None = None,
    name_assistant: str | None = None,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """``aitools`` on the running event loop (asyncio or trio); same arguments."""
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        name_user=name_user,
        name_assistant=name_assistant,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        placeholders=kwargs,
    )
    plan, made = _tools_plan(schema_or_prompt, prompt, common, tools, json_mode, image_path)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, tool_requests(plan, await _send_async(plan), made, bool(json_mode)))
