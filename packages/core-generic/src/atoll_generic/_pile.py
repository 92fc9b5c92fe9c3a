"""Pile[T]: a typed, ordered, id-keyed collection safe for threads and tasks at once.

Storage is one ``OrderedDict`` (O(1) include, lookup, pop by id and pop from either end). Every
method takes the collection's single mutex for a short, non-awaiting critical section (see
``_guard``); the ``a``-prefixed methods do the same from tasks and wait out other parties'
sessions without blocking the loop. Bulk results (``values()``, iteration, set algebra) are
snapshots, so callers never see a collection change under them.
"""

from __future__ import annotations

import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, overload

from ._adapters import DEFAULT_ADAPTERS, Adapter
from ._element import Element, kind_of
from ._exceptions import (
    IndexOutOfRangeError,
    ItemExistsError,
    ItemNotFoundError,
    ItemTypeError,
)
from ._guard import Arrivals, Guard, wake
from ._pile_io import parse_pile_dict, pile_core_schema
from ._progression import IdLike, Progression, to_id

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema


__all__ = ["Pile"]

T = TypeVar("T", bound=Element)
_MISSING: Any = object()


def _lookup_key(key: object) -> uuid.UUID:
    if type(key) is uuid.UUID:
        return key
    try:
        return to_id(key)
    except Exception:
        raise ItemNotFoundError(key, "Pile") from None


