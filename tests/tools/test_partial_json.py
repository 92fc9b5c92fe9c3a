"""Partial JSON: every prefix of valid JSON parses, complete JSON equals json.loads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from atoll_tools import PartialJSONError, parse_partial_json
from hypothesis import given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


def _dumps(value: Any, indent: int | None, ascii_only: bool) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=ascii_only)


@settings(max_examples=150, deadline=None)
@given(json_values, st.sampled_from([None, 2]), st.booleans())
def test_every_prefix_parses_and_the_whole_equals_json_loads(
    value: Any, indent: int | None, ascii_only: bool
) -> None:
    text = _dumps(value, indent, ascii_only)
    for end in range(len(text)):
        parse_partial_json(text[:end])  # never raises on a prefix of valid JSON
    assert parse_partial_json(text) == json.loads(text)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.text(max_size=12), min_size=1, max_size=4))
def test_prefixes_only_grow(value: dict[str, str]) -> None:
    """Each partial object holds the keys of the previous one, with values that extend it."""
    text = json.dumps(value)
    previous: dict[str, Any] = {}
    for end in range(len(text) + 1):
        current = parse_partial_json(text[:end])
        if current is None:
            continue
        assert isinstance(current, dict)
        for key, old in previous.items():
            assert key in current
            assert str(current[key]).startswith(str(old))
        previous = current


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("   ", None),
        ("{", {}),
        ('{"a', {}),
        ('{"a":', {}),
        ('{"a": "x', {"a": "x"}),
        ('{"a": "x\\', {"a": "x"}),
        ('{"a": "x\\u00e', {"a": "x"}),
        ('{"a": "x\\u00e9', {"a": "xé"}),
        ('["\\ud83d', [""]),
        ('["\\ud83d\\ude00', ["😀"]),
        ('{"a": 1', {"a": 1}),
        ('{"a": 1.', {"a": 1}),
        ('{"a": 1.5e', {"a": 1.5}),
        ('{"a": -', {}),
        ('{"a": [1, tr', {"a": [1, True]}),
        ('{"a": {"b": [{}, {"c": nu', {"a": {"b": [{}, {"c": None}]}}),
        ("[1, 2,", [1, 2]),
        ("12", 12),
        ('"unterminated', "unterminated"),
    ],
)
def test_known_prefixes(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "{]",
        "[1 2]",
        "01",
        "x",
        '{"a" 1}',
        '"\\x"',
        '{"a": 1} extra',
        '"a\nb"',
        "[-a]",
        "nulx",
        "{1: 2}",
    ],
)
def test_text_that_is_no_json_prefix_raises(text: str) -> None:
    with pytest.raises(PartialJSONError) as info:
        parse_partial_json(text)
    assert info.value.position >= 0 and info.value.reason


def _strict_loads(text: str) -> Any:
    def reject(name: str) -> Any:
        raise ValueError(name)

    return json.loads(text, parse_constant=reject)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]",:0123456789.eE+-tfrunlas \\\n', max_size=20))
def test_arbitrary_text_agrees_with_json_loads_or_raises_the_typed_error(text: str) -> None:
    try:
        expected = _strict_loads(text)
    except ValueError:
        # Not a whole document: either a prefix of one (parses) or nothing (typed error).
        try:
            parse_partial_json(text)
        except PartialJSONError:
            pass
        return
    assert parse_partial_json(text) == expected
