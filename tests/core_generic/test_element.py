"""Element: ids, timestamps, equality, and registry-based polymorphic serialization."""

from __future__ import annotations

import copy
import datetime as dt
import json
import sys
import uuid
from typing import Any

import pytest
from atoll_generic import Element, MalformedDataError, UnknownKindError
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, ValidationError


class Note(Element):
    text: str = ""
    tags: list[str] = Field(default_factory=list[str])


class Renamed(Element):
    __element_kind__ = "renamed-note"
    value: int = 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
metadata = st.dictionaries(st.text(max_size=6), json_values, max_size=4)


def test_id_accepts_uuid_and_its_string_form_without_rewriting() -> None:
    raw = uuid.uuid4()
    assert Element(id=raw).id is raw
    assert Element(id=str(raw)).id == raw  # pyright: ignore[reportArgumentType]
    assert Element(id=str(raw).upper()).id == raw  # pyright: ignore[reportArgumentType]


@pytest.mark.parametrize("bad", ["not-a-uuid", "", 123, b"x" * 16, None, 1.5])
def test_malformed_id_is_rejected_with_a_clear_error(bad: object) -> None:
    with pytest.raises(ValidationError, match="id"):
        Element(id=bad)  # type: ignore[arg-type]


def test_id_is_immutable() -> None:
    e = Element()
    with pytest.raises(ValidationError):
        e.id = uuid.uuid4()  # type: ignore[misc]


def test_created_at_is_aware_utc() -> None:
    e = Element()
    assert e.created_at.tzinfo is not None
    assert e.created_at.utcoffset() == dt.timedelta(0)
    plus2 = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    moved = Element(created_at=plus2).created_at
    assert moved == plus2 and moved.utcoffset() == dt.timedelta(0) and moved.hour == 10
    assert Element(created_at="2024-01-01T00:00:00Z").created_at.year == 2024  # pyright: ignore[reportArgumentType]


@pytest.mark.parametrize("bad", [dt.datetime(2024, 1, 1), "2024-01-01T00:00:00", "yesterday", 5])
def test_naive_or_malformed_created_at_is_rejected(bad: object) -> None:
    with pytest.raises(ValidationError, match="created_at"):
        Element(created_at=bad)  # type: ignore[arg-type]


def test_equality_and_hash_use_id_only() -> None:
    a = Note(text="a")
    b = Note(id=a.id, text="different")
    assert a == b and hash(a) == hash(b)
    assert a != Note(text="a")
    assert len({a, b}) == 1  # pyright: ignore[reportUnhashable]
    assert a != "not an element"


def test_to_dict_is_json_safe_and_names_the_kind() -> None:
    n = Note(text="hi", tags=["x"], metadata={"k": [1, {"z": None}]})
    data = n.to_dict()
    assert data["kind"] == Note.kind() == f"{__name__}.Note"
    assert json.loads(json.dumps(data)) == data
    assert Renamed().to_dict()["kind"] == "renamed-note"
    assert Element().to_dict()["kind"] == "Element"


def test_from_dict_picks_the_registered_subclass() -> None:
    n = Note(text="hi")
    back = Element.from_dict(n.to_dict())
    assert type(back) is Note and back == n and back.text == "hi"
    r = Renamed(value=3)
    back_r = Element.from_dict(json.loads(json.dumps(r.to_dict())))
    assert type(back_r) is Renamed and back_r.value == 3


def test_from_dict_on_a_subclass_refuses_an_unrelated_kind() -> None:
    with pytest.raises(MalformedDataError, match="not a Note"):
        Note.from_dict(Renamed().to_dict())


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(UnknownKindError) as info:
        Element.from_dict({"kind": "NoSuchThing"})
    assert info.value.kind == "NoSuchThing"
    assert Note.kind() in info.value.known
    with pytest.raises(UnknownKindError):
        Element.from_dict({"kind": ["list"]})


def test_malformed_data_names_the_field() -> None:
    with pytest.raises(MalformedDataError, match="text") as info:
        Element.from_dict({"kind": Note.kind(), "text": 5})
    assert info.value.details[0]["loc"] == ["text"]
    with pytest.raises(MalformedDataError, match="mapping"):
        Element.from_dict([("kind", Note.kind())])  # type: ignore[arg-type]
    with pytest.raises(MalformedDataError, match="surprise: Extra"):
        Element.from_dict({"kind": Note.kind(), "surprise": 1})


def test_regression_7_from_dict_never_mutates_input() -> None:
    """Ancestor defect 7 (first half): from_dict popped keys out of the caller's dict."""
    data = Note(text="x", tags=["a"], metadata={"nested": {"list": [1, 2]}}).to_dict()
    snapshot = copy.deepcopy(data)
    back = Element.from_dict(data)
    assert data == snapshot
    assert isinstance(back, Note)
    # The element shares no mutable state with the input either.
    back.metadata["nested"]["list"].append(3)
    back.tags.append("b")
    assert data == snapshot


def test_regression_7_from_dict_never_imports_modules_named_in_data() -> None:
    """Ancestor defect 7 (second half): a dotted class path in data was imported and resolved."""
    name = "atoll_generic_never_imported_probe"
    assert name not in sys.modules
    for kind in (f"{name}.Evil", "os.system", "subprocess.Popen", "builtins.eval"):
        with pytest.raises(UnknownKindError):
            Element.from_dict({"kind": kind})
    assert name not in sys.modules
    with pytest.raises(UnknownKindError):
        Element.from_dict({"kind": "json.JSONDecoder"})


def test_two_classes_cannot_claim_one_kind() -> None:
    with pytest.raises(TypeError, match="already registered"):

        class Clash(Element):
            __element_kind__ = "renamed-note"  # already claimed by Renamed


def test_same_named_classes_in_different_places_do_not_collide() -> None:
    class Note(Element):  # local class named like the module-level Note
        other: int = 0

    assert Note.kind() != globals()["Note"].kind()
    assert type(Element.from_dict(Note(other=2).to_dict())) is Note


@given(text=st.text(max_size=20), tags=st.lists(st.text(max_size=5), max_size=3), meta=metadata)
def test_roundtrip_property_note(text: str, tags: list[str], meta: dict[str, Any]) -> None:
    n = Note(text=text, tags=tags, metadata=meta)
    data = json.loads(json.dumps(n.to_dict()))
    back = Element.from_dict(data)
    assert type(back) is Note
    assert back.model_dump() == n.model_dump()


@given(meta=metadata, when=st.datetimes(timezones=st.just(dt.UTC)))
def test_roundtrip_property_element(meta: dict[str, Any], when: dt.datetime) -> None:
    e = Element(metadata=meta, created_at=when)
    back = Element.from_dict(json.loads(json.dumps(e.to_dict())))
    assert type(back) is Element
    assert back.model_dump() == e.model_dump()
