"""OpenTelemetry spans of a run, after the GenAI semantic conventions.

``invoke_agent {name}`` wraps a run (the Client's ``chat {model}`` spans nest under it, as they
start in its context); ``execute_tool {tool}`` wraps each tool call. Message content, tool
arguments and results go on spans only with ``capture_content=True``. Only opentelemetry-api
is used: spans cost next to nothing until an application configures an SDK.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from ._result import ToolCallRecord

_SCOPE = "atoll_agents"


def get_tracer(provider: trace.TracerProvider | None) -> Tracer:
    """The tracer for agent spans (the global provider's unless one is given)."""
    if provider is not None:
        return provider.get_tracer(_SCOPE)
    return trace.get_tracer(_SCOPE)


def start_agent_span(tracer: Tracer, name: str, run_id: str) -> Span:
    """Start the ``invoke_agent`` span of a run (the caller makes it current)."""
    return tracer.start_span(
        f"invoke_agent {name}",
        kind=SpanKind.INTERNAL,
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": name,
            "atoll.agent.run_id": run_id,
        },
    )


def end_agent_span(span: Span, summary: dict[str, Any], error: BaseException | None) -> None:
    """Record the run's outcome and end its span."""
    if span.is_recording():
        for key, value in summary.items():
            if value is not None:
                span.set_attribute(key, value)
        if error is not None:
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR, str(error)[:200]))
    span.end()


def start_tool_span(tracer: Tracer, name: str, call_id: str, arguments: str | None) -> Span:
    """Start the ``execute_tool`` span of one call (child of the current span)."""
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.type": "function",
    }
    if arguments is not None:
        attributes["gen_ai.tool.call.arguments"] = arguments
    return tracer.start_span(f"execute_tool {name}", kind=SpanKind.INTERNAL, attributes=attributes)


def end_tool_span(span: Span, record: ToolCallRecord, *, capture_content: bool) -> None:
    """Record a call's outcome and end its span."""
    if span.is_recording():
        if record.error is not None:
            span.set_attribute("error.type", record.error)
            span.set_status(Status(StatusCode.ERROR))
        if capture_content and record.result is not None:
            texts = [getattr(p, "text", "") for p in record.result.content]
            span.set_attribute("gen_ai.tool.call.result", "".join(texts))
    span.end()


def content_json(value: Any) -> str:
    """Content as JSON text for a span attribute."""
    return json.dumps(value, ensure_ascii=False, default=str)
