"""The first rendering pass, the same for every schema: placeholders and the system message.

Rules kept from the legacy API:

- only the placeholders a message declares (``variables``) are replaced; a placeholder with no
  keyword argument stays in the text verbatim;
- at most one system message per conversation; a system message in the prompt moves to the
  front; without one, the default ``"Act as a helpful AI assistant"`` is added, unless
  ``no_system_message=True`` (which also turns the prompt's system messages into user ones);
- ``conversation`` is copied, never changed; earlier messages are not re-rendered;
- annotations, metadata and data messages are never sent.

Fixed: a keyword argument that fills no placeholder is reported (logged once per call) instead
of vanishing silently, so a sampling option passed at the wrong level is noticed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._exceptions import RenderError
from ._messages import (
    AbstractMessage,
    AIMessage,
    AIToolRequest,
    AnnotationMessage,
    MetadataMessage,
    SystemMessage,
    ToolMessage,
    UserMessage,
    UserMessageWithImages,
)

DEFAULT_SYSTEM_PROMPT = "Act as a helpful AI assistant"
"""The system message added when a conversation has none."""

Prompt = str | AbstractMessage | Sequence[AbstractMessage]
"""What the ai* functions accept as the prompt (a template is expanded before rendering)."""

_log = logging.getLogger("atoll")


def unwrap(message: AbstractMessage) -> AbstractMessage:
    """The message inside a ``TracerMessage`` (or the message itself)."""
    inner = getattr(message, "object", None)
    return inner if isinstance(inner, AbstractMessage) else message


def prompt_messages(prompt: Prompt) -> list[AbstractMessage]:
    """The prompt as a list of messages (a string is one ``UserMessage``).

    Raises:
        TypeError: The prompt is neither text, a message nor a list of messages.
    """
    if isinstance(prompt, str):
        return [UserMessage(prompt)]
    if isinstance(prompt, AbstractMessage):
        return [prompt]
    messages = list(prompt)
    for position, item in enumerate(messages):
        if not isinstance(item, AbstractMessage):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(
                f"prompt[{position}] is a {type(item).__name__}; expected a message "
                "(SystemMessage, UserMessage, AIMessage, ...)"
            )
    return messages


def fill(content: str, variables: Iterable[str], replacements: Mapping[str, Any]) -> str:
    """``content`` with each declared ``{{variable}}`` that has a value replaced by it."""
    for name in variables:
        if name in replacements:
            content = content.replace("{{" + name + "}}", str(replacements[name]))
    return content


def _filled(
    message: SystemMessage | UserMessage | UserMessageWithImages,
    replacements: Mapping[str, Any],
    *,
    as_user: bool,
    name_user: str | None,
) -> AbstractMessage:
    text = fill(message.content, message.variables, replacements)
    if isinstance(message, UserMessageWithImages):
        return UserMessageWithImages(
            text, image_url=list(message.image_url), name=message.name or name_user
        )
    if isinstance(message, UserMessage):
        return UserMessage(text, name=message.name or name_user)
    if as_user:
        return UserMessage(text, name=name_user)
    return SystemMessage(text)


def render_conversation(
    prompt: Sequence[AbstractMessage],
    *,
    conversation: Sequence[AbstractMessage] = (),
    no_system_message: bool = False,
    name_user: str | None = None,
    replacements: Mapping[str, Any] | None = None,
) -> tuple[list[AbstractMessage], set[str]]:
    """The conversation to send: ``conversation`` plus the rendered prompt.

    Args:
        prompt: The new messages (templates already expanded).
        conversation: Earlier messages, copied as they are.
        no_system_message: Add no default system message; prompt system messages become user
            messages.
        name_user: A name for the user messages that have none.
        replacements: Placeholder values.

    Returns:
        The messages, and the placeholder names that were used.

    Raises:
        RenderError: More than one system message.
    """
    values = dict(replacements or {})
    output = list(conversation)
    systems = sum(isinstance(unwrap(m), SystemMessage) for m in output)
    used: set[str] = set()
    for message in prompt:
        inner = unwrap(message)
        if message is not inner:  # a traced message from an earlier call: kept as it is
            if isinstance(inner, SystemMessage):
                systems += 1
                output.insert(0, message)
            else:
                output.append(message)
        elif isinstance(message, SystemMessage | UserMessage | UserMessageWithImages):
            used.update(v for v in message.variables if v in values)
            as_user = no_system_message and isinstance(message, SystemMessage)
            rendered = _filled(message, values, as_user=as_user, name_user=name_user)
            if isinstance(rendered, SystemMessage):
                systems += 1
                output.insert(0, rendered)
            else:
                output.append(rendered)
        elif isinstance(message, AIMessage | AIToolRequest | ToolMessage):
            output.append(message)
        elif not isinstance(message, AnnotationMessage | MetadataMessage):
            _log.warning("%s is not sent to the model; skipped", type(message).__name__)
    if systems > 1:
        raise RenderError(
            "only one system message is allowed; the prompt and the conversation hold "
            f"{systems} (pass no_system_message=True to send the prompt's as a user message)"
        )
    if systems == 0 and not no_system_message:
        output.insert(0, SystemMessage(DEFAULT_SYSTEM_PROMPT))
    return output, used


def report_unused(function: str, replacements: Mapping[str, Any], used: set[str]) -> None:
    """Log the keyword arguments that filled no placeholder (a likely typo or misplaced option).

    Args:
        function: The ai* function's name, for the message.
        replacements: The placeholder values given.
        used: The names that filled a placeholder.
    """
    unused = sorted(set(replacements) - used)
    if unused:
        _log.warning(
            "%s: keyword argument(s) %s matched no {{placeholder}} in the prompt and were "
            "ignored (sampling options such as temperature go in api_kwargs)",
            function,
            ", ".join(unused),
        )
