"""A conversation: a Pile of message elements in the order of a Progression.

Each element holds a neutral ``atoll_wire.Message`` as it is (composition: the msgspec struct
stays the payload, nothing is converted to pydantic) plus who wrote it, so signed reasoning can
go back only to the model that produced it. Forking makes a new Progression over the same Pile:
nothing is copied, and the branches share every message up to the fork point.

``on_message`` is the message hook: a listener sees each complete message as it is added to a
branch (an agent run turns it into ``MessageAdded`` events; the compat API uses the same hook).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeAlias

import msgspec
from atoll_generic import Element, MalformedDataError, Pile, Progression
from atoll_wire import Message
from pydantic import ConfigDict, field_serializer, field_validator

_FORMAT = "atoll_agents.Conversation"
# Version-4 ids from a generator seeded once from os.urandom: as unique as uuid4(), without a
# system call per message (ids name messages; they are not secrets).
_RANDOM = random.Random()

MessageListener: TypeAlias = Callable[[Message, "str | None"], object]
"""Called as ``listener(message, producer)`` for each message added to a conversation."""


class MessageItem(Element):
    """One message of a conversation, as an ``Element`` (id, created_at, metadata).

    Attributes:
        message: The neutral message, unchanged.
        producer: ``provider/model`` that wrote it (assistant turns), else None.
    """

    __element_kind__ = "atoll_agents.MessageItem"
    model_config = ConfigDict(arbitrary_types_allowed=True)

    message: Message
    producer: str | None = None

    @field_validator("message", mode="before")
    @classmethod
    def _to_message(cls, value: object) -> Message:
        if isinstance(value, Message):
            return value
        try:
            return msgspec.convert(value, Message)
        except msgspec.ValidationError as exc:
            raise ValueError(f"not a message: {exc}") from None

    @field_serializer("message")
    def _from_message(self, message: Message) -> Any:
        return msgspec.to_builtins(message)

    @classmethod
    def of(cls, message: Message, producer: str | None = None) -> MessageItem:
        """A new element for ``message``, made without a validation pass.

        A run makes several per turn, and every value here is valid by construction (as Event
        does on its hot path).

        Args:
            message: The message.
            producer: ``provider/model`` that wrote it.
        """
        item = cls.__new__(cls)
        fields: dict[str, Any] = {
            "id": uuid.UUID(int=_RANDOM.getrandbits(128), version=4),
            "created_at": dt.datetime.now(dt.UTC),
            "metadata": {},
            "message": message,
            "producer": producer,
        }
        object.__setattr__(item, "__dict__", fields)
        object.__setattr__(item, "__pydantic_fields_set__", {"message", "producer"})
        object.__setattr__(item, "__pydantic_extra__", None)
        object.__setattr__(item, "__pydantic_private__", None)
        return item


class Conversation:
    """An ordered conversation: message elements in a ``Pile``, ordered by a ``Progression``.

    Args:
        messages: Initial messages, in order.

    Example:
        >>> convo = Conversation([Message.user("hi")])
        >>> branch = convo.fork(0)          # a new Progression over the same Pile
        >>> _ = branch.append(Message.assistant("hello"))
        >>> len(convo), len(branch)
        (1, 2)
    """

    __slots__ = ("_items", "_listeners", "_messages", "_order", "_pile", "_producers")

    def __init__(self, messages: Iterable[Message] = ()) -> None:
        self._listeners: list[MessageListener] = []
        self._pile: Pile[MessageItem] | None = None
        self._order: Progression | None = None
        # The messages and their producers, in order; the elements for them are made when the
        # Pile is first looked at, so a run's hot path never pays for elements nobody reads.
        self._messages: list[Message] = []
        self._producers: list[str | None] = []
        self._items: list[MessageItem] = []
        for message in messages:
            self.add(message)

    @classmethod
    def _over(cls, pile: Pile[MessageItem], items: list[MessageItem]) -> Conversation:
        self = cls.__new__(cls)
        self._listeners = []
        self._pile = pile
        self._items = items
        self._messages = [item.message for item in items]
        self._producers = [item.producer for item in items]
        self._order = Progression(item.id for item in items)
        return self

    def add(self, message: Message, producer: str | None = None) -> None:
        """Add a message at the end (its element is made when the Pile is next read).

        Args:
            message: The message.
            producer: ``provider/model`` that wrote it, for assistant turns.
        """
        if type(message) is not Message:
            raise TypeError(f"expected an atoll_wire.Message, got {type(message).__name__}")
        self._messages.append(message)
        self._producers.append(producer)
        if self._listeners:
            for listener in tuple(self._listeners):
                listener(message, producer)

    def on_message(self, listener: MessageListener) -> Callable[[], None]:
        """Call ``listener(message, producer)`` for every message added to this branch from now.

        The message is complete when the listener sees it (a streamed reply once it ended).
        A fork does not inherit listeners. An exception a listener raises reaches the code
        that added the message.

        Args:
            listener: Called with the message and who wrote it (``provider/model``, or None).

        Returns:
            A function that removes the listener.
        """
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def append(self, message: Message, *, producer: str | None = None) -> MessageItem:
        """Add a message at the end and return its element.

        Args:
            message: The message.
            producer: ``provider/model`` that wrote it, for assistant turns.
        """
        self.add(message, producer)
        return self._materialize()[-1]

    def _materialize(self) -> list[MessageItem]:
        items = self._items
        if self._pile is None:
            self._pile = Pile(item_type=MessageItem)
        if self._order is None:
            self._order = Progression()
        pile, order = self._pile, self._order
        for position in range(len(items), len(self._messages)):
            item = MessageItem.of(self._messages[position], self._producers[position])
            pile.include(item)
            order.append(item.id)
            items.append(item)
        return items

    @property
    def pile(self) -> Pile[MessageItem]:
        """Every message element, of this conversation and of the forks that share it."""
        self._materialize()
        assert self._pile is not None
        return self._pile

    @property
    def order(self) -> Progression:
        """This conversation's order over the pile."""
        self._materialize()
        assert self._order is not None
        return self._order

    @property
    def items(self) -> list[MessageItem]:
        """The message elements, in order (a new list)."""
        return list(self._materialize())

    @property
    def messages(self) -> list[Message]:
        """The messages, in order (a new list)."""
        return list(self._messages)

    @property
    def producers(self) -> list[str | None]:
        """Who wrote each message (``provider/model``, or None), in order (a new list)."""
        return list(self._producers)

    def __len__(self) -> int:
        return len(self._messages)

    def __iter__(self) -> Iterator[Message]:
        return iter(list(self._messages))

    def __getitem__(self, index: int) -> Message:
        return self._messages[index]

    def __repr__(self) -> str:
        return f"Conversation(messages={len(self._messages)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The Pile holds a lock: pickle this branch through its JSON-safe form instead.
        return (Conversation.from_dict, (self.to_dict(),))

    def index(self, at: int | uuid.UUID | str | MessageItem) -> int:
        """The position of a message given by position, element id (or its string) or element.

        Raises:
            IndexError: A position out of range.
            KeyError: An id that is not in this conversation.
        """
        count = len(self._messages)
        if isinstance(at, int):
            if not -count <= at < count:
                raise IndexError(f"message {at} is out of range ({count} messages)")
            return at % count
        key = at.id if isinstance(at, MessageItem) else uuid.UUID(str(at))
        return self.order.index(key)

    def fork(self, at: int | uuid.UUID | str | MessageItem | None = None) -> Conversation:
        """A new conversation holding this one's messages up to and including ``at``.

        The fork is a new Progression over the same Pile: no message is copied, and messages
        appended to either branch are the branch's own.

        Args:
            at: The last message to keep (position, element id or element); None keeps all.
        """
        end = len(self._messages) if at is None else self.index(at) + 1
        items = self._materialize()
        return Conversation._over(self.pile, items[:end])

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form of this branch: its elements (with ids and producers) in order."""
        return {
            "kind": _FORMAT,
            "version": 1,
            "items": [item.to_dict() for item in self._materialize()],
        }

    def to_json(self) -> str:
        """This branch as JSON text (``Conversation.from_json`` reads it back)."""
        return msgspec.json.encode(self.to_dict()).decode()

    @classmethod
    def from_dict(cls, data: Any) -> Conversation:
        """Rebuild a conversation saved with ``to_dict``.

        Raises:
            MalformedDataError: The data is not a saved conversation.
        """
        if not isinstance(data, dict) or data.get("kind") != _FORMAT:  # pyright: ignore[reportUnknownMemberType]
            raise MalformedDataError("Conversation", f"expected kind {_FORMAT!r}")
        raw: object = data.get("items")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if not isinstance(raw, list):
            raise MalformedDataError("Conversation", "'items' must be a list")
        items = [MessageItem.from_dict(entry) for entry in raw]  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
        pile: Pile[MessageItem] = Pile(items, item_type=MessageItem)
        return cls._over(pile, items)

    @classmethod
    def from_json(cls, text: str | bytes) -> Conversation:
        """Rebuild a conversation from ``to_json`` text.

        Raises:
            MalformedDataError: The text is not a saved conversation.
        """
        try:
            data = msgspec.json.decode(text)
        except msgspec.DecodeError as exc:
            raise MalformedDataError("Conversation", f"not JSON: {exc}") from None
        return cls.from_dict(data)
