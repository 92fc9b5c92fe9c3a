"""The Gemini dialect: Google's Gemini API and Vertex AI (``models/{model}:generateContent``).

Gemini API: ``POST {base_url}/models/{model}:generateContent`` and
``:streamGenerateContent?alt=sse`` with the key in ``x-goog-api-key`` (never in the URL);
``:embedContent`` / ``:batchEmbedContents`` for embeddings; ``:countTokens``. Vertex AI (the
``vertex`` quirk): the same methods under
``{root}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}``, OAuth
tokens, and embeddings through ``:predict``. See ``_gemini_request.py`` for the request,
``_gemini_response.py`` and ``_gemini_stream.py`` for what comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import msgspec
from atoll_wire import ChatRequest, ChatResponse, HttpRequest, Message, Usage
from atoll_wire import gemini as wire

from ._capabilities import check_capabilities
from ._dialect import Dialect, Embeddings
from ._dialects import register_builtin_dialect
from ._error_bodies import ErrorFields, error_for, error_from_stream_error
from ._exceptions import APIError, ContentFilterError, InvalidResponseError, UnsupportedRequestError
from ._gemini_quirks import GeminiQuirks
from ._gemini_request import build_body
from ._gemini_response import finish_reason, has_calls, normalise_usage, parts_of
from ._gemini_stream import GeminiStreamDecoder, blocked_message
from ._quirks import DialectQuirks
from ._vertex import expand_base_url, vertex_model_url

if TYPE_CHECKING:
    from ._target import Target

__all__ = ["GeminiDialect"]

_DEFAULT_QUIRKS = GeminiQuirks()
_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_SSE_HEADERS = {"content-type": "application/json", "accept": "text/event-stream"}


def quirks_of(target: Target) -> GeminiQuirks:
    """The target's quirk record (the dialect's defaults if another dialect made it)."""
    quirks = target.quirks
    return quirks if isinstance(quirks, GeminiQuirks) else _DEFAULT_QUIRKS


def model_url(target: Target, model: str) -> str:
    """The URL of a model of the target, without a method (``.../models/{model}``)."""
    if quirks_of(target).vertex:
        return vertex_model_url(target, "google", model)
    path = model if "/" in model else f"models/{model}"
    return f"{expand_base_url(target)}/{path}"


def _headers(target: Target, base: Mapping[str, str]) -> dict[str, str]:
    headers = dict(target.provider.headers)
    headers.update(base)
    return headers


def _invalid(what: str, exc: Exception, body: bytes, target: Target | None) -> InvalidResponseError:
    return InvalidResponseError(
        f"the response is not {what}: {exc}",
        status=200,
        provider=target.provider.name if target else None,
        model=target.request_model if target else None,
        body=body.decode("utf-8", "replace"),
    )


class GeminiDialect(Dialect):
    """Speaks Google's Gemini API (``generateContent``), natively or on Vertex AI.

    Example:
        >>> from atoll_dialects import GeminiDialect
        >>> GeminiDialect().name
        'gemini'
    """

    name: ClassVar[str] = "gemini"
    auth: ClassVar[str] = "x-goog-api-key"
    quirks_type: ClassVar[type[DialectQuirks]] = GeminiQuirks

    def build(self, request: ChatRequest, target: Target) -> HttpRequest:
        """Build ``:generateContent`` or ``:streamGenerateContent?alt=sse`` (see ``Dialect``)."""
        facts = target.facts
        check_capabilities(request, facts)
        body = build_body(request, quirks_of(target), facts)
        if request.stream:
            url = model_url(target, request.model) + ":streamGenerateContent?alt=sse"
            return HttpRequest("POST", url, headers=_headers(target, _SSE_HEADERS), body=body)
        url = model_url(target, request.model) + ":generateContent"
        return HttpRequest("POST", url, headers=_headers(target, _JSON_HEADERS), body=body)

    def parse(
        self, body: bytes, target: Target | None = None, request: ChatRequest | None = None
    ) -> ChatResponse:
        """Parse a ``generateContent`` body; see ``Dialect.parse``.

        Raises:
            ContentFilterError: The prompt was blocked (``promptFeedback.blockReason``).
            APIError: The body is an error sent with a success status.
            InvalidResponseError: The body is not a response at all.
        """
        target = target or self.default_target()
        facts = target.facts
        try:
            response = wire.decode_response(body)
        except msgspec.DecodeError as exc:
            raise _invalid("a GenerateContentResponse", exc, body, target) from exc
        if response.error is not None and not response.candidates:
            status = response.error
            raise error_from_stream_error(
                error_type=status.status or "",
                message=status.message or "",
                status=status.code,
                code=status.status,
                body=body.decode("utf-8", "replace"),
                provider=facts.provider,
                model=facts.model,
            )
        feedback = response.prompt_feedback
        if not response.candidates and feedback is not None and feedback.block_reason:
            raise ContentFilterError(
                blocked_message(feedback),
                provider=facts.provider,
                model=facts.model or target.request_model,
                error_type="content_filter",
                code=feedback.block_reason,
                body=body.decode("utf-8", "replace"),
            )
        candidate = response.candidates[0] if response.candidates else None
        parts = parts_of(candidate.content if candidate else None, response.response_id)
        raw = candidate.finish_reason if candidate else None
        usage = response.usage_metadata
        return ChatResponse(
            id=response.response_id,
            model=response.model_version,
            message=Message(role="assistant", parts=parts),
            finish_reason=finish_reason(raw, called=has_calls(parts)),
            raw_finish_reason=raw,
            usage=normalise_usage(usage) if usage is not None else Usage(),
            provider=facts.provider,
        )

    def stream_decoder(
        self, target: Target | None = None, request: ChatRequest | None = None
    ) -> GeminiStreamDecoder:
        """A decoder for one ``streamGenerateContent?alt=sse`` stream."""
        return GeminiStreamDecoder()

    def parse_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> APIError:
        """Gemini's ``{"error": {code, message, status, details}}`` (or Vertex's list of one).

        A ``google.rpc.RetryInfo`` delay becomes the error's ``retry_after`` and, when the
        response has no ``retry-after`` header, is presented as one so the retry policy waits
        as the server asked.
        """
        try:
            error = wire.decode_error(body).error
        except (msgspec.DecodeError, ValueError):
            error = wire.Status()
        delay = wire.retry_delay(error)
        if delay is not None and not any(k.lower() == "retry-after" for k in headers):
            headers = {**headers, "retry-after": f"{delay:g}"}
        fields = ErrorFields(error.message, error.status, error.code, None)
        return error_for(
            status,
            headers,
            body,
            fields,
            provider=target.provider.name,
            model=target.request_model,
            retry_after=delay,
        )

    # ------------------------------------------------------------------ embeddings

    def build_embeddings(
        self, inputs: list[str], target: Target, *, dimensions: int | None = None
    ) -> HttpRequest:
        """``:embedContent`` for one text, ``:batchEmbedContents`` for more (Vertex: predict)."""
        if not inputs:
            raise UnsupportedRequestError(
                "embeddings need at least one input text",
                provider=target.provider.name,
                model=target.request_model,
            )
        url = model_url(target, target.request_model)
        headers = _headers(target, _JSON_HEADERS)
        if quirks_of(target).vertex:
            predict = wire.PredictRequest(
                instances=[wire.PredictInstance(content=text) for text in inputs],
                parameters={"outputDimensionality": dimensions} if dimensions else None,
            )
            return HttpRequest("POST", url + ":predict", headers=headers, body=wire.encode(predict))
        name = target.request_model
        model = name if "/" in name else f"models/{name}"
        requests = [
            wire.EmbedContentRequest(
                content=wire.Content(parts=[wire.Part(text=text)]),
                model=model,
                output_dimensionality=dimensions,
            )
            for text in inputs
        ]
        if len(requests) == 1:
            single = msgspec.structs.replace(requests[0], model=None)
            return HttpRequest(
                "POST", url + ":embedContent", headers=headers, body=wire.encode(single)
            )
        batch = wire.BatchEmbedContentsRequest(requests=requests)
        return HttpRequest(
            "POST", url + ":batchEmbedContents", headers=headers, body=wire.encode(batch)
        )

    def parse_embeddings(self, body: bytes, target: Target | None = None) -> Embeddings:
        """Parse any of the three embeddings answers; vectors come back in input order."""
        try:
            data = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise _invalid("an embeddings answer", exc, body, target) from exc
        if isinstance(data, dict) and "predictions" in data:
            predicted = wire.decode_predict_response(body)
            counts = [
                p.embeddings.statistics.token_count
                for p in predicted.predictions
                if p.embeddings.statistics
            ]
            tokens = int(sum(c for c in counts if c is not None)) if counts else None
            return Embeddings(
                vectors=[p.embeddings.values for p in predicted.predictions],
                usage=Usage(input_tokens=tokens) if tokens is not None else None,
            )
        if isinstance(data, dict) and "embedding" in data:
            return Embeddings(vectors=[wire.decode_embed_response(body).embedding.values])
        batch = wire.decode_batch_embed_response(body)
        return Embeddings(vectors=[e.values for e in batch.embeddings])

    # ------------------------------------------------------------------ token counting

    def build_count_tokens(self, request: ChatRequest, target: Target) -> HttpRequest:
        """``:countTokens`` for the request as it would be sent (system prompt and tools too)."""
        facts = target.facts
        full = wire.decode_request(build_body(request, quirks_of(target), facts))
        if quirks_of(target).vertex:
            count = wire.CountTokensRequest(
                contents=full.contents,
                system_instruction=full.system_instruction,
                tools=full.tools,
                generation_config=full.generation_config,
            )
        else:
            name = request.model
            full.model = name if "/" in name else f"models/{name}"
            count = wire.CountTokensRequest(generate_content_request=full)
        url = model_url(target, request.model) + ":countTokens"
        return HttpRequest(
            "POST", url, headers=_headers(target, _JSON_HEADERS), body=wire.encode(count)
        )

    def parse_count_tokens(self, body: bytes, target: Target | None = None) -> int:
        """The ``totalTokens`` of a ``countTokens`` answer."""
        try:
            return wire.decode_count_tokens_response(body).total_tokens
        except msgspec.DecodeError as exc:
            raise _invalid("a countTokens answer", exc, body, target) from exc


register_builtin_dialect(GeminiDialect())
