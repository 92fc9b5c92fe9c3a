"""The strict transform and the mapping of strict nulls back to defaults."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from atoll_tools import Tool, ToolDefinitionError, strict_schema
from atoll_tools._strict import drop_strict_nulls


def test_input_is_not_modified_and_optionals_become_nullable() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "title": "Args",
        "properties": {
            "title": {"type": "string", "title": "Title"},
            "count": {"type": "integer", "default": 3, "description": "How many."},
            "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        "required": ["title"],
    }
    before = copy.deepcopy(schema)
    out = strict_schema(schema)
    assert schema == before
    assert out == {
        "type": "object",
        "properties": {
            # a property *named* title survives; only the keyword goes
            "title": {"type": "string"},
            "count": {
                "anyOf": [{"type": "integer"}, {"type": "null"}],
                "description": "How many. (Default: 3.)",
            },
            "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["title", "count", "maybe"],
        "additionalProperties": False,
    }


def test_nested_objects_in_arrays_and_defs_are_closed() -> None:
    schema = {
        "type": "object",
        "$defs": {"Item": {"type": "object", "properties": {"n": {"type": "integer"}}}},
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
            "pair": {"type": "array", "prefixItems": [{"type": "object", "properties": {}}]},
        },
        "required": ["items", "pair"],
    }
    out = strict_schema(schema)
    item = out["$defs"]["Item"]
    assert item["additionalProperties"] is False and item["required"] == ["n"]
    assert out["properties"]["pair"]["prefixItems"][0] == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }


def test_recursive_ref_with_siblings_does_not_loop() -> None:
    schema = {
        "type": "object",
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"next": {"$ref": "#/$defs/Node", "description": "The next node."}},
            }
        },
        "properties": {"head": {"$ref": "#/$defs/Node", "description": "First."}},
        "required": ["head"],
    }
    out = strict_schema(schema)
    head = out["properties"]["head"]
    assert head["description"] == "First." and "$ref" not in head
    # inside the inlined copy the self reference is kept, wrapped so $ref has no siblings
    assert "Node" in out["$defs"]


def test_oneof_becomes_anyof_and_discriminator_goes() -> None:
    schema = {
        "type": "object",
        "properties": {
            "v": {
                "oneOf": [{"type": "string"}, {"type": "integer"}],
                "discriminator": {"propertyName": "x"},
            }
        },
        "required": ["v"],
    }
    assert strict_schema(schema)["properties"]["v"] == {
        "anyOf": [{"type": "string"}, {"type": "integer"}]
    }


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "object", "additionalProperties": {"type": "integer"}},
        {"type": "object"},
        {"type": "object", "properties": {}, "patternProperties": {"^x": {}}},
    ],
)
def test_what_has_no_strict_form_is_refused_by_name(prop: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": {"m": prop}, "required": ["m"]}
    with pytest.raises(ToolDefinitionError) as info:
        strict_schema(schema, name="mapper")
    assert info.value.name == "mapper"
    assert "strict" in info.value.reason


def test_dict_parameter_with_strict_tool_is_a_definition_error() -> None:
    def count(words: dict[str, int]) -> int:
        return sum(words.values())

    with pytest.raises(ToolDefinitionError, match="free-form keys"):
        Tool(count, strict=True)
    assert Tool(count).parameters["properties"]["words"]["additionalProperties"] == {
        "type": "integer"
    }


def test_drop_strict_nulls_only_where_null_was_not_allowed() -> None:
    original = {
        "type": "object",
        "$defs": {
            "Inner": {
                "type": "object",
                "properties": {"a": {"type": "integer", "default": 1}, "b": {"type": "string"}},
                "required": ["b"],
            }
        },
        "properties": {
            "keep_null": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            "drop_me": {"type": "integer", "default": 2},
            "required_null": {"type": "integer"},
            "inner": {"type": "array", "items": {"$ref": "#/$defs/Inner"}},
        },
        "required": ["required_null"],
    }
    value = {
        "keep_null": None,
        "drop_me": None,
        "required_null": None,
        "inner": [{"a": None, "b": "x"}, {"a": 5, "b": "y"}],
    }
    drop_strict_nulls(value, original)
    assert value == {
        "keep_null": None,
        "required_null": None,  # left for validation to reject
        "inner": [{"b": "x"}, {"a": 5, "b": "y"}],
    }
