"""OpenTelemetry spans for calls, after the GenAI semantic conventions.

Only ``opentelemetry-api`` is used: without an SDK configured by the application every span is
a no-op, and we skip building attributes when the span is not recording. Message content is
recorded only when the caller opts in (``capture_content=True``), masked by the call's
``Redactor``; keys never reach a span because requests carry them only in headers, which are
not recorded.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import msgspec
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from atoll_wire import ChatRequest, ChatResponse

    from ._redactor import Redactor
    from ._target import Target

_ENCODER = msgspec.json.Encoder()
_INSTRUMENTATION = "atoll_dialects"


def get_tracer(provider: trace.TracerProvider | None = None) -> trace.Tracer:
    """The tracer for Atoll spans, from ``provider`` or the global one."""
    return trace.get_tracer(_INSTRUMENTATION, "0.1.0", tracer_provider=provider)


class CallSpan:
    """One CLIENT span for one call to one model, named ``{operation} {model}``."""

    __slots__ = ("_content", "_first_chunk_seen", "_span", "_started")

    def __init__(
        self,
        tracer: trace.Tracer,
        operation: str,
        target: Target,
        request: ChatRequest | None,
        *,
        content: Redactor | None = None,
    ) -> None:
        self._span: Span = tracer.start_span(
            f"{operation} {target.request_model}", kind=SpanKind.CLIENT
        )
        # The policy that masks captured content; None when content is not captured.
        self._content = content
        self._started = time.perf_counter()
        self._first_chunk_seen = False
        if self._span.is_recording():
            self._span.set_attributes(_request_attributes(operation, target, request))
            if content is not None and request is not None:
                self._span.set_attribute(
                    "gen_ai.input.messages",
                    content.text(_ENCODER.encode(request.messages).decode()),
                )

    @property
    def span(self) -> Span:
        """The underlying span (for tests and advanced callers)."""
        return self._span

    def first_chunk(self) -> None:
        """Record the time to the first streamed chunk, once."""
        if self._first_chunk_seen:
            return
        self._first_chunk_seen = True
        if self._span.is_recording():
            elapsed = time.perf_counter() - self._started
            self._span.set_attribute("gen_ai.response.time_to_first_chunk", elapsed)
            self._span.add_event("gen_ai.first_chunk", {"elapsed_s": elapsed})

    def attempt_failed(self, number: int, error: BaseException, waited: float) -> None:
        """Note a failed attempt that will be retried."""
        if self._span.is_recording():
            self._span.add_event(
                "atoll.retry",
                {"attempt": number, "error.type": type(error).__name__, "wait_s": waited},
            )

    def succeed(self, response: ChatResponse) -> None:
        """Record the response and end the span."""
        span = self._span
        if span.is_recording():
            attributes: dict[str, str | int | list[str]] = {}
            if response.model:
                attributes["gen_ai.response.model"] = response.model
            if response.id:
                attributes["gen_ai.response.id"] = response.id
            if response.raw_finish_reason or response.finish_reason:
                reason = response.finish_reason or response.raw_finish_reason or ""
                attributes["gen_ai.response.finish_reasons"] = [reason]
            usage = response.usage
            if usage.input_tokens is not None:
                attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
            if usage.output_tokens is not None:
                attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
            if response.incomplete:
                attributes["atoll.response.incomplete"] = "true"
            span.set_attributes(attributes)
            content = self._content
            if content is not None:
                text = _ENCODER.encode([response.message]).decode()
                span.set_attribute("gen_ai.output.messages", content.text(text))
        span.end()

    def end(self) -> None:
        """End the span with no response attributes (embeddings calls)."""
        self._span.end()

    def fail(self, error: BaseException) -> None:
        """Record the error type and end the span."""
        span = self._span
        if span.is_recording():
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


def _request_attributes(
    operation: str, target: Target, request: ChatRequest | None
) -> dict[str, str | int | float | list[str]]:
    attributes: dict[str, str | int | float | list[str]] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": target.provider.name,
        "gen_ai.request.model": target.request_model,
    }
    host, _, port = target.base_url.split("://", 1)[-1].split("/", 1)[0].partition(":")
    attributes["server.address"] = host
    if port.isdigit():
        attributes["server.port"] = int(port)
    if request is None:
        return attributes
    for key, value in (
        ("gen_ai.request.temperature", request.temperature),
        ("gen_ai.request.top_p", request.top_p),
        ("gen_ai.request.max_tokens", request.max_tokens),
        ("gen_ai.request.seed", request.seed),
    ):
        if value is not None:
            attributes[key] = value
    if request.stop:
        attributes["gen_ai.request.stop_sequences"] = list(request.stop)
    return attributes
