"""``GeminiServer`` and ``VertexServer``: the Gemini API and Vertex AI, as the server speaks them.

Gemini API routes (key in ``x-goog-api-key``): ``POST .../models/{model}:generateContent``,
``:streamGenerateContent`` (``?alt=sse`` for SSE; without it one JSON array arriving piece by
piece), ``:countTokens``, ``:embedContent``, ``:batchEmbedContents``. Vertex AI routes (an
``Authorization: Bearer`` token) are the same methods under
``/projects/{project}/locations/{location}/publishers/google/models/{model}``, plus ``:predict``
for embeddings and Claude's ``publishers/anthropic/models/{model}:rawPredict`` and
``:streamRawPredict``. Errors are ``{"error": {code, message, status}}``.

Signatures the scripted model gave (``_gemini_render``) must come back on the parts they were
given for; in the current turn (after the last user text) the first call of each model turn
must carry its signature, as Gemini 3 requires. A request that breaks this is answered with
Gemini's 400.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
from atoll_wire import anthropic
from atoll_wire import gemini as wire

from . import _anthropic_render as anthropic_render
from . import _gemini_render as render
from ._anthropic import parse_anthropic
from ._dialect import ServerDialect
from ._embeddings import embedding_vector as vector
from ._exceptions import RequestError
from ._exchange import Exchange
from ._inputs import ChatInput, ToolResult
from ._reply import JSON, Reply
from ._routes import Route
from ._script import Turn
from ._tokens import GoogleTokenServer

__all__ = ["GeminiServer", "VertexServer", "parse_gemini"]

_ENC = msgspec.json.Encoder()
_METHODS = ("generateContent", "streamGenerateContent")


class _VertexMessages(anthropic.MessagesRequest, kw_only=True):
    """Claude's body on Vertex: no ``model`` (it is in the URL), an ``anthropic_version``."""

    model: str = ""
    anthropic_version: str = ""


_VERTEX_MESSAGES = msgspec.json.Decoder(_VertexMessages)


def _text(content: wire.Content) -> str:
    return "".join(p.text or "" for p in content.parts if p.text is not None and not p.thought)


def _check_turn(contents: list[wire.Content], require: bool) -> None:
    last_user = max(
        (i for i, c in enumerate(contents) if c.role != "model" and _text(c)), default=-1
    )
    for content in contents:  # a signature sent on the wrong part, anywhere
        for part in content.parts:
            problem = render.signature_problem(part)
            if problem is not None:
                raise RequestError(400, problem)
    for position, content in enumerate(contents):
        calls = 0
        for part in content.parts:
            if part.function_call is None or content.role != "model":
                continue
            if calls == 0 and require and position > last_user and part.thought_signature is None:
                raise RequestError(
                    400,
                    "Function call is missing a thought_signature in functionCall parts. This "
                    "is required for tools to work correctly, and missing thought_signature may "
                    f"lead to degraded model performance. Additional data, function call "
                    f"`{part.function_call.name}` , position {position + 1}. Please refer to "
                    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                )
            calls += 1


def parse_gemini(
    request: wire.GenerateContentRequest,
    body: bytes,
    *,
    dialect: str,
    model: str,
    stream: bool,
    require_signatures: bool = True,
) -> ChatInput:
    """The neutral view of a ``generateContent`` request (checking its thought signatures)."""
    _check_turn(request.contents, require_signatures)
    last_user = ""
    tokens = len(_text(request.system_instruction).split()) if request.system_instruction else 0
    results: list[ToolResult] = []
    for content in request.contents:
        text = _text(content)
        tokens += len(text.split())
        if content.role == "model":
            results.clear()
            continue
        responses = [p.function_response for p in content.parts if p.function_response]
        for response in responses:
            value = response.response or {}
            output = value.get("output", value.get("error", value))
            text_out = output if isinstance(output, str) else _ENC.encode(output).decode()
            tokens += len(text_out.split())
            results.append(
                ToolResult(
                    call_id=response.id or response.name,
                    name=response.name,
                    content=text_out,
                    is_error="error" in value,
                )
            )
        if text or not responses:
            last_user = text
    names = tuple(d.name for t in request.tools or () for d in t.function_declarations or ())
    return ChatInput(
        dialect=dialect,
        model=model,
        stream=stream,
        include_usage=True,
        last_user_text=last_user,
        tool_results=tuple(results),
        tool_names=names,
        input_tokens=tokens,
        message_count=len(request.contents),
        body=body,
    )


