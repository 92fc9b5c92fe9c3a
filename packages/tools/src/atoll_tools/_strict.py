"""JSON Schema transforms: tidy a generated schema, make the strict form, undo strict nulls.

Providers that enforce a schema exactly (OpenAI ``strict: true``, Anthropic strict tools) accept a
subset of JSON Schema: every object closed with ``additionalProperties: false``, every property
listed in ``required`` (an optional one becomes nullable), ``$ref`` without sibling keywords, no
``oneOf``. ``strict_schema`` produces that form; ``drop_strict_nulls`` maps a value written
against it back to the original form, so a ``null`` sent for an optional property means
"not given" and the default applies.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, cast

from ._exceptions import ToolDefinitionError

Schema = dict[str, Any]

# Keywords whose values are subschemas: a map of them, a list of them, or a single one.
_MAP_KEYWORDS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_LIST_KEYWORDS = ("anyOf", "oneOf", "allOf", "prefixItems")
_ONE_KEYWORDS = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
)


def _as_schema(value: object) -> Schema | None:
    return cast(Schema, value) if isinstance(value, dict) else None


def map_subschemas(schema: Schema, fn: Callable[[Schema], Schema]) -> Schema:
    """Return a copy of ``schema`` with ``fn`` applied to each direct subschema."""
    out = dict(schema)
    for key in _MAP_KEYWORDS:
        mapping = _as_schema(out.get(key))
        if mapping is not None:
            out[key] = {
                k: fn(sub) if (sub := _as_schema(v)) is not None else v for k, v in mapping.items()
            }
    for key in _LIST_KEYWORDS:
        items = out.get(key)
        if isinstance(items, list):
            out[key] = [
                fn(sub) if (sub := _as_schema(v)) is not None else v
                for v in cast(list[object], items)
            ]
    for key in _ONE_KEYWORDS:
        sub = _as_schema(out.get(key))
        if sub is not None:
            out[key] = fn(sub)
    return out


def resolve_ref(root: Schema, ref: str) -> Schema:
    """Follow a local ``#/...`` reference inside ``root``.

    Raises:
        ToolDefinitionError: When the reference is not local or points nowhere.
    """
    if not ref.startswith("#"):
        raise ToolDefinitionError("", f"only local $ref values are supported, got {ref!r}")
    node: object = root
    for token in ref[1:].split("/")[1:] if ref != "#" else []:
        key = token.replace("~1", "/").replace("~0", "~")
        current = _as_schema(node)
        node = current.get(key) if current is not None else None
    found = _as_schema(node)
    if found is None:
        raise ToolDefinitionError("", f"$ref {ref!r} points to nothing")
    return found


def clean_schema(schema: Schema) -> Schema:
    """Drop generated ``title`` keywords and inline a root ``$ref`` (providers want an object root).

    Property *names* called ``title`` are kept: only the keyword is removed.
    """

    def walk(node: Schema) -> Schema:
        node = map_subschemas(node, walk)
        node.pop("title", None)
        return node

    out = walk(copy.deepcopy(schema))
    ref = out.get("$ref")
    if isinstance(ref, str):
        resolved = resolve_ref(out, ref)
        merged = dict(resolved)
        merged.update({k: v for k, v in out.items() if k != "$ref"})
        out = merged
    return out


def accepts_null(schema: Schema, root: Schema) -> bool:
    """Whether ``schema`` obviously admits ``null`` (by type, enum, const or a branch)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return accepts_null(resolve_ref(root, ref), root)
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "const" in schema and schema["const"] is None:
        return True
    enum = schema.get("enum")
    if isinstance(enum, list) and None in enum:
        return True
    if not schema or schema.keys() <= {"description", "default", "examples", "title"}:
        return True  # an unconstrained schema admits anything, null included
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list):
            for branch in cast(list[object], branches):
                sub = _as_schema(branch)
                if sub is not None and accepts_null(sub, root):
                    return True
    return False


def _nullable(schema: Schema, root: Schema) -> Schema:
    if accepts_null(schema, root):
        return schema
    branches = schema.get("anyOf")
    if isinstance(branches, list) and schema.keys() <= {"anyOf", "description"}:
        return {**schema, "anyOf": [*cast(list[object], branches), {"type": "null"}]}
    outer: Schema = {}
    if "description" in schema:
        outer["description"] = schema["description"]
    inner = {k: v for k, v in schema.items() if k != "description"}
    return {"anyOf": [inner, {"type": "null"}], **outer}


def _note_default(node: Schema) -> None:
    """Strict schemas carry no ``default``; keep the fact for the model in the description."""
    if "default" not in node:
        return
    default = node.pop("default")
    if default is None or ("const" in node and node["const"] == default):
        return
    note = f"Default: {json.dumps(default, ensure_ascii=False, default=str)}."
    text = node.get("description")
    node["description"] = f"{text} ({note})" if isinstance(text, str) and text else note


