"""Spans: invoke_agent around a run, the Client's chat spans and execute_tool spans under it."""

from __future__ import annotations

import pytest
from atoll_agents import Agent
from atoll_dialects import BadRequestError
from atoll_testing import FakeLLMServer, Script, ToolCall, Turn
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .conftest import MakeClient
from .test_loop import add

pytestmark = pytest.mark.anyio


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def script() -> Script:
    return Script(
        [
            Turn(
                tool_calls=[
                    ToolCall(name="add", arguments={"a": 20, "b": 22}, id="c1"),
                    ToolCall(name="missing", id="c2"),
                ]
            ),
            "42, secret answer",
        ]
    )


@pytest.mark.parametrize("streamed", [False, True])
async def test_spans_nest_and_follow_the_genai_conventions(
    make_client: MakeClient,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    streamed: bool,
) -> None:
    client = make_client(script(), tracer_provider=provider)
    agent = Agent(client, tools=[add], name="calc", tracer_provider=provider)
    if streamed:
        async with agent.run_stream("20+22") as run:
            async for _ in run:
                pass
        result = run.result
    else:
        result = await agent.run("20+22")
    spans = {s.name: s for s in exporter.get_finished_spans()}
    root = spans["invoke_agent calc"]
    assert root.attributes is not None
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.agent.name"] == "calc"
    assert root.attributes["atoll.agent.run_id"] == result.run_id
    assert root.attributes["atoll.agent.stop_reason"] == "completed"
    chats = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]
    assert len(chats) == 2 and all(_parent(s) == root.context.span_id for s in chats)  # type: ignore[union-attr]
    tool = spans["execute_tool add"]
    assert _parent(tool) == root.context.span_id  # type: ignore[union-attr]
    assert tool.attributes is not None
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "add"
    assert tool.attributes["gen_ai.tool.call.id"] == "c1"
    assert "gen_ai.tool.call.arguments" not in tool.attributes
    assert "gen_ai.tool.call.result" not in tool.attributes
    failed = spans["execute_tool missing"]
    assert failed.attributes is not None and failed.attributes["error.type"] == "UnknownToolError"


async def test_content_only_when_asked(
    make_client: MakeClient, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    agent = Agent(
        make_client(script()), tools=[add], tracer_provider=provider, capture_content=True
    )
    await agent.run("20+22")
    tool = next(s for s in exporter.get_finished_spans() if s.name == "execute_tool add")
    assert tool.attributes is not None
    assert tool.attributes["gen_ai.tool.call.arguments"] == '{"a":20,"b":22}'
    assert tool.attributes["gen_ai.tool.call.result"] == "42"


async def test_a_failed_run_marks_its_span(
    make_client: MakeClient,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    llm: FakeLLMServer,
) -> None:
    agent = Agent(make_client(Script([Turn(fault="status=400")])), tracer_provider=provider)
    with pytest.raises(BadRequestError):
        await agent.run("hi")
    root = next(s for s in exporter.get_finished_spans() if s.name == "invoke_agent agent")
    assert root.attributes is not None and root.attributes["error.type"] == "BadRequestError"


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None