class GeminiServer(ServerDialect):
    """Google's Gemini API (``generativelanguage.googleapis.com``), key in ``x-goog-api-key``.

    Not spoken by default (it would answer ``/models/...`` paths): give it to a server with
    ``FakeLLMServer(dialects=[*registered_server_dialects(), GeminiServer()])``.

    Args:
        retry_delay: Put a ``google.rpc.RetryInfo`` with this delay (seconds) in 429 bodies.
        require_signatures: Refuse a current-turn function call sent back without its
            signature (Gemini 3's rule); False accepts it (Gemini 2.5's).
    """

    name = "gemini"
    corpus_dialect = "gemini"
    malformed_event = render.MALFORMED

    def __init__(
        self, *, retry_delay: float | None = None, require_signatures: bool = True
    ) -> None:
        self.retry_delay = retry_delay
        self.require_signatures = require_signatures

    def __repr__(self) -> str:
        return f"{type(self).__name__}(retry_delay={self.retry_delay!r})"

    def _prefix(self) -> str:
        return ""

    def routes(self) -> Sequence[Route]:
        """generate, stream, count, embed (one and batch)."""
        base = self._prefix() + "/models/{model}"
        return (
            Route("POST", base + ":generateContent", self.serve_chat, chat=True),
            Route("POST", base + ":streamGenerateContent", self.serve_chat, chat=True),
            Route("POST", base + ":countTokens", self.count_tokens),
            Route("POST", base + ":embedContent", self.embed_content),
            Route("POST", base + ":batchEmbedContents", self.batch_embed_contents),
        )

    def credential(self, headers: Mapping[str, str]) -> str | None:
        """The ``x-goog-api-key`` header (a key in the URL is never accepted)."""
        key = headers.get("x-goog-api-key")
        return key.strip() if key is not None else None

    def auth_error(self, headers: Mapping[str, str]) -> Reply:
        """Gemini's 401/400 for a missing or wrong key."""
        if self.credential(headers) is None:
            return self.error(401, "Method doesn't allow unregistered callers.", "UNAUTHENTICATED")
        return self.error(
            400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT"
        )

    def parse_chat(self, exchange: Exchange) -> ChatInput:
        """Read the body with atoll_wire's ``GenerateContentRequest``."""
        return parse_gemini(
            wire.decode_request(exchange.body),
            exchange.body,
            dialect=self.name,
            model=exchange.params["model"],
            stream=":streamGenerateContent" in exchange.path,
            require_signatures=self.require_signatures,
        )

    def render(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """A ``GenerateContentResponse``."""
        return render.response(turn, chat, _rid(exchange.number))

    def render_stream(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """SSE with ``alt=sse``, else one JSON array sent element by element."""
        sse = exchange.query_params.get("alt") == "sse"
        return render.stream(turn, chat, _rid(exchange.number), sse=sse)

    def error(self, status: int, message: str, error_type: str | None = None) -> Reply:
        """``{"error": {code, message, status}}`` (429 with RetryInfo when configured)."""
        delay = self.retry_delay if status == 429 else None
        return Reply(status, JSON, render.error_body(status, message, error_type, delay))

    def error_event(self, message: str, error_type: str | None = None) -> bytes:
        """``data: {"error": {...}}``."""
        return render.error_event(message, error_type)

    # ---- other methods ---------------------------------------------------------------------

    def count_tokens(self, exchange: Exchange) -> Reply:
        """``:countTokens``: whitespace tokens of the request's text."""
        request = msgspec.json.decode(exchange.body, type=wire.CountTokensRequest)
        full = request.generate_content_request or wire.GenerateContentRequest(
            contents=request.contents or [], system_instruction=request.system_instruction
        )
        chat = parse_gemini(
            full, exchange.body, dialect=self.name, model="", stream=False, require_signatures=False
        )
        return Reply(
            200, JSON, _ENC.encode(wire.CountTokensResponse(total_tokens=chat.input_tokens))
        )

    def _vectors(self, exchange: Exchange, texts: list[str], size: int | None) -> list[list[float]]:
        model = exchange.params["model"]
        exchange.count_model(model)
        return [vector(t, size or exchange.server.embedding_dimensions) for t in texts]

    def embed_content(self, exchange: Exchange) -> Reply:
        """``:embedContent``: one deterministic unit vector."""
        request = msgspec.json.decode(exchange.body, type=wire.EmbedContentRequest)
        [values] = self._vectors(exchange, [_text(request.content)], request.output_dimensionality)
        body = wire.EmbedContentResponse(embedding=wire.ContentEmbedding(values=values))
        return Reply(200, JSON, _ENC.encode(body))

    def batch_embed_contents(self, exchange: Exchange) -> Reply:
        """``:batchEmbedContents``: one vector per request, in order."""
        batch = msgspec.json.decode(exchange.body, type=wire.BatchEmbedContentsRequest)
        if not batch.requests:
            raise RequestError(400, "requests must not be empty")
        size = batch.requests[0].output_dimensionality
        vectors = self._vectors(exchange, [_text(r.content) for r in batch.requests], size)
        body = wire.BatchEmbedContentsResponse(
            embeddings=[wire.ContentEmbedding(values=v) for v in vectors]
        )
        return Reply(200, JSON, _ENC.encode(body))


class VertexServer(GeminiServer):
    """Vertex AI: Gemini under ``projects/.../publishers/google`` and Claude's rawPredict.

    Args:
        tokens: Accept only bearer tokens this token endpoint issued (the real OAuth flow);
            None accepts any bearer token, or the server's ``api_key`` when it has one.
        retry_delay: As for ``GeminiServer``.
        require_signatures: As for ``GeminiServer``.
    """

    name = "vertex"
    corpus_dialect = "vertex"

    def __init__(
        self,
        *,
        tokens: GoogleTokenServer | None = None,
        retry_delay: float | None = None,
        require_signatures: bool = True,
    ) -> None:
        super().__init__(retry_delay=retry_delay, require_signatures=require_signatures)
        self.tokens = tokens

    def _prefix(self) -> str:
        return "/projects/{project}/locations/{location}/publishers/google"

    def routes(self) -> Sequence[Route]:
        """Gemini's methods, ``:predict`` embeddings, Claude's rawPredict and streamRawPredict."""
        claude = "/projects/{project}/locations/{location}/publishers/anthropic/models/{model}"
        return (
            *super().routes(),
            Route("POST", self._prefix() + "/models/{model}:predict", self.predict),
            Route("POST", claude + ":rawPredict", self.serve_claude, chat=True),
            Route("POST", claude + ":streamRawPredict", self.serve_claude, chat=True),
        )

    def credential(self, headers: Mapping[str, str]) -> str | None:
        """The bearer token of ``Authorization``."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def auth_error(self, headers: Mapping[str, str]) -> Reply:
        """Vertex's 401 ``UNAUTHENTICATED``."""
        return self.error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            "UNAUTHENTICATED",
        )

    def _check_token(self, exchange: Exchange) -> None:
        if self.tokens is None:
            return
        token = self.credential(exchange.headers)
        if token is None or token not in self.tokens.issued:
            raise RequestError(
                401, "Request had invalid authentication credentials.", "UNAUTHENTICATED"
            )

    def serve_chat(self, exchange: Exchange) -> Reply:
        """Gemini on Vertex: the token checked, then as for the Gemini API."""
        self._check_token(exchange)
        return super().serve_chat(exchange)

    def predict(self, exchange: Exchange) -> Reply:
        """``:predict`` text embeddings: ``predictions[].embeddings.values``."""
        self._check_token(exchange)
        request = msgspec.json.decode(exchange.body, type=wire.PredictRequest)
        size = (request.parameters or {}).get("outputDimensionality")
        vectors = self._vectors(exchange, [i.content for i in request.instances], size)
        predictions = [
            wire.PredictPrediction(
                embeddings=wire.PredictEmbeddings(
                    values=v,
                    statistics=wire.PredictStatistics(token_count=float(len(i.content.split()))),
                )
            )
            for v, i in zip(vectors, request.instances, strict=True)
        ]
        return Reply(200, JSON, _ENC.encode(wire.PredictResponse(predictions=predictions)))

    def serve_claude(self, exchange: Exchange) -> Reply:
        """Claude on Vertex: an Anthropic Messages body with ``anthropic_version``, no model."""
        self._check_token(exchange)
        request = _VERTEX_MESSAGES.decode(exchange.body)
        if not request.anthropic_version.startswith("vertex-"):
            raise RequestError(
                400, "anthropic_version: must be a vertex version", "INVALID_ARGUMENT"
            )
        if request.model:
            raise RequestError(400, "model: Extra inputs are not permitted", "INVALID_ARGUMENT")
        chat = parse_anthropic(request, exchange.body)
        stream = exchange.path.endswith(":streamRawPredict")
        chat = msgspec.structs.replace(
            chat, dialect="vertex-anthropic", model=exchange.params["model"], stream=stream
        )
        return exchange.answer(chat)

    def render(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """Gemini's answer, or Claude's message for rawPredict."""
        if chat.dialect == "vertex-anthropic":
            return anthropic_render.message(turn, chat, f"msg_vrtx{exchange.number:010d}")
        return super().render(turn, chat, exchange)

    def render_stream(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """Gemini's stream, or Claude's SSE for streamRawPredict."""
        if chat.dialect == "vertex-anthropic":
            return anthropic_render.stream(turn, chat, f"msg_vrtx{exchange.number:010d}")
        return super().render_stream(turn, chat, exchange)


def _rid(number: int) -> str:
    return f"atoll-gemini-{number:010d}"