class Pile(Generic[T]):
    """A typed, ordered collection of elements keyed by id.

    Look items up by UUID, id string, position (``int``), ``slice`` or the element itself.
    ``include``/``exclude`` are idempotent; ``|``, ``&``, ``^``, ``-`` (and in-place forms) build
    new Piles in order. Thread- and task-safe: see ``async with pile`` for multi-step work.

    Args:
        items: Initial elements, in order.
        item_type: Accepted type or tuple of types (default: any Element).
        strict: Require the exact type(s), not subclasses.
        maxlen: Keep at most this many elements; adding more evicts the oldest (like
            ``collections.deque``). None means unbounded.

    Example:
        >>> pile = Pile([a, b], item_type=Note)  # doctest: +SKIP
        >>> pile[str(a.id)] is a, pile[0] is a, a in pile  # doctest: +SKIP
    """

    __slots__ = (
        "__weakref__",
        "_guard",
        "_items",
        "_keys",
        "_maxlen",
        "_strict",
        "_types",
        "_watchers",
    )
    _adapters: ClassVar[dict[str, Adapter]] = {}

    def __init__(
        self,
        items: Iterable[T] | None = None,
        *,
        item_type: type[T] | tuple[type[T], ...] | None = None,
        strict: bool = False,
        maxlen: int | None = None,
    ) -> None:
        if maxlen is not None and maxlen < 0:
            raise ValueError(f"maxlen must be None or >= 0, got {maxlen}")
        self._maxlen = maxlen
        types = item_type if isinstance(item_type, tuple) else (item_type or Element,)
        for t in types:
            if not (isinstance(t, type) and issubclass(t, Element)):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise TypeError(f"item_type must be Element subclasses, got {t!r}")
        self._types: tuple[type[Element], ...] = types
        self._strict = strict
        self._items: OrderedDict[uuid.UUID, T] = OrderedDict()
        self._guard = Guard()
        self._keys: list[uuid.UUID] | None = None
        # Weak references: an abandoned `async for` must not keep collecting arrivals.
        self._watchers: set[weakref.ref[Arrivals[T]]] = set()
        if items is not None:
            self.include(items)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._adapters = dict(cls._adapters)  # each class owns its registry, seeded by its parent

    # ------------------------------------------------------------------ type checks and helpers
    @property
    def item_type(self) -> tuple[type[Element], ...]:
        """The accepted item types."""
        return self._types

    @property
    def strict(self) -> bool:
        """Whether only the exact ``item_type`` classes are accepted."""
        return self._strict

    def _check(self, item: object) -> T:
        ok = type(item) in self._types if self._strict else isinstance(item, self._types)
        if not ok:
            raise ItemTypeError(
                tuple(t.__name__ for t in self._types), type(item).__name__, strict=self._strict
            )
        return item  # type: ignore[return-value]

    def _batch(self, items: T | Iterable[T]) -> list[T]:
        if isinstance(items, Element):
            return [self._check(items)]
        return [self._check(i) for i in items]

    @property
    def maxlen(self) -> int | None:
        """The size bound, or None."""
        return self._maxlen

    def _like(self, items: Iterable[T] = ()) -> Pile[T]:
        new: Pile[T] = type(self)(item_type=self._types, strict=self._strict)  # type: ignore[arg-type]
        new._items.update((i.id, i) for i in items)
        return new

    def _index_key(self, index: int) -> uuid.UUID:
        items = self._items
        size = len(items)
        if index == -1 and size:
            return next(reversed(items))
        if index == 0 and size:
            return next(iter(items))
        pos = index + size if index < 0 else index
        if not 0 <= pos < size:
            raise IndexOutOfRangeError(index, size)
        keys = self._keys
        if keys is None:
            keys = self._keys = list(items)
        return keys[pos]

    def _slice_keys(self, index: slice[Any, Any, Any]) -> list[uuid.UUID]:
        start, stop, step = index.indices(len(self._items))
        if step == 1:
            return list(islice(self._items, start, stop))
        return list(self._items)[index]

    def _notify(self, added: list[T]) -> list[Any]:
        # Called with the mutex held after a change.
        maxlen = self._maxlen
        if maxlen is not None:
            items = self._items
            while len(items) > maxlen:
                items.popitem(last=False)  # evict the oldest
        if added and self._watchers:
            for ref in list(self._watchers):
                watcher = ref()
                if watcher is not None:
                    watcher.pending.extend(added)
        return self._guard.changed()

    # ------------------------------------------------------------------ locked bodies
    def _include_locked(self, batch: list[T]) -> list[Any]:
        items = self._items
        added = [i for i in batch if i.id not in items]
        for item in added:
            items[item.id] = item
        if added:
            self._keys = None
        return self._notify(added)

    def _update_locked(self, batch: list[T]) -> list[Any]:
        items = self._items
        added = [i for i in batch if i.id not in items]
        for item in batch:
            items[item.id] = item  # existing ids keep their position
        self._keys = None
        return self._notify(added)

    def _insert_locked(self, index: int, item: T) -> list[Any]:
        items = self._items
        if item.id in items:
            raise ItemExistsError(item.id, "Pile")
        size = len(items)
        pos = max(0, min(size, index + size if index < 0 else index))
        tail = list(islice(items, pos, None))
        items[item.id] = item
        for key in tail:
            items.move_to_end(key)
        self._keys = None
        return self._notify([item])

    def _pop_locked(self, key: object, default: Any) -> Any:
        items = self._items
        sl = _as_slice(key)
        if sl is not None:
            keys = self._slice_keys(sl)
            popped = self._like(items.pop(k) for k in keys)
        else:
            try:
                k = self._index_key(key) if isinstance(key, int) else _lookup_key(key)
                popped = items.pop(k)
            except IndexError:
                if default is _MISSING:
                    raise
                return default
            except KeyError:
                if default is _MISSING:
                    raise ItemNotFoundError(key, "Pile") from None
                return default
        self._keys = None
        return popped

    def _get_locked(self, key: object, default: Any) -> Any:
        try:
            if isinstance(key, int):
                return self._items[self._index_key(key)]
            sl = _as_slice(key)
            if sl is not None:
                return self._like(self._items[k] for k in self._slice_keys(sl))
            return self._items[_lookup_key(key)]
        except (KeyError, IndexError):
            if default is _MISSING:
                if isinstance(key, int):
                    raise
                raise ItemNotFoundError(key, "Pile") from None
            return default

    def _exclude_locked(self, keys: list[uuid.UUID]) -> bool:
        items = self._items
        removed = False
        for key in keys:
            if items.pop(key, None) is not None:
                removed = True
        if removed:
            self._keys = None
        return removed

    # ------------------------------------------------------------------ sync API
    def include(self, items: T | Iterable[T]) -> None:
        """Add each element not present yet, at the end (idempotent)."""
        guard = self._guard
        types = self._types
        exact = type(items) in types  # cheaper than isinstance on pydantic's ABC metaclass
        if exact or isinstance(items, Element):
            # Fast path for one element: the common case on hot loops (the Executor's results).
            if not exact and (self._strict or not isinstance(items, types)):
                self._check(items)  # raises ItemTypeError
            mutex = guard.mutex
            mutex.acquire()
            if guard.owner is None and not self._watchers:
                try:
                    table = self._items
                    key: uuid.UUID = items.id  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
                    if key not in table:
                        table[key] = items  # type: ignore[assignment]
                        self._keys = None
                        maxlen = self._maxlen
                        if maxlen is not None and len(table) > maxlen:
                            table.popitem(last=False)  # evict the oldest
                    waiters = guard.waiters
                    if waiters:
                        waiters = guard.changed()
                finally:
                    mutex.release()
                if waiters:
                    wake(waiters)
                return
            mutex.release()
            batch: list[T] = [items]  # type: ignore[list-item]
        else:
            batch = self._batch(items)
        guard.acquire("include")
        try:
            waiters = self._include_locked(batch)
        finally:
            guard.mutex.release()
        if waiters:
            wake(waiters)

    def update(self, items: T | Iterable[T]) -> None:
        """Add new elements at the end and replace existing ones in place."""
        batch = self._batch(items)
        guard = self._guard
        guard.acquire("update")
        try:
            waiters = self._update_locked(batch)
        finally:
            guard.mutex.release()
        wake(waiters)

    def insert(self, index: int, item: T) -> None:
        """Insert a new element before ``index``.

        Raises:
            ItemExistsError: an element with that id is already present.
        """
        self._check(item)
        guard = self._guard
        guard.acquire("insert")
        try:
            waiters = self._insert_locked(index, item)
        finally:
            guard.mutex.release()
        wake(waiters)

    def exclude(self, items: IdLike | Iterable[IdLike]) -> bool:
        """Remove each element or id if present (idempotent); True if anything was removed."""
        keys = _keys_of(items)
        guard = self._guard
        guard.acquire("exclude")
        try:
            return self._exclude_locked(keys)
        finally:
            guard.mutex.release()

    @overload
    def pop(self, key: slice) -> Pile[T]: ...
    @overload
    def pop(self, key: int | IdLike = -1, default: Any = _MISSING) -> T: ...
    def pop(self, key: object = -1, default: Any = _MISSING) -> Any:
        """Remove and return the element at a position, id or element (default: the last).

        A slice removes and returns every element in it as a new Pile, in order.

        Raises:
            ItemNotFoundError: not present and no ``default`` was given.
        """
        guard = self._guard
        if type(key) is uuid.UUID:
            mutex = guard.mutex
            mutex.acquire()
            if guard.owner is None:
                try:
                    found = self._items.pop(key, _MISSING)
                    if found is not _MISSING:
                        self._keys = None
                        return found
                finally:
                    mutex.release()
                if default is not _MISSING:
                    return default
                raise ItemNotFoundError(key, "Pile")
            mutex.release()
        guard.acquire("pop")
        try:
            return self._pop_locked(key, default)
        finally:
            guard.mutex.release()

    def remove(self, key: int | IdLike) -> None:
        """Remove one element by position, id or element.

        Raises:
            ItemNotFoundError: not present.
        """
        self.pop(key)

    @overload
    def get(self, key: slice) -> Pile[T]: ...
    @overload
    def get(self, key: int | IdLike, default: Any = _MISSING) -> T: ...
    def get(self, key: object, default: Any = _MISSING) -> Any:
        """Return the element at a position or with an id; ``default`` when absent.

        Raises:
            ItemNotFoundError: absent and no ``default`` (IndexOutOfRangeError for positions).
        """
        guard = self._guard
        if type(key) is uuid.UUID and guard.owner is None:
            # One dict read is atomic: without a session open there is nothing to wait for.
            found = self._items.get(key, _MISSING)
            if found is not _MISSING:
                return found
            if default is not _MISSING:
                return default
            raise ItemNotFoundError(key, "Pile")
        guard.acquire("get")
        try:
            return self._get_locked(key, default)
        finally:
            guard.mutex.release()

    @overload
    def __getitem__(self, key: slice) -> Pile[T]: ...
    @overload
    def __getitem__(self, key: int | IdLike) -> T: ...
    def __getitem__(self, key: object) -> Any:
        guard = self._guard
        if type(key) is uuid.UUID and guard.owner is None:
            found = self._items.get(key, _MISSING)
            if found is _MISSING:
                raise ItemNotFoundError(key, "Pile")
            return found
        guard.acquire("__getitem__")
        try:
            return self._get_locked(key, _MISSING)
        finally:
            guard.mutex.release()

    def clear(self) -> None:
        """Remove every element."""
        guard = self._guard
        guard.acquire("clear")
        try:
            self._items.clear()
            self._keys = None
        finally:
            guard.mutex.release()

    def _snapshot(self, operation: str) -> list[T]:
        guard = self._guard
        guard.acquire(operation)
        try:
            return list(self._items.values())
        finally:
            guard.mutex.release()

    def keys(self) -> list[uuid.UUID]:
        """Ids in order (a snapshot)."""
        return [i.id for i in self._snapshot("keys")]

    def values(self) -> list[T]:
        """Elements in order (a snapshot)."""
        return self._snapshot("values")

    def items(self) -> list[tuple[uuid.UUID, T]]:
        """``(id, element)`` pairs in order (a snapshot)."""
        return [(i.id, i) for i in self._snapshot("items")]

    @property
    def progression(self) -> Progression:
        """The current order as a new :class:`Progression`."""
        return Progression(self.keys())

    def filter(self, predicate: Callable[[T], bool]) -> Pile[T]:
        """A new Pile of the elements for which ``predicate`` is true, in order."""
        return self._like(i for i in self._snapshot("filter") if predicate(i))

    def filter_by_type(self, *types: type[Element], strict: bool = False) -> Pile[T]:
        """A new Pile of the elements of the given type(s) (exact types if ``strict``)."""
        if strict:
            return self._like(i for i in self._snapshot("filter_by_type") if type(i) in types)
        return self._like(i for i in self._snapshot("filter_by_type") if isinstance(i, types))

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __contains__(self, item: object) -> bool:
        try:
            key = item.id if isinstance(item, Element) else _lookup_key(item)
        except ItemNotFoundError:
            return False
        return key in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._snapshot("__iter__"))

    def __reversed__(self) -> Iterator[T]:
        return reversed(self._snapshot("__reversed__"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pile):
            return NotImplemented
        return self.keys() == other.keys()  # pyright: ignore[reportUnknownMemberType]

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        names = "|".join(t.__name__ for t in self._types)
        return f"Pile[{names}](len={len(self._items)})"

    # ------------------------------------------------------------------ set algebra
    def _other_values(self, other: object) -> list[T]:
        if isinstance(other, Pile):
            return other._snapshot("set algebra")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if isinstance(other, Iterable):
            values = list(other)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
            for v in values:  # pyright: ignore[reportUnknownVariableType]
                if not isinstance(v, Element):
                    raise TypeError(f"set algebra needs Elements, got {type(v).__name__}")  # pyright: ignore[reportUnknownArgumentType]
            return values  # pyright: ignore[reportUnknownVariableType]
        raise TypeError(f"unsupported operand for Pile set algebra: {type(other).__name__}")

    def _widened(self, other: object) -> Pile[T]:
        types = self._types
        if isinstance(other, Pile):
            extra: tuple[type[Element], ...] = other._types  # pyright: ignore[reportUnknownMemberType]
            types = types + tuple(t for t in extra if t not in types)
        return type(self)(item_type=types, strict=self._strict)  # type: ignore[arg-type]

    @overload
    def __or__(self, other: Pile[T] | Iterable[T]) -> Pile[T]: ...  # pyright: ignore[reportOverlappingOverload]
    @overload
    def __or__(self, other: Pile[Any] | Iterable[Element]) -> Pile[Element]: ...
    def __or__(self, other: Pile[Any] | Iterable[Element]) -> Pile[Any]:
        mine, theirs = self._snapshot("__or__"), self._other_values(other)
        result = self._widened(other)
        result.include(mine)
        result.include(theirs)
        return result

    def __and__(self, other: Pile[T] | Iterable[T]) -> Pile[T]:
        keep = {i.id for i in self._other_values(other)}
        return self._like(i for i in self._snapshot("__and__") if i.id in keep)

    def __sub__(self, other: Pile[T] | Iterable[T]) -> Pile[T]:
        drop = {i.id for i in self._other_values(other)}
        return self._like(i for i in self._snapshot("__sub__") if i.id not in drop)

    @overload
    def __xor__(self, other: Pile[T] | Iterable[T]) -> Pile[T]: ...  # pyright: ignore[reportOverlappingOverload]
    @overload
    def __xor__(self, other: Pile[Any] | Iterable[Element]) -> Pile[Element]: ...
    def __xor__(self, other: Pile[Any] | Iterable[Element]) -> Pile[Any]:
        mine, theirs = self._snapshot("__xor__"), self._other_values(other)
        mine_ids, their_ids = {i.id for i in mine}, {i.id for i in theirs}
        result = self._widened(other)
        result.include([i for i in mine if i.id not in their_ids])
        result.include([i for i in theirs if i.id not in mine_ids])
        return result

    def __ior__(self, other: Pile[T] | Iterable[T]) -> Self:
        self.include(self._other_values(other))
        return self

    def __iand__(self, other: Pile[T] | Iterable[T]) -> Self:
        keep = {i.id for i in self._other_values(other)}
        self.exclude([i.id for i in self._snapshot("__iand__") if i.id not in keep])
        return self

    def __isub__(self, other: Pile[T] | Iterable[T]) -> Self:
        self.exclude([i.id for i in self._other_values(other)])
        return self

    def __ixor__(self, other: Pile[T] | Iterable[T]) -> Self:
        theirs = self._other_values(other)
        mine_ids = set(self.keys())
        self.exclude([i.id for i in theirs if i.id in mine_ids])
        self.include([i for i in theirs if i.id not in mine_ids])
        return self

    # ------------------------------------------------------------------ sessions
    def __enter__(self) -> Self:
        self._guard.enter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._guard.exit()

    async def __aenter__(self) -> Self:
        await self._guard.aenter()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._guard.exit()

    # ------------------------------------------------------------------ async API
    async def ainclude(self, items: T | Iterable[T]) -> None:
        """Async :meth:`include`."""
        batch = self._batch(items)
        await self._guard.aacquire()
        try:
            waiters = self._include_locked(batch)
        finally:
            self._guard.mutex.release()
        wake(waiters)

    async def aupdate(self, items: T | Iterable[T]) -> None:
        """Async :meth:`update`."""
        batch = self._batch(items)
        await self._guard.aacquire()
        try:
            waiters = self._update_locked(batch)
        finally:
            self._guard.mutex.release()
        wake(waiters)

    async def ainsert(self, index: int, item: T) -> None:
        """Async :meth:`insert`."""
        self._check(item)
        await self._guard.aacquire()
        try:
            waiters = self._insert_locked(index, item)
        finally:
            self._guard.mutex.release()
        wake(waiters)

    async def aexclude(self, items: IdLike | Iterable[IdLike]) -> bool:
        """Async :meth:`exclude`."""
        keys = _keys_of(items)
        await self._guard.aacquire()
        try:
            return self._exclude_locked(keys)
        finally:
            self._guard.mutex.release()

    async def apop(self, key: object = -1, default: Any = _MISSING) -> Any:
        """Async :meth:`pop`."""
        await self._guard.aacquire()
        try:
            return self._pop_locked(key, default)
        finally:
            self._guard.mutex.release()

    async def aremove(self, key: int | IdLike) -> None:
        """Async :meth:`remove`."""
        await self.apop(key)

    async def aget(self, key: object, default: Any = _MISSING) -> Any:
        """Async :meth:`get`."""
        await self._guard.aacquire()
        try:
            return self._get_locked(key, default)
        finally:
            self._guard.mutex.release()

    async def aclear(self) -> None:
        """Async :meth:`clear`."""
        await self._guard.aacquire()
        try:
            self._items.clear()
            self._keys = None
        finally:
            self._guard.mutex.release()

    async def avalues(self) -> list[T]:
        """Async :meth:`values`."""
        await self._guard.aacquire()
        try:
            return list(self._items.values())
        finally:
            self._guard.mutex.release()

    async def wait_for(self, n: int) -> None:
        """Wait until the Pile holds at least ``n`` elements (combine with ``anyio.fail_after``)."""
        items = self._items
        await self._guard.wait_until(lambda: len(items) >= n)

    def __aiter__(self) -> Arrivals[T]:
        """Iterate the elements present now, then each one added later, as it arrives.

        The iterator never ends by itself: ``break`` out or wrap it in a cancel scope.
        """
        guard = self._guard
        guard.acquire("__aiter__")
        try:
            arrivals = Arrivals(guard, self._items.values())
            self._watchers.add(weakref.ref(arrivals, self._watchers.discard))
        finally:
            guard.mutex.release()
        return arrivals

    # ------------------------------------------------------------------ serialization
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form keeping order and item types."""
        return {
            "kind": "Pile",
            "item_type": [kind_of(t) for t in self._types],
            "strict": self._strict,
            "maxlen": self._maxlen,
            "items": [i.to_dict() for i in self._snapshot("to_dict")],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pile[Any]:
        """Rebuild from :meth:`to_dict` output; item classes come from the kind registry.

        Raises:
            MalformedDataError: the data does not have a Pile's shape.
            UnknownKindError: an item type or item kind is not registered.
        """
        items, types, strict, maxlen = parse_pile_dict(data)
        return cls(items, item_type=types, strict=strict, maxlen=maxlen)  # pyright: ignore[reportArgumentType]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Let a Pile be a pydantic field: accepts a Pile or its dict, serializes to dict.

        With a parametrized annotation (``Pile[Message]``) every item must be a ``Message``.
        """
        return pile_core_schema(cls, source)

    # ------------------------------------------------------------------ adapters
    @classmethod
    def register_adapter(cls, adapter: Adapter) -> None:
        """Register an adapter for this class (and its future subclasses) under its name."""
        cls._adapters[adapter.name] = adapter

    @classmethod
    def adapter(cls, name: str) -> Adapter:
        """The adapter registered under ``name``.

        Raises:
            KeyError: no such adapter on this class.
        """
        try:
            return cls._adapters[name]
        except KeyError:
            known = ", ".join(sorted(cls._adapters))
            raise KeyError(f"no adapter {name!r} on {cls.__name__}; known: {known}") from None

    def dump(self, name: str, destination: Any = None) -> Any:
        """Write this Pile with the named adapter (``json``, ``jsonl``, ``csv``, ...)."""
        return type(self).adapter(name).dump(self, destination)

    @classmethod
    def load(cls, name: str, source: Any, **options: Any) -> Pile[Any]:
        """Build a Pile with the named adapter from ``source``."""
        return cls.adapter(name).load(cls, source, **options)


def _keys_of(items: IdLike | Iterable[IdLike]) -> list[uuid.UUID]:
    if isinstance(items, uuid.UUID | str | Element):
        return [to_id(items)]
    return [to_id(i) for i in items]


def _as_slice(key: object) -> slice[Any, Any, Any] | None:
    return key if isinstance(key, slice) else None  # pyright: ignore[reportUnknownVariableType]


for _adapter in DEFAULT_ADAPTERS:
    Pile.register_adapter(_adapter)
