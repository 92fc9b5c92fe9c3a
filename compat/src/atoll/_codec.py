"""Messages as JSON with type tags: ``save_conversation``, ``load_conversation``, template files.

The format is the legacy one (a list of objects, each with a ``_type`` tag such as
``"usermessage"``), so conversations and templates written by the old package load unchanged;
unknown fields are ignored. What the legacy format could not keep is kept here: the neutral
usage, the exact cost and the reply's thinking parts (in ``extras``), and the type of extracted
data (``_content_type``; pass the class in ``types`` to get it back, nothing is imported by a
name read from a file).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

import pydantic
from atoll_wire import Usage

from ._messages import MESSAGE_TYPES, AbstractMessage, AIToolRequest, DataMessage, ToolMessage

_BY_TAG: dict[str, type[AbstractMessage]] = {cls.kind: cls for cls in MESSAGE_TYPES}
_BY_TAG["usermessagewithimage"] = _BY_TAG["usermessagewithimages"]  # the legacy spelling, too
_USAGE_FIELDS = Usage.__struct_fields__

PathOrIO = str | os.PathLike[str] | IO[str]


def plain(value: Any) -> Any:
    """A JSON-ready form of ``value`` (messages inside are tagged)."""
    if isinstance(value, AbstractMessage):
        return encode_message(value)
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, Usage):
        return {f: getattr(value, f) for f in _USAGE_FIELDS if getattr(value, f) is not None}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def encode_message(message: AbstractMessage) -> dict[str, Any]:
    """One message as a JSON-ready mapping with its ``_type`` tag."""
    encode = getattr(message, "encode", None)
    if callable(encode):  # a TracerMessage encodes itself (its object nested)
        return cast(dict[str, Any], encode())
    data: dict[str, Any] = {}
    for f in dataclasses.fields(message):  # pyright: ignore[reportArgumentType]
        value = getattr(message, f.name)
        if isinstance(message, DataMessage) and f.name == "content" and value is not None:
            if isinstance(value, pydantic.BaseModel) or dataclasses.is_dataclass(value):
                data["_content_type"] = type(cast(object, value)).__name__
        data[f.name] = plain(value)
    data["_type"] = message.kind
    return data


def _usage(value: Any) -> Usage | None:
    if not isinstance(value, Mapping):
        return None
    found = cast(Mapping[str, Any], value)
    fields: dict[str, int] = {f: found[f] for f in _USAGE_FIELDS if isinstance(found.get(f), int)}
    return Usage(**fields)


def decode_message(
    data: Mapping[str, Any], types: Mapping[str, type[Any]] | None = None
) -> AbstractMessage:
    """A message from its tagged mapping (legacy files included).

    Args:
        data: The mapping, with its ``_type`` tag.
        types: Classes by name, to restore extracted data (``_content_type``).

    Raises:
        ValueError: No ``_type`` tag, or an unknown one.
    """
    tag = data.get("_type")
    if tag == "tracermessage":
        from ._tracer import TracerMessage  # the tracer module imports this one

        return TracerMessage.decode(data, types)
    cls = _BY_TAG.get(str(tag))
    if cls is None:
        known = ", ".join(sorted(_BY_TAG))
        raise ValueError(f"unknown message type {tag!r}; known: {known}")
    names = {f.name for f in dataclasses.fields(cls)}  # pyright: ignore[reportArgumentType]
    values: dict[str, Any] = {k: v for k, v in data.items() if k in names}
    if "tokens" in values:
        values["tokens"] = tuple(values["tokens"])
    if "usage" in values:
        values["usage"] = _usage(values["usage"])
    if "extras" in values and values["extras"] is None:  # legacy files write null
        values["extras"] = {}
    if cls is AIToolRequest:
        calls = cast(list[dict[str, Any]], values.get("tool_calls") or [])
        values["tool_calls"] = [
            ToolMessage(**{k: v for k, v in c.items() if k != "_type"}) for c in calls
        ]
    content_type = data.get("_content_type")
    if content_type and types and content_type in types:
        values["content"] = pydantic.TypeAdapter(types[content_type]).validate_python(
            values.get("content")
        )
    return cls(**values)


def write_text(target: PathOrIO, text: str) -> None:
    if isinstance(target, str | os.PathLike):
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    else:
        target.write(text)


def read_json(source: PathOrIO) -> Any:
    if isinstance(source, str | os.PathLike):
        return json.loads(Path(source).read_text(encoding="utf-8"))
    return json.loads(source.read())


def save_conversation(target: PathOrIO, messages: Iterable[AbstractMessage]) -> None:
    """Write messages as JSON (a list of tagged objects) to a path or an open text file.

    Args:
        target: A file path (folders are created) or a writable text stream.
        messages: The conversation.
    """
    write_text(target, json.dumps([encode_message(m) for m in messages], indent=1))


def load_conversation(
    source: PathOrIO, types: Sequence[type[Any]] | Mapping[str, type[Any]] = ()
) -> list[AbstractMessage]:
    """Read a conversation written by ``save_conversation`` (or by the legacy package).

    Args:
        source: A file path or a readable text stream.
        types: Classes of extracted data to restore (``aiextract`` return types); without
            them such content comes back as plain JSON data.

    Raises:
        ValueError: The file is not a list of tagged messages.
    """
    by_name = dict(types) if isinstance(types, Mapping) else {t.__name__: t for t in types}
    data = read_json(source)
    if not isinstance(data, list):
        raise ValueError("a saved conversation is a JSON list of messages")
    return [decode_message(item, by_name) for item in data]  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
