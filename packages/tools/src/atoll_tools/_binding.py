"""From a Python callable or type to a JSON Schema, and from validated JSON back to call arguments.

A *binder* owns both directions for one tool: ``schema`` is what the model sees (before the strict
transform), ``bind`` turns schema-valid JSON into the Python values the function expects (models,
dataclasses, enums...) through pydantic, which is built once per tool.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Protocol, cast

import pydantic
from pydantic.errors import PydanticUserError
from pydantic.fields import FieldInfo

from ._docstrings import Docstring
from ._exceptions import ToolDefinitionError
from ._strict import Schema, clean_schema

CallArgs = tuple[tuple[Any, ...], dict[str, Any]]
_UNSUPPORTED_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


class Binder(Protocol):
    """Schema and argument binding for one tool."""

    @property
    def schema(self) -> Schema:
        """The tidy (non-strict) JSON Schema of the arguments object."""
        ...

    def bind(self, arguments: dict[str, Any]) -> CallArgs:
        """Convert schema-valid JSON arguments; raises ``pydantic.ValidationError``."""
        ...


def described(func: Callable[..., Any]) -> Callable[..., Any]:
    """What holds the annotations and docstring of ``func``.

    ``functools.partial`` objects describe nothing themselves: their function does. Callable
    objects are described by their ``__call__`` method.
    """
    while isinstance(func, functools.partial):
        func = cast("functools.partial[Any]", func).func
    if inspect.isfunction(func) or inspect.ismethod(func) or inspect.isbuiltin(func):
        return func
    return type(func).__call__


def docstring_of(func: Callable[..., Any]) -> str | None:
    """The docstring describing ``func``.

    A callable object's class docstring, else its ``__call__`` docstring; for a partial, its
    function's docstring.
    """
    target = described(func)
    if target is not type(func).__call__:
        return inspect.getdoc(target)
    # Own docstrings only: inspect.getdoc would inherit "Call self as a function." from object.
    own = type(func).__doc__ or target.__doc__
    return inspect.cleandoc(own) if own else None


def _hints(func: Callable[..., Any], name: str) -> dict[str, Any]:
    target = described(func)
    try:
        return typing.get_type_hints(target, include_extras=True)
    except NameError:
        pass  # maybe a name local to the function that defined the tool: look there below
    except Exception as exc:
        raise ToolDefinitionError(name, f"cannot resolve type annotations: {exc}") from exc
    try:
        return typing.get_type_hints(target, localns=_caller_locals(), include_extras=True)
    except Exception as exc:  # NameError for unresolved forward references, TypeError otherwise
        raise ToolDefinitionError(name, f"cannot resolve type annotations: {exc}") from exc


def _caller_locals(limit: int = 8) -> dict[str, Any]:
    """Local names of the frames that defined the tool (the nearest first), as pydantic does.

    With ``from __future__ import annotations`` a tool defined inside a function may name
    classes or imports local to it; module globals alone cannot resolve those.
    """
    names: dict[str, Any] = {}
    frame = inspect.currentframe()
    seen = 0
    while frame is not None and seen < limit:
        module = str(frame.f_globals.get("__name__", ""))
        if not module.startswith("atoll_tools"):
            seen += 1
            for key, value in frame.f_locals.items():
                names.setdefault(key, value)
        frame = frame.f_back
    return names


def _field(annotation: object, doc: str | None, alias: str) -> object:
    """``annotation`` with our alias attached; the docstring text unless it has a description."""
    own = FieldInfo.from_annotation(cast(Any, annotation)).description
    # Only pass description when adding one: an explicit None would erase the annotation's own.
    extra = pydantic.Field(alias=alias, description=doc) if doc and not own else None
    return Annotated[annotation, extra or pydantic.Field(alias=alias)]


class SignatureBinder:
    """Binder for a plain function: one model field per parameter.

    Fields get internal names (``p0``, ``p1`` ...) with the parameter name as alias, so parameter
    names that clash with BaseModel attributes (``json``, ``copy``, ``schema``) just work.
    """

    __slots__ = ("_keyword", "_model", "_positional", "_schema")

    def __init__(self, func: Callable[..., Any], name: str, doc: Docstring) -> None:
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError) as exc:
            raise ToolDefinitionError(name, f"cannot read the signature: {exc}") from exc
        hints = _hints(func, name)
        fields: dict[str, Any] = {}
        self._positional: list[str] = []
        self._keyword: list[tuple[str, str]] = []
        for index, param in enumerate(signature.parameters.values()):
            if param.kind in _UNSUPPORTED_KINDS:
                raise ToolDefinitionError(
                    name, f"parameter {param.name!r}: *args and **kwargs have no JSON Schema"
                )
            field_name = f"p{index}"
            annotation = hints.get(param.name, Any)
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[field_name] = (
                _field(annotation, doc.params.get(param.name), param.name),
                default,
            )
            if param.kind is inspect.Parameter.POSITIONAL_ONLY:
                self._positional.append(field_name)
            else:
                self._keyword.append((field_name, param.name))
        try:
            self._model = pydantic.create_model(
                name,
                __config__=pydantic.ConfigDict(extra="forbid", populate_by_name=False),
                **fields,
            )
            self._schema = clean_schema(self._model.model_json_schema())
        except PydanticUserError as exc:
            raise ToolDefinitionError(name, str(exc).split("\n", 1)[0]) from exc
        if doc.description is not None:
            # The tool description travels beside the schema, not inside it.
            self._schema.pop("description", None)

    @property
    def schema(self) -> Schema:
        """The tidy JSON Schema of the parameters."""
        return self._schema

    def bind(self, arguments: dict[str, Any]) -> CallArgs:
        """Validate through the parameters model and split into positional and keyword values."""
        values = self._model.model_validate(arguments).__dict__
        return (
            tuple(values[f] for f in self._positional),
            {param: values[f] for f, param in self._keyword},
        )


class TypeBinder:
    """Binder for a type (pydantic model, dataclass, TypedDict): the function gets one instance."""

    __slots__ = ("_adapter", "_schema")

    def __init__(self, target: object, name: str) -> None:
        try:
            self._adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(cast(Any, target))
            self._schema = clean_schema(self._adapter.json_schema())
        except PydanticUserError as exc:
            raise ToolDefinitionError(name, str(exc).split("\n", 1)[0]) from exc

    @property
    def schema(self) -> Schema:
        """The tidy JSON Schema of the type."""
        return self._schema

    @property
    def adapter(self) -> pydantic.TypeAdapter[Any]:
        """The pydantic adapter validating the type."""
        return self._adapter

    def bind(self, arguments: dict[str, Any]) -> CallArgs:
        """Validate into one instance of the type."""
        return (self._adapter.validate_python(arguments),), {}


class SchemaBinder:
    """Binder for a raw JSON Schema: the validated object is passed as keyword arguments."""

    __slots__ = ("_schema",)

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._schema = clean_schema(dict(schema))

    @property
    def schema(self) -> Schema:
        """The JSON Schema as given (titles dropped)."""
        return self._schema

    def bind(self, arguments: dict[str, Any]) -> CallArgs:
        """Pass the JSON object through unchanged."""
        return (), arguments
