"""A compiled accept/reject check for the JSON Schema subset that tools use, for the fast path.

jsonschema walks a schema on every call and costs tens of microseconds even for two integers.
Tool schemas use a small, regular subset, so ``compile_check`` turns a schema into nested
closures once; a call whose arguments pass skips jsonschema entirely. It is only ever a fast
*accept*: when the check fails, or when the schema uses any keyword outside the subset
(``compile_check`` then returns None), jsonschema decides and writes the messages. The subset
follows Draft 2020-12 exactly, and a differential test holds it to jsonschema's verdicts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from jsonschema import Draft202012Validator, FormatChecker

Check = Callable[[object], bool]

# Keywords that only annotate: they never change whether a value is valid.
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "$defs",
        "definitions",
        "discriminator",  # OpenAPI's; jsonschema ignores it too
    }
)


def _format_checker() -> FormatChecker:
    """The ``format`` checks we apply: only those that need no optional package.

    jsonschema checks ``date-time``, ``uri``, ``email`` flavours and more only when optional
    packages happen to be installed; validation must not change with the environment, so the
    set is fixed here to checks built on the standard library.
    """
    checker = FormatChecker(formats=())
    for name in ("date", "email", "ipv4", "ipv6", "regex", "uuid"):
        found = Draft202012Validator.FORMAT_CHECKER.checkers.get(name)
        if found is not None:
            checker.checkers[name] = found
    return checker


FORMAT_CHECKER = _format_checker()


class Unsupported(Exception):
    """Internal: the schema uses a keyword outside the compiled subset."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


