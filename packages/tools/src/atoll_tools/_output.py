"""``OutputSpec``: structured output as a type — its schema for the dialect, parsing, repair."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast, overload

import pydantic
from atoll_wire import OutputSchema, ToolSpec

from ._binding import SchemaBinder, TypeBinder
from ._docstrings import type_description
from ._exceptions import OutputValidationError, ToolDefinitionError
from ._partial_json import JSONValue, parse_partial_json
from ._strict import Schema, drop_strict_nulls, strict_schema
from ._validation import InvalidJSON, SchemaValidator, loads, pydantic_issues

T = TypeVar("T")
M = TypeVar("M")  # the class parameter of the spec `of` builds (not the bound class T)

_NAME = re.compile(r"[^A-Za-z0-9_-]+")
# A reply wrapped in a Markdown code fence, ```json ... ```; the closing fence may be missing.
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*[ \t]*\n?(.*?)(?:\n?```\s*)?$", re.DOTALL)


def _unfence(text: str) -> str:
    if "```" not in text:
        return text
    match = _FENCE.match(text)
    return match.group(1) if match else text


def _schema_name(name: str) -> str:
    cleaned = _NAME.sub("_", name).strip("_")[:64]
    return cleaned or "output"


class OutputSpec(Generic[T]):
    """The shape a reply must have: a type (or raw JSON Schema) and how to read it back.

    Build it with ``OutputSpec.of(T)``. ``schema`` / ``output_schema()`` go to the dialect
    (strict form by default); ``parse(text)`` validates a reply into ``T``;
    ``parse_partial(text)`` shows a streaming reply as the value received so far.
    """

    __slots__ = (
        "_adapter",
        "_description",
        "_name",
        "_original",
        "_schema",
        "_strict",
        "_validator",
    )

    def __init__(self) -> None:
        raise TypeError("use OutputSpec.of(T) to build an OutputSpec")

    @overload
    @classmethod
    def of(
        cls,
        target: type[M],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = True,
    ) -> OutputSpec[M]: ...

    @overload
    @classmethod
    def of(
        cls,
        target: Mapping[str, Any],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = True,
    ) -> OutputSpec[dict[str, Any]]: ...

    @classmethod
    def of(
        cls,
        target: type[M] | Mapping[str, Any],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = True,
    ) -> OutputSpec[M] | OutputSpec[dict[str, Any]]:
        """An output spec for a pydantic model, dataclass, TypedDict, other type, or raw schema.

        Args:
            target: The type replies must validate as, or a JSON Schema (a mapping); with a
                schema, ``parse`` returns the validated ``dict``.
            name: The schema name sent to the provider (default: the type name, or
                ``"output"``).
            description: What the output is (default: the type's docstring).
            strict: Export the strict form and ask the provider to enforce it.

        Raises:
            ToolDefinitionError: When the type has no JSON Schema, the schema is invalid, or
                it cannot be made strict.
        """
        self = cast(OutputSpec[Any], object.__new__(cls))
        if isinstance(target, Mapping):
            raw = target
            spec_name = _schema_name(name or str(raw.get("title") or "output"))
            original = SchemaBinder(raw).schema
            self._adapter = None
            default_description = raw.get("description")
        else:
            spec_name = _schema_name(name or getattr(target, "__name__", "output"))
            binder = TypeBinder(target, spec_name)
            original = binder.schema
            self._adapter = binder.adapter
            default_description = type_description(target)
        self._name = spec_name
        self._description = (
            description
            if description is not None
            else (default_description if isinstance(default_description, str) else None)
        )
        self._strict = strict
        # The description travels in OutputSchema.description; once is enough.
        original.pop("description", None)
        self._original = original
        self._schema = strict_schema(original, name=spec_name) if strict else original
        # As for tools: validate against the original once strict nulls are dropped.
        self._validator = SchemaValidator(original, spec_name) if self._adapter is None else None
        return self

    @property
    def name(self) -> str:
        """The schema name sent to the provider."""
        return self._name

    @property
    def description(self) -> str | None:
        """What the output is, for the model."""
        return self._description

    @property
    def strict(self) -> bool:
        """Whether the strict form is exported."""
        return self._strict

    @property
    def schema(self) -> Schema:
        """The JSON Schema sent to the provider (strict form when ``strict``)."""
        return self._schema

    def output_schema(self) -> OutputSchema:
        """The neutral ``OutputSchema`` for ``ChatRequest.output_schema``."""
        return OutputSchema(
            name=self._name, schema=self._schema, strict=self._strict, description=self._description
        )

    def tool_spec(self, name: str = "final_result", description: str | None = None) -> ToolSpec:
        """The output as a tool the model "calls" with its answer.

        For providers or models without native structured output: send this spec with
        ``tool_choice`` naming it, then read the call back with ``parse(call.raw_arguments)``.

        Args:
            name: The tool name.
            description: What to tell the model (default: a sentence naming the output).

        Raises:
            ToolDefinitionError: When the output is not a JSON object (tool arguments must be).
        """
        if self._schema.get("type") != "object":
            raise ToolDefinitionError(name, "only an object output can be answered as a tool call")
        text = description or (
            f"Give the final answer as {self._name}."
            + (f" {self._description}" if self._description else "")
        )
        return ToolSpec(
            name=name, description=text, parameters=self._schema, strict=self._strict or None
        )

    def __repr__(self) -> str:
        return f"OutputSpec(name={self._name!r}, strict={self._strict})"

    def parse(self, text: str) -> T:
        """Validate a reply and return it as ``T``.

        A Markdown code fence around the JSON is tolerated. In strict mode a ``null`` sent for a
        field that was optional counts as absent, so its default applies.

        Args:
            text: The model's reply text.

        Raises:
            OutputValidationError: When the text is not JSON or does not match; its
                ``repair_message`` is ready for a retry turn.
        """
        try:
            value = loads(_unfence(text))
        except InvalidJSON as exc:
            raise OutputValidationError(self._name, [exc.issue], text) from None
        return self._validate(value, text)

    def validate(self, value: object) -> T:
        """Validate an already parsed JSON value and return it as ``T``.

        Args:
            value: A parsed JSON value (it is not modified).

        Raises:
            OutputValidationError: When it does not match.
        """
        return self._validate(copy.deepcopy(value), "")

    def _validate(self, value: object, text: str) -> T:
        if self._strict:
            drop_strict_nulls(value, self._original)
        if self._validator is not None:
            issues = self._validator.issues(value)
            if issues:
                raise OutputValidationError(self._name, issues, text)
        if self._adapter is None:
            return cast(T, value)
        try:
            return cast(T, self._adapter.validate_python(value))
        except pydantic.ValidationError as exc:
            raise OutputValidationError(self._name, pydantic_issues(exc), text) from None

    def parse_partial(self, text: str) -> JSONValue:
        """The value a streaming reply holds so far, as plain JSON data (usually a ``dict``).

        It is not validated: fields appear as they arrive, strings may be cut short.

        Args:
            text: The reply received so far (a leading code fence is tolerated).

        Returns:
            The partially filled value, or None before the value starts.

        Raises:
            PartialJSONError: When the text cannot be the beginning of a JSON document.
        """
        return parse_partial_json(_unfence(text))
