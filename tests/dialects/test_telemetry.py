"""OpenTelemetry spans follow the GenAI conventions and never carry secrets or unasked content."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from atoll_dialects import Client, RetryPolicy, ServerError
from atoll_testing import FakeLLMServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

pytestmark = pytest.mark.anyio


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer() as srv:
        yield srv


async def test_chat_span_attributes(
    server: FakeLLMServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    secret = "sk-span-secret-42"
    client = Client("echo", base_url=server.base_url, api_key=secret, tracer_provider=provider)
    await client.chat("trace me", temperature=0.3, max_tokens=9)
    await client.aclose()
    (span,) = exporter.get_finished_spans()
    assert span.name == "chat echo"
    assert span.kind is SpanKind.CLIENT
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "custom"
    assert attrs["gen_ai.request.model"] == "echo"
    assert attrs["gen_ai.request.temperature"] == 0.3
    assert attrs["gen_ai.request.max_tokens"] == 9
    assert attrs["gen_ai.response.model"] == "echo"
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.usage.output_tokens"] == 2
    assert "gen_ai.input.messages" not in attrs, "content only when the caller opts in"
    assert secret not in repr(attrs)


async def test_stream_span_records_time_to_first_chunk_and_content_on_opt_in(
    server: FakeLLMServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    client = Client(
        "echo", base_url=server.base_url, tracer_provider=provider, capture_content=True
    )
    async with client.stream("stream me") as stream:
        async for _ in stream:
            pass
    await client.aclose()
    (span,) = exporter.get_finished_spans()
    attrs = dict(span.attributes or {})
    assert float(attrs["gen_ai.response.time_to_first_chunk"]) > 0  # type: ignore[arg-type]
    assert "stream me" in str(attrs["gen_ai.input.messages"])
    assert "stream me" in str(attrs["gen_ai.output.messages"])


async def test_failed_call_records_error_type_and_retries(
    server: FakeLLMServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    server.inject("status=503", times=2)
    client = Client(
        "echo",
        base_url=server.base_url,
        tracer_provider=provider,
        retry=RetryPolicy(attempts=2, initial_backoff=0.0),
    )
    with pytest.raises(ServerError):
        await client.chat("fail")
    await client.aclose()
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "ServerError"
    assert [e.name for e in span.events] == ["atoll.retry"]
