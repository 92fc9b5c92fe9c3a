"""Element: the identified, timestamped base of every control-plane object, and its kind registry.

Serialization is polymorphic through an explicit registry: each subclass registers itself under a
``kind`` name when it is defined (``__pydantic_init_subclass__``). ``from_dict`` only ever looks a
kind up in that registry; it never imports a module or resolves a dotted name found in the data,
so data cannot make the process load code.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._exceptions import MalformedDataError, UnknownKindError

__all__ = ["Element", "class_for_kind", "kind_of", "registered_kinds"]

UTC = dt.UTC

# kind name -> class. Filled only by class definitions, never by data.
_REGISTRY: dict[str, type[Element]] = {}

E = TypeVar("E", bound="Element")


def registered_kinds() -> tuple[str, ...]:
    """Return every registered kind name, sorted."""
    return tuple(sorted(_REGISTRY))


def class_for_kind(kind: object) -> type[Element] | None:
    """Return the class registered under ``kind``, or None (never imports anything)."""
    return _REGISTRY.get(kind) if isinstance(kind, str) else None


def kind_of(cls: type[Element]) -> str:
    """Return the kind name a class serializes under.

    ``__element_kind__`` set in the class body wins; otherwise ``module.QualifiedName``, which
    cannot collide between unrelated classes (a lookup key only: nothing is ever imported).
    """
    explicit: str | None = cls.__dict__.get("__element_kind__")
    return explicit or f"{cls.__module__}.{cls.__qualname__}"


def _register(cls: type[Element]) -> None:
    kind = kind_of(cls)
    existing = _REGISTRY.get(kind)
    if existing is not None and existing is not cls:
        same_place = (existing.__module__, existing.__qualname__) == (
            cls.__module__,
            cls.__qualname__,
        )
        # Re-running a class statement (a reloaded module, a class defined inside a function)
        # replaces the old class; two *different* classes claiming one kind is a bug.
        if not same_place:
            raise TypeError(
                f"element kind {kind!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}; set a distinct "
                f"`__element_kind__` on {cls.__module__}.{cls.__qualname__}"
            )
    _REGISTRY[kind] = cls


def _parse_created_at(value: object) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"created_at {value!r} is not an ISO 8601 timestamp") from None
    if not isinstance(value, dt.datetime):
        raise ValueError(
            f"created_at must be a datetime or ISO 8601 string, not {type(value).__name__}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"created_at {value.isoformat()} has no timezone; give an aware time")
    return value.astimezone(UTC)


class Element(BaseModel):
    """An identified, timestamped object that serializes to a JSON-safe dict with a ``kind``.

    Equality and hashing use ``id`` only. Subclasses register themselves when defined, under
    ``__element_kind__`` if the class body sets it (recommended for anything persisted: a short,
    stable name such as ``"CallEvent"``), else under ``module.QualifiedName``, so
    :meth:`from_dict` can rebuild them.

    Example:
        >>> class Note(Element):
        ...     text: str
        >>> note = Note(text="hi")
        >>> Element.from_dict(note.to_dict()) == note
        True
    """

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID = Field(default_factory=uuid.uuid4, frozen=True)
    """Unique id. Accepts a UUID or its string form; anything else is rejected."""

    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(UTC), frozen=True)
    """Creation time, timezone-aware, normalized to UTC."""

    metadata: dict[str, Any] = Field(default_factory=dict[str, Any])
    """Free-form JSON-safe annotations."""

    __element_kind__: ClassVar[str | None] = "Element"

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # `Pile[Note]`-style parametrizations of generic subclasses are not new kinds.
        if cls.__pydantic_generic_metadata__["origin"] is None:
            _register(cls)

    @field_validator("id", mode="before")
    @classmethod
    def _check_id(cls, value: object) -> uuid.UUID:
        if isinstance(value, uuid.UUID):
            return value
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                raise ValueError(f"id {value!r} is not a UUID") from None
        raise ValueError(f"id must be a UUID or its string form, not {type(value).__name__}")

    @field_validator("created_at", mode="before")
    @classmethod
    def _check_created_at(cls, value: object) -> dt.datetime:
        return _parse_created_at(value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Element):
            return self.id == other.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def kind(cls) -> str:
        """Return the registry name this class serializes under."""
        return kind_of(cls)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of every field plus ``kind``."""
        data = self.model_dump(mode="json")
        data["kind"] = kind_of(type(self))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild an element from :meth:`to_dict` output, choosing the class by ``kind``.

        The input is never modified. A missing ``kind`` means ``cls`` itself.

        Raises:
            UnknownKindError: ``kind`` is not registered.
            MalformedDataError: the data is not a mapping, names a kind that is not ``cls`` or a
                subclass of it, or fails validation.
        """
        if not isinstance(data, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise MalformedDataError(cls.__name__, f"expected a mapping, got {type(data).__name__}")
        target: type[Element] = cls
        if "kind" in data:
            kind = data["kind"]
            found = _REGISTRY.get(kind) if isinstance(kind, str) else None
            if found is None:
                raise UnknownKindError(kind, registered_kinds())
            if not issubclass(found, cls):
                raise MalformedDataError(cls.__name__, f"kind {kind!r} is not a {cls.__name__}")
            target = found
        # Deep copy: the new element must not share mutable state with the caller's data.
        payload = {k: copy.deepcopy(v) for k, v in data.items() if k != "kind"}
        try:
            element = target.model_validate(payload)
        except ValidationError as exc:
            raise MalformedDataError(target.__name__, _summary(exc), _details(exc)) from exc
        return element  # type: ignore[return-value]  # target is cls or a subclass of it


def _summary(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "<root>"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def _details(exc: ValidationError) -> list[Any]:
    return [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False)
    ]


_register(Element)
