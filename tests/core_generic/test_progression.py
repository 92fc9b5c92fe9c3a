"""Progression: list semantics, O(1) membership/popleft, idempotent include/exclude, errors."""

from __future__ import annotations

import json
import uuid

import pytest
from atoll_generic import (
    Element,
    IndexOutOfRangeError,
    ItemNotFoundError,
    MalformedDataError,
    Progression,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

POOL = [uuid.UUID(int=i + 1) for i in range(6)]
ids = st.sampled_from(POOL)


def test_list_semantics_basics() -> None:
    a, b, c = Element(), Element(), Element()
    p = Progression([a, str(b.id)])
    p.append(c.id)
    assert list(p) == [a.id, b.id, c.id] and len(p) == 3
    assert p[0] == a.id and p[-1] == c.id
    assert p[1:] == [b.id, c.id] and isinstance(p[1:], Progression)
    assert p[::-1] == [c.id, b.id, a.id]
    assert p.index(b) == 1 and p.index(str(c.id)) == 2
    p.insert(0, c)
    assert p == [c.id, a.id, b.id, c.id] and p.count(c) == 2
    assert p.pop() == c.id and c in p  # one occurrence left
    assert p.popleft() == c.id and c not in p
    p.reverse()
    assert list(p) == [b.id, a.id]
    p.remove(b)
    assert list(p) == [a.id] and p.pop(0) == a.id and not p


def test_include_and_exclude_are_idempotent() -> None:
    a, b = Element(), Element()
    p = Progression()
    assert p.include([a, b]) is True
    assert p.include(a) is False and len(p) == 2
    p.append(a)
    assert p.exclude(a) is True and a not in p and list(p) == [b.id]
    assert p.exclude(a) is False


def test_errors_subclass_the_matching_builtins() -> None:
    p = Progression()
    with pytest.raises(IndexError):
        p.popleft()
    with pytest.raises(IndexOutOfRangeError):
        p.pop()
    with pytest.raises(IndexError):
        p[3]
    missing = Element()
    with pytest.raises(ValueError):
        p.remove(missing)
    with pytest.raises(KeyError):
        p.remove(missing)
    with pytest.raises(ItemNotFoundError):
        p.index(missing)
    with pytest.raises(ValueError, match="not a UUID"):
        p.append("nope")
    assert "nope" not in p and 5 not in p


def test_regression_11_lookup_by_string_id() -> None:
    """Ancestor defect 11 (Progression side): a string id was not found."""
    e = Element()
    p = Progression([e])
    assert str(e.id) in p and e.id in p and e in p
    assert p.index(str(e.id)) == 0
    p.remove(str(e.id))
    assert not p


def test_serialization_roundtrip_and_errors() -> None:
    p = Progression([Element(), Element()])
    back = Progression.from_dict(json.loads(json.dumps(p.to_dict())))
    assert back == p
    with pytest.raises(MalformedDataError):
        Progression.from_dict({"kind": "Pile", "order": []})
    with pytest.raises(MalformedDataError):
        Progression.from_dict({"order": ["bad"]})
    with pytest.raises(MalformedDataError):
        Progression.from_dict({"order": "x"})


@given(st.lists(ids, max_size=20))
def test_roundtrip_property_progression(order: list[uuid.UUID]) -> None:
    p = Progression(order)
    assert Progression.from_dict(json.loads(json.dumps(p.to_dict()))) == order


def test_popleft_is_constant_time_in_practice() -> None:
    # 100k poplefts on a list would be quadratic (minutes); on a deque they are instant.
    p = Progression(uuid.UUID(int=i) for i in range(1, 100_001))
    for _ in range(100_000):
        p.popleft()
    assert not p


class ProgressionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.p = Progression()
        self.model: list[uuid.UUID] = []

    @rule(x=ids)
    def append(self, x: uuid.UUID) -> None:
        self.p.append(x)
        self.model.append(x)

    @rule(xs=st.lists(ids, max_size=3))
    def extend(self, xs: list[uuid.UUID]) -> None:
        self.p.extend(xs)
        self.model.extend(xs)

    @rule(i=st.integers(-8, 8), x=ids)
    def insert(self, i: int, x: uuid.UUID) -> None:
        self.p.insert(i, x)
        self.model.insert(i, x)

    @rule(i=st.integers(-8, 8))
    def pop(self, i: int) -> None:
        if -len(self.model) <= i < len(self.model):
            assert self.p.pop(i) == self.model.pop(i)
        else:
            with pytest.raises(IndexError):
                self.p.pop(i)

    @precondition(lambda self: bool(self.model))
    @rule()
    def popleft(self) -> None:
        assert self.p.popleft() == self.model.pop(0)

    @rule(x=ids)
    def remove(self, x: uuid.UUID) -> None:
        if x in self.model:
            self.p.remove(str(x))
            self.model.remove(x)
        else:
            with pytest.raises(ValueError):
                self.p.remove(x)

    @rule(x=ids)
    def include(self, x: uuid.UUID) -> None:
        assert self.p.include(x) == (x not in self.model)
        if x not in self.model:
            self.model.append(x)

    @rule(x=ids)
    def exclude(self, x: uuid.UUID) -> None:
        assert self.p.exclude(x) == (x in self.model)
        self.model = [m for m in self.model if m != x]

    @rule()
    def reverse(self) -> None:
        self.p.reverse()
        self.model.reverse()

    @rule(
        start=st.integers(-8, 8) | st.none(),
        stop=st.integers(-8, 8) | st.none(),
        step=st.sampled_from([None, 1, 2, -1]),
    )
    def slicing(self, start: int | None, stop: int | None, step: int | None) -> None:
        assert list(self.p[start:stop:step]) == self.model[start:stop:step]

    @rule(x=ids)
    def lookups(self, x: uuid.UUID) -> None:
        assert (x in self.p) == (x in self.model)
        assert self.p.count(x) == self.model.count(x)
        if x in self.model:
            assert self.p.index(x) == self.model.index(x)

    @invariant()
    def same(self) -> None:
        assert list(self.p) == self.model and len(self.p) == len(self.model)


TestProgressionMachine = ProgressionMachine.TestCase
TestProgressionMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
