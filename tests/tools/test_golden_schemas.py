"""Golden JSON Schemas for a catalogue of tool signatures, plain and strict.

Regenerate after an intended change with ``ATOLL_UPDATE_GOLDEN=1 pytest tests/tools`` and review
the diff: these files are what providers receive.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import inspect
import json
import os
import typing
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired, Optional

import jsonschema
import pytest
from atoll_tools import Tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ATOLL_UPDATE_GOLDEN") == "1"


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    """A postal address."""

    street: str = Field(description="Street and number.")
    city: str
    postcode: str | None = None


class Person(BaseModel):
    """Someone to contact."""

    name: str
    address: Address
    tags: list[str] = []


@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0


class Filters(TypedDict):
    status: Literal["open", "closed"]
    assignee: NotRequired[str]


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode] = []


class Cat(BaseModel):
    kind: Literal["cat"] = "cat"
    indoor: bool


class Dog(BaseModel):
    kind: Literal["dog"] = "dog"
    breed: str


def no_arguments() -> str:
    """Return the time of day."""
    return "noon"


def get_weather(city: str, unit: Unit = Unit.CELSIUS, days: int = 1) -> dict[str, Any]:
    """Get the weather forecast for a city.

    Args:
        city: The city name, e.g. "Paris".
        unit: The temperature unit.
        days: How many days to forecast.
    """
    return {}


def search_issues(
    query: str,
    filters: Filters,
    limit: Annotated[int, Field(ge=1, le=100, description="At most this many.")] = 10,
    labels: list[str] | None = None,
    sort: Literal["newest", "oldest"] = "newest",
) -> list[str]:
    """Search the issue tracker.

    Parameters
    ----------
    query : str
        Free text to look for.
    filters : Filters
        Status and assignee filters.
    labels : list of str, optional
        Only issues carrying all these labels.
    """
    return []


def add_contact(
    person: Person,
    priority: Priority = Priority.LOW,
    note: Optional[str] = None,  # noqa: UP045 - Optional on purpose: the catalogue covers it
) -> str:
    """Add a contact to the address book.

    :param person: The person to add.
    :param priority: How important the contact is.
    :param note: A free-form note.
    """
    return "ok"


def plot(points: list[Point], title: str = "", closed: bool = False) -> str:
    """Plot points.

    Args:
        points: The points, in order.
        title: The chart title.
        closed: Join the last point to the first.
    """
    return ""


def scores(values: dict[str, float], weights: tuple[float, float] = (1.0, 1.0)) -> float:
    """Combine named scores."""
    return 0.0


def walk_tree(root: TreeNode, depth: int | None = None) -> int:
    """Count the nodes of a tree.

    Args:
        root: The tree.
        depth: Stop below this depth.
    """
    return 0


def adopt(pet: Annotated[Cat | Dog, Field(discriminator="kind")], when: datetime.date) -> str:
    """Adopt a pet.

    Args:
        pet: The pet to adopt.
        when: The adoption date.
    """
    return ""


def schedule(
    title: str,
    when: datetime.datetime,
    attendees: set[str],
    *,
    reminder_minutes: int | None = 15,
    meeting_id: uuid.UUID | None = None,
) -> str:
    """Schedule a meeting.

    Args:
        title: What the meeting is about.
        when: Start time, ISO 8601 with a timezone.
        attendees: E-mail addresses, each once.
        reminder_minutes: Minutes before the start to remind; null for no reminder.
        meeting_id: Reuse this id instead of making a new one.
    """
    return ""


CATALOGUE = [
    no_arguments,
    get_weather,
    search_issues,
    add_contact,
    plot,
    walk_tree,
    adopt,
    schedule,
]
# Free-form maps have no strict form: only the plain schema is golden for these.
PLAIN_ONLY = [scores]


def _golden(name: str, data: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing golden file {path.name}; run with ATOLL_UPDATE_GOLDEN=1")
        path.write_text(text)
    assert json.loads(path.read_text()) == data, f"{path.name} differs from the generated schema"


def assert_strict_form(schema: dict[str, Any]) -> None:
    """The rules strict providers enforce, checked on every subschema."""

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            assert set(node) == {"$ref"}, f"$ref with siblings: {node}"
        assert "oneOf" not in node and "default" not in node and "title" not in node
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, node
            assert node.get("required") == list(node.get("properties", {})), node
        for key, value in node.items():
            if key in {"properties", "$defs"}:
                for sub in value.values():
                    walk(sub)
            elif key not in {"enum", "const", "required"}:
                walk(value)

    walk(schema)


@pytest.mark.parametrize("function", CATALOGUE + PLAIN_ONLY, ids=lambda f: f.__name__)
def test_plain_schema_matches_golden(function: Any) -> None:
    tool = Tool(function)
    jsonschema.Draft202012Validator.check_schema(tool.parameters)
    _golden(tool.name, {"description": tool.description, "parameters": tool.parameters})


@pytest.mark.parametrize("function", CATALOGUE, ids=lambda f: f.__name__)
def test_strict_schema_matches_golden(function: Any) -> None:
    tool = Tool(function, strict=True)
    jsonschema.Draft202012Validator.check_schema(tool.parameters)
    assert_strict_form(tool.parameters)
    assert tool.spec().strict is True
    _golden(f"{tool.name}.strict", {"parameters": tool.parameters})


# ---------------------------------------------------------------- every pydantic-valid call passes


def _argument_strategy(function: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments as a model would send them: values hypothesis builds from the annotations,
    dumped to JSON by pydantic, kept only when pydantic accepts that JSON back."""
    hints = typing.get_type_hints(function, include_extras=True)
    signature = inspect.signature(function)
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, param in signature.parameters.items():
        adapter: TypeAdapter[Any] = TypeAdapter(hints[name])
        values = st.from_type(hints[name]).map(lambda v, a=adapter: json.loads(a.dump_json(v)))
        target = required if param.default is inspect.Parameter.empty else optional
        target[name] = values.filter(lambda v, a=adapter: _accepts(a, v))
    return st.fixed_dictionaries(required, optional=optional)


def _accepts(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("function", CATALOGUE, ids=lambda f: f.__name__)
def test_every_call_pydantic_accepts_is_accepted(function: Any) -> None:
    plain, strict = Tool(function), Tool(function, strict=True)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(_argument_strategy(function))
    def check(arguments: dict[str, Any]) -> None:
        text = json.dumps(arguments)
        for tool in (plain, strict):
            tool.bind(tool.validate(text))  # raises ToolArgumentsError on a false rejection
        # what a strict provider sends: every property, null for the ones left out
        every = dict.fromkeys(strict.parameters["properties"]) | arguments
        strict.bind(strict.validate(json.dumps(every)))

    check()
