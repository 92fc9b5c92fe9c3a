"""The Hermes tool-call parser: any split of the text gives the same text and calls."""

from __future__ import annotations

import itertools
import json

from atoll_local import HermesToolParser, ParsedToolCall, ToolCallParser
from hypothesis import assume, given
from hypothesis import strategies as st

Item = str | ParsedToolCall


def _run(parser: ToolCallParser, pieces: list[str]) -> list[Item]:
    out: list[Item] = []
    for piece in pieces:
        out.extend(parser.feed(piece))
    out.extend(parser.finish())
    merged: list[Item] = []
    for item in out:  # adjacent text pieces are one text
        if isinstance(item, str) and merged and isinstance(merged[-1], str):
            merged[-1] += item
        elif item != "":
            merged.append(item)
    return merged


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    edges = [0, *points, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(edges)]


def test_text_and_calls() -> None:
    text = (
        'Let me check.<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}\n'
        "</tool_call>"
    )
    assert _run(HermesToolParser(), [text]) == [
        "Let me check.",
        ParsedToolCall("weather", '{"city": "Paris"}'),
    ]


def test_two_calls_and_parameters_alias_and_string_arguments() -> None:
    text = (
        '<tool_call>{"name": "a", "parameters": {"x": 1}}</tool_call>'
        '<tool_call>{"name": "b", "arguments": "{\\"y\\": [1, 2]}"}</tool_call> done'
    )
    assert _run(HermesToolParser(), [text]) == [
        ParsedToolCall("a", '{"x": 1}'),
        ParsedToolCall("b", '{"y": [1, 2]}'),
        " done",
    ]


def test_malformed_or_unclosed_blocks_stay_text() -> None:
    bad = '<tool_call>{"name": 3}</tool_call>'
    not_json = "<tool_call>call weather now</tool_call>"
    unclosed = 'x <tool_call>{"name": "a", "arguments": {}'
    assert _run(HermesToolParser(), [bad]) == [bad]
    assert _run(HermesToolParser(), [not_json]) == [not_json]
    assert _run(HermesToolParser(), [unclosed]) == [unclosed]


def test_a_partial_tag_is_held_back_until_it_is_known() -> None:
    parser = HermesToolParser()
    assert parser.feed("a <tool_") == ["a "]
    assert parser.feed("cal") == []
    assert parser.feed("m") == ["<tool_calm"]
    assert parser.feed("<") == []
    assert parser.finish() == ["<"]


_names = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)
_args = st.dictionaries(
    st.text(alphabet="xyz", min_size=1, max_size=3),
    st.one_of(st.integers(-5, 5), st.text(alphabet="ab <>/_", max_size=6), st.booleans()),
    max_size=3,
)
_plain = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20
).filter(lambda s: "<tool_call>" not in s and "</tool_call>" not in s)


@given(
    st.lists(st.one_of(_plain, st.tuples(_names, _args)), max_size=6),
    st.lists(st.integers(0, 10_000), max_size=12),
)
def test_any_split_gives_the_whole_text_s_items(
    segments: list[str | tuple[str, dict[str, object]]], cuts: list[int]
) -> None:
    text = ""
    expected: list[Item] = []
    for segment in segments:
        if isinstance(segment, str):
            text += segment
            if segment:
                if expected and isinstance(expected[-1], str):
                    expected[-1] += segment
                else:
                    expected.append(segment)
        else:
            name, args = segment
            text += f"<tool_call>\n{json.dumps({'name': name, 'arguments': args})}\n</tool_call>"
            expected.append(ParsedToolCall(name, json.dumps(args, ensure_ascii=False)))
    # Two plain segments side by side may spell a tag ("<tool_" + "call>"): not plain text.
    assume(
        not any(
            isinstance(i, str) and ("<tool_call>" in i or "</tool_call>" in i) for i in expected
        )
    )
    whole = _run(HermesToolParser(), [text])
    assert whole == expected
    assert _run(HermesToolParser(), _split(text, cuts)) == expected


@given(_plain, st.lists(st.integers(0, 1000), max_size=8))
def test_plain_text_passes_through_unchanged(text: str, cuts: list[int]) -> None:
    assert "".join(str(i) for i in _run(HermesToolParser(), _split(text, cuts))) == text


def test_forced_call_wraps_the_payload_in_tags() -> None:
    parser = HermesToolParser()
    assert parser.forced_call("call") == '"<tool_call>" "\\n"? call "\\n"? "</tool_call>"'
    schema = parser.call_schema("f", {"type": "object"})
    assert schema["properties"]["name"] == {"const": "f"}
    assert schema["required"] == ["name", "arguments"]
