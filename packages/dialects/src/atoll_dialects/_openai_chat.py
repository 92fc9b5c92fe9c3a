"""The OpenAI chat-completions dialect: OpenAI and every OpenAI-compatible server.

One class serves OpenAI, NVIDIA NIM, Groq, Ollama, DeepSeek, vLLM, llama.cpp, Mistral,
OpenRouter, Together, Fireworks, Cerebras, xAI, Gemini's OpenAI endpoint and any base URL a user
gives; what differs between them is registry data (see ``_quirks.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

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

from ._capabilities import check_capabilities
from ._dialect import Dialect, Embeddings
from ._encode import dumps, finish_reason, tool_call_part
from ._exceptions import (
    CapabilityError,
    InvalidResponseError,
    UnsupportedRequestError,
    error_from_stream_error,
)
from ._openai_request import build_body
from ._openai_stream import (
    OpenAIStreamDecoder,
    content_pieces,
    normalise_usage,
    reasoning_texts,
    synthetic_call_id,
)
from ._openai_wire import Chunk, Delta, chunk_decoder, embeddings_decoder
from ._quirks import Quirks, quirks_for
from ._think_tags import split_think_tags

if TYPE_CHECKING:
    from atoll_registry import ModelSpec, ProviderSpec


def _join(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _headers(provider: ProviderSpec, api_key: str | None, *, stream: bool) -> dict[str, str]:
    headers = provider.auth_headers(api_key)
    headers["Content-Type"] = "application/json"
    headers["Accept"] = "text/event-stream" if stream else "application/json"
    return headers


def _schema_as_tool(request: ChatRequest, quirks: Quirks) -> bool:
    """Structured output through a forced tool when the model lacks JSON-schema output."""
    if request.output_schema is None or quirks.json_schema is not False:
        return False
    if quirks.tools is False:
        raise CapabilityError(
            "json_schema",
            "the model supports neither JSON-schema output nor tools",
            provider=quirks.provider,
            model=quirks.model or request.model,
        )
    return True


def _output_tool(request: ChatRequest | None, quirks: Quirks) -> str | None:
    if request is None or request.output_schema is None:
        return None
    return request.output_schema.name if _schema_as_tool(request, quirks) else None


def message_parts(message: Delta, quirks: Quirks, output_tool: str | None = None) -> list[Part]:
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
    if quirks.think_tag and text:
        inline, text = split_think_tags(text, quirks.think_tag)
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

    def build(
        self,
        request: ChatRequest,
        provider: ProviderSpec,
        model: ModelSpec | None,
        api_key: str | None,
        base_url: str,
    ) -> HttpRequest:
        """Build ``POST {base_url}/chat/completions``; see ``Dialect.build``."""
        quirks = quirks_for(provider, model)
        check_capabilities(request, quirks)
        body = build_body(request, quirks, schema_as_tool=_schema_as_tool(request, quirks))
        return HttpRequest(
            method="POST",
            url=_join(base_url, "/chat/completions"),
            headers=_headers(provider, api_key, stream=request.stream),
            body=dumps(body),
        )

    def parse(
        self,
        body: bytes,
        provider: ProviderSpec | None = None,
        model: ModelSpec | None = None,
        *,
        request: ChatRequest | None = None,
    ) -> ChatResponse:
        """Parse a chat-completions JSON body; see ``Dialect.parse``.

        Raises:
            APIError: The body is an error object sent with a success status.
            InvalidResponseError: The body is not a chat completion at all.
        """
        quirks = quirks_for(provider, model)
        try:
            chunk: Chunk = chunk_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise InvalidResponseError(
                f"the response is not a chat completion: {exc}",
                status=200,
                provider=quirks.provider,
                model=quirks.model,
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
                provider=quirks.provider,
                model=quirks.model,
            )
        choice = next((c for c in chunk.choices or () if c.index == 0), None)
        message = choice.message if choice is not None else None
        raw_finish = choice.finish_reason if choice is not None else None
        return ChatResponse(
            id=chunk.id or None,
            model=chunk.model or None,
            message=Message(
                role="assistant",
                parts=message_parts(message, quirks, _output_tool(request, quirks))
                if message
                else [],
            ),
            finish_reason=finish_reason(raw_finish),
            raw_finish_reason=raw_finish,
            usage=normalise_usage(chunk.usage, quirks) if chunk.usage else Usage(),
            provider=quirks.provider,
        )

    def stream_decoder(
        self,
        provider: ProviderSpec | None = None,
        model: ModelSpec | None = None,
        *,
        request: ChatRequest | None = None,
    ) -> OpenAIStreamDecoder:
        """A decoder for one chat-completions stream; see ``Dialect.stream_decoder``."""
        quirks = quirks_for(provider, model)
        return OpenAIStreamDecoder(quirks, output_tool=_output_tool(request, quirks))

    def build_embeddings(
        self,
        inputs: list[str],
        model: str,
        provider: ProviderSpec,
        api_key: str | None,
        base_url: str,
        *,
        dimensions: int | None = None,
    ) -> HttpRequest:
        """Build ``POST {base_url}/embeddings``; see ``Dialect.build_embeddings``."""
        if not inputs:
            raise UnsupportedRequestError(
                "embeddings need at least one input text", provider=provider.name, model=model
            )
        body: dict[str, object] = {"model": model, "input": inputs, "encoding_format": "float"}
        if dimensions is not None:
            body["dimensions"] = dimensions
        return HttpRequest(
            method="POST",
            url=_join(base_url, "/embeddings"),
            headers=_headers(provider, api_key, stream=False),
            body=dumps(body),
        )

    def parse_embeddings(self, body: bytes) -> Embeddings:
        """Parse an embeddings response; vectors come back in input order."""
        try:
            response = embeddings_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise InvalidResponseError(
                f"the response is not an embeddings list: {exc}",
                status=200,
                body=body.decode("utf-8", "replace"),
            ) from exc
        items = sorted(response.data, key=lambda item: item.index)
        usage = response.usage
        return Embeddings(
            vectors=[item.embedding for item in items],
            model=response.model,
            usage=Usage(input_tokens=usage.prompt_tokens) if usage else None,
        )
