"""The public ``aiextract`` and ``aiclassify`` functions and their ``_async`` twins.

The shared keyword arguments are those of ``aigenerate`` (see its docstring).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._engine import ChatPlan, Common, PromptLike, dry_run_output, finish, plan_chat
from ._engine import send_async as _send_async
from ._engine import send_sync as _send_sync
from ._extract import (
    Choice,
    ReturnType,
    choice_labels,
    classified,
    classify_options,
    classify_spec,
    data_messages,
    extract_options,
    output_specs,
)
from ._messages import AbstractMessage
from ._schemas import AbstractPromptSchema

_DEFAULT_CHOICES: tuple[Choice, ...] = ("true", "false", "unknown")


def _extract_plan(
    first: AbstractPromptSchema | PromptLike,
    second: PromptLike | None,
    common: Common,
    return_type: ReturnType,
    json_mode: bool | None,
    strict: bool | None,
) -> tuple[ChatPlan, Any]:
    specs = output_specs(return_type, strict=bool(strict or json_mode))
    plan = plan_chat("aiextract", first, second, common)
    extract_options(plan, specs, json_mode)
    return plan, specs


def aiextract(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    return_type: ReturnType,
    json_mode: bool | None = None,
    strict: bool | None = None,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Extract structured data: the model must answer with a ``return_type`` value.

    The type is offered as a tool the model is forced to call (``aitools`` never forces), and
    the arguments are validated into the type before you see them.

    Args:
        schema_or_prompt: A prompt schema, or the prompt.
        prompt: The prompt, when the first argument is a schema.
        return_type: A pydantic model, dataclass, TypedDict or other type; a JSON Schema
            (content is then a ``dict``); several types (the model picks); or field names
            (``["city", ("temperature", float), ("temperature__description", "in C")]``).
        json_mode: Ask for native structured output instead of a forced tool.
        strict: Ask the provider to enforce the schema exactly (implied by ``json_mode``).
        model: See ``aigenerate``.
        api_key: See ``aigenerate``.
        verbose: See ``aigenerate``.
        return_all: See ``aigenerate``.
        dry_run: See ``aigenerate``.
        conversation: See ``aigenerate``.
        no_system_message: See ``aigenerate``.
        http_kwargs: See ``aigenerate``.
        api_kwargs: See ``aigenerate``; ``tool_choice`` ``"exact"`` (default for one type),
            ``"auto"``, ``"any"``/``"required"``.
        tracer_kwargs: See ``aigenerate``.
        **kwargs: Placeholder values.

    Returns:
        A ``DataMessage`` whose ``content`` is the value (a list when the model made several
        calls); see ``aigenerate`` for ``return_all``, ``dry_run`` and samples.

    Raises:
        OutputValidationError: The answer does not validate as ``return_type``.
        ExtractionError: The model answered without the data.
    """
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        placeholders=kwargs,
    )
    plan, specs = _extract_plan(schema_or_prompt, prompt, common, return_type, json_mode, strict)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, data_messages(plan, _send_sync(plan), specs, bool(json_mode)))


async def aiextract_async(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    return_type: ReturnType,
    json_mode: bool | None = None,
    strict: bool | None = None,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """``aiextract`` on the running event loop (asyncio or trio); same arguments."""
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        placeholders=kwargs,
    )
    plan, specs = _extract_plan(schema_or_prompt, prompt, common, return_type, json_mode, strict)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, data_messages(plan, await _send_async(plan), specs, bool(json_mode)))


def _classify_plan(
    first: AbstractPromptSchema | PromptLike,
    second: PromptLike | None,
    common: Common,
    choices: Sequence[Choice],
) -> tuple[ChatPlan, Any]:
    labels, listing = choice_labels(choices)
    plan = plan_chat("aiclassify", first, second, common, internal={"choices": listing})
    spec = classify_spec(labels, listing)
    classify_options(plan, spec)
    return plan, spec


def aiclassify(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    choices: Sequence[Choice] = _DEFAULT_CHOICES,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Classify the prompt into one of ``choices`` (default true / false / unknown).

    A ``{{choices}}`` placeholder in the prompt is filled with the list; the label comes back by
    structured output at temperature 0 (unless you set one), on any model with tools or
    JSON-schema output.

    Args:
        schema_or_prompt: A prompt schema, or the prompt (``":JudgeIsItTrue"``, ...).
        prompt: The prompt, when the first argument is a schema.
        choices: Labels, or ``(label, meaning)`` pairs.
        model: See ``aigenerate``.
        api_key: See ``aigenerate``.
        verbose: See ``aigenerate``.
        return_all: See ``aigenerate``.
        dry_run: See ``aigenerate``.
        conversation: See ``aigenerate``.
        no_system_message: See ``aigenerate``.
        http_kwargs: See ``aigenerate``.
        api_kwargs: See ``aigenerate``.
        tracer_kwargs: See ``aigenerate``.
        **kwargs: Placeholder values.

    Returns:
        An ``AIMessage`` whose ``content`` is the label (``None`` when the reply held none).
    """
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        placeholders=kwargs,
    )
    plan, spec = _classify_plan(schema_or_prompt, prompt, common, choices)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, classified(plan, _send_sync(plan), spec))


async def aiclassify_async(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    choices: Sequence[Choice] = _DEFAULT_CHOICES,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """``aiclassify`` on the running event loop (asyncio or trio); same arguments."""
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        placeholders=kwargs,
    )
    plan, spec = _classify_plan(schema_or_prompt, prompt, common, choices)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, classified(plan, await _send_async(plan), spec))
