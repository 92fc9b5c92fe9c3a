"""JSON Schema → the OpenAPI 3.0 subset some Gemini models take (``parameters``, ...).

Newer models read full JSON Schema (``parametersJsonSchema``, ``responseJsonSchema``) and the
dialect sends it unchanged. For a model whose quirk says ``openapi_schemas``, schemas are
down-converted here: ``$ref`` is inlined from ``$defs``/``definitions`` (a recursive reference
is cut at a fixed depth, leaving an untyped object), ``"type": [..., "null"]`` and ``anyOf``
with a null branch become ``nullable``, ``const`` becomes a one-value ``enum``, single-branch
``allOf`` is merged, type names are upper case, and keywords the subset lacks
(``additionalProperties``, ``$schema``, ``examples``, ...) are dropped.
"""

from __future__ import annotations

from typing import Any, cast

__all__ = ["to_openapi"]

JSON = dict[str, Any]

_KEEP = frozenset(
    {
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "required",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "default",
        "minProperties",
        "maxProperties",
        "propertyOrdering",
    }
)
_MAX_DEPTH = 24


def _resolve(ref: str, root: JSON) -> JSON:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            found = root.get(prefix[2:-1], {}).get(ref[len(prefix) :])
            if isinstance(found, dict):
                return found  # pyright: ignore[reportUnknownVariableType]
    return {}


def _is_null(branch: Any) -> bool:
    return isinstance(branch, dict) and cast("JSON", branch).get("type") == "null"


def _any_of(node: JSON, out: JSON, root: JSON, depth: int) -> JSON:
    any_of = node.get("anyOf", node.get("oneOf"))
    if not isinstance(any_of, list):
        return out
    options = cast("list[Any]", any_of)
    branches: list[Any] = [b for b in options if not _is_null(b)]
    if len(branches) != len(options):
        out["nullable"] = True
    if len(branches) == 1:
        return {**_convert(branches[0], root, depth + 1), **out}
    if branches:
        out["anyOf"] = [_convert(b, root, depth + 1) for b in branches]
    return out


def _convert(schema: Any, root: JSON, depth: int) -> JSON:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return {"type": "OBJECT"} if depth > _MAX_DEPTH else {}
    node: JSON = dict(schema)  # pyright: ignore[reportUnknownArgumentType]
    ref = node.pop("$ref", None)
    if isinstance(ref, str):
        node = {**_resolve(ref, root), **node}
    for key in ("allOf",):
        branches = node.pop(key, None)
        if isinstance(branches, list) and len(cast("list[Any]", branches)) == 1:
            node = {**_convert(cast("list[Any]", branches)[0], root, depth + 1), **node}
    out: JSON = {}
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = cast("list[Any]", kind)
        names = [k for k in kinds if k != "null"]
        if len(names) != len(kinds):
            out["nullable"] = True
        kind = names[0] if len(names) == 1 else None
    if isinstance(kind, str) and kind != "null":
        out["type"] = kind.upper()
    out = _any_of(node, out, root, depth)
    if "const" in node:
        out["enum"] = [str(node["const"])]
        out.setdefault("type", "STRING")
    for key, value in node.items():
        if key in _KEEP:
            out[key] = [str(v) for v in cast("list[Any]", value)] if key == "enum" else value
    properties = node.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {
            str(name): _convert(value, root, depth + 1)
            for name, value in cast("JSON", properties).items()
        }
        out.setdefault("type", "OBJECT")
    items = node.get("items")
    if isinstance(items, dict):
        out["items"] = _convert(items, root, depth + 1)
        out.setdefault("type", "ARRAY")
    return out


def to_openapi(schema: JSON) -> JSON:
    """Down-convert a JSON Schema to Gemini's OpenAPI subset (see the module docstring).

    Example:
        >>> to_openapi({"type": "object", "properties": {"n": {"type": ["integer", "null"]}},
        ...             "additionalProperties": False})
        {'type': 'OBJECT', 'properties': {'n': {'nullable': True, 'type': 'INTEGER'}}}
    """
    return _convert(schema, schema, 0)
