"""``AnthropicMessagesServer``: the Anthropic Messages family (plus token counting and models)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from atoll_wire import anthropic as wire

from . import _anthropic_render as render
from ._dialect import ServerDialect
from ._exceptions import RequestError
from ._exchange import Exchange
from ._expect import anthropic_expect
from ._faults import Fault
from ._inputs import ChatInput, ToolResult
from ._reply import JSON, Reply
from ._routes import Route
from ._script import Turn

_ENC = msgspec.json.Encoder()
_CREATED_AT = "2025-01-01T00:00:00Z"


# ``/v1/messages/count_tokens`` takes a Messages body without ``max_tokens``.
_COUNT_DECODER = msgspec.json.Decoder(wire.MessagesRequest)


class AnthropicMessagesServer(ServerDialect):
    """Anthropic Messages as api.anthropic.com answers them.

    Routes: ``POST /v1/messages``, ``POST /v1/messages/count_tokens``, and ``GET /v1/models``
    and ``GET /v1/models/{model}`` for requests carrying ``anthropic-version`` (the Anthropic
    SDK always sends it; without it the OpenAI shape answers). The key goes in ``x-api-key``.

    Args:
        bearer: Also accept the key as ``Authorization: Bearer <key>``. Off by default, so a
            client that sends an Anthropic key the OpenAI way is caught; turn it on for
            clients that do so on purpose (the ``anthropic`` SDK 2.12 sends ``api_key``
            that way).
    """

    name = "anthropic"
    corpus_dialect = "anthropic-messages"
    malformed_event = render.MALFORMED

    def __init__(self, *, bearer: bool = False) -> None:
        self.bearer = bearer

    def __repr__(self) -> str:
        return f"AnthropicMessagesServer(bearer={self.bearer})"

    def routes(self) -> Sequence[Route]:
        """Messages, token counting and (with ``anthropic-version``) the model list."""
        return (
            Route("POST", "/messages", self.serve_chat, chat=True),
            Route("POST", "/messages/count_tokens", self.count_tokens),
            Route("GET", "/models", self.list_models, header="anthropic-version"),
            Route("GET", "/models/{model}", self.get_model, header="anthropic-version"),
        )

    def credential(self, headers: Mapping[str, str]) -> str | None:
        """The ``x-api-key`` header (``Authorization: Bearer`` counts only with ``bearer``)."""
        key = headers.get("x-api-key")
        if key is not None:
            return key.strip()
        if self.bearer:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
        return None

    def auth_error(self, headers: Mapping[str, str]) -> Reply:
        """Anthropic's 401: ``invalid x-api-key``, or ``x-api-key header is required``."""
        if "x-api-key" in headers:
            return self.error(401, "invalid x-api-key")
        return self.error(401, "x-api-key header is required")

    def parse_chat(self, exchange: Exchange) -> ChatInput:
        """Read the body with atoll_wire's ``MessagesRequest``; ``max_tokens`` is required."""
        request = wire.decode_request(exchange.body)
        if request.max_tokens is None:
            raise RequestError(400, "max_tokens: Field required", "invalid_request_error")
        return parse_anthropic(request, exchange.body)

    def render(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """A ``message``."""
        number = exchange.number
        reply = render.message(turn, chat, _rid(number))
        reply.headers.append(("request-id", f"req_atoll{number:010d}"))
        return reply

    def render_stream(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """``message_start`` ... ``message_stop``, every block and delta type."""
        number = exchange.number
        reply = render.stream(turn, chat, _rid(number))
        reply.headers.append(("request-id", f"req_atoll{number:010d}"))
        return reply

    def error(self, status: int, message: str, error_type: str | None = None) -> Reply:
        """``{"type": "error", "error": {type, message}, "request_id": null}``."""
        return Reply(status, JSON, render.error_body(status, message, error_type))

    def error_event(self, message: str, error_type: str | None = None) -> bytes:
        """``event: error`` (default type ``overloaded_error``)."""
        return render.error_event(message, error_type)

    def ratelimit_headers(self, fault: Fault) -> list[tuple[str, str]]:
        """``anthropic-ratelimit-<kind>-<field>``."""
        return [(f"anthropic-ratelimit-{k}-{f}", v) for k, f, v in fault.ratelimit]

    def is_stream_end(self, event: bytes) -> bool:
        """``event: message_stop``."""
        return b"message_stop" in event

    def expect(self, body: str, stream: bool, status: int) -> dict[str, object]:
        """Text, tool calls, finish reason, usage, thinking and errors of a recorded body."""
        return anthropic_expect(body, stream, status)

    # ---- non-chat endpoints ------------------------------------------------------------------

    def count_tokens(self, exchange: Exchange) -> Reply:
        """``POST /v1/messages/count_tokens``: ``{"input_tokens": n}``."""
        chat = parse_anthropic(_COUNT_DECODER.decode(exchange.body), exchange.body)
        return Reply(200, JSON, b'{"input_tokens":%d}' % chat.input_tokens)

    def list_models(self, exchange: Exchange) -> Reply:
        """``GET /v1/models`` in Anthropic's paged shape: ``limit`` (default 20), ``after_id``."""
        names = exchange.model_names()
        query = exchange.query_params
        after = query.get("after_id")
        start = names.index(after) + 1 if after in names else 0
        try:
            limit = int(query.get("limit", "20"))
        except ValueError:
            return self.error(400, "limit: Input should be a valid integer")
        if not 1 <= limit <= 1000:
            return self.error(400, "limit: Input should be between 1 and 1000")
        page = names[start : start + limit]
        body = {
            "data": [_model(n) for n in page],
            "has_more": start + limit < len(names),
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }
        return Reply(200, JSON, _ENC.encode(body))

    def get_model(self, exchange: Exchange) -> Reply:
        """``GET /v1/models/{model}``."""
        name = exchange.params["model"]
        if not exchange.has_model(name):
            return self.error(404, f"The model '{name}' does not exist")
        return Reply(200, JSON, _ENC.encode(_model(name)))


def _rid(number: int) -> str:
    return f"msg_atoll{number:010d}"


def _model(name: str) -> dict[str, Any]:
    # atoll_wire.anthropic has no model-info struct yet; this is the documented shape.
    return {"type": "model", "id": name, "display_name": name, "created_at": _CREATED_AT}


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.text for b in content if isinstance(b, wire.TextBlock))  # pyright: ignore[reportUnknownVariableType]
    return ""


def parse_anthropic(req: wire.MessagesRequest, body: bytes) -> ChatInput:
    """The neutral view of a decoded Messages request (``body`` is its raw JSON)."""
    names: dict[str, str] = {}
    last_user = ""
    tokens = len(_text(req.system).split())
    results: list[ToolResult] = []
    for msg in req.messages:
        text = _text(msg.content)
        tokens += len(text.split())
        blocks = msg.content if isinstance(msg.content, list) else []
        if msg.role == "assistant":
            results.clear()
            names.update((b.id, b.name) for b in blocks if isinstance(b, wire.ToolUseBlock))
            continue
        tool_blocks = [b for b in blocks if isinstance(b, wire.ToolResultBlock)]
        for block in tool_blocks:
            content = _text(block.content)
            tokens += len(content.split())
            results.append(
                ToolResult(
                    call_id=block.tool_use_id,
                    name=names.get(block.tool_use_id),
                    content=content,
                    is_error=bool(block.is_error),
                )
            )
        if text or not tool_blocks:
            last_user = text
    return ChatInput(
        dialect="anthropic",
        model=req.model,
        stream=bool(req.stream),
        include_usage=True,
        last_user_text=last_user,
        tool_results=tuple(results),
        tool_names=tuple(t.name for t in req.tools or ()),
        input_tokens=tokens,
        message_count=len(req.messages),
        body=body,
    )
