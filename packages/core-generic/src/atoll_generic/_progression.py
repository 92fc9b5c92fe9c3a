"""Progression: an explicit order of ids with list semantics, O(1) membership and popleft."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, overload

from ._element import Element
from ._exceptions import IndexOutOfRangeError, ItemNotFoundError, MalformedDataError

__all__ = ["IdLike", "Progression", "to_id"]

IdLike = uuid.UUID | str | Element
"""Anything that names an element: its UUID, the UUID's string form, or the element itself."""


def to_id(value: object) -> uuid.UUID:
    """Normalize an id-like value to a UUID.

    Raises:
        MalformedDataError: a string that is not a UUID, or a value of another type.
    """
    if type(value) is uuid.UUID:
        return value
    if isinstance(value, Element):
        return value.id
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            raise MalformedDataError("UUID", f"{value!r} is not a UUID") from None
    if isinstance(value, uuid.UUID):
        return value
    raise MalformedDataError("UUID", f"expected a UUID, its string or an Element, not {value!r}")


def _try_id(value: object) -> uuid.UUID | None:
    try:
        return to_id(value)
    except MalformedDataError:
        return None


def _ids(values: IdLike | Iterable[IdLike]) -> list[uuid.UUID]:
    if isinstance(values, uuid.UUID | str | Element):
        return [to_id(values)]
    return [to_id(v) for v in values]


