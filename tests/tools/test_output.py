"""OutputSpec: schemas for the dialect, parsing into types, repair messages, partial views."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, NotRequired

import pytest
from atoll_tools import (
    OutputSpec,
    OutputValidationError,
    PartialJSONError,
    ToolDefinitionError,
)
from atoll_wire import OutputSchema
from pydantic import BaseModel, Field
from typing_extensions import TypedDict


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


class Review(BaseModel):
    """A product review."""

    title: str
    stars: int = Field(ge=1, le=5)
    mood: Mood = Mood.HAPPY
    tags: list[str] = []


@dataclasses.dataclass
class Location:
    lat: float
    lon: float
    label: str | None = None


class Row(TypedDict):
    name: str
    count: int


RAW = {
    "title": "Answer",
    "description": "The final answer.",
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number", "maximum": 1}},
    "required": ["answer"],
}


def test_model_spec_schema_and_output_schema() -> None:
    spec = OutputSpec.of(Review)
    assert spec.name == "Review" and spec.strict
    assert spec.description == "A product review."
    schema = spec.schema
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["title", "stars", "mood", "tags"]
    assert "description" not in schema  # it travels in OutputSchema.description
    assert spec.output_schema() == OutputSchema(
        name="Review", schema=schema, strict=True, description="A product review."
    )
    loose = OutputSpec.of(Review, strict=False, name="my review!")
    assert loose.name == "my_review" and loose.schema["required"] == ["title", "stars"]
    assert loose.output_schema().strict is False


def test_parse_into_the_model_with_strict_nulls_meaning_defaults() -> None:
    spec = OutputSpec.of(Review)
    review = spec.parse('{"title": "Good", "stars": 4, "mood": null, "tags": null}')
    assert review == Review(title="Good", stars=4)
    fenced = spec.parse('```json\n{"title": "Ok", "stars": 3, "mood": "sad", "tags": ["x"]}\n```')
    assert fenced.mood is Mood.SAD and fenced.tags == ["x"]


def test_parse_failure_has_issues_and_a_repair_message() -> None:
    spec = OutputSpec.of(Review)
    with pytest.raises(OutputValidationError) as info:
        spec.parse('{"title": 3, "stars": 9}')
    error = info.value
    assert error.name == "Review"
    paths = {issue.path for issue in error.issues}
    assert paths == {"title", "stars"}
    message = error.repair_message
    assert message.startswith("Your reply does not match the required JSON schema 'Review':")
    assert "- at 'stars': Input should be less than or equal to 5" in message
    assert message.endswith("Reply again with only a JSON value that matches the schema.")
    with pytest.raises(OutputValidationError, match="not valid JSON"):
        spec.parse("Sure! Here is the review: {")


def test_dataclass_and_typeddict_targets() -> None:
    loc = OutputSpec.of(Location)
    assert loc.description is None  # the generated dataclass docstring is not a description
    assert loc.parse('{"lat": 1, "lon": 2.5, "label": null}') == Location(1.0, 2.5)
    rows = OutputSpec.of(Row)
    assert rows.parse('{"name": "a", "count": 2}') == {"name": "a", "count": 2}
    with pytest.raises(OutputValidationError):
        rows.parse('{"name": "a"}')


def test_raw_schema_target_validates_with_jsonschema() -> None:
    spec = OutputSpec.of(RAW)
    assert spec.name == "Answer" and spec.description == "The final answer."
    assert spec.schema["required"] == ["answer", "confidence"]
    assert spec.parse('{"answer": "42", "confidence": null}') == {"answer": "42"}
    with pytest.raises(OutputValidationError) as info:
        spec.parse('{"answer": "42", "confidence": 3}')
    assert info.value.issues[0].path == "confidence"
    assert spec.validate({"answer": "x"}) == {"answer": "x"}


def test_validate_does_not_modify_its_input() -> None:
    spec = OutputSpec.of(RAW)
    value: dict[str, Any] = {"answer": "x", "confidence": None}
    spec.validate(value)
    assert value == {"answer": "x", "confidence": None}


def test_parse_partial_shows_the_value_so_far() -> None:
    spec = OutputSpec.of(Review)
    full = json.dumps({"title": "Great phone", "stars": 5, "tags": ["fast", "light"]})
    seen = [spec.parse_partial(full[:n]) for n in range(len(full) + 1)]
    assert seen[0] is None
    assert {"title": "Great"} in seen
    assert {"title": "Great phone", "stars": 5, "tags": ["fast", "li"]} in seen
    assert seen[-1] == json.loads(full)
    assert spec.parse_partial('```json\n{"title": "A') == {"title": "A"}
    with pytest.raises(PartialJSONError):
        spec.parse_partial('{"title" 1')


def test_construction_errors() -> None:
    with pytest.raises(TypeError):
        OutputSpec()
    with pytest.raises(ToolDefinitionError):
        OutputSpec.of({"type": "object", "properties": {"m": {"type": "object"}}})
    with pytest.raises(ToolDefinitionError, match="invalid JSON Schema"):
        OutputSpec.of({"type": 12}, strict=False)


def test_output_as_a_tool_for_providers_without_structured_output() -> None:
    spec = OutputSpec.of(Review)
    as_tool = spec.tool_spec()
    assert as_tool.name == "final_result" and as_tool.strict is True
    assert as_tool.parameters == spec.schema
    assert as_tool.description == "Give the final answer as Review. A product review."
    call_arguments = '{"title": "Fine", "stars": 3, "mood": null, "tags": null}'
    assert spec.parse(call_arguments) == Review(title="Fine", stars=3)
    assert OutputSpec.of(Review, strict=False).tool_spec("answer", "Answer.").strict is None
    with pytest.raises(ToolDefinitionError, match="object"):
        OutputSpec.of(list[int]).tool_spec()


@pytest.mark.parametrize("target", [Review, Location, Row], ids=lambda t: t.__name__)
@pytest.mark.parametrize("strict", [False, True])
def test_every_value_pydantic_dumps_parses_back(target: Any, strict: bool) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from pydantic import TypeAdapter, ValidationError

    spec = OutputSpec.of(target, strict=strict)
    adapter: TypeAdapter[Any] = TypeAdapter(target)

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(st.from_type(target))
    def check(value: Any) -> None:
        text = adapter.dump_json(value).decode()
        try:
            expected = adapter.validate_json(text)
        except ValidationError:
            return  # e.g. a float that dumps as null: not a value pydantic would accept back
        assert spec.parse(text) == expected
        checked.append(text)

    checked: list[str] = []
    check()
    assert len(checked) >= 10


class Tally(TypedDict):
    name: str
    count: NotRequired[int]


@pytest.mark.parametrize(
    ("target", "good", "expected", "bad", "bad_path"),
    [
        (
            Review,
            '{"title": "t", "stars": 2, "mood": null, "tags": ["a"]}',
            Review(title="t", stars=2, tags=["a"]),
            '{"title": "t", "stars": 0, "mood": null, "tags": null}',
            "stars",
        ),
        (
            Location,
            '{"lat": 1, "lon": 2, "label": null}',
            Location(1.0, 2.0),
            '{"lat": "north", "lon": 2, "label": null}',
            "lat",
        ),
        (
            Tally,
            '{"name": "a", "count": null}',
            {"name": "a"},
            '{"name": "a", "count": "many"}',
            "count",
        ),
        (
            RAW,
            '{"answer": "42", "confidence": null}',
            {"answer": "42"},
            '{"answer": 42, "confidence": null}',
            "answer",
        ),
    ],
    ids=["model", "dataclass", "typeddict", "raw-schema"],
)
def test_each_accepted_target_strict_schema_parse_repair_and_partial(
    target: Any, good: str, expected: Any, bad: str, bad_path: str
) -> None:
    spec = OutputSpec.of(target)
    schema = spec.schema
    # the strict form: closed, every property required, optionals nullable
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["required"] == list(schema["properties"])
    assert spec.output_schema() == OutputSchema(
        name=spec.name, schema=schema, strict=True, description=spec.description
    )
    parsed = spec.parse(good)
    assert parsed == expected and type(parsed) is type(expected)
    with pytest.raises(OutputValidationError) as info:
        spec.parse(bad)
    assert [issue.path for issue in info.value.issues] == [bad_path]
    assert f"- at '{bad_path}':" in info.value.repair_message
    assert spec.parse_partial(good[: good.index(",")]) == json.loads(good[: good.index(",")] + "}")
