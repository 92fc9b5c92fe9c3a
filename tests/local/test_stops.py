"""Stop sequences over streamed text: the earliest match cuts, no part of a stop is emitted."""

from __future__ import annotations

import itertools

from atoll_local._stops import StopMatcher
from hypothesis import given
from hypothesis import strategies as st

_text = st.text(alphabet="ab<|>", max_size=30)
_stops = st.lists(st.text(alphabet="ab<|>", min_size=1, max_size=4), max_size=3)


def _reference(text: str, stops: list[str]) -> tuple[str, bool]:
    hits = [text.find(s) for s in stops if s and s in text]
    return (text[: min(hits)], True) if hits else (text, False)


@given(_text, _stops, st.lists(st.integers(0, 100), max_size=10))
def test_streamed_equals_whole_text_cut_at_the_earliest_stop(
    text: str, stops: list[str], cuts: list[int]
) -> None:
    points = sorted({c % (len(text) + 1) for c in cuts})
    edges = [0, *points, len(text)]
    matcher = StopMatcher(stops)
    emitted, stopped = "", False
    for a, b in itertools.pairwise(edges):
        piece, stopped = matcher.feed(text[a:b])
        emitted += piece
        if stopped:
            break
        # Nothing emitted so far may contain a stop.
        assert not any(s in emitted for s in stops)
    if not stopped:
        emitted += matcher.flush()
    assert (emitted, matcher.stopped) == _reference(text, stops)


def test_no_stops_passes_text_straight_through() -> None:
    matcher = StopMatcher([])
    assert matcher.feed("abc<") == ("abc<", False)
    assert matcher.flush() == ""


def test_held_prefix_is_released_when_it_does_not_complete() -> None:
    matcher = StopMatcher(["<|im_end|>"])
    assert matcher.feed("hi <|im") == ("hi ", False)
    assert matcher.feed("ported") == ("<|imported", False)
    assert matcher.feed(" x<|im_end|> y") == (" x", True)


def test_a_longer_stop_starting_earlier_wins_over_a_shorter_one_found_first() -> None:
    """Found by hypothesis: "<" is complete in "><" but "><<" may start before it."""
    matcher = StopMatcher(["<", "><<"])
    assert matcher.feed("><") == ("", False)
    assert matcher.feed("<<") == ("", True)
    matcher = StopMatcher(["<", "><<"])
    assert matcher.feed("><") == ("", False)
    assert matcher.feed("a") == (">", True), "it did not complete: the shorter stop cuts"
    held = StopMatcher(["<", "><<"])
    assert held.feed("x><") == ("x", False)
    assert (held.flush(), held.stopped) == (">", True), "the end of text cuts at the held stop"