class Progression:
    """An ordered sequence of element ids that behaves like a list.

    Duplicates are allowed (as in a list); :meth:`include` and :meth:`exclude` are the
    idempotent, set-like ways to add and remove. Membership and :meth:`popleft` are O(1).
    Errors subclass the builtin a list would raise (IndexError, ValueError, KeyError).

    Example:
        >>> p = Progression()
        >>> a, b = Element(), Element()
        >>> p.extend([a, b]); p.include(a)
        False
        >>> p.popleft() == a.id, a in p, b in p
        (True, False, True)
    """

    __slots__ = ("_counts", "_order")

    def __init__(self, order: Iterable[IdLike] = ()) -> None:
        self._order: deque[uuid.UUID] = deque()
        self._counts: dict[uuid.UUID, int] = {}
        self.extend(order)

    # ------------------------------------------------------------------ internals
    def _add(self, key: uuid.UUID) -> None:
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1

    def _drop(self, key: uuid.UUID) -> None:
        counts = self._counts
        left = counts[key] - 1
        if left:
            counts[key] = left
        else:
            del counts[key]

    def _position(self, index: int) -> int:
        size = len(self._order)
        pos = index + size if index < 0 else index
        if not 0 <= pos < size:
            raise IndexOutOfRangeError(index, size)
        return pos

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._order)

    def __bool__(self) -> bool:
        return bool(self._order)

    def __iter__(self) -> Iterator[uuid.UUID]:
        return iter(self._order)

    def __reversed__(self) -> Iterator[uuid.UUID]:
        return reversed(self._order)

    def __contains__(self, item: object) -> bool:
        key = _try_id(item)
        return key is not None and key in self._counts

    @overload
    def __getitem__(self, index: int) -> uuid.UUID: ...
    @overload
    def __getitem__(self, index: slice) -> Progression: ...
    def __getitem__(self, index: int | slice) -> uuid.UUID | Progression:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._order))
            if step == 1:
                return Progression(islice(self._order, start, stop))
            return Progression(list(self._order)[index])
        return self._order[self._position(index)]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Progression):
            return self._order == other._order
        if isinstance(other, list | tuple):
            return list(self._order) == list(other)  # pyright: ignore[reportUnknownArgumentType]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Progression({[str(i) for i in self._order]!r})"

    def index(self, item: IdLike, start: int = 0, stop: int | None = None) -> int:
        """Position of the first occurrence of ``item``.

        Raises:
            ItemNotFoundError: not present (a ValueError, as for ``list.index``).
        """
        key = to_id(item)
        if key not in self._counts:
            raise ItemNotFoundError(item, "Progression")
        try:
            return self._order.index(key, start, len(self._order) if stop is None else stop)
        except ValueError:
            raise ItemNotFoundError(item, "Progression") from None

    def count(self, item: IdLike) -> int:
        """How many times ``item`` occurs."""
        key = _try_id(item)
        return 0 if key is None else self._counts.get(key, 0)

    # ------------------------------------------------------------------ list mutation
    def append(self, item: IdLike) -> None:
        """Add ``item`` at the end (duplicates allowed)."""
        key = to_id(item)
        self._order.append(key)
        self._add(key)

    def extend(self, items: Iterable[IdLike]) -> None:
        """Append every item, in order."""
        keys = _ids(items)
        self._order.extend(keys)
        for key in keys:
            self._add(key)

    def insert(self, index: int, item: IdLike) -> None:
        """Insert ``item`` before ``index`` (clamped to the ends, as for lists)."""
        key = to_id(item)
        self._order.insert(index, key)
        self._add(key)

    def pop(self, index: int = -1) -> uuid.UUID:
        """Remove and return the id at ``index`` (default last).

        Raises:
            IndexOutOfRangeError: empty, or ``index`` out of range.
        """
        order = self._order
        if index == -1 and order:
            key = order.pop()
        else:
            pos = self._position(index)
            order.rotate(-pos)
            key = order.popleft()
            order.rotate(pos)
        self._drop(key)
        return key

    def popleft(self) -> uuid.UUID:
        """Remove and return the first id in O(1).

        Raises:
            IndexOutOfRangeError: the progression is empty.
        """
        if not self._order:
            raise IndexOutOfRangeError(0, 0)
        key = self._order.popleft()
        self._drop(key)
        return key

    def remove(self, item: IdLike) -> None:
        """Remove the first occurrence of ``item``.

        Raises:
            ItemNotFoundError: not present (a ValueError and a KeyError).
        """
        key = to_id(item)
        if key not in self._counts:
            raise ItemNotFoundError(item, "Progression")
        self._order.remove(key)
        self._drop(key)

    def reverse(self) -> None:
        """Reverse the order in place."""
        self._order.reverse()

    def clear(self) -> None:
        """Remove every id."""
        self._order.clear()
        self._counts.clear()

    def copy(self) -> Progression:
        """A shallow copy."""
        return Progression(self._order)

    # ------------------------------------------------------------------ set-like, idempotent
    def include(self, items: IdLike | Iterable[IdLike]) -> bool:
        """Append each id that is not present yet; True if anything was added."""
        added = False
        for key in _ids(items):
            if key not in self._counts:
                self._order.append(key)
                self._counts[key] = 1
                added = True
        return added

    def exclude(self, items: IdLike | Iterable[IdLike]) -> bool:
        """Remove every occurrence of each id; True if anything was removed."""
        drop = {key for key in _ids(items) if key in self._counts}
        if not drop:
            return False
        self._order = deque(k for k in self._order if k not in drop)
        for key in drop:
            del self._counts[key]
        return True

    # ------------------------------------------------------------------ serialization
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: ``{"kind": "Progression", "order": [id strings]}``."""
        return {"kind": "Progression", "order": [str(k) for k in self._order]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Progression:
        """Rebuild from :meth:`to_dict` output (the input is not modified).

        Raises:
            MalformedDataError: wrong kind, missing ``order``, or an id that is not a UUID.
        """
        if not isinstance(data, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise MalformedDataError("Progression", "expected a mapping")
        if data.get("kind", "Progression") != "Progression":
            raise MalformedDataError("Progression", f"kind is {data.get('kind')!r}")
        order: object = data.get("order")
        if not isinstance(order, list):
            raise MalformedDataError("Progression", "'order' must be a list of id strings")
        return cls(_ids(order))  # pyright: ignore[reportUnknownArgumentType]
