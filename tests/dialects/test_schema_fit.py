"""Schemas fitted to a provider's constrained decoding: nothing lost, nothing changed in place."""

from __future__ import annotations

import copy
import json
from typing import Any

from atoll_dialects._schema_fit import fit_for_anthropic, fit_rejecting
from hypothesis import given
from hypothesis import strategies as st

LEAF_KEYWORDS = {
    "minimum": st.integers(-5, 5),
    "maximum": st.integers(6, 9),
    "minLength": st.integers(0, 3),
    "maxLength": st.integers(4, 9),
    "pattern": st.just("^[a-z]+$"),
    "format": st.sampled_from(["date", "email", "regex", "color"]),
    "minItems": st.integers(0, 3),
    "uniqueItems": st.booleans(),
    "default": st.integers(),
    "description": st.text(max_size=10),
}


@st.composite
def schemas(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["string", "integer", "array", "object"] if depth < 3 else ["string", "integer"]
        )
    )
    node: dict[str, Any] = {"type": kind}
    for key in draw(st.sets(st.sampled_from(sorted(LEAF_KEYWORDS)), max_size=4)):
        node[key] = draw(LEAF_KEYWORDS[key])
    if kind == "array":
        node["items"] = draw(schemas(depth + 1))
    if kind == "object":
        names = draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True, max_size=3))
        node["properties"] = {n: draw(schemas(depth + 1)) for n in names}
        node["required"] = names
    return node


def keywords(node: object, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():  # pyright: ignore[reportUnknownVariableType]
            found.add(str(key))  # pyright: ignore[reportUnknownArgumentType]
            keywords(value, found)
    elif isinstance(node, list):
        for item in node:  # pyright: ignore[reportUnknownVariableType]
            keywords(item, found)
    return found


ANTHROPIC_REFUSES = {
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "uniqueItems",
    "default",
}


@given(schemas())
def test_anthropic_fit_keeps_only_what_it_supports(schema: dict[str, Any]) -> None:
    before = copy.deepcopy(schema)
    fitted = fit_for_anthropic(schema)
    assert schema == before  # the caller's schema is never changed
    left = keywords(fitted, set())
    assert not left & ANTHROPIC_REFUSES
    assert fit_for_anthropic(fitted) == fitted  # fitting twice changes nothing more
    # Every moved constraint is still there for the model to read.
    text = json.dumps(fitted)
    for keyword in keywords(schema, set()) & ANTHROPIC_REFUSES:
        assert f'\\"{keyword}\\"' in text


@given(schemas())
def test_deny_list_fit_moves_exactly_the_rejected_keywords(schema: dict[str, Any]) -> None:
    fitted = fit_rejecting(schema, ["maxLength", "uniqueItems"], formats=["date", "email"])
    left = keywords(fitted, set())
    assert "maxLength" not in left and "uniqueItems" not in left
    for keyword in ("minimum", "maximum", "minLength", "pattern", "default"):
        assert (keyword in left) == (keyword in keywords(schema, set()))


def test_anthropic_closes_objects_and_renames_one_of() -> None:
    schema = {
        "type": "object",
        "properties": {
            "pick": {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "more": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        },
        "$defs": {"Inner": {"type": "object", "properties": {}}},
    }
    fitted = fit_for_anthropic(schema)
    props = fitted["properties"]
    assert fitted["additionalProperties"] is False
    assert fitted["$defs"]["Inner"]["additionalProperties"] is False
    assert "oneOf" not in props["pick"] and len(props["pick"]["anyOf"]) == 2
    assert props["pick"]["anyOf"][1]["description"] == 'Constraints: {"minimum": 0}'
    assert props["when"]["format"] == "date-time"  # a supported format stays
    assert props["tags"]["minItems"] == 1
    assert "minItems" not in props["more"] and "minItems" in props["more"]["description"]


def test_nothing_to_fit_is_a_copy() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    fitted = fit_rejecting(schema, [])
    assert fitted == schema and fitted is not schema
