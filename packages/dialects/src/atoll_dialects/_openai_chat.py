"""The OpenAI chat-completions dialect: OpenAI and every OpenAI-compatible server.

One class serves OpenAI, Azure OpenAI, NVIDIA NIM, Groq, Ollama, LM Studio, DeepSeek, vLLM,
llama.cpp, Mistral, OpenRouter, Together, Fireworks, Cerebras, xAI, Gemini's OpenAI endpoint
and any base URL a user gives; what differs between them is registry data (the
``OpenAIChatQuirks`` record).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from atoll_wire import (
    ChatRequest,
    ChatResponse,
    HttpRequest,
    Message,
    Part,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
    Usage,
)
from atoll_wire.openai import ChatCompletion, ChatMessage, EmbeddingRequest, EmbeddingResponse
from atoll_wire.openai import encode as encode_body

from ._capabilities import check_capabilities
from ._dialect import Dialect, Embeddings
from ._dialects import register_dialect
from ._encode import finish_reason, tool_call_part
from ._error_bodies import error_from_stream_error
from ._exceptions import (
    APIError,
    BadRequestError,
    CapabilityError,
    InvalidResponseError,
    UnsupportedRequestError,
)
from ._openai_quirks import OpenAIChatQuirks
from ._openai_request import build_body
from ._openai_stream import (
    OpenAIStreamDecoder,
    content_pieces,
    normalise_usage,
    reasoning_texts,
    synthetic_call_id,
)
from ._openai_urls import endpoint_url, resource_url
from ._quirks import DialectQuirks, ModelFacts
from ._think_tags import split_think_tags

_completion_decoder = msgspec.json.Decoder(ChatCompletion)
_embeddings_decoder = msgspec.json.Decoder(EmbeddingResponse)

if TYPE_CHECKING:
    from ._completions import CompletionRequest
    from ._model_list import ModelPage
    from ._openai_completions import CompletionStreamDecoder
    from ._target import Target


_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
_SSE_HEADERS = {"Content-Type": "application/json", "Accept": "text/event-stream"}


def _headers(target: Target, *, stream: bool) -> dict[str, str]:
    headers = dict(target.provider.headers)
    headers.update(_SSE_HEADERS if stream else _JSON_HEADERS)
    return headers


def _schema_as_tool(request: ChatRequest, facts: ModelFacts) -> bool:
    """Structured output through a forced tool when the model lacks JSON-schema output."""
    if request.output_schema is None or facts.json_schema is not False:
        return False
    if facts.tools is False:
        raise CapabilityError(
            "json_schema",
            "the model supports neither JSON-schema output nor tools",
            provider=facts.provider,
            model=facts.model or request.model,
        )
    return True


def _output_tool(request: ChatRequest | None, facts: ModelFacts) -> str | None:
    if request is None or request.output_schema is None:
        return None
    return request.output_schema.name if _schema_as_tool(request, facts) else None


def quirks_of(target: Target) -> OpenAIChatQuirks:
    """The target's quirk record (the dialect's defaults if another dialect made it)."""
    quirks = target.quirks
    if isinstance(quirks, OpenAIChatQuirks):
        return quirks
    return _DEFAULT_QUIRKS


_DEFAULT_QUIRKS = OpenAIChatQuirks()


def message_parts(
    message: ChatMessage, quirks: OpenAIChatQuirks, output_tool: str | None = None
) -> list[Part]:
    """A full response's message → parts: reasoning first, then text, then tool calls."""
    parts: list[Part] = []
    reasoning = "".join(reasoning_texts(message))
    signature = next((d.signature for d in message.reasoning_details or () if d.signature), None)
    text = ""
    for is_reasoning, piece in content_pieces(message):
        if is_reasoning:
            reasoning += piece
        else:
            text += piece
    tag = quirks.inline_think_tag
    if tag and text:
        inline, text = split_think_tags(text, tag)
        reasoning += inline
    if reasoning or signature:
        parts.append(ThinkingPart(text=reasoning, signature=signature))
    parts.extend(
        RedactedThinkingPart(data=d.data)
        for d in message.reasoning_details or ()
        if d.data and d.type.endswith("encrypted")
    )
    if message.refusal:
        text += message.refusal
    if text:
        parts.append(TextPart(text=text))
    for call in message.tool_calls or ():
        function = call.function
        name = (function.name if function else None) or ""
        arguments = (function.arguments if function else None) or ""
        if output_tool is not None and name == output_tool:
            parts.append(TextPart(text=arguments or "{}"))
            continue
        call_id = call.id or ""
        if not call_id and quirks.empty_tool_call_ids:
            call_id = synthetic_call_id()
        parts.append(tool_call_part(call_id, name, arguments))
    return parts


