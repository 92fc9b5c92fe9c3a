"""Turning ``chat("prompt", temperature=0.2, ...)`` into a neutral ``ChatRequest``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from atoll_wire import ChatRequest, Message

from ._dict_messages import message_from_dict
from ._exceptions import InvalidOptionError
from ._options import check_options

__all__ = ["MessagesOrPrompt", "build_request"]

MessagesOrPrompt = str | Message | Iterable[Message | Mapping[str, Any]] | ChatRequest
"""What a call accepts: a prompt, one message, a list of messages (neutral ``Message``s or
OpenAI-style dicts), or a whole request."""


def build_request(
    messages_or_prompt: MessagesOrPrompt, options: Mapping[str, Any], *, stream: bool
) -> tuple[ChatRequest, dict[str, str] | None]:
    """Build the neutral request for one call; ``model`` is filled in per target later.

    Args:
        messages_or_prompt: A user prompt, a message, messages, or a ``ChatRequest``.
        options: Call options (``ChatOptions``).
        stream: Whether the call streams.

    Returns:
        The request, and the call's own headers (``extra_headers``) or None.

    Raises:
        InvalidOptionError: An unknown option, a value of the wrong type or range, or messages
            of the wrong shape (it is a TypeError too).
    """
    opts: dict[str, Any] = check_options(options) if options else {}
    system = opts.pop("system", None)
    headers: dict[str, str] | None = opts.pop("extra_headers", None)
    if isinstance(messages_or_prompt, ChatRequest):
        request = msgspec.structs.replace(messages_or_prompt, stream=stream, **opts)
    else:
        request = ChatRequest(
            model="", messages=_messages(messages_or_prompt), stream=stream, **opts
        )
    if system is not None:
        request = msgspec.structs.replace(
            request, messages=[Message.system(str(system)), *request.messages]
        )
    return request, headers


def _messages(value: object) -> list[Message]:
    if isinstance(value, str):
        return [Message.user(value)]
    if isinstance(value, Message):
        return [value]
    if isinstance(value, Mapping):
        raise InvalidOptionError(
            "messages",
            value,  # pyright: ignore[reportUnknownArgumentType]
            "a list of messages (wrap one message dict in a list)",
        )
    if not isinstance(value, Iterable):
        raise InvalidOptionError("messages", value, "a prompt, a Message or a list of messages")
    items: Iterable[object] = value  # pyright: ignore[reportUnknownVariableType]
    messages: list[Message] = []
    for position, item in enumerate(items):
        if isinstance(item, Message):
            messages.append(item)
        elif isinstance(item, Mapping):
            messages.append(message_from_dict(item, position))  # pyright: ignore[reportUnknownArgumentType]
        else:
            raise InvalidOptionError(
                f"messages[{position}]", item, "an atoll_wire.Message or an OpenAI-style dict"
            )
    if not messages:
        raise InvalidOptionError("messages", items, "at least one message")
    return messages
