"""What both transports share: routing a request, finding its model, folding a finished chat.

A request goes to ``<scheme>://<anything>/.../chat/completions``, ``.../embeddings`` or
``.../models``; the model is the body's ``model`` field, looked up among the names registered on
the transport.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from atoll_wire import HttpRequest, TransportError

from ._jobs import ChatItem, Finished, Ready, RequestRejected
from ._model import LocalModel
from ._respond import ChunkWriter, completion
from ._tool_parsers import ParsedToolCall, ToolCallParser

SCHEME = "local"

Route = Literal["chat", "embeddings", "models"]


def route(request: HttpRequest) -> Route:
    """Which endpoint a request is for.

    Raises:
        TransportError: The URL is not ``local://`` (the request cannot be sent anywhere).
        RequestRejected: An endpoint this transport does not serve (answered 404/405).
    """
    parts = urlsplit(request.url)
    if parts.scheme != SCHEME:
        raise TransportError(
            f"LocalTransport serves {SCHEME}:// URLs only (use the 'local' provider, "
            f'or base_url="{SCHEME}://models")',
            request=request,
        )
    path = parts.path.rstrip("/")
    for suffix, name, method in (
        ("/chat/completions", "chat", "POST"),
        ("/embeddings", "embeddings", "POST"),
        ("/models", "models", "GET"),
    ):
        if path.endswith(suffix):
            if request.method != method:
                raise RequestRejected(405, "method_not_allowed", f"{path} takes {method}")
            return name  # type: ignore[return-value]
    raise RequestRejected(
        404, "not_found", f"no endpoint at {path or '/'} (chat/completions, embeddings, models)"
    )


def find_model(models: Mapping[str, LocalModel], name: str, *, embedding: bool) -> LocalModel:
    """The model registered as ``name``, checked for the kind of work.

    Raises:
        RequestRejected: No such name (404), or a chat model asked for embeddings (400).
    """
    model = models.get(name)
    if model is None:
        known = ", ".join(sorted(models)) or "none"
        raise RequestRejected(
            404,
            "model_not_found",
            f"no model named {name!r} is registered with this LocalTransport (registered: {known})",
            "model",
        )
    model.check_kind(embedding)
    return model


@dataclass(slots=True)
class Folded:
    """A finished non-stream chat."""

    ready: Ready
    text: list[str]
    finished: Finished | None = None

    def add(self, items: Iterable[ChatItem]) -> None:
        """Take items from the outbox."""
        for item in items:
            if isinstance(item, str):
                self.text.append(item)
            elif isinstance(item, Finished):
                self.finished = item

    def body(self, model: str, parser: Callable[[], ToolCallParser] | None) -> bytes:
        """The ``chat.completion`` body."""
        assert self.finished is not None
        text = "".join(self.text)
        calls: list[ParsedToolCall] = []
        if parser is not None:
            p = parser()
            pieces: list[str] = []
            for item in [*p.feed(text), *p.finish()]:
                if isinstance(item, str):
                    pieces.append(item)
                else:
                    calls.append(item)
            text = "".join(pieces)
        reason = "tool_calls" if calls else self.finished.reason
        return completion(
            model, text, calls, reason, self.ready.prompt_tokens, self.finished.completion_tokens
        )


class StreamEncoder:
    """Outbox items → SSE bytes for one stream (text batched, tool calls parsed out)."""

    __slots__ = ("_include_usage", "_parser", "_ready", "finished", "writer")

    def __init__(
        self,
        model: str,
        ready: Ready,
        parser: Callable[[], ToolCallParser] | None,
        include_usage: bool,
    ) -> None:
        self.writer = ChunkWriter(model)
        self._ready = ready
        self._parser = parser() if parser is not None else None
        self._include_usage = include_usage
        self.finished: Finished | None = None

    def start(self) -> bytes:
        """The role chunk."""
        return self.writer.role()

    def encode(self, items: list[ChatItem]) -> bytes:
        """Everything the items make, as one piece of the body."""
        texts: list[str] = []
        for item in items:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, Finished):
                self.finished = item
        out: list[bytes] = []
        if texts:
            self._text("".join(texts), out)
        if self.finished is not None:
            self._end(self.finished, out)
        return b"".join(out)

    def _text(self, text: str, out: list[bytes]) -> None:
        writer, parser = self.writer, self._parser
        if parser is None:
            out.append(writer.text(text))
            return
        self._emit(parser.feed(text), out)

    def _emit(self, items: list[str | ParsedToolCall], out: list[bytes]) -> None:
        for item in items:
            out.append(
                self.writer.text(item) if isinstance(item, str) else self.writer.calls([item])
            )

    def _end(self, finished: Finished, out: list[bytes]) -> None:
        if self._parser is not None:
            self._emit(self._parser.finish(), out)
        writer = self.writer
        out.append(writer.finish("tool_calls" if writer.called else finished.reason))
        if self._include_usage:
            out.append(writer.usage(self._ready.prompt_tokens, finished.completion_tokens))
        out.append(b"data: [DONE]\n\n")