class OpenAIChatDialect(Dialect):
    """Speaks ``POST {base_url}/chat/completions`` (and ``/embeddings``).

    Example:
        >>> from atoll_dialects import OpenAIChatDialect
        >>> OpenAIChatDialect().name
        'openai-chat'
    """

    name: ClassVar[str] = "openai-chat"
    auth: ClassVar[str] = "bearer"
    quirks_type: ClassVar[type[DialectQuirks]] = OpenAIChatQuirks

    def build(self, request: ChatRequest, target: Target) -> HttpRequest:
        """Build ``POST {base_url}/chat/completions``; see ``Dialect.build``."""
        facts = target.facts
        check_capabilities(request, facts)
        if request.output_schema is not None or request.tools:  # nothing to fit otherwise
            from ._schema_fit import fitted_request  # import time matters: only when needed

            request = fitted_request(
                request, lambda s: self.fit_schema(s, target), loose_output=False
            )
        body = build_body(
            request, quirks_of(target), facts, schema_as_tool=_schema_as_tool(request, facts)
        )
        return HttpRequest(
            method="POST",
            url=endpoint_url(target, quirks_of(target), "/chat/completions", request.model),
            headers=_headers(target, stream=request.stream),
            body=body,
        )

    def parse(
        self, body: bytes, target: Target | None = None, request: ChatRequest | None = None
    ) -> ChatResponse:
        """Parse a chat-completions JSON body; see ``Dialect.parse``.

        Raises:
            APIError: The body is an error object sent with a success status.
            InvalidResponseError: The body is not a chat completion at all.
        """
        target = target or self.default_target()
        quirks = quirks_of(target)
        facts = target.facts
        try:
            chunk = _completion_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise InvalidResponseError(
                f"the response is not a chat completion: {exc}",
                status=200,
                provider=facts.provider,
                model=facts.model,
                body=body.decode("utf-8", "replace"),
            ) from exc
        if chunk.error is not None and not chunk.choices:
            error = chunk.error
            raise error_from_stream_error(
                error_type=error.type or "",
                message=error.message or "",
                status=error.status_code or (error.code if isinstance(error.code, int) else None),
                code=error.code,
                body=body.decode("utf-8", "replace"),
                provider=facts.provider,
                model=facts.model,
            )
        choice = next((c for c in chunk.choices or () if c.index == 0), None)
        message = choice.message if choice is not None else None
        raw_finish = choice.finish_reason if choice is not None else None
        return ChatResponse(
            id=chunk.id or None,
            model=chunk.model or None,
            message=Message(
                role="assistant",
                parts=message_parts(message, quirks, _output_tool(request, facts))
                if message
                else [],
            ),
            finish_reason=finish_reason(raw_finish),
            raw_finish_reason=raw_finish,
            usage=normalise_usage(chunk.usage, quirks) if chunk.usage else Usage(),
            provider=facts.provider,
        )

    def stream_decoder(
        self, target: Target | None = None, request: ChatRequest | None = None
    ) -> OpenAIStreamDecoder:
        """A decoder for one chat-completions stream; see ``Dialect.stream_decoder``."""
        target = target or self.default_target()
        return OpenAIStreamDecoder(
            quirks_of(target), output_tool=_output_tool(request, target.facts)
        )

    def build_embeddings(
        self, inputs: list[str], target: Target, *, dimensions: int | None = None
    ) -> HttpRequest:
        """Build ``POST {base_url}/embeddings``; see ``Dialect.build_embeddings``."""
        if not inputs:
            raise UnsupportedRequestError(
                "embeddings need at least one input text",
                provider=target.provider.name,
                model=target.request_model,
            )
        body = EmbeddingRequest(
            model=target.request_model,
            input=list[str | int | list[int]](inputs),
            encoding_format="float",
            dimensions=dimensions,
        )
        return HttpRequest(
            method="POST",
            url=endpoint_url(target, quirks_of(target), "/embeddings", target.request_model),
            headers=_headers(target, stream=False),
            body=encode_body(body),
        )

    def parse_embeddings(self, body: bytes, target: Target | None = None) -> Embeddings:
        """Parse an embeddings response; vectors come back in input order."""
        try:
            response = _embeddings_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise InvalidResponseError(
                f"the response is not an embeddings list: {exc}",
                status=200,
                provider=target.provider.name if target else None,
                body=body.decode("utf-8", "replace"),
            ) from exc
        items = sorted(response.data, key=lambda item: item.index)
        vectors: list[list[float]] = []
        for item in items:
            if isinstance(item.embedding, str):  # base64: we always ask for floats
                raise InvalidResponseError(
                    "the embeddings came back base64-encoded; floats were asked for",
                    status=200,
                    provider=target.provider.name if target else None,
                )
            vectors.append(item.embedding)
        usage = response.usage
        return Embeddings(
            vectors=vectors,
            model=response.model or None,
            usage=Usage(input_tokens=usage.prompt_tokens) if usage else None,
        )

    def fit_schema(self, schema: Mapping[str, Any], target: Target) -> dict[str, Any]:
        """Move what strict mode refuses (quirks ``strict_schema_rejects``/``_formats``) out."""
        from ._schema_fit import fit_rejecting

        quirks = quirks_of(target)
        return fit_rejecting(
            schema, quirks.strict_schema_rejects, formats=quirks.strict_schema_formats
        )

    def build_completion(self, request: CompletionRequest, target: Target) -> HttpRequest:
        """Build ``POST {base_url}/completions`` (where the provider serves it)."""
        from ._openai_completions import build_completion

        return build_completion(request, target, quirks_of(target))

    def parse_completion(self, body: bytes, target: Target) -> ChatResponse:
        """Parse a completion body; see ``Dialect.parse_completion``."""
        from ._openai_completions import parse_completion

        return parse_completion(body, target, quirks_of(target))

    def completion_stream_decoder(self, target: Target) -> CompletionStreamDecoder:
        """A decoder for one streamed completion."""
        from ._openai_completions import CompletionStreamDecoder

        return CompletionStreamDecoder(quirks_of(target))

    def build_models(self, target: Target, cursor: str | None = None) -> HttpRequest:
        """Build ``GET {base_url}/models`` (one page: OpenAI-compatible lists do not page)."""
        headers = dict(target.provider.headers)
        headers["Accept"] = "application/json"
        return HttpRequest(
            method="GET", url=resource_url(target, quirks_of(target), "/models"), headers=headers
        )

    def parse_models(self, body: bytes, target: Target) -> ModelPage:
        """Parse ``{"object": "list", "data": [...]}``."""
        from ._model_list import parse_openai_models

        return parse_openai_models(body, target)

    def relaxed_target(self, error: APIError, target: Target) -> Target | None:
        """Stop asking for streamed usage when a server refuses ``stream_options`` (a 400)."""
        quirks = quirks_of(target)
        if not quirks.stream_include_usage or not isinstance(error, BadRequestError):
            return None
        said = f"{error.message} {error.body}"
        if "stream_options" not in said and "include_usage" not in said:
            return None
        relaxed = msgspec.structs.replace(quirks, stream_include_usage=False)
        return dataclasses.replace(target, quirks=relaxed)


register_dialect(OpenAIChatDialect())
