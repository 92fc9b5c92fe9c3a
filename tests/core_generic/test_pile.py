"""Pile[T]: typed ordered access, pops, set algebra, serialization, and a stateful model test."""

from __future__ import annotations

import json
import uuid

import pytest
from atoll_generic import (
    Element,
    IndexOutOfRangeError,
    ItemExistsError,
    ItemNotFoundError,
    ItemTypeError,
    Pile,
    Progression,
    UnknownKindError,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from pydantic import BaseModel


class Msg(Element):
    text: str = ""


class Loud(Msg):
    pass


class Other(Element):
    n: int = 0


def msgs(n: int) -> list[Msg]:
    return [Msg(text=str(i)) for i in range(n)]


def test_access_by_id_str_int_slice_and_element() -> None:
    a, b, c = msgs(3)
    pile = Pile([a, b, c], item_type=Msg)
    assert pile[a.id] is a and pile[str(b.id)] is b and pile[c] is c
    assert pile[0] is a and pile[-1] is c and pile[1] is b
    assert pile[1:].values() == [b, c] and pile[::2].values() == [a, c]
    assert list(pile) == [a, b, c] and list(reversed(pile)) == [c, b, a]
    assert pile.keys() == [a.id, b.id, c.id] and pile.items()[0] == (a.id, a)
    assert pile.progression == Progression([a, b, c])
    assert pile.get(Msg(), None) is None and pile.get(7, "d") == "d"


def test_missing_keys_raise_typed_errors() -> None:
    pile = Pile(msgs(2))
    with pytest.raises(ItemNotFoundError):
        pile[uuid.uuid4()]
    with pytest.raises(KeyError):
        pile["not-a-uuid"]
    with pytest.raises(IndexOutOfRangeError):
        pile[5]
    with pytest.raises(IndexError):
        pile.pop(9)
    with pytest.raises(ItemNotFoundError):
        pile.remove(Msg())
    assert "not-a-uuid" not in pile and 3 not in pile


def test_regression_11_lookup_by_string_id() -> None:
    """Ancestor defect 11: looking an item up by its id string failed."""
    a = Msg(text="x")
    pile = Pile([a])
    key = str(a.id)
    assert key in pile and pile[key] is a and pile.get(key) is a
    assert pile.pop(key) is a and key not in pile


def test_item_type_and_strict() -> None:
    pile = Pile(item_type=Msg)
    pile.include(Loud())
    with pytest.raises(ItemTypeError) as info:
        pile.include(Other())  # type: ignore[arg-type]
    assert info.value.actual == "Other" and info.value.expected == ("Msg",)
    strict = Pile(item_type=Msg, strict=True)
    with pytest.raises(ItemTypeError, match="exactly"):
        strict.include(Loud())
    multi = Pile(item_type=(Msg, Other))  # type: ignore[arg-type]
    multi.include([Msg(), Other()])  # type: ignore[list-item]
    assert len(multi) == 2
    with pytest.raises(TypeError):
        Pile(item_type=int)  # type: ignore[arg-type]


def test_include_exclude_update_insert() -> None:
    a, b, c = msgs(3)
    pile = Pile([a])
    pile.include([a, b])
    assert pile.values() == [a, b]
    assert pile.exclude(a) is True and pile.exclude(a) is False
    pile.insert(0, c)
    assert pile.values() == [c, b]
    with pytest.raises(ItemExistsError):
        pile.insert(1, c)
    newer_b = Msg(id=b.id, text="new")
    pile.update([newer_b, a])
    assert pile.values() == [c, newer_b, a] and pile[b.id].text == "new"
    pile.insert(-1, Msg(text="before-last"))
    assert pile[-2].text == "before-last"
    pile.clear()
    assert not pile and len(pile) == 0


def test_pop_positions_ids_and_default() -> None:
    a, b, c = msgs(3)
    pile = Pile([a, b, c])
    assert pile.pop() is c and pile.pop(0) is a and pile.pop(b) is b
    assert pile.pop(0, None) is None and pile.pop(str(uuid.uuid4()), "x") == "x"


def test_regression_8_popping_a_slice_keeps_every_item() -> None:
    """Ancestor defect 8: popping a slice lost the popped items."""
    items = msgs(6)
    pile = Pile(items, item_type=Msg)
    popped = pile.pop(slice(1, 5))
    assert isinstance(popped, Pile) and popped.values() == items[1:5]
    assert pile.values() == [items[0], items[5]]
    assert popped.item_type == (Msg,)
    stepped = Pile(items).pop(slice(None, None, 2))
    assert stepped.values() == items[::2]


def test_regression_9_set_algebra_returns_real_results() -> None:
    """Ancestor defect 9: set algebra on Piles raised or came back empty."""
    a, b, c, d = msgs(4)
    left, right = Pile([a, b, c]), Pile([b, c, d])
    assert (left | right).values() == [a, b, c, d]
    assert (left & right).values() == [b, c]
    assert (left - right).values() == [a]
    assert (left ^ right).values() == [a, d]
    assert (left | [d]).values() == [a, b, c, d]  # plain iterables work too
    assert left.values() == [a, b, c] and right.values() == [b, c, d]  # operands untouched
    x = Pile([a, b])
    x |= right
    assert x.values() == [a, b, c, d]
    x &= Pile([d, a])
    assert x.values() == [a, d]
    x -= [a]
    assert x.values() == [d]
    x ^= Pile([d, c])
    assert x.values() == [c]
    mixed = Pile([a]) | Pile([Other()], item_type=Other)
    assert len(mixed) == 2 and mixed.item_type == (Element, Other)
    with pytest.raises(TypeError):
        _ = left | [1]  # type: ignore[list-item]


def test_filters() -> None:
    a, loud, o = Msg(), Loud(), Other()
    pile: Pile[Element] = Pile([a, loud, o])
    assert pile.filter_by_type(Msg).values() == [a, loud]
    assert pile.filter_by_type(Msg, strict=True).values() == [a]
    assert pile.filter(lambda e: isinstance(e, Other)).values() == [o]


def test_equality() -> None:
    a, b = msgs(2)
    assert Pile([a, b]) == Pile([a, b]) and Pile([a, b]) != Pile([b, a])
    with pytest.raises(TypeError):
        hash(Pile())


def test_serialization_keeps_order_and_type() -> None:
    items = [Msg(text="x"), Loud(text="y"), Msg(text="z")]
    pile = Pile(items, item_type=Msg, strict=False)
    data = json.loads(json.dumps(pile.to_dict()))
    back = Pile.from_dict(data)
    assert back.values() == items and back.item_type == (Msg,)
    assert [type(i) for i in back] == [Msg, Loud, Msg]
    with pytest.raises(UnknownKindError):
        Pile.from_dict({"kind": "Pile", "item_type": ["Nope"], "items": []})


@given(st.lists(st.text(max_size=5), max_size=8), st.booleans())
def test_roundtrip_property_pile(texts: list[str], strict: bool) -> None:
    pile = Pile([Msg(text=t) for t in texts], item_type=Msg, strict=strict)
    back = Pile.from_dict(json.loads(json.dumps(pile.to_dict())))
    assert back.strict == strict
    assert [i.model_dump() for i in back] == [i.model_dump() for i in pile]


def test_pile_as_a_pydantic_field() -> None:
    class Branch(BaseModel):
        messages: Pile[Msg]

    m = Msg(text="hi")
    branch = Branch(messages=Pile([m], item_type=Msg))
    dumped = branch.model_dump(mode="json")
    again = Branch.model_validate(dumped)
    assert again.messages.values() == [m] and again.messages[0].text == "hi"
    with pytest.raises(ValueError, match="not a Msg"):
        Branch(messages=Pile([Other()]))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected a Pile"):
        Branch(messages=[m])  # type: ignore[arg-type]


POOL = [Msg(id=uuid.UUID(int=i + 1), text=str(i)) for i in range(6)]
members = st.sampled_from(POOL)


class PileMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.pile: Pile[Msg] = Pile(item_type=Msg)
        self.model: list[Msg] = []

    def _ids(self) -> list[uuid.UUID]:
        return [m.id for m in self.model]

    @rule(xs=st.lists(members, max_size=3))
    def include(self, xs: list[Msg]) -> None:
        self.pile.include(xs)
        for x in xs:
            if x.id not in self._ids():
                self.model.append(x)

    @rule(x=members)
    def exclude(self, x: Msg) -> None:
        assert self.pile.exclude(str(x.id)) == (x in self.model)
        self.model = [m for m in self.model if m.id != x.id]

    @rule(i=st.integers(-7, 7), x=members)
    def insert(self, i: int, x: Msg) -> None:
        if x in self.model:
            with pytest.raises(ItemExistsError):
                self.pile.insert(i, x)
        else:
            self.pile.insert(i, x)
            self.model.insert(i, x)

    @rule(i=st.integers(-7, 7))
    def pop_index(self, i: int) -> None:
        if -len(self.model) <= i < len(self.model):
            assert self.pile.pop(i) is self.model.pop(i)
        else:
            with pytest.raises(IndexError):
                self.pile.pop(i)

    @rule(x=members)
    def pop_id(self, x: Msg) -> None:
        if x in self.model:
            assert self.pile.pop(str(x.id)) is x
            self.model.remove(x)
        else:
            assert self.pile.pop(x.id, None) is None

    @rule(
        start=st.integers(-7, 7) | st.none(),
        stop=st.integers(-7, 7) | st.none(),
        step=st.sampled_from([None, 1, 2, -1]),
    )
    def pop_slice(self, start: int | None, stop: int | None, step: int | None) -> None:
        expected = self.model[start:stop:step]
        assert self.pile.pop(slice(start, stop, step)).values() == expected
        self.model = [m for m in self.model if m not in expected]

    @rule(xs=st.lists(members, max_size=4))
    def algebra(self, xs: list[Msg]) -> None:
        other = Pile(xs)
        other_ids = {x.id for x in xs}
        mine = self._ids()
        assert (self.pile & other).keys() == [i for i in mine if i in other_ids]
        assert (self.pile - other).keys() == [i for i in mine if i not in other_ids]
        union = mine + [x.id for x in other if x.id not in mine]
        assert (self.pile | other).keys() == union

    @rule(i=st.integers(-7, 7))
    def get(self, i: int) -> None:
        if -len(self.model) <= i < len(self.model):
            assert self.pile[i] is self.model[i]
            assert self.pile.get(str(self.model[i].id)) is self.model[i]

    @invariant()
    def same(self) -> None:
        assert self.pile.keys() == self._ids() and len(self.pile) == len(self.model)


TestPileMachine = PileMachine.TestCase
TestPileMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
