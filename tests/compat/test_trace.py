"""``atoll trace``: a JSONL event log as a timeline (calls, retries, fallbacks, tools, totals)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from atoll._cli import main
from atoll._trace import render_trace
from atoll_agents import Agent
from atoll_dialects import (
    Client,
    FallbackUsed,
    FirstToken,
    JsonlSink,
    MessageAdded,
    RequestFailed,
    RequestFinished,
    RequestStarted,
    RetryPolicy,
    RetryScheduled,
    ToolCalled,
    ToolFinished,
)
from atoll_testing import FakeLLMServer, Script, ToolCall, Turn
from atoll_wire import Usage

T0 = 1_800_000_000.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _common(call: str, at: float, run: str | None = "run-abc123", model: str = "gpt-4o-mini"):
    return {"call_id": call, "model": model, "provider": "openai", "time": T0 + at, "run_id": run}


def synthetic() -> list[Any]:
    """A run: a call retried then moved to a fallback model, two tools, a call that failed."""
    return [
        MessageAdded(**_common("", 0.0), index=0, role="user"),
        RequestStarted(
            **_common("c1", 0.0),
            operation="chat",
            stream=True,
            models=("openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"),
        ),
        RetryScheduled(
            **_common("c1", 0.2), attempt=1, error="RateLimitError", status=429, wait=0.5
        ),
        FallbackUsed(
            **_common("c1", 0.8, model="claude-3-5-haiku"),
            from_model="openai/gpt-4o-mini",
            to_model="anthropic/claude-3-5-haiku",
            reason="ServerError 503",
        ),
        FirstToken(**_common("c1", 1.0), elapsed=1.0),
        RequestFinished(
            **_common("c1", 1.5, model="claude-3-5-haiku"),
            operation="chat",
            stream=True,
            duration=1.5,
            served_by="anthropic/claude-3-5-haiku",
            attempts=3,
            usage=Usage(input_tokens=1200, output_tokens=80),
            cost=Decimal("0.00112"),
        ),
        ToolCalled(**_common("c1", 1.5), tool="get_weather", tool_call_id="t1", turn=1),
        ToolCalled(**_common("c1", 1.5), tool="get_tide", tool_call_id="t2", turn=1),
        ToolFinished(
            **_common("c1", 1.6), tool="get_tide", tool_call_id="t2", turn=1, duration=0.1
        ),
        ToolFinished(
            **_common("c1", 4.5),
            tool="get_weather",
            tool_call_id="t1",
            turn=1,
            duration=3.0,
            is_error=True,
            error="ToolTimeoutError",
        ),
        RequestStarted(**_common("c2", 4.6), operation="chat", models=("openai/gpt-4o-mini",)),
        RequestFailed(
            **_common("c2", 5.0),
            operation="chat",
            duration=0.4,
            attempts=1,
            error="BadRequestError",
            status=400,
        ),
        # A call outside any run, and one whose end never reached the log.
        RequestStarted(**_common("c3", 6.0, run=None), operation="chat"),
        RequestFinished(
            **_common("c3", 6.2, run=None),
            operation="chat",
            duration=0.2,
            served_by="openai/gpt-4o-mini",
            usage=Usage(input_tokens=10, output_tokens=5),
        ),
        RequestStarted(**_common("c4", 6.3, run=None), operation="chat"),
    ]


def test_a_run_reads_as_a_timeline() -> None:
    text = render_trace(synthetic(), width=110)
    lines = text.splitlines()
    assert lines[0].startswith("▸ run run-abc123")
    rows = [line for line in lines if "● call" in line or "⚙ tool" in line]
    assert len(rows) == 6
    first = rows[0]
    assert "anthropic/claude-3-5-haiku" in first and "1.50s" in first
    assert "ttft 1.00s" in first and "1,200→80 tok" in first and "$0.00112" in first
    assert "↻ retry 1: RateLimitError 429, waited 0.50s" in text
    assert "⇢ fallback openai/gpt-4o-mini → anthropic/claude-3-5-haiku (ServerError 503)" in text
    weather = next(r for r in rows if "get_weather" in r)
    assert "3.00s" in weather and "✗ ToolTimeoutError" in weather
    assert weather.endswith("◀ slowest"), "the slowest step is marked"
    assert sum("◀ slowest" in line for line in lines) == 2, "one per block"
    failed = next(r for r in rows if "+4.60s" in r)
    assert "✗ BadRequestError 400" in failed
    total = next(line for line in lines if line.startswith("  total") and "tool calls" in line)
    assert "2 calls (1 retry, 1 fallback, 1 failed)" in total
    assert "2 tool calls" in total and "1 message" in total
    assert "1,280 tokens (1,200 in, 80 out)" in total and "$0.00112" in total
    assert total.endswith("5.00s")
    assert "▸ calls outside a run" in text
    outside = text.split("▸ calls outside a run")[1]
    assert "no end in the log" in outside and "cost unknown" in outside
    # Bars share one time axis: the tide call (0.1 s) is one cell, starting where weather does.
    tide = next(r for r in rows if "get_tide" in r)
    assert tide.index("▓") == weather.index("▓")
    assert ANSI.search(text) is None


def test_colours_only_when_asked() -> None:
    coloured = render_trace(synthetic(), width=110, color=True)
    assert ANSI.search(coloured) is not None
    assert ANSI.sub("", coloured) == render_trace(synthetic(), width=110)


def test_one_run_by_its_id_prefix() -> None:
    text = render_trace(synthetic(), width=100, run="run-a")
    assert "run-abc123" in text and "outside a run" not in text
    assert render_trace(synthetic(), width=100, run="nope") == ""


def _write(path: Path, events: list[Any]) -> None:
    with JsonlSink(path) as sink:
        for event in events:
            sink(event)


def test_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.jsonl"
    _write(path, synthetic())
    assert main(["trace", str(path), "--color", "never", "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert out == render_trace(synthetic(), width=100)
    assert main(["trace", str(path), "--color", "always", "--run", "run-"]) == 0
    assert ANSI.search(capsys.readouterr().out) is not None
    assert main(["trace", str(path), "--run", "zzz"]) == 1
    assert "no run starts with 'zzz'" in capsys.readouterr().err
    assert main(["trace", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"not": "an event"}\n')
    assert main(["trace", str(empty)]) == 1
    assert "no Atoll events" in capsys.readouterr().err


def get_tide(atoll: str) -> str:
    """When the tide is high.

    Args:
        atoll: Where.
    """
    return f"high tide at {atoll} in 6 h"


async def _record_a_run(path: Path) -> str:
    script = Script(
        [
            Turn(
                tool_calls=[ToolCall(name="get_tide", arguments={"atoll": "Tarawa"})],
                input_tokens=400,
                output_tokens=30,
            ),
            Turn(text="High tide in 6 h.", input_tokens=450, output_tokens=12),
        ]
    )
    async with FakeLLMServer(models={"gpt-4o-mini": script}) as server:
        with JsonlSink(path) as sink:
            client = Client(
                "openai/gpt-4o-mini",
                base_url=server.base_url,
                api_key="sk-test-key-000000",
                retry=RetryPolicy(attempts=2, initial_backoff=0.0),
            )
            async with client, Agent(client, tools=[get_tide], callbacks=[sink]) as agent:
                server.inject("status=429; retry-after-ms=20")
                result = await agent.run("When is high tide at Tarawa?")
    return result.run_id


def test_a_recorded_run_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.jsonl"
    run_id = anyio.run(_record_a_run, path)
    assert main(["trace", str(path), "--color", "never", "--width", "100"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"▸ run {run_id}")
    assert text.count("● call openai/gpt-4o-mini") == 2 and text.count("⚙ tool get_tide") == 1
    assert "↻ retry 1: RateLimitError 429, waited 0.02s" in text
    assert "2 calls (1 retry) · 1 tool call · 4 messages · 892 tokens (850 in, 42 out)" in text
    assert text.count("◀ slowest") == 1
