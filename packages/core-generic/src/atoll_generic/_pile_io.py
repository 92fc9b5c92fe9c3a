"""Pile serialization helpers: parsing ``Pile.to_dict`` output and the pydantic field schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast, get_args

from ._element import Element, class_for_kind, registered_kinds
from ._exceptions import MalformedDataError, UnknownKindError

if TYPE_CHECKING:
    from pydantic_core import CoreSchema

    from ._pile import Pile

__all__ = ["parse_pile_dict", "pile_core_schema"]


def _class_for(kind: object) -> type[Element]:
    found = class_for_kind(kind)
    if found is None:
        raise UnknownKindError(kind, registered_kinds())
    return found


def parse_pile_dict(
    data: Mapping[str, Any],
) -> tuple[list[Element], tuple[type[Element], ...], bool, int | None]:
    """Validate a Pile's dict; return its items, item types, strictness and maxlen.

    Item classes come from the kind registry only (nothing is imported).

    Raises:
        MalformedDataError: the data does not have a Pile's shape.
        UnknownKindError: an item type or item kind is not registered.
    """
    if not isinstance(data, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise MalformedDataError("Pile", "expected a mapping")
    if data.get("kind", "Pile") != "Pile":
        raise MalformedDataError("Pile", f"kind is {data.get('kind')!r}")
    raw_types: object = data.get("item_type", ["Element"])
    raw_items: object = data.get("items", [])
    if not isinstance(raw_types, list) or not isinstance(raw_items, list):
        raise MalformedDataError("Pile", "'item_type' and 'items' must be lists")
    types = tuple(_class_for(k) for k in cast("list[object]", raw_types))
    items = [Element.from_dict(i) for i in cast("list[Mapping[str, Any]]", raw_items)]
    maxlen: object = data.get("maxlen")
    if maxlen is not None and not isinstance(maxlen, int):
        raise MalformedDataError("Pile", "'maxlen' must be an integer or null")
    return items, types, bool(data.get("strict", False)), maxlen


def pile_core_schema(cls: type[Pile[Any]], source: Any) -> CoreSchema:
    """The pydantic schema of a Pile field: a Pile or its dict in, ``to_dict()`` out."""
    from pydantic_core import core_schema

    args = get_args(source)
    expected: type | None = args[0] if args and isinstance(args[0], type) else None

    def coerce(value: Any) -> Pile[Any]:
        pile: Pile[Any]
        if isinstance(value, cls):
            pile = cast("Pile[Any]", value)
        elif isinstance(value, Mapping):
            pile = cls.from_dict(cast("Mapping[str, Any]", value))
        else:
            raise ValueError(f"expected a Pile or its dict, got {type(value).__name__}")
        if expected is not None:
            for item in pile:
                if not isinstance(item, expected):
                    raise ValueError(
                        f"Pile item of type {type(item).__name__} is not a {expected.__name__}"
                    )
        return pile

    def dump(pile: Pile[Any]) -> dict[str, Any]:
        return pile.to_dict()

    return core_schema.no_info_plain_validator_function(
        coerce, serialization=core_schema.plain_serializer_function_ser_schema(dump)
    )
