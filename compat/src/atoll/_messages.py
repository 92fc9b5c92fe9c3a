"""The legacy message types, with the fields legacy code reads.

``SystemMessage``, ``UserMessage`` and ``UserMessageWithImages`` carry ``{{placeholders}}``
(``variables`` is found in ``content`` when not given); ``AIMessage``, ``DataMessage`` and
``AIToolRequest`` carry the call's record: ``tokens`` (input, output; -1 when unknown),
``elapsed`` seconds, ``cost`` in USD (``None`` when the price is unknown, never 0 by guess),
``usage`` (the neutral ``atoll_wire.Usage``), ``finish_reason``, ``run_id``/``sample_id`` and
``extras``. ``run_id`` is left out of equality, as before.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from atoll_wire import Usage

from ._exceptions import PlaceholderError

_PLACEHOLDER = re.compile(r"\{\{([^}]+)\}\}")

RESERVED_KWARGS: frozenset[str] = frozenset(
    {
        "aiprefill",
        "api_key",
        "api_kwargs",
        "betas",
        "conversation",
        "dry_run",
        "http_kwargs",
        "image_detail",
        "image_path",
        "image_url",
        "json_mode",
        "model",
        "name_assistant",
        "name_user",
        "no_system_message",
        "return_all",
        "return_type",
        "streamcallback",
        "strict",
        "tools",
        "tracer_kwargs",
        "verbose",
    }
)
"""Keyword names of the ai* functions: a placeholder may not use them."""


def placeholders(text: str) -> list[str]:
    """The ``{{name}}`` placeholders in ``text``, in order, without duplicates.

    Args:
        text: A message's content.
    """
    return list(dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(text)))


def _run_id() -> int:
    return random.randint(-(2**31), 2**31 - 1)


def _checked_variables(content: str, variables: list[str]) -> list[str]:
    found = variables or placeholders(content)
    reserved = RESERVED_KWARGS.intersection(found)
    if reserved:
        raise PlaceholderError(sorted(reserved))
    return list(found)


class AbstractMessage:
    """Base of every message; ``kind`` is the type tag used in saved files (``_type``)."""

    kind: ClassVar[str] = "abstractmessage"


class AbstractChatMessage(AbstractMessage):
    """A message whose content is text (system, user, assistant)."""


class AbstractDataMessage(AbstractMessage):
    """A message whose content is data (extracted values, embeddings, tool requests)."""


@dataclass
class MetadataMessage(AbstractChatMessage):
    """A template's metadata (description, version, source); never sent to a model."""

    kind: ClassVar[str] = "metadatamessage"
    content: str = "Template Metadata"
    description: str = ""
    version: str = "1"
    source: str = ""
    run_id: int | None = field(default_factory=_run_id, compare=False)


@dataclass
class SystemMessage(AbstractChatMessage):
    """Instructions for the model; its ``{{placeholders}}`` are filled by keyword arguments."""

    kind: ClassVar[str] = "systemmessage"
    content: str
    variables: list[str] = field(default_factory=list[str])

    def __post_init__(self) -> None:
        self.variables = _checked_variables(self.content, self.variables)


@dataclass
class UserMessage(AbstractChatMessage):
    """What the user says; its ``{{placeholders}}`` are filled by keyword arguments."""

    kind: ClassVar[str] = "usermessage"
    content: str
    variables: list[str] = field(default_factory=list[str])
    name: str | None = None

    def __post_init__(self) -> None:
        self.variables = _checked_variables(self.content, self.variables)


@dataclass(init=False)
class UserMessageWithImages(AbstractChatMessage):
    """A user message with images: URLs, or ``data:`` URLs read from local files.

    Args:
        content: The text.
        image_url: One URL or several (``https:`` or ``data:``).
        image_path: One local image file or several, sent inline as ``data:`` URLs.
        variables: The placeholders (default: found in ``content``).
        name: The user's name.

    Raises:
        ValueError: Neither ``image_url`` nor ``image_path`` was given.
        OSError: An ``image_path`` cannot be read.
    """

    kind: ClassVar[str] = "usermessagewithimages"
    content: str
    image_url: list[str]
    variables: list[str]
    name: str | None

    def __init__(
        self,
        content: str,
        image_url: str | Sequence[str] | None = None,
        image_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        variables: list[str] | None = None,
        name: str | None = None,
    ) -> None:
        if image_url is None and image_path is None:
            raise ValueError("UserMessageWithImages needs image_url or image_path")
        urls = [image_url] if isinstance(image_url, str) else list(image_url or ())
        if image_path is not None:
            paths = [image_path] if isinstance(image_path, str | os.PathLike) else image_path
            urls.extend(image_data_url(p) for p in paths)
        self.content = content
        self.image_url = urls
        self.variables = _checked_variables(content, variables or [])
        self.name = name


