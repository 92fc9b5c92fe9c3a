"""``TracerSchema`` and ``SaverSchema``: replies that remember how they were made.

A traced call returns ``TracerMessage`` objects: the reply (``object``; its fields read through,
so ``msg.content`` works) with the time it was sent and received, the model, and ``meta``
holding the call's inputs (placeholder values, ``api_kwargs``, the template and its version,
the rendered prompt). A saved call also writes the whole conversation to disk: the
``tracer_kwargs`` ``log_file_path``, else ``log_dir`` or the ``LOG_DIR`` preference.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from ._codec import decode_message, encode_message, plain, save_conversation
from ._messages import AbstractMessage
from ._preferences import get_preferences
from ._schemas import SaverSchema, TracerSchema, Wrapper


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class TracerMessage(AbstractMessage):
    """A message with how it was made; reads through to the wrapped message's fields.

    Attributes:
        object: The wrapped message.
        sender: Who sent it (legacy ``from``).
        receiver: Who received it (legacy ``to``).
        viewers: Others allowed to see it.
        time_received: When the reply arrived.
        time_sent: When the request left.
        model: ``provider/model`` that answered.
        parent_id: The job this belongs to.
        thread_id: The conversation thread within the job.
        run_id: The call's id.
        meta: The call's inputs and anything given in ``tracer_kwargs["meta"]``.
    """

    kind: ClassVar[str] = "tracermessage"
    object: AbstractMessage
    sender: str | None = None
    receiver: str | None = None
    viewers: list[str] = field(default_factory=list[str])
    time_received: datetime = field(default_factory=datetime.now)
    time_sent: datetime | None = None
    model: str = ""
    parent_id: str = field(default_factory=lambda: _new_id("parent"))
    thread_id: str = field(default_factory=lambda: _new_id("thread"))
    run_id: int | None = field(
        default_factory=lambda: random.randint(-(2**31), 2**31 - 1), compare=False
    )
    meta: dict[str, Any] = field(default_factory=dict[str, Any])

    def __getattr__(self, name: str) -> Any:
        # Only called for names the tracer itself lacks: read through to the message.
        if name == "object":
            raise AttributeError(name)
        return getattr(self.object, name)

    def encode(self) -> dict[str, Any]:
        """The tagged JSON-ready form (the message nested under ``object``)."""
        return {
            "object": encode_message(self.object),
            "from": self.sender,
            "to": self.receiver,
            "viewers": list(self.viewers),
            "time_received": self.time_received.isoformat(),
            "time_sent": None if self.time_sent is None else self.time_sent.isoformat(),
            "model": self.model,
            "parent_id": self.parent_id,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "meta": plain(self.meta),
            "_type": self.kind,
        }

    @classmethod
    def decode(
        cls, data: Mapping[str, Any], types: Mapping[str, type[Any]] | None = None
    ) -> TracerMessage:
        """Rebuild from ``encode``'s form (messages inside ``meta`` are restored too)."""
        sent = data.get("time_sent")
        return cls(
            object=decode_message(data["object"], types),
            sender=data.get("from"),
            receiver=data.get("to"),
            viewers=list(data.get("viewers") or []),
            time_received=datetime.fromisoformat(data["time_received"]),
            time_sent=None if sent is None else datetime.fromisoformat(sent),
            model=data.get("model") or "",
            parent_id=data.get("parent_id") or _new_id("parent"),
            thread_id=data.get("thread_id") or _new_id("thread"),
            run_id=data.get("run_id"),
            meta=_restore(data.get("meta") or {}, types),
        )


def _restore(value: Any, types: Mapping[str, type[Any]] | None) -> Any:
    if isinstance(value, Mapping):
        if "_type" in value:
            return decode_message(value, types)  # pyright: ignore[reportUnknownArgumentType]
        return {k: _restore(v, types) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_restore(v, types) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def unwrap(message: AbstractMessage) -> AbstractMessage:
    """The message inside a ``TracerMessage`` (or the message itself)."""
    return message.object if isinstance(message, TracerMessage) else message


@dataclass
class TraceInfo:
    """What a traced call records: when it started, what went in, where logs go."""

    time_sent: datetime
    model: str
    meta: dict[str, Any]
    tracer_kwargs: Mapping[str, Any]


def trace(
    wrappers: Sequence[Wrapper],
    info: TraceInfo,
    output: list[AbstractMessage],
    conversation: list[AbstractMessage],
) -> list[AbstractMessage]:
    """Apply the wrappers to a call's output (innermost first).

    Args:
        wrappers: The schema's wrappers, outermost first.
        info: What the call recorded.
        output: The messages the call returns (one per sample, or the whole conversation).
        conversation: The whole conversation, for the saver.

    Returns:
        ``output`` with untraced messages wrapped when a ``TracerSchema`` is among the wrappers;
        the saver writes exactly the messages the call returns.
    """
    extra = info.tracer_kwargs
    # One job and thread id for the whole call, unless the caller gave them.
    ids = {
        "parent_id": str(extra.get("parent_id") or _new_id("parent")),
        "thread_id": str(extra.get("thread_id") or _new_id("thread")),
    }
    for wrapper in reversed(wrappers):
        if isinstance(wrapper, TracerSchema):
            wrapped = {id(m): _wrap(m, info, ids) for m in conversation}
            output = [wrapped.get(id(m)) or _wrap(m, info, ids) for m in output]
            conversation = [wrapped[id(m)] for m in conversation]
        elif isinstance(wrapper, SaverSchema):  # pyright: ignore[reportUnnecessaryIsInstance]
            save_conversation(_log_path(info, conversation), conversation)
    return output


def _wrap(message: AbstractMessage, info: TraceInfo, ids: dict[str, str]) -> AbstractMessage:
    if isinstance(message, TracerMessage):
        return message
    extra = info.tracer_kwargs
    meta = {**info.meta, **dict(extra.get("meta") or {})}
    return TracerMessage(
        object=message,
        time_sent=info.time_sent,
        model=info.model,
        parent_id=ids["parent_id"],
        thread_id=ids["thread_id"],
        meta=meta,
        **({"run_id": extra["run_id"]} if "run_id" in extra else {}),
    )


def _log_path(info: TraceInfo, conversation: list[AbstractMessage]) -> Path:
    explicit = info.tracer_kwargs.get("log_file_path")
    if explicit:
        return Path(str(explicit))
    folder = Path(str(info.tracer_kwargs.get("log_dir") or get_preferences("LOG_DIR")))
    first = str(getattr(unwrap(conversation[0]), "content", "")) if conversation else ""
    digest = hashlib.sha256(first.encode()).hexdigest()[:16]
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S_%f")
    return folder / f"conversation__{digest}__{stamp}.json"
