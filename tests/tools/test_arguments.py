"""Argument validation as properties: valid arguments always pass, invalid never reach the tool."""

from __future__ import annotations

import enum
import json
from typing import Any, Literal

import anyio
import pytest
from atoll_tools import Tool, ToolSet
from atoll_wire import TextPart, ToolCallPart, ToolResultPart
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel


class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


class Box(BaseModel):
    width: float
    label: str | None = None


RECEIVED: list[dict[str, Any]] = []


def target(
    name: str,
    count: int,
    ratio: float = 0.5,
    tags: list[str] | None = None,
    mode: Literal["fast", "slow"] = "fast",
    size: Size = Size.SMALL,
    box: Box | None = None,
) -> str:
    """A tool with a bit of everything.

    Args:
        name: A name.
        count: A whole number.
        ratio: A number.
        tags: Some labels.
        mode: How.
        size: How big.
        box: A box.
    """
    # The tool checks what it gets: any wrong type here means validation let it through.
    assert isinstance(name, str)
    assert isinstance(count, int) and not isinstance(count, bool)
    assert isinstance(ratio, float)
    assert tags is None or all(isinstance(t, str) for t in tags)
    assert mode in ("fast", "slow")
    assert isinstance(size, Size)
    assert box is None or isinstance(box, Box)
    RECEIVED.append({"name": name, "count": count})
    return "ok"


TOOLSETS = {strict: ToolSet([Tool(target, strict=strict)]) for strict in (False, True)}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)
json_values = st.recursive(
    json_scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=6,
)
names = st.sampled_from(["name", "count", "ratio", "tags", "mode", "size", "box", "other"])

valid_box = st.fixed_dictionaries(
    {"width": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-100, 100)},
    optional={"label": st.none() | st.text(max_size=5)},
)
valid_arguments = st.fixed_dictionaries(
    {"name": st.text(max_size=10), "count": st.integers(-(10**9), 10**9)},
    optional={
        "ratio": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-5, 5),
        "tags": st.none() | st.lists(st.text(max_size=4), max_size=3),
        "mode": st.sampled_from(["fast", "slow"]),
        "size": st.sampled_from(["s", "l"]),
        "box": st.none() | valid_box,
    },
)


_RUNS = [0]


def run(strict: bool, raw: str) -> ToolResultPart:
    """Execute on asyncio and trio in turn, so the properties hold on both backends."""
    call = ToolCallPart(id="c", name="target", raw_arguments=raw)
    _RUNS[0] += 1
    backend = "trio" if _RUNS[0] % 2 else "asyncio"
    return anyio.run(TOOLSETS[strict].execute, call, backend=backend)


def text_of(result: ToolResultPart) -> str:
    part = result.content[0]
    assert isinstance(part, TextPart)
    return part.text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_arguments, st.booleans())
def test_valid_arguments_always_pass(arguments: dict[str, Any], strict: bool) -> None:
    RECEIVED.clear()
    result = run(strict, json.dumps(arguments))
    assert not result.is_error, text_of(result)
    assert RECEIVED == [{"name": arguments["name"], "count": arguments["count"]}]


@settings(max_examples=80, deadline=None)
@given(valid_arguments)
def test_strict_nulls_for_every_optional_property_mean_defaults(arguments: dict[str, Any]) -> None:
    full = {
        key: arguments.get(key) for key in ["name", "count", "ratio", "tags", "mode", "size", "box"]
    }
    result = run(True, json.dumps(full))
    assert not result.is_error, text_of(result)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(names, json_values, max_size=7), st.booleans())
def test_arbitrary_arguments_never_reach_the_tool_with_wrong_types(
    arguments: dict[str, Any], strict: bool
) -> None:
    # target() asserts on every parameter, so a wrong type that got through would surface as
    # a tool failure ("failed: AssertionError"), not as an arguments error.
    result = run(strict, json.dumps(arguments))
    if result.is_error:
        assert text_of(result).startswith("Invalid arguments for tool 'target'"), text_of(result)


@settings(max_examples=120, deadline=None)
@given(
    valid_arguments,
    st.sampled_from(
        [
            ("count", "3"),
            ("count", 1.5),
            ("count", True),
            ("name", 7),
            ("mode", "medium"),
            ("size", "m"),
            ("tags", "a,b"),
            ("box", {"width": "wide"}),
            ("extra", 1),
        ]
    ),
)
def test_broken_arguments_are_rejected_before_the_call(
    arguments: dict[str, Any], breakage: tuple[str, Any]
) -> None:
    key, bad = breakage
    RECEIVED.clear()
    broken = {**arguments, key: bad}
    result = run(False, json.dumps(broken))
    assert result.is_error
    assert f"at '{key}" in text_of(result) or "Additional properties" in text_of(result)
    assert RECEIVED == []


@pytest.mark.parametrize("missing", ["name", "count"])
def test_missing_required_arguments(missing: str) -> None:
    RECEIVED.clear()
    arguments = {"name": "n", "count": 1}
    del arguments[missing]
    for strict in (False, True):
        result = run(strict, json.dumps(arguments))
        assert result.is_error and f"'{missing}' is a required property" in text_of(result)
    assert RECEIVED == []


def test_strict_tool_accepts_a_call_that_omits_optionals() -> None:
    """Some servers ignore the strict flag: an omitted optional property still validates."""
    assert not run(True, '{"name": "a", "count": 1}').is_error
