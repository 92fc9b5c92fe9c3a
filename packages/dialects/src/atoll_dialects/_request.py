"""Turning ``chat("prompt", temperature=0.2, ...)`` into a neutral ``ChatRequest``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import msgspec
from atoll_wire import ChatRequest, Message, OutputSchema, ToolChoice, ToolSpec

# Options a call accepts, mapped onto ChatRequest fields. Anything else is a TypeError so a typo
# ("temprature") never silently does nothing.
_FIELDS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "stop",
        "seed",
        "tools",
        "tool_choice",
        "output_schema",
        "extra",
        "metadata",
    }
)

MessagesOrPrompt = str | Message | Iterable[Message] | ChatRequest
"""What a call accepts: a prompt, one message, a list of messages, or a whole request."""


@runtime_checkable
class _ToolSource(Protocol):
    def specs(self) -> list[ToolSpec]: ...


@runtime_checkable
class _OutputSource(Protocol):
    def output_schema(self) -> OutputSchema: ...


def build_request(
    messages_or_prompt: MessagesOrPrompt, options: Mapping[str, Any], *, stream: bool
) -> ChatRequest:
    """Build the neutral request for one call; ``model`` is filled in per target later.

    Args:
        messages_or_prompt: A user prompt, a message, messages, or a ``ChatRequest``.
        options: Call options (``temperature``, ``tools``, ``system``, ...).
        stream: Whether the call streams.

    Raises:
        TypeError: An unknown option, or messages of the wrong type.
    """
    opts = dict(options)
    system = opts.pop("system", None)
    unknown = sorted(set(opts) - _FIELDS)
    if unknown:
        allowed = ", ".join(sorted(_FIELDS | {"system", "timeout"}))
        raise TypeError(f"unknown call option(s) {', '.join(unknown)}; allowed: {allowed}")
    if "stop" in opts and isinstance(opts["stop"], str):
        opts["stop"] = [opts["stop"]]
    if "tools" in opts:
        opts["tools"] = _tool_specs(opts["tools"])
    if isinstance(opts.get("tool_choice"), str):
        opts["tool_choice"] = ToolChoice(mode=opts["tool_choice"])
    # Protocol isinstance checks are slow (they walk the class): only run them on a value.
    schema = opts.get("output_schema")
    if schema is not None and not isinstance(schema, OutputSchema):
        if not isinstance(schema, _OutputSource):
            raise TypeError(
                "output_schema must be an atoll_wire.OutputSchema or have .output_schema() "
                f"(an atoll_tools.OutputSpec), got {type(schema).__name__}"
            )
        opts["output_schema"] = schema.output_schema()
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
    return request


def _messages(value: str | Message | Iterable[Message]) -> list[Message]:
    if isinstance(value, str):
        return [Message.user(value)]
    if isinstance(value, Message):
        return [value]
    messages = list(value)
    for position, item in enumerate(messages):
        if not isinstance(item, Message):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(
                f"messages[{position}] is a {type(item).__name__}, expected atoll_wire.Message"
            )
    if not messages:
        raise TypeError("a chat call needs at least one message")
    return messages


def _tool_specs(value: object) -> list[ToolSpec]:
    if isinstance(value, _ToolSource):
        return list(value.specs())
    if not isinstance(value, list | tuple):
        raise TypeError(
            f"tools must be a list of ToolSpec or a ToolSet, got {type(value).__name__}"
        )
    specs: list[ToolSpec] = []
    for item in value:  # pyright: ignore[reportUnknownVariableType]
        if isinstance(item, ToolSpec):
            specs.append(item)
        elif isinstance(item, _ToolSource):
            specs.extend(item.specs())
        elif callable(getattr(item, "spec", None)):  # pyright: ignore[reportUnknownArgumentType]
            spec = item.spec()  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if not isinstance(spec, ToolSpec):
                raise TypeError(f"{item!r}.spec() did not return a ToolSpec")
            specs.append(spec)
        else:
            raise TypeError(f"cannot use {type(item).__name__} as a tool; pass a ToolSpec")  # pyright: ignore[reportUnknownArgumentType]
    return specs