def image_data_url(path: str | os.PathLike[str]) -> str:
    """A ``data:`` URL holding the image file at ``path`` (media type from its suffix).

    Args:
        path: An image file.

    Raises:
        OSError: The file cannot be read.
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    media = mimetypes.types_map.get(f".{suffix}", f"image/{suffix or 'png'}")
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"data:{media};base64,{data}"


@dataclass
class AIMessage(AbstractChatMessage):
    """The model's reply (``aigenerate``, ``aiscan``, ``aiclassify``).

    Attributes:
        content: The reply's text (``None`` when it had none).
        status: 200 for a reply that arrived.
        name: The assistant's name, when given.
        tokens: (input, output) tokens; -1 where the provider did not say.
        elapsed: Seconds the call took.
        cost: USD as a float; ``None`` when a needed price is unknown (see
            ``extras["cost_note"]``); ``extras["cost_usd"]`` holds the exact decimal text.
        usage: The neutral usage (cache and reasoning tokens included).
        log_prob: The sample's log probability, when reported.
        extras: Everything else: ``served_by``, ``response_id``, ``thinking``, ``parts`` (the
            reply's non-text parts, so thinking and its signature survive a round trip), ...
        finish_reason: The provider's finish reason (``stop``, ``end_turn``, ...).
        run_id: One id per call; samples of one call share it.
        sample_id: 1.. for multi-sample calls, else ``None``.
    """

    kind: ClassVar[str] = "aimessage"
    content: str | None = None
    status: int | None = None
    name: str | None = None
    tokens: tuple[int, int] = (-1, -1)
    elapsed: float = -1.0
    cost: float | None = None
    usage: Usage | None = None
    log_prob: float | None = None
    extras: dict[str, Any] = field(default_factory=dict[str, Any])
    finish_reason: str | None = None
    run_id: int | None = field(default_factory=_run_id, compare=False)
    sample_id: int | None = None


@dataclass
class DataMessage(AbstractDataMessage):
    """Structured data from the model (``aiextract``) or vectors (``aiembed``).

    Same fields as ``AIMessage``; ``content`` is the extracted value (an instance of the
    ``return_type``), or the embeddings (one list of floats, or a list of them).
    """

    kind: ClassVar[str] = "datamessage"
    content: Any = None
    status: int | None = None
    tokens: tuple[int, int] = (-1, -1)
    elapsed: float = -1.0
    cost: float | None = None
    usage: Usage | None = None
    log_prob: float | None = None
    extras: dict[str, Any] = field(default_factory=dict[str, Any])
    finish_reason: str | None = None
    run_id: int | None = field(default_factory=_run_id, compare=False)
    sample_id: int | None = None


@dataclass
class ToolMessage(AbstractDataMessage):
    """One tool call the model asked for, and (once run) its result in ``content``.

    Attributes:
        content: The result, set by you after running the tool (``execute_tool``).
        req_id: The id of the ``AIToolRequest`` it came from.
        tool_call_id: The provider's call id.
        raw: The exact argument text the model sent.
        args: The parsed arguments.
        name: The tool name.
    """

    kind: ClassVar[str] = "toolmessage"
    content: Any = None
    req_id: int | None = None
    tool_call_id: str = ""
    raw: str = ""
    args: dict[str, Any] | None = None
    name: str | None = None


@dataclass
class AIToolRequest(AbstractDataMessage):
    """The model's reply to ``aitools``: text and/or tool calls, returned, never run for you.

    Same record fields as ``AIMessage``; ``tool_calls`` lists a ``ToolMessage`` per call.
    """

    kind: ClassVar[str] = "aitoolrequest"
    content: str | None = None
    tool_calls: list[ToolMessage] = field(default_factory=list[ToolMessage])
    name: str | None = None
    status: int | None = None
    tokens: tuple[int, int] = (-1, -1)
    elapsed: float = -1.0
    cost: float | None = None
    usage: Usage | None = None
    log_prob: float | None = None
    extras: dict[str, Any] = field(default_factory=dict[str, Any])
    finish_reason: str | None = None
    run_id: int | None = field(default_factory=_run_id, compare=False)
    sample_id: int | None = None


@dataclass
class AnnotationMessage(AbstractMessage):
    """A note kept with a conversation and never sent to a model."""

    kind: ClassVar[str] = "annotationmessage"
    content: str
    extras: dict[str, Any] = field(default_factory=dict[str, Any])
    tags: list[str] = field(default_factory=list[str])
    comment: str = ""
    run_id: int | None = field(default_factory=_run_id, compare=False)


ReplyMessage = AIMessage | DataMessage | AIToolRequest
"""What an ai* call returns for one sample."""

MESSAGE_TYPES: tuple[type[AbstractMessage], ...] = (
    MetadataMessage,
    SystemMessage,
    UserMessage,
    UserMessageWithImages,
    AIMessage,
    DataMessage,
    ToolMessage,
    AIToolRequest,
    AnnotationMessage,
)
"""Every concrete message class, for the type tags of saved files."""


def tool_calls(message: AbstractMessage) -> list[ToolMessage]:
    """The tool calls a message carries (an ``AIToolRequest``'s, a ``ToolMessage`` itself).

    Args:
        message: Any message (tracer messages are unwrapped).
    """
    inner = getattr(message, "object", message)
    if isinstance(inner, AIToolRequest):
        return inner.tool_calls
    if isinstance(inner, ToolMessage):
        return [inner]
    return []


def last_message(conversation: list[AbstractMessage]) -> AbstractMessage | None:
    """The last message of a conversation, or ``None`` when it is empty."""
    return conversation[-1] if conversation else None


def last_output(conversation: list[AbstractMessage]) -> Any:
    """The last message's ``content``, or ``None`` when the conversation is empty."""
    message = last_message(conversation)
    return None if message is None else getattr(message, "content", None)
