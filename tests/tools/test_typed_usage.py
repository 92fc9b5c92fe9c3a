"""Typed usage of the public API: pyright checks these annotations, pytest runs them."""

from __future__ import annotations

from typing import Any, assert_type

import pytest
from atoll_tools import (
    ApprovalCallback,
    ApprovalDecision,
    ApprovalRequest,
    JSONValue,
    OutputSpec,
    Tool,
    ToolsError,
    ToolSet,
    ValidationIssue,
    parse_partial_json,
    tool,
)
from atoll_wire import OutputSchema, ToolCallPart, ToolResultPart, ToolSpec
from pydantic import BaseModel

pytestmark = pytest.mark.anyio


class City(BaseModel):
    name: str
    population: int | None = None


@tool
def population(city: str) -> int:
    """Look up a population.

    Args:
        city: The city.
    """
    return len(city)


@tool(strict=True, timeout=2.0)
async def describe(city: City) -> str:
    """Describe a city."""
    return city.name


async def approver(request: ApprovalRequest) -> ApprovalDecision:
    return (
        ApprovalDecision.approve() if request.tool.name == "population" else ApprovalDecision.deny()
    )


async def test_typed_usage() -> None:
    assert_type(population, Tool)
    callback: ApprovalCallback = approver
    tools = ToolSet([population, describe], approval=callback, max_concurrency=4)
    specs = tools.specs()
    assert_type(specs, list[ToolSpec])
    calls = [ToolCallPart(id="1", name="population", raw_arguments='{"city": "Rome"}')]
    results = await tools.execute_many(calls)
    assert_type(results, list[ToolResultPart])
    one = await tools.execute(calls[0], raise_errors=True)
    assert_type(one, ToolResultPart)
    parsed: dict[str, Any] = population.validate('{"city": "Oslo"}')
    assert parsed == {"city": "Oslo"}

    spec = OutputSpec.of(City)
    assert_type(spec, OutputSpec[City])
    city = spec.parse('{"name": "Rome", "population": null}')
    assert_type(city, City)
    assert_type(spec.output_schema(), OutputSchema)
    raw_spec = OutputSpec.of({"type": "object", "properties": {"a": {"type": "string"}}})
    assert_type(raw_spec, OutputSpec[dict[str, Any]])
    partial = spec.parse_partial('{"name": "Ro')
    assert_type(partial, JSONValue)
    assert partial == {"name": "Ro"}
    assert parse_partial_json("[1, 2") == [1, 2]
    try:
        spec.parse("{}")
    except ToolsError as exc:
        issues: tuple[ValidationIssue, ...] = getattr(exc, "issues", ())
        assert issues and issues[0].path == "name"
    assert city.name == "Rome" and len(specs) == 2 and not results[0].is_error
