"""The options of a chat call, typed (``ChatOptions``) and checked before anything is sent.

``client.chat("hi", temprature=0.2)`` is a type error for a checker (``Unpack[ChatOptions]``)
and an ``InvalidOptionError`` at run time; so is ``temperature="hot"``, ``max_tokens=-1`` or
``metadata=[1]``. ``None`` for any option means "not given" (``tools=None`` is no tools).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypedDict, cast, runtime_checkable

from atoll_wire import OutputSchema, ToolChoice, ToolSpec, TransportError, checked_header_value

from ._exceptions import InvalidOptionError

__all__ = ["ChatOptions", "ToolSource", "check_options"]


@runtime_checkable
class ToolSource(Protocol):
    """Anything that lists tool specs (an ``atoll_tools.ToolSet``)."""

    def specs(self) -> list[ToolSpec]:
        """The tools' specs."""
        ...


@runtime_checkable
class _OutputSource(Protocol):
    def output_schema(self) -> OutputSchema: ...


ToolChoiceOption = Literal["auto", "none", "required"] | ToolChoice
"""``auto`` (the model decides), ``none``, ``required`` (any tool), or ``ToolChoice.tool(name)``."""


class ChatOptions(TypedDict, total=False):
    """The keyword options of a chat call, checked before anything is sent.

    ``Client.chat``, ``Client.stream``, ``CallEvent.of`` and the sync client take them. Every
    key is optional; ``None`` means not given.
    """

    system: str | None
    """A system prompt, put before the messages."""
    temperature: float | None
    """Sampling temperature, from 0 to 2 (providers narrow it: Anthropic takes 0 to 1)."""
    top_p: float | None
    """Nucleus sampling, from 0 to 1."""
    max_tokens: int | None
    """The most tokens to generate (at least 1)."""
    stop: str | Sequence[str] | None
    """A stop sequence or several."""
    seed: int | None
    """A sampling seed, where the provider supports one."""
    tools: ToolSource | Sequence[ToolSpec | ToolSource] | None
    """Tools the model may call: ``ToolSpec``s or an ``atoll_tools.ToolSet``."""
    tool_choice: ToolChoiceOption | None
    """Whether and which tool the model must call."""
    parallel_tool_calls: bool | None
    """Allow (True) or forbid (False) several tool calls in one turn."""
    output_schema: OutputSchema | Any
    """Structured output: an ``OutputSchema`` or anything with ``.output_schema()``."""
    extra: Mapping[str, Any] | None
    """Provider-specific body fields, merged into the request body last."""
    metadata: Mapping[str, str] | None
    """Labels for tracing (string keys and values)."""
    extra_headers: Mapping[str, str] | None
    """Headers for this call only (over the Client's ``default_headers``)."""


def _number(name: str, low: float, high: float) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidOptionError(name, value, f"a number from {low:g} to {high:g}")
        if not math.isfinite(value) or not low <= value <= high:
            raise InvalidOptionError(name, value, f"a number from {low:g} to {high:g}")
        return float(value)

    return check


def _max_tokens(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidOptionError("max_tokens", value, "a whole number of tokens, at least 1")
    return value


def _seed(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidOptionError("seed", value, "a whole number")
    return value


def _stop(value: object) -> object:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        items = cast("Sequence[object]", value)
        if all(isinstance(v, str) for v in items):
            return list(items)
    raise InvalidOptionError("stop", value, "a string or a list of strings")  # pyright: ignore[reportUnknownArgumentType]


def _flag(name: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, bool):
            raise InvalidOptionError(name, value, "True or False")
        return value

    return check


def _tool_choice(value: object) -> object:
    if isinstance(value, ToolChoice):
        return value
    if value in ("auto", "none", "required"):
        return ToolChoice(mode=value)  # type: ignore[arg-type]
    raise InvalidOptionError(
        "tool_choice", value, "'auto', 'none', 'required' or ToolChoice.tool(name)"
    )


def _mapping(name: str, values: str | None) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, Mapping):
            raise InvalidOptionError(name, value, "a mapping with string keys")
        items = cast("Mapping[object, object]", value)
        for key, item in items.items():
            if not isinstance(key, str) or (values == "str" and not isinstance(item, str)):
                what = "string keys and values" if values == "str" else "string keys"
                raise InvalidOptionError(name, value, f"a mapping with {what}")  # pyright: ignore[reportUnknownArgumentType]
        return dict(items)

    return check


def _headers(value: object) -> object:
    checked = _mapping("extra_headers", "str")(value)
    assert isinstance(checked, dict)
    headers: dict[str, str] = checked  # pyright: ignore[reportUnknownVariableType]
    for key, item in headers.items():
        try:
            checked_header_value(key, item)
        except TransportError:
            # The value may be a credential: the message names the header only.
            raise InvalidOptionError(
                "extra_headers", f"<header {key!r}>", "header names and values without newlines"
            ) from None
    return headers


def _system(value: object) -> object:
    if not isinstance(value, str):
        raise InvalidOptionError("system", value, "a string")
    return value


def tool_specs(value: object) -> list[ToolSpec]:
    """Tool specs from a ToolSet, a list of ``ToolSpec``s/ToolSets, or objects with ``spec()``.

    Raises:
        InvalidOptionError: Something that is not a tool.
    """
    if isinstance(value, ToolSource):
        return list(value.specs())
    if not isinstance(value, list | tuple):
        raise InvalidOptionError("tools", value, "a list of ToolSpec or an atoll_tools.ToolSet")
    specs: list[ToolSpec] = []
    for item in cast("Iterable[object]", value):
        if isinstance(item, ToolSpec):
            specs.append(item)
        elif isinstance(item, ToolSource):
            specs.extend(item.specs())
        elif callable(spec_of := getattr(item, "spec", None)):
            spec = spec_of()
            if not isinstance(spec, ToolSpec):
                raise InvalidOptionError("tools", item, "objects whose spec() is a ToolSpec")
            specs.append(spec)
        else:
            raise InvalidOptionError("tools", item, "a ToolSpec, a Tool or a ToolSet")
    return specs


def _output_schema(value: object) -> object:
    if isinstance(value, OutputSchema):
        return value
    if isinstance(value, _OutputSource):
        return value.output_schema()
    raise InvalidOptionError(
        "output_schema", value, "an atoll_wire.OutputSchema or an object with .output_schema()"
    )


_CHECKS: dict[str, Callable[[object], object]] = {
    "system": _system,
    "temperature": _number("temperature", 0.0, 2.0),
    "top_p": _number("top_p", 0.0, 1.0),
    "max_tokens": _max_tokens,
    "stop": _stop,
    "seed": _seed,
    "tools": tool_specs,
    "tool_choice": _tool_choice,
    "parallel_tool_calls": _flag("parallel_tool_calls"),
    "output_schema": _output_schema,
    "extra": _mapping("extra", None),
    "metadata": _mapping("metadata", "str"),
    "extra_headers": _headers,
}

OPTION_NAMES = frozenset(_CHECKS)


def check_options(options: Mapping[str, object]) -> dict[str, object]:
    """Check every given option and return them normalised; ``None`` values are dropped.

    Raises:
        InvalidOptionError: An unknown option, or a value of the wrong type or range (the
            message names the option and the value).
    """
    checked: dict[str, object] = {}
    for name, value in options.items():
        check = _CHECKS.get(name)
        if check is None:
            allowed = ", ".join(sorted(OPTION_NAMES | {"timeout"}))
            raise InvalidOptionError(name, value, f"a known option ({allowed})")
        if value is not None:
            checked[name] = check(value)
    return checked
