"""``aigenerate`` and ``aiscan``, each with its ``_async`` twin.

Shared keyword arguments (all ai* chat functions): ``model`` (a name or alias; default the
``MODEL_CHAT`` preference), ``api_key``, ``verbose`` (the stats line), ``return_all`` (the whole
conversation instead of the reply), ``dry_run`` (render, send nothing), ``conversation`` (earlier
messages, never changed), ``no_system_message``, ``streamcallback``, ``name_user``,
``name_assistant``, ``http_kwargs``, ``api_kwargs`` (``{"n": 3}`` for three samples sharing one
``run_id``), ``tracer_kwargs``; any other keyword fills a ``{{placeholder}}``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ._engine import (
    ChatPlan,
    Common,
    PromptLike,
    Sample,
    dry_run_output,
    finish,
    plan_chat,
    send_async,
    send_sync,
)
from ._messages import AbstractMessage, AIMessage, UserMessage, UserMessageWithImages
from ._neutral import record
from ._schemas import AbstractPromptSchema

ImageSource = str | Sequence[str] | None
PathSource = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None


def ai_messages(plan: ChatPlan, samples: list[Sample]) -> list[AbstractMessage]:
    """One ``AIMessage`` per sample (``sample_id`` 1.. when there are several)."""
    many = len(samples) > 1
    return [
        AIMessage(
            content=s.response.text or None,
            name=plan.common.name_assistant,
            **record(s.response, s.elapsed, plan.run_id, i + 1 if many else None),
        )
        for i, s in enumerate(samples)
    ]


def aigenerate(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    streamcallback: object = None,
    name_user: str | None = None,
    name_assistant: str | None = None,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Generate a reply to a prompt (text, messages, or a template by name).

    Args:
        schema_or_prompt: A prompt schema (then the prompt follows), or the prompt.
        prompt: The prompt, when the first argument is a schema.
        model: A model name or alias (default: the ``MODEL_CHAT`` preference).
        api_key: The key (default: the preference, then the provider's variable).
        verbose: Log the stats line.
        return_all: Return the whole conversation (the rendered prompt, then the reply).
        dry_run: Send nothing; with ``return_all`` return what would be sent.
        conversation: Earlier messages to continue (never changed).
        no_system_message: Add no default system message.
        streamcallback: Where the reply's text goes as it arrives (``sys.stdout``, a callable,
            a queue).
        name_user: A name for the user messages.
        name_assistant: A name for the reply.
        http_kwargs: ``retries``, ``readtimeout``, ``connect_timeout``, ``timeout``.
        api_kwargs: Sampling options (``temperature``, ``max_tokens``, ``n``, ...), ``url`` for
            ``CustomOpenAISchema``, and provider fields sent as they are.
        tracer_kwargs: For ``TracerSchema``/``SaverSchema``: ``parent_id``, ``thread_id``,
            ``meta``, ``log_dir``, ``log_file_path``.
        **kwargs: Values for the prompt's ``{{placeholders}}``.

    Returns:
        An ``AIMessage`` (a list for several samples); the conversation with ``return_all``;
        ``None`` (or the rendered conversation with ``return_all``) for a dry run.
    """
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        streamcallback=streamcallback,
        name_user=name_user,
        name_assistant=name_assistant,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        placeholders=kwargs,
    )
    plan = plan_chat("aigenerate", schema_or_prompt, prompt, common)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, ai_messages(plan, send_sync(plan)))


async def aigenerate_async(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    streamcallback: object = None,
    name_user: str | None = None,
    name_assistant: str | None = None,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """``aigenerate`` on the running event loop (asyncio or trio); same arguments."""
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        streamcallback=streamcallback,
        name_user=name_user,
        name_assistant=name_assistant,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        placeholders=kwargs,
    )
    plan = plan_chat("aigenerate", schema_or_prompt, prompt, common)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, ai_messages(plan, await send_async(plan)))


