"""The compiled fast check agrees with jsonschema (Draft 2020-12) on every value it is shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from atoll_tools._fastcheck import FORMAT_CHECKER, compile_check, json_equal
from hypothesis import given, settings
from hypothesis import strategies as st

GOLDEN = Path(__file__).parent / "golden"

HANDMADE: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": -3, "exclusiveMaximum": 10},
            "x": {"type": "number", "exclusiveMinimum": 0.5, "maximum": 1e3},
            "s": {"type": "string", "minLength": 1, "maxLength": 3, "pattern": "^[a-c]"},
            "e": {"enum": [1, "a", None, True, [1], {"k": 1}]},
            "c": {"const": 1},
            "q": {"type": "array", "uniqueItems": True},
            "l": {
                "type": "array",
                "items": {"type": ["string", "null"]},
                "minItems": 1,
                "maxItems": 2,
            },
            "o": {"type": "object", "minProperties": 1, "maxProperties": 2},
            "u": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]},
            "a": {"allOf": [{"type": "string"}, {"maxLength": 2}]},
            "t": {
                "type": "array",
                "prefixItems": [{"type": "integer"}],
                "items": {"type": "string"},
            },
            "d": {"type": "string", "format": "date"},
        },
        "required": ["n"],
        "additionalProperties": {"type": "boolean"},
    },
    {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "v": {"type": "integer"},
                    "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
                "required": ["v"],
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/Node",
    },
    {"type": "array", "items": {"const": {"a": [1, 2.0]}}},
    True,  # type: ignore[list-item]
    {"not": {"type": "string"}},  # outside the subset: no fast check
]


def golden_schemas() -> list[Any]:
    found = []
    for path in sorted(GOLDEN.glob("*.json")):
        found.append(json.loads(path.read_text())["parameters"])
    return found


SCHEMAS = golden_schemas() + HANDMADE


def keys_of(schema: Any) -> list[str]:
    keys: set[str] = {"zz"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                keys.update(props)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return sorted(keys)


ALL_KEYS = sorted({k for s in SCHEMAS for k in keys_of(s)})
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-20, 20)
    | st.sampled_from([0.5, 1.0, 2.0, -1.5, 1e3, 1e4, 9.999])
    | st.sampled_from(
        ["", "a", "abc", "abcd", "b1", "zz", "2024-01-31", "2024-13-01", "cat", "dog"]
    )
    | st.text(max_size=4)
)
values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(ALL_KEYS), c, max_size=5),
    max_leaves=12,
)


def reference(schema: Any) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


@pytest.mark.parametrize("index", range(len(SCHEMAS)))
@settings(max_examples=60, deadline=None)
@given(value=values)
def test_fast_check_agrees_with_jsonschema(index: int, value: Any) -> None:
    schema = SCHEMAS[index]
    check = compile_check(schema) if isinstance(schema, dict) else None
    if check is None:
        return
    assert check(value) == reference(schema).is_valid(value), (schema, value)


def test_subset_coverage() -> None:
    compiled = [compile_check(s) for s in SCHEMAS if isinstance(s, dict)]
    # every golden tool schema and the handmade subset schemas compile; "not" does not
    assert sum(c is not None for c in compiled) == len(compiled) - 1
    assert compile_check({"not": {}}) is None
    assert compile_check({"$id": "https://x", "type": "object"}) is None
    assert (
        compile_check(
            {"type": "object", "patternProperties": {"^a": {}}, "additionalProperties": False}
        )
        is None
    )


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        ([1, {"a": 2}], [1.0, {"a": 2.0}], True),
        ("1", 1, False),
        (None, None, True),
        ({"a": 1}, {"b": 1}, False),
    ],
)
def test_json_equality(a: Any, b: Any, equal: bool) -> None:
    assert json_equal(a, b) is equal


near_valid = st.fixed_dictionaries(
    {"n": st.integers(-5, 12) | st.sampled_from([1.0, 2.5, True, "1"])},
    optional={
        "x": st.sampled_from([0.5, 0.51, 1, 1000, 1000.5, "1"]),
        "s": st.sampled_from(["a", "abc", "abcd", "d", "", "c\n", 1]),
        "e": st.sampled_from(
            [1, 1.0, True, "a", None, [1], [1.0], [True], {"k": 1}, {"k": True}, 2]
        ),
        "c": st.sampled_from([1, 1.0, True, "1"]),
        "l": st.lists(st.sampled_from(["a", None, 1]), max_size=3),
        "q": st.lists(
            st.sampled_from([1, 1.0, True, "1", [1], [1.0], {"a": 1}, {"a": True}]), max_size=3
        ),
        "o": st.dictionaries(st.sampled_from(["p", "q", "r"]), st.integers(), max_size=3),
        "u": st.sampled_from([1, 1.5, -1.5, 2.0, -2, "x"]),
        "a": st.sampled_from(["ab", "abc", 1]),
        "t": st.lists(st.sampled_from([1, "a", 2.0, None]), max_size=3),
        "d": st.sampled_from(["2024-02-29", "2023-02-29", "x", 5]),
        "extra": st.sampled_from([True, False, 1, None]),
    },
)


@settings(max_examples=300, deadline=None)
@given(near_valid)
def test_fast_check_agrees_on_near_valid_values(value: dict[str, Any]) -> None:
    schema = HANDMADE[0]
    check = compile_check(schema)
    assert check is not None
    assert check(value) == reference(schema).is_valid(value), value


def test_format_checks_do_not_depend_on_optional_packages() -> None:
    # date-time, uri, hostname... are only checked by jsonschema when extra packages are
    # installed; our set is fixed, so a naive pydantic datetime is accepted everywhere.
    assert sorted(FORMAT_CHECKER.checkers) == ["date", "email", "ipv4", "ipv6", "regex", "uuid"]
    assert FORMAT_CHECKER.conforms("2000-01-01T00:00:00", "date-time")
    assert not FORMAT_CHECKER.conforms("2024-13-01", "date")
    assert not FORMAT_CHECKER.conforms("not-a-uuid", "uuid")


# ---------------------------------------------------------------- random schemas of the subset

KEYS = ["a", "b", "c"]
leaf_schemas = st.one_of(
    st.sampled_from(
        [{"type": t} for t in ["null", "boolean", "string", "integer", "number", "array", "object"]]
    ),
    st.just({"type": ["integer", "string"]}),
    st.builds(
        lambda v: {"enum": v},
        st.lists(st.sampled_from([1, 1.0, True, "a", None, [1], {"a": 1}]), min_size=1, max_size=3),
    ),
    st.builds(lambda v: {"const": v}, st.sampled_from([0, 1, False, "a", None, [], {}])),
    st.builds(
        lambda k, n: {k: n},
        st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]),
        st.sampled_from([0, 1, 1.5, -2]),
    ),
    st.builds(
        lambda k, n: {k: n},
        st.sampled_from(
            ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"]
        ),
        st.integers(0, 2),
    ),
    st.builds(lambda p: {"type": "string", "pattern": p}, st.sampled_from(["^a", "b$", "[0-9]"])),
    st.just({"uniqueItems": True}),
    st.builds(lambda f: {"format": f}, st.sampled_from(["date", "uuid", "ipv4", "email"])),
    st.just({}),
)


def _combine(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(
            lambda props, req, extra: {
                "type": "object",
                "properties": props,
                "required": req,
                "additionalProperties": extra,
            },
            st.dictionaries(st.sampled_from(KEYS), children, max_size=3),
            st.lists(st.sampled_from(KEYS), max_size=2, unique=True),
            st.booleans() | children,
        ),
        st.builds(
            lambda props: {"properties": props},
            st.dictionaries(st.sampled_from(KEYS), children, max_size=2),
        ),
        st.builds(lambda items: {"type": "array", "items": items}, children),
        st.builds(
            lambda pre, items: {"prefixItems": pre, "items": items},
            st.lists(children, min_size=1, max_size=2),
            children,
        ),
        st.builds(
            lambda k, subs: {k: subs},
            st.sampled_from(["anyOf", "allOf", "oneOf"]),
            st.lists(children, min_size=1, max_size=3),
        ),
        st.builds(lambda x, y: {**x, **y}, children, children),
    )


random_schemas = st.recursive(leaf_schemas, _combine, max_leaves=8)
small_values = st.recursive(
    st.none()
    | st.booleans()
    | st.sampled_from([0, 1, 2, -3, 1.0, 1.5, "", "a", "ab", "b1", "2024-01-31", "1.2.3.4", "x@y"]),
    lambda c: (
        st.lists(c, max_size=3) | st.dictionaries(st.sampled_from([*KEYS, "z"]), c, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(random_schemas, st.lists(small_values, min_size=1, max_size=8))
def test_fast_check_agrees_with_jsonschema_on_random_schemas(
    schema: dict[str, Any], instances: list[Any]
) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    check = compile_check(schema)
    assert check is not None, schema  # everything generated here is inside the subset
    validator = reference(schema)
    for value in instances:
        assert check(value) == validator.is_valid(value), (schema, value)
