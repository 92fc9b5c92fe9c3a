"""``OpenAIChatServer``: the OpenAI chat-completions family (plus embeddings and models)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
from atoll_wire import openai
from msgspec import UnsetType

from . import _openai_render as render
from ._dialect import ServerDialect
from ._embeddings import decode_embedding_request, embedding_texts, embeddings_body
from ._exchange import Exchange
from ._expect import openai_expect
from ._inputs import ChatInput, ToolResult
from ._reply import JSON, Reply
from ._routes import Route
from ._script import Turn

_ENC = msgspec.json.Encoder()
_CREATED = 1735689600  # a fixed "created" for listed models: lists stay byte-stable


class OpenAIChatServer(ServerDialect):
    """OpenAI chat completions as api.openai.com answers them (also what Groq, DeepSeek, ... speak).

    Routes: ``POST /v1/chat/completions``, ``POST /v1/embeddings``, ``GET /v1/models``,
    ``GET /v1/models/{model}``. The key goes in ``Authorization: Bearer <key>``.
    """

    name = "openai"
    corpus_dialect = "openai-chat"
    malformed_event = render.MALFORMED

    def routes(self) -> Sequence[Route]:
        """Chat completions, embeddings and the model list."""
        return (
            Route("POST", "/chat/completions", self.serve_chat, chat=True),
            Route("POST", "/embeddings", self.serve_embeddings),
            Route("GET", "/models", self.list_models),
            Route("GET", "/models/{model}", self.get_model),
        )

    def credential(self, headers: Mapping[str, str]) -> str | None:
        """The key of ``Authorization: Bearer <key>`` (an ``x-api-key`` header does not count)."""
        scheme, _, key = headers.get("authorization", "").partition(" ")
        return key.strip() if scheme.lower() == "bearer" else None

    def auth_error(self, headers: Mapping[str, str]) -> Reply:
        """OpenAI's 401 (never echoing the presented key: failing tests' logs end up in CI)."""
        return self.error(
            401, "Incorrect API key provided. You can find your API key in your settings."
        )

    def parse_chat(self, exchange: Exchange) -> ChatInput:
        """Read the body with atoll_wire's ``ChatCompletionRequest``."""
        return parse_openai(exchange.body)

    def render(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """A ``chat.completion``."""
        number = exchange.number
        reply = render.completion(turn, chat, _rid(number), exchange.created)
        reply.headers.append(("x-request-id", f"req_atoll{number:010d}"))
        return reply

    def render_stream(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """``chat.completion.chunk`` events, then ``data: [DONE]``."""
        number = exchange.number
        reply = render.stream(turn, chat, _rid(number), exchange.created)
        reply.headers.append(("x-request-id", f"req_atoll{number:010d}"))
        return reply

    def error(self, status: int, message: str, error_type: str | None = None) -> Reply:
        """``{"error": {message, type, param, code}}``."""
        return Reply(status, JSON, render.error_body(status, message, error_type))

    def error_event(self, message: str, error_type: str | None = None) -> bytes:
        """``data: {"error": {...}}``."""
        return render.error_event(message, error_type)

    def is_stream_end(self, event: bytes) -> bool:
        """``data: [DONE]``."""
        return b"[DONE]" in event

    def expect(self, body: str, stream: bool, status: int) -> dict[str, object]:
        """Text, tool calls, finish reason, usage, reasoning and errors of a recorded body."""
        return openai_expect(body, stream, status)

    # ---- non-chat endpoints ------------------------------------------------------------------

    def serve_embeddings(self, exchange: Exchange) -> Reply:
        """``POST /v1/embeddings``: deterministic unit vectors, ``float`` or ``base64``."""
        request = decode_embedding_request(exchange.body)
        exchange.log_model(request.model)
        encoding = request.encoding_format or "float"
        if encoding not in ("float", "base64"):
            return self.error(400, f"encoding_format must be 'float' or 'base64', not {encoding!r}")
        exchange.count_model(request.model)
        dimensions = request.dimensions or exchange.server.embedding_dimensions
        body = embeddings_body(request.model, embedding_texts(request), dimensions, encoding)
        return Reply(200, JSON, body)

    def list_models(self, exchange: Exchange) -> Reply:
        """``GET /v1/models``."""
        data = [_model(n) for n in exchange.model_names()]
        return Reply(200, JSON, _ENC.encode(openai.ModelList(data=data)))

    def get_model(self, exchange: Exchange) -> Reply:
        """``GET /v1/models/{model}``."""
        name = exchange.params["model"]
        if not exchange.has_model(name):
            return self.error(404, f"The model '{name}' does not exist")
        return Reply(200, JSON, _ENC.encode(_model(name)))


def _model(name: str) -> openai.Model:
    return openai.Model(id=name, created=_CREATED, owned_by="atoll")


def _rid(number: int) -> str:
    return f"chatcmpl-atoll{number:010d}"


def _text(content: str | list[openai.ContentPart] | UnsetType | None) -> str:
    if not content:  # None, "" or UNSET (absent)
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.text or "" for p in content if p.type == "text")


def parse_openai(body: bytes) -> ChatInput:
    """Read an OpenAI chat-completions body (raises msgspec errors on bad shapes)."""
    req = openai.decode_request(body)
    names: dict[str, str] = {}
    last_user = ""
    tokens = 0
    results: list[ToolResult] = []
    for msg in req.messages:
        text = _text(msg.content)
        tokens += len(text.split())
        if msg.role == "user":
            last_user = text
        elif msg.role == "assistant":
            results.clear()
            for call in msg.tool_calls or ():
                names[call.id] = call.function.name
        elif msg.role == "tool":
            call_id = msg.tool_call_id or ""
            results.append(ToolResult(call_id=call_id, name=names.get(call_id), content=text))
    return ChatInput(
        dialect="openai",
        model=req.model,
        stream=bool(req.stream),
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        last_user_text=last_user,
        tool_results=tuple(results),
        tool_names=tuple(t.function.name for t in req.tools or ()),
        input_tokens=tokens,
        message_count=len(req.messages),
        body=body,
    )
