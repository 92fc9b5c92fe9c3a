"""JSON Schemas fitted to what a provider's constrained decoding accepts.

A provider that enforces a schema (OpenAI ``strict``, Anthropic's ``output_config.format`` and
strict tools) compiles it into a grammar and rejects, with a 400, keywords its compiler lacks:
Anthropic refuses ``minimum``/``maximum``, string lengths, most array bounds and unknown string
formats; OpenAI refuses string lengths, ``uniqueItems`` and a few object keywords. Such a
keyword is moved into the node's description, so the model still reads the constraint, and the
caller validates the reply against the full schema locally (``Client.chat(output=...)`` does,
through the output's own ``parse``): ``Field(ge=1, le=5)`` then works on every provider.

Two fitters, both pure functions that never change their input: ``fit_for_anthropic`` keeps an
allow-list (what Anthropic documents as supported), ``fit_rejecting`` moves a deny-list (what a
provider documents as rejected, from the registry's quirk data).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any, cast

import msgspec
from atoll_wire import ChatRequest

__all__ = [
    "ANTHROPIC_FORMATS",
    "OPENAI_STRICT_FORMATS",
    "fit_for_anthropic",
    "fit_rejecting",
    "fitted_request",
]

Schema = dict[str, Any]

#: String formats Anthropic's structured outputs accept; others move into the description.
ANTHROPIC_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
#: String formats OpenAI's strict mode accepts.
OPENAI_STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)

# Keywords whose values are maps of subschemas, lists of them, or one subschema.
_MAPS = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")
_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_ONES = ("items", "additionalProperties", "not", "if", "then", "else", "contains")

# What Anthropic documents as supported, by where it may appear.
_ANTHROPIC_ANY = frozenset(
    {"type", "description", "title", "enum", "const", "anyOf", "allOf", "$ref", "$defs"}
)
_ANTHROPIC_BY_TYPE = {
    "object": frozenset({"properties", "required", "additionalProperties"}),
    "array": frozenset({"items"}),
}

Keep = Callable[[str, object, Schema], bool]


def _walk(node: Schema, keep: Keep, close: bool) -> Schema:
    out: Schema = {}
    moved: dict[str, object] = {}
    for key, value in node.items():
        if not keep(key, value, node):
            moved[key] = value
        elif key in _MAPS and isinstance(value, Mapping):
            items = cast("Mapping[str, object]", value)
            out[key] = {k: _sub(v, keep, close) for k, v in items.items()}
        elif key in _LISTS and isinstance(value, list):
            out[key] = [_sub(v, keep, close) for v in cast("list[object]", value)]
        elif key in _ONES and isinstance(value, Mapping):
            out[key] = _sub(cast("Mapping[str, object]", value), keep, close)
        else:
            out[key] = value
    if close and out.get("type") == "object":
        out["additionalProperties"] = False
    if moved:
        text = json.dumps(moved, ensure_ascii=False, default=str, separators=(", ", ": "))
        before = out.get("description")
        note = f"Constraints: {text}"
        out["description"] = f"{before}\n\n{note}" if isinstance(before, str) and before else note
    return out


def _sub(value: object, keep: Keep, close: bool) -> object:
    if isinstance(value, Mapping):
        return _walk(dict(cast("Mapping[str, Any]", value)), keep, close)
    return value


def _may_be(node: Schema, kind: str) -> bool:
    """Whether the node's ``type`` allows ``kind`` (a node without ``type`` allows anything)."""
    declared = node.get("type")
    if declared is None:
        return True
    if isinstance(declared, list):
        return kind in cast("list[object]", declared)
    return declared == kind


def _anthropic_keeps(key: str, value: object, node: Schema) -> bool:
    if key in _ANTHROPIC_ANY or key == "oneOf" or key == "definitions":
        return True
    if key == "format":
        return _may_be(node, "string") and value in ANTHROPIC_FORMATS
    if key == "minItems":
        return _may_be(node, "array") and value in (0, 1)
    return any(key in keys and _may_be(node, kind) for kind, keys in _ANTHROPIC_BY_TYPE.items())


def fit_for_anthropic(schema: Mapping[str, Any]) -> Schema:
    """The schema as Anthropic's structured outputs and strict tools accept it.

    Unsupported keywords (numeric bounds, string lengths and patterns, ``minItems`` above 1,
    ``maxItems``, ``uniqueItems``, unknown formats, ``default`` ...) move into the node's
    description; ``oneOf`` becomes ``anyOf``; every object is closed
    (``additionalProperties: false``), as the API requires.

    Example:
        >>> fit_for_anthropic({"type": "integer", "minimum": 1, "maximum": 5})
        {'type': 'integer', 'description': 'Constraints: {"minimum": 1, "maximum": 5}'}
    """
    fitted = _walk(dict(schema), _anthropic_keeps, close=True)
    return _one_of_to_any_of(fitted)


def _one_of_to_any_of(node: Schema) -> Schema:
    if "oneOf" in node and "anyOf" not in node:
        node["anyOf"] = node.pop("oneOf")
    for key, value in node.items():
        if isinstance(value, dict):
            if key in _MAPS:
                for sub in cast("dict[str, object]", value).values():
                    if isinstance(sub, dict):
                        _one_of_to_any_of(cast(Schema, sub))
            else:
                _one_of_to_any_of(cast(Schema, value))
        elif isinstance(value, list):
            for sub in cast("list[object]", value):
                if isinstance(sub, dict):
                    _one_of_to_any_of(cast(Schema, sub))
    return node


def fit_rejecting(
    schema: Mapping[str, Any],
    rejected: Collection[str],
    *,
    formats: Collection[str] | None = None,
) -> Schema:
    """The schema with ``rejected`` keywords (and formats not in ``formats``) moved out.

    Args:
        schema: A JSON Schema (not modified).
        rejected: Keywords the provider refuses anywhere in a schema.
        formats: The string formats it accepts (None: every format).

    Example:
        >>> fit_rejecting({"type": "string", "maxLength": 3}, ["maxLength"])
        {'type': 'string', 'description': 'Constraints: {"maxLength": 3}'}
    """
    refused = frozenset(rejected)
    allowed = None if formats is None else frozenset(formats)
    if not refused and allowed is None:
        return dict(schema)

    def keep(key: str, value: object, node: Schema) -> bool:
        if key in refused:
            return False
        if key == "format" and allowed is not None:
            return value in allowed
        return True

    return _walk(dict(schema), keep, close=False)


def fitted_request(
    request: ChatRequest, fit: Callable[[Schema], Schema], *, loose_output: bool
) -> ChatRequest:
    """The request with its enforced schemas fitted: strict tools and the output schema.

    Args:
        request: The neutral request (returned as is when nothing is enforced).
        fit: The dialect's fitter.
        loose_output: Fit the output schema even when it is not strict (Anthropic constrains
            ``output_config.format`` either way).
    """
    output = request.output_schema
    fit_output = output is not None and (output.strict or loose_output)
    if not fit_output and not any(tool.strict for tool in request.tools):
        return request
    changes: dict[str, Any] = {}
    if fit_output and output is not None:
        changes["output_schema"] = msgspec.structs.replace(output, schema=fit(output.schema))
    if any(tool.strict for tool in request.tools):
        changes["tools"] = [
            msgspec.structs.replace(tool, parameters=fit(tool.parameters)) if tool.strict else tool
            for tool in request.tools
        ]
    return msgspec.structs.replace(request, **changes)
