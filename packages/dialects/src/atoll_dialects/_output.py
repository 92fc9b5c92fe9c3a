"""What ``output=`` accepts: an output spec, or a type that an installed adapter turns into one.

atoll_dialects reads and validates no types itself (it may not import pydantic or atoll_tools,
which sit above it). ``output=`` therefore takes any *output spec*: an object with
``output_schema()`` (the neutral ``OutputSchema`` to ask for) and ``parse(text)`` (the
validated value, or ``ValueError``/``TypeError`` when the text does not match; an error's
``repair_message``, if it has one, is what a repair turn sends back). ``atoll_tools.OutputSpec``
is one, for pydantic models, dataclasses, TypedDicts, other types and raw JSON Schemas.

Anything else (``output=Person``) goes to the adapters installed packages declare under the
entry-point group ``atoll_dialects.output``: atoll-tools declares ``OutputSpec.of``, so with
atoll-tools installed a model class works directly and nothing here names it. The lookup runs
on the first such call only (results are cached per type); without an adapter that accepts the
value, ``InvalidOptionError`` says to wrap it in ``atoll_tools.OutputSpec.of(...)``.

An output whose schema is not an object (``list[str]``, a union) is asked for as
``{"result": ...}``, because providers accept only objects as response formats and tool
arguments; the reply is unwrapped before the spec validates it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from atoll_wire import AtollError, OutputSchema

from ._exceptions import InvalidOptionError

__all__ = ["ENTRY_POINT_GROUP", "OutputLike", "partial_value", "repair_text", "resolve_output"]

T_co = TypeVar("T_co", covariant=True)

#: The entry-point group of output adapters: ``name = "package.module:callable"``.
ENTRY_POINT_GROUP = "atoll_dialects.output"
_WRAPPED = "result"
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*[ \t]*\n?(.*?)(?:\n?```\s*)?$", re.DOTALL)
_CACHE_LIMIT = 256


@runtime_checkable
class OutputLike(Protocol[T_co]):
    """An output spec: the schema to ask for and how to validate a reply (see the module doc)."""

    def output_schema(self) -> OutputSchema:
        """The neutral schema the model must answer in."""
        ...

    def parse(self, text: str) -> T_co:
        """The validated value of a reply's JSON text.

        Raises:
            ValueError: The text is not JSON or does not match.
        """
        ...


Adapter = Callable[[Any], object]
_adapters: list[tuple[str, Adapter]] | None = None
_resolved: dict[object, OutputLike[Any]] = {}


def _installed_adapters() -> list[tuple[str, Adapter]]:
    global _adapters
    if _adapters is None:
        # Imported here: reading installed metadata costs tens of milliseconds, paid only by
        # the first output= call with a type rather than an output spec.
        from importlib.metadata import entry_points

        found: list[tuple[str, Adapter]] = []
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                found.append((point.name, point.load()))
            except (ImportError, AttributeError):
                continue  # a broken optional package must not break every other call
        _adapters = sorted(found, key=lambda item: item[0])
    return _adapters


def resolve_output(value: object) -> OutputLike[Any]:
    """The output spec for ``output=value`` (wrapped when its schema is not an object).

    Raises:
        InvalidOptionError: Nothing installed can turn ``value`` into an output spec.
    """
    try:
        cached = _resolved.get(value)
    except TypeError:  # unhashable (a raw schema dict): resolved every time
        cached = None
    if cached is not None:
        return cached
    spec: OutputLike[Any] = (
        cast("OutputLike[Any]", value) if isinstance(value, OutputLike) else _adapt(value)
    )
    schema = spec.output_schema()
    if not isinstance(schema, OutputSchema):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InvalidOptionError("output", spec, "an output_schema() returning an OutputSchema")
    result: OutputLike[Any] = spec if schema.schema.get("type") == "object" else _Wrapped(spec)
    try:
        if len(_resolved) >= _CACHE_LIMIT:
            _resolved.clear()
        _resolved[value] = result
    except TypeError:
        pass
    return result


def _adapt(value: object) -> OutputLike[Any]:
    problems: list[str] = []
    for name, adapter in _installed_adapters():
        try:
            spec = adapter(value)
        except (TypeError, ValueError, AtollError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        if isinstance(spec, OutputLike):
            return cast("OutputLike[Any]", spec)
        problems.append(f"{name}: returned {type(spec).__name__}, not an output spec")
    hint = (
        "an output spec with output_schema() and parse(text), such as "
        "atoll_tools.OutputSpec.of(Model)"
    )
    if not problems:
        hint += " (install atoll-tools to pass model classes directly)"
    else:
        hint += " (" + "; ".join(problems)[:400] + ")"
    raise InvalidOptionError("output", value, hint)


def _unfence(text: str) -> str:
    if "```" not in text:
        return text
    match = _FENCE.match(text)
    return match.group(1) if match else text


class _Mismatch(ValueError):
    def __init__(self, name: str, reason: str) -> None:
        self.repair_message = (
            f"Your reply does not match the required JSON schema {name!r}: {reason}\n"
            "Reply again with only a JSON value that matches the schema."
        )
        super().__init__(reason)


class _Wrapped:
    """A non-object output asked for as ``{"result": value}`` and unwrapped before validation."""

    __slots__ = ("_inner", "_schema")

    def __init__(self, inner: OutputLike[Any]) -> None:
        self._inner = inner
        schema = inner.output_schema()
        body = dict(schema.schema)
        defs = body.pop("$defs", None)
        wrapped: dict[str, Any] = {
            "type": "object",
            "properties": {_WRAPPED: body},
            "required": [_WRAPPED],
            "additionalProperties": False,
        }
        if defs is not None:
            wrapped["$defs"] = defs  # references stay "#/$defs/..." from the new root
        self._schema = OutputSchema(
            name=schema.name, schema=wrapped, strict=schema.strict, description=schema.description
        )

    def output_schema(self) -> OutputSchema:
        return self._schema

    def parse(self, text: str) -> Any:
        try:
            value = json.loads(_unfence(text))
        except json.JSONDecodeError as exc:
            raise _Mismatch(self._schema.name, f"the reply is not JSON ({exc})") from None
        if not isinstance(value, dict) or _WRAPPED not in value:
            raise _Mismatch(self._schema.name, f'the reply must be an object {{"{_WRAPPED}": ...}}')
        inner = value[_WRAPPED]  # pyright: ignore[reportUnknownVariableType]
        validate = getattr(self._inner, "validate", None)
        if callable(validate):
            return validate(inner)
        return self._inner.parse(json.dumps(inner))

    def parse_partial(self, text: str) -> object:
        value = partial_value(self._inner, text)
        return value.get(_WRAPPED) if isinstance(value, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]


def partial_value(spec: object, text: str) -> object:
    """The value a streaming reply holds so far, unvalidated (None when unreadable).

    Uses the spec's ``parse_partial(text)`` when it has one (``atoll_tools.OutputSpec`` does).
    """
    parse_partial = getattr(spec, "parse_partial", None)
    if not callable(parse_partial) or not text:
        return None
    try:
        return parse_partial(text)
    except (ValueError, TypeError, AtollError):
        return None


def repair_text(error: BaseException) -> str:
    """What a repair turn tells the model: the error's ``repair_message``, else its text."""
    message = getattr(error, "repair_message", None)
    if isinstance(message, str) and message:
        return message
    return (
        f"Your reply does not match the required JSON schema: {error}\n"
        "Reply again with only a JSON value that matches the schema."
    )