class _StrictBuilder:
    def __init__(self, root: Schema, name: str) -> None:
        self.root = root
        self.name = name
        self.in_progress: set[str] = set()

    def fail(self, reason: str) -> ToolDefinitionError:
        return ToolDefinitionError(self.name, f"strict schema: {reason}")

    def inline_ref(self, node: Schema, ref: str) -> Schema:
        """``$ref`` with siblings is refused by strict providers: inline the target once."""
        rest = {k: v for k, v in node.items() if k != "$ref"}
        if ref in self.in_progress:
            # A cycle: keep the reference, moving the siblings beside it into an anyOf wrapper.
            return {"anyOf": [{"$ref": ref}], **rest}
        self.in_progress.add(ref)
        try:
            target = self.walk(resolve_ref(self.root, ref))
        finally:
            self.in_progress.discard(ref)
        return self.walk({**target, **rest})

    def close_object(self, node: Schema) -> Schema:
        props = _as_schema(node.get("properties"))
        if props is None:
            if node.get("additionalProperties") is False:
                props = {}
            else:
                raise self.fail(
                    "an object with free-form keys (a dict or mapping) cannot be expressed in "
                    "strict mode; use strict=False or a model with named fields"
                )
        if "patternProperties" in node:
            raise self.fail("patternProperties is not supported in strict mode")
        required = set(cast(list[str], node.get("required", [])))
        # A const property (a union tag) stays required as is: null would only lose the tag.
        node["properties"] = {
            key: sub if key in required or "const" in sub else _nullable(sub, self.root)
            for key, value in props.items()
            if (sub := _as_schema(value)) is not None
        }
        node["required"] = list(node["properties"])
        node["additionalProperties"] = False
        return node

    def walk(self, node: Schema) -> Schema:
        ref = node.get("$ref")
        if isinstance(ref, str) and len(node) > 1:
            return self.inline_ref(node, ref)
        node = map_subschemas(node, self.walk)
        node.pop("discriminator", None)  # an OpenAPI keyword, not JSON Schema
        if "oneOf" in node and "anyOf" not in node:
            node["anyOf"] = node.pop("oneOf")
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(cast(list[object], all_of)) == 1:
            only = _as_schema(cast(list[object], all_of)[0])
            if only is not None:
                del node["allOf"]
                node = self.walk({**only, **node}) if "$ref" in only else {**only, **node}
        _note_default(node)
        if node.get("type") == "object" or "properties" in node:
            node = self.close_object(node)
        return node


def strict_schema(schema: Schema, *, name: str = "") -> Schema:
    """The strict form of a JSON Schema, as strict-mode providers require it.

    Every object gets ``additionalProperties: false`` and lists all its properties as required;
    properties that were optional become nullable (``anyOf`` with ``null``) and their default
    moves into the description. ``$ref`` with sibling keywords is inlined, ``oneOf`` becomes
    ``anyOf``, definitions under ``$defs`` are transformed too. The input is not modified.

    Args:
        schema: A JSON Schema whose root describes an object.
        name: The tool or output name, used in error messages.

    Raises:
        ToolDefinitionError: When the schema cannot be made strict (free-form maps,
            ``patternProperties``, unresolvable references).
    """
    try:
        root = clean_schema(schema)
        builder = _StrictBuilder(root, name)
        out = _drop_unused_defs(builder.walk(root))
    except ToolDefinitionError as exc:
        if exc.name or not name:
            raise
        raise ToolDefinitionError(name, exc.reason) from exc
    return out


def _refs(node: object, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in cast(Schema, node).items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for item in cast(list[object], node):
            _refs(item, found)


def _drop_unused_defs(schema: Schema) -> Schema:
    """Inlining can leave definitions nothing points to any more: drop them."""
    defs = _as_schema(schema.get("$defs"))
    if defs is None:
        return schema
    used: set[str] = set()
    _refs({k: v for k, v in schema.items() if k != "$defs"}, used)
    pending = list(used)
    while pending:  # definitions used by used definitions
        name = pending.pop().removeprefix("#/$defs/")
        inner: set[str] = set()
        _refs(defs.get(name), inner)
        pending.extend(inner - used)
        used |= inner
    kept = {k: v for k, v in defs.items() if f"#/$defs/{k}" in used}
    out = {k: v for k, v in schema.items() if k != "$defs"}
    if kept:
        out = {"$defs": kept, **out}
    return out


def _object_branch(value: dict[str, Any], schema: Schema, root: Schema) -> Schema | None:
    """The branch of ``schema`` that describes the object ``value`` (first whose keys fit)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _object_branch(value, resolve_ref(root, ref), root)
    if "properties" in schema:
        return schema
    for key in ("anyOf", "oneOf", "allOf"):
        branches = schema.get(key)
        if not isinstance(branches, list):
            continue
        for branch in cast(list[object], branches):
            sub = _as_schema(branch)
            found = _object_branch(value, sub, root) if sub is not None else None
            props = _as_schema(found.get("properties")) if found is not None else None
            if props is not None and value.keys() <= props.keys():
                return found
    return None


def _items_schema(schema: Schema, root: Schema) -> Schema | None:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _items_schema(resolve_ref(root, ref), root)
    items = _as_schema(schema.get("items"))
    if items is not None:
        return items
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list):
            for branch in cast(list[object], branches):
                sub = _as_schema(branch)
                found = _items_schema(sub, root) if sub is not None else None
                if found is not None:
                    return found
    return None


def drop_strict_nulls(value: object, schema: Schema, root: Schema | None = None) -> None:
    """Remove ``null`` values that strict mode allowed for properties the original left optional.

    ``schema`` is the original (non-strict) schema. A property that was optional and did not
    admit ``null`` is dropped when it is ``null``, so validation sees it as absent and the
    default applies. Works in place, on freshly parsed JSON.
    """
    root = schema if root is None else root
    if isinstance(value, dict):
        obj = cast(dict[str, Any], value)
        branch = _object_branch(obj, schema, root)
        if branch is None:
            return
        props = cast(Schema, branch.get("properties", {}))
        required = set(cast(list[str], branch.get("required", [])))
        for key in list(obj):
            sub = _as_schema(props.get(key))
            if sub is None:
                continue
            if obj[key] is None and key not in required and not accepts_null(sub, root):
                del obj[key]
            else:
                drop_strict_nulls(obj[key], sub, root)
    elif isinstance(value, list):
        items = _items_schema(schema, root)
        if items is not None:
            for item in cast(list[object], value):
                drop_strict_nulls(item, items, root)