_TYPES: dict[str, Check] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": _is_number,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def json_equal(a: object, b: object) -> bool:
    """Equality as JSON Schema defines it: ``1 == 1.0`` but ``True != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        left, right = cast(list[object], a), cast(list[object], b)
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(a, dict) and isinstance(b, dict):
        left_map, right_map = cast(dict[str, object], a), cast(dict[str, object], b)
        return left_map.keys() == right_map.keys() and all(
            json_equal(v, right_map[k]) for k, v in left_map.items()
        )
    return type(cast(object, a)) is type(b) and a == b


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        if not ref.startswith("#/"):
            raise Unsupported(ref)
        if ref not in self.refs:
            cell: list[Check] = []
            # Recursive schemas: the closure looks its target up at call time.
            self.refs[ref] = lambda v: cell[0](v)
            node: object = self.root
            for token in ref[2:].split("/"):
                if not isinstance(node, dict):
                    raise Unsupported(ref)
                node = cast(dict[str, object], node).get(
                    token.replace("~1", "/").replace("~0", "~")
                )
            cell.append(self.compile(node))
        return self.refs[ref]

    def compile(self, schema: object) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise Unsupported("schema")
        node = cast(dict[str, Any], schema)
        if node.get("type") == "object" and node.keys() - _ANNOTATIONS <= _OBJECT_KEYWORDS:
            return self.closed_object(node)
        checks: list[Check] = []
        for key, value in node.items():
            if key in _ANNOTATIONS:
                continue
            builder = _KEYWORDS.get(key)
            if builder is None:
                raise Unsupported(key)
            checks.append(builder(self, value, node))
        if not checks:
            return lambda v: True
        return _all(checks)

    def closed_object(self, node: Mapping[str, Any]) -> Check:
        """The usual tool-arguments object in one pass: the hot path of every call."""
        props = {
            k: self.compile(s) for k, s in cast(dict[str, Any], node.get("properties", {})).items()
        }
        required = tuple(cast(list[str], node.get("required", [])))
        extra = self.compile(node.get("additionalProperties", True))

        def check(v: object) -> bool:
            if not isinstance(v, dict):
                return False
            obj = cast(dict[str, object], v)
            for name in required:
                if name not in obj:
                    return False
            for key, item in obj.items():
                test = props.get(key, extra)
                if not test(item):
                    return False
            return True

        return check


_OBJECT_KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties"})


def _all(checks: list[Check]) -> Check:
    """One check from several; the common small counts avoid a generator per call."""
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    if len(checks) == 3:
        first, second, third = checks
        return lambda v: first(v) and second(v) and third(v)
    return lambda v: all(check(v) for check in checks)


def _type(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    names = [value] if isinstance(value, str) else list(cast(Sequence[str], value))
    tests = [_TYPES[name] for name in names]
    return tests[0] if len(tests) == 1 else (lambda v: any(t(v) for t in tests))


def _properties(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    props = {k: c.compile(s) for k, s in cast(dict[str, Any], value).items()}

    pairs = list(props.items())

    def check(v: object) -> bool:
        if not isinstance(v, dict):
            return True
        obj = cast(dict[str, object], v)
        for key, test in pairs:
            if key in obj and not test(obj[key]):
                return False
        return True

    return check


def _required(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    names = list(cast(list[str], value))
    return lambda v: not isinstance(v, dict) or all(n in v for n in names)


def _additional(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    if "patternProperties" in node:
        raise Unsupported("patternProperties")
    known = frozenset(cast(dict[str, Any], node.get("properties", {})))
    test = c.compile(value)

    def check(v: object) -> bool:
        if not isinstance(v, dict):
            return True
        obj = cast(dict[str, object], v)
        return all(test(item) for key, item in obj.items() if key not in known)

    return check


def _items(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    # With prefixItems, items only covers the elements after the prefix.
    skip = len(cast(list[Any], node.get("prefixItems", [])))
    test = c.compile(value)
    return lambda v: (
        not isinstance(v, list) or all(test(item) for item in cast(list[object], v)[skip:])
    )


def _prefix_items(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    tests = [c.compile(s) for s in cast(list[Any], value)]
    return lambda v: (
        not isinstance(v, list)
        or all(test(item) for test, item in zip(tests, cast(list[object], v), strict=False))
    )


def _any_of(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    tests = [c.compile(s) for s in cast(list[Any], value)]
    return lambda v: any(t(v) for t in tests)


def _all_of(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    tests = [c.compile(s) for s in cast(list[Any], value)]
    return lambda v: all(t(v) for t in tests)


def _one_of(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    tests = [c.compile(s) for s in cast(list[Any], value)]
    return lambda v: sum(1 for t in tests if t(v)) == 1


def _enum(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    options = list(cast(list[object], value))
    return lambda v: any(json_equal(v, option) for option in options)


def _const(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    return lambda v: json_equal(v, value)


def _ref(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    return c.ref(str(value))


def _bound(
    compare: Callable[[float, float], bool],
) -> Callable[[_Compiler, Any, Mapping[str, Any]], Check]:
    def build(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
        if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
            raise Unsupported("bound")
        limit = float(value) if isinstance(value, float) else int(value)
        return lambda v: not _is_number(v) or compare(cast(float, v), limit)

    return build


def _length(
    kind: type, compare: Callable[[int, int], bool]
) -> Callable[[_Compiler, Any, Mapping[str, Any]], Check]:
    def build(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
        if not isinstance(value, int) or isinstance(value, bool):
            raise Unsupported("length")
        limit = value
        return lambda v: not isinstance(v, kind) or compare(len(cast(Sequence[object], v)), limit)

    return build


def _pattern(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    compiled = re.compile(str(value))
    return lambda v: not isinstance(v, str) or compiled.search(v) is not None


def _unique(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    if value is not True:
        return lambda v: True

    def check(v: object) -> bool:
        if not isinstance(v, list):
            return True
        items = cast(list[object], v)
        # Quadratic, like jsonschema's own fallback, but arguments lists are short.
        return not any(
            json_equal(items[i], items[j])
            for i in range(len(items))
            for j in range(i + 1, len(items))
        )

    return check


def _format(c: _Compiler, value: Any, node: Mapping[str, Any]) -> Check:
    name = str(value)
    return lambda v: FORMAT_CHECKER.conforms(v, name)


_KEYWORDS: dict[str, Callable[[_Compiler, Any, Mapping[str, Any]], Check]] = {
    "type": _type,
    "properties": _properties,
    "required": _required,
    "additionalProperties": _additional,
    "items": _items,
    "prefixItems": _prefix_items,
    "anyOf": _any_of,
    "allOf": _all_of,
    "oneOf": _one_of,
    "enum": _enum,
    "const": _const,
    "$ref": _ref,
    "minimum": _bound(lambda v, lim: v >= lim),
    "maximum": _bound(lambda v, lim: v <= lim),
    "exclusiveMinimum": _bound(lambda v, lim: v > lim),
    "exclusiveMaximum": _bound(lambda v, lim: v < lim),
    "minLength": _length(str, lambda n, lim: n >= lim),
    "maxLength": _length(str, lambda n, lim: n <= lim),
    "minItems": _length(list, lambda n, lim: n >= lim),
    "maxItems": _length(list, lambda n, lim: n <= lim),
    "minProperties": _length(dict, lambda n, lim: n >= lim),
    "maxProperties": _length(dict, lambda n, lim: n <= lim),
    "pattern": _pattern,
    "uniqueItems": _unique,
    "format": _format,
}


def compile_check(schema: Mapping[str, Any]) -> Check | None:
    """A fast accept check for ``schema``, or None when it uses keywords outside the subset.

    Args:
        schema: A JSON Schema already checked against the Draft 2020-12 metaschema.
    """
    if any(key in schema for key in ("$id", "$schema", "$anchor", "$dynamicRef", "$dynamicAnchor")):
        return None
    try:
        return _Compiler(schema).compile(schema)
    except (Unsupported, KeyError, re.error):
        return None
