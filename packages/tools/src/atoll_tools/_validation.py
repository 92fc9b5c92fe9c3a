"""Validation plumbing shared by tools and output specs.

JSON text is parsed once; the schema check is a jsonschema Draft 2020-12 validator built once per
schema (``check_schema`` runs at definition time, not per call); failures become short
``ValidationIssue`` lists that a model can act on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, cast

import jsonschema
import pydantic
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.protocols import Validator

from ._exceptions import PartialJSONError, ToolDefinitionError, ValidationIssue, excerpt
from ._fastcheck import FORMAT_CHECKER, compile_check
from ._partial_json import parse_partial_json

MAX_ISSUES = 8
_MESSAGE_LIMIT = 240


class InvalidJSON(ValueError):
    """Internal: the text is not the JSON wanted; carries one issue."""

    def __init__(self, issue: ValidationIssue) -> None:
        self.issue = issue
        super().__init__(str(issue))


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


# Built once: json.loads with any keyword argument builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _is_prefix(text: str) -> bool:
    try:
        parse_partial_json(text)
    except PartialJSONError:
        return False
    return True


def loads(text: str) -> object:
    """Parse JSON text strictly (no NaN/Infinity); ``InvalidJSON`` says where it failed."""
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        if text.strip() and _is_prefix(text):
            # Typically max_tokens struck mid-call: say so, the model can act on that.
            message = "not valid JSON: it ends before the value is complete (cut off?)"
        else:
            message = f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        raise InvalidJSON(ValidationIssue("", message)) from exc
    except ValueError as exc:
        raise InvalidJSON(ValidationIssue("", f"not valid JSON ({exc})")) from exc


def json_type(value: object) -> str:
    """The JSON type name of a parsed value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def loads_object(text: str) -> dict[str, Any]:
    """Parse arguments text: blank means ``{}``; anything but a JSON object is refused."""
    if not text.strip():
        return {}
    value = loads(text)
    if not isinstance(value, dict):
        issue = ValidationIssue("", f"arguments must be a JSON object, got {json_type(value)}")
        raise InvalidJSON(issue)
    return cast(dict[str, Any], value)


def path_text(parts: Iterable[object]) -> str:
    """A dotted path such as ``items.0.name``."""
    return ".".join(str(part) for part in parts)


def _schema_issue(error: ValidationError) -> ValidationIssue:
    path = path_text(error.absolute_path)
    context = list(error.context or [])
    if context and all(sub.validator == "type" and not sub.path for sub in context):
        # anyOf of types (typically "X or null"): one message naming every allowed type.
        allowed = " or ".join(repr(sub.validator_value) for sub in context)
        message = f"{excerpt(repr(error.instance), 60)} is not of type {allowed}"
        return ValidationIssue(path, message)
    if context:
        # "not valid under any of the given schemas" says little: name the deepest reason.
        error = max(context, key=lambda sub: (len(sub.path), sub.validator != "type"))
        path = path_text(error.absolute_path)
    return ValidationIssue(path, excerpt(str(error.message), _MESSAGE_LIMIT))


class SchemaValidator:
    """A Draft 2020-12 validator for one schema, built and checked once.

    Args:
        schema: The JSON Schema.
        name: The tool or output name, for definition errors.

    Raises:
        ToolDefinitionError: When ``schema`` is not a valid Draft 2020-12 schema.
    """

    __slots__ = ("_fast", "_validator")

    def __init__(self, schema: Mapping[str, Any], name: str) -> None:
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ToolDefinitionError(name, f"invalid JSON Schema: {exc.message}") from exc
        self._fast = compile_check(schema)
        self._validator = cast(
            Validator,
            jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER),
        )

    def issues(self, value: object) -> list[ValidationIssue]:
        """The problems with ``value``; empty when it is valid."""
        if self._fast is not None and self._fast(value):
            return []
        errors = iter(self._validator.iter_errors(cast(Any, value)))
        first = next(errors, None)
        if first is None:
            return []
        found = [first, *errors]
        found.sort(key=lambda e: (len(e.absolute_path), path_text(e.absolute_path)))
        return [_schema_issue(error) for error in found[:MAX_ISSUES]]


def pydantic_issues(error: pydantic.ValidationError) -> list[ValidationIssue]:
    """Turn a pydantic error into issues, with input excerpts left out (they can be long)."""
    return [
        ValidationIssue(path_text(item["loc"]), excerpt(item["msg"], _MESSAGE_LIMIT))
        for item in error.errors(include_url=False, include_input=False)[:MAX_ISSUES]
    ]