def attach_images(
    messages: list[AbstractMessage],
    image_url: ImageSource = None,
    image_path: PathSource = None,
    *,
    attach_to_latest: bool = True,
) -> list[AbstractMessage]:
    """The messages with the images attached to the (latest) user message.

    Raises:
        ValueError: No image, no user message, or several user messages and
            ``attach_to_latest=False``.
    """
    users = [i for i, m in enumerate(messages) if type(m) is UserMessage]
    if not users:
        raise ValueError("aiscan needs a user message to attach the images to")
    if len(users) > 1 and not attach_to_latest:
        raise ValueError("several user messages: pass attach_to_latest=True to use the last one")
    index = users[-1]
    message = messages[index]
    assert isinstance(message, UserMessage)
    out = list(messages)
    out[index] = UserMessageWithImages(
        message.content,
        image_url=image_url,
        image_path=image_path,
        variables=list(message.variables),
        name=message.name,
    )
    return out


def _scan_plan(
    first: AbstractPromptSchema | PromptLike,
    second: PromptLike | None,
    common: Common,
    image_url: ImageSource,
    image_path: PathSource,
    attach_to_latest: bool,
) -> ChatPlan:
    if image_url is None and image_path is None:
        raise ValueError("aiscan needs image_url or image_path")
    api = dict(common.api_kwargs or {})
    api.setdefault("max_tokens", 2500)  # as before: some providers default to ~300 tokens
    common.api_kwargs = api
    return plan_chat(
        "aiscan",
        first,
        second,
        common,
        transform=lambda ms: attach_images(
            ms, image_url, image_path, attach_to_latest=attach_to_latest
        ),
    )


def aiscan(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    image_url: ImageSource = None,
    image_path: PathSource = None,
    image_detail: str = "auto",
    attach_to_latest: bool = True,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    streamcallback: object = None,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Ask about images: ``aigenerate`` with images attached to the user message.

    Args:
        schema_or_prompt: A prompt schema, or the prompt.
        prompt: The prompt, when the first argument is a schema.
        image_url: Image URL(s) (``https:`` or ``data:``).
        image_path: Local image file(s), sent inline.
        image_detail: ``"auto"``, ``"low"`` or ``"high"`` (OpenAI's hint).
        attach_to_latest: Attach to the last user message when there are several.
        model: See ``aigenerate``; the other arguments too. ``max_tokens`` defaults to 2,500.
        api_key: See ``aigenerate``.
        verbose: See ``aigenerate``.
        return_all: See ``aigenerate``.
        dry_run: See ``aigenerate``.
        conversation: See ``aigenerate``.
        no_system_message: See ``aigenerate``.
        streamcallback: See ``aigenerate``.
        http_kwargs: See ``aigenerate``.
        api_kwargs: See ``aigenerate``.
        tracer_kwargs: See ``aigenerate``.
        **kwargs: Placeholder values.

    Returns:
        An ``AIMessage``, as ``aigenerate``.
    """
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        streamcallback=streamcallback,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        image_detail=image_detail,
        placeholders=kwargs,
    )
    plan = _scan_plan(schema_or_prompt, prompt, common, image_url, image_path, attach_to_latest)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, ai_messages(plan, send_sync(plan)))


async def aiscan_async(
    schema_or_prompt: AbstractPromptSchema | PromptLike,
    prompt: PromptLike | None = None,
    /,
    *,
    image_url: ImageSource = None,
    image_path: PathSource = None,
    image_detail: str = "auto",
    attach_to_latest: bool = True,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    return_all: bool = False,
    dry_run: bool = False,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    streamcallback: object = None,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
    tracer_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """``aiscan`` on the running event loop (asyncio or trio); same arguments."""
    common = Common(
        model=model,
        api_key=api_key,
        verbose=verbose,
        return_all=return_all,
        dry_run=dry_run,
        conversation=conversation,
        no_system_message=no_system_message,
        streamcallback=streamcallback,
        http_kwargs=http_kwargs,
        api_kwargs=api_kwargs,
        tracer_kwargs=tracer_kwargs,
        image_detail=image_detail,
        placeholders=kwargs,
    )
    plan = _scan_plan(schema_or_prompt, prompt, common, image_url, image_path, attach_to_latest)
    if dry_run:
        return dry_run_output(plan)
    return finish(plan, ai_messages(plan, await send_async(plan)))
