"""Inline <think> reasoning is split from the answer the same way however the text is chunked."""

from __future__ import annotations

from atoll_dialects._think_tags import ThinkTagSplitter, split_think_tags
from hypothesis import given
from hypothesis import strategies as st


def _fold(pieces: list[tuple[bool, str]]) -> tuple[str, str]:
    return (
        "".join(t for r, t in pieces if r),
        "".join(t for r, t in pieces if not r),
    )


def _chunked(text: str, cuts: list[int], tag: str = "think") -> tuple[str, str]:
    splitter = ThinkTagSplitter(tag)
    pieces: list[tuple[bool, str]] = []
    start = 0
    for cut in [*sorted({c % (len(text) + 1) for c in cuts}), len(text)]:
        pieces += splitter.feed(text[start:cut])
        start = cut
    return _fold(pieces + splitter.finish())


def test_whole_reply() -> None:
    assert split_think_tags("<think>a plan</think>\n\nThe answer") == ("a plan", "The answer")
    assert split_think_tags("  <think>x</think>y") == ("x", "y")
    assert split_think_tags("no tags here") == ("", "no tags here")
    assert split_think_tags("<think>unterminated") == ("unterminated", "")
    assert split_think_tags("") == ("", "")


def test_tag_later_in_the_reply_is_text() -> None:
    assert split_think_tags("I use <think> tags</think> sometimes") == (
        "",
        "I use <think> tags</think> sometimes",
    )


def test_other_tag_names() -> None:
    assert split_think_tags("<thought>t</thought>a", "thought") == ("t", "a")


def test_partial_open_tag_that_is_not_a_tag() -> None:
    assert split_think_tags("<thin ice>") == ("", "<thin ice>")
    assert _chunked("<thi", [2]) == ("", "<thi")


@given(
    reasoning=st.text(alphabet="ab<>/thinkx \n", max_size=30).filter(lambda s: "</think>" not in s),
    answer=st.text(alphabet="ab<>/thinkx \n", max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12),
)
def test_any_chunking_gives_the_same_split(reasoning: str, answer: str, cuts: list[int]) -> None:
    text = f"<think>{reasoning}</think>{answer}"
    whole = split_think_tags(text)
    assert _chunked(text, cuts) == whole
    assert whole[0] == reasoning
    assert whole[1] == answer.lstrip("\r\n")


@given(
    text=st.text(max_size=60), cuts=st.lists(st.integers(min_value=0, max_value=100), max_size=8)
)
def test_nothing_is_lost(text: str, cuts: list[int]) -> None:
    reasoning, answer = _chunked(text, cuts)
    assert len(reasoning) + len(answer) <= len(text)
    if not text.lstrip().startswith("<think>"):
        assert (reasoning, answer) == ("", text)
