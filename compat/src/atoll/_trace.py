"""``atoll trace FILE``: a JSONL event log (``atoll_dialects.JsonlSink``) as a terminal timeline.

Each agent run (events sharing a ``run_id``; calls made outside a run form one group) becomes a
block: a header, then one row per step in the order it started (model calls and tool calls, each
with a bar on a shared time axis), retries and fallbacks under the call they belong to, and a
total line (calls, tool calls, tokens, cost, wall time). The slowest step is marked. Colours go
to terminals only (``--color always`` forces them; ``NO_COLOR`` turns them off).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TextIO

from atoll_dialects import (
    AnyEvent,
    FallbackUsed,
    FirstToken,
    JsonlSink,
    RequestFailed,
    RequestFinished,
    RequestStarted,
    RetryScheduled,
    ToolCalled,
    ToolFinished,
)

__all__ = ["render_trace", "run_trace"]

_FIXED = 8 + 1 + 6 + 1 + 28 + 1 + 2 + 7 + 2 + 24  # every column but the bar
_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class _Paint:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        codes = ";".join(_CODES[s] for s in styles if s)
        if not self.color or not codes or not text:
            return text
        return f"\x1b[{codes}m{text}\x1b[0m"


@dataclass
class _Step:
    """One row: a model call or a tool call."""

    kind: str  # "call" or "tool"
    key: str
    label: str
    start: float
    end: float | None = None
    ok: bool = True
    status: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: Decimal | None = None
    priced: bool = True
    first_token: float | None = None
    notes: list[tuple[float, str, str]] = field(default_factory=list[tuple[float, str, str]])

    @property
    def duration(self) -> float:
        return 0.0 if self.end is None else max(self.end - self.start, 0.0)


@dataclass
class _Run:
    run_id: str | None
    steps: list[_Step] = field(default_factory=list[_Step])
    calls: dict[str, _Step] = field(default_factory=dict[str, _Step])
    tools: dict[str, _Step] = field(default_factory=dict[str, _Step])
    start: float = float("inf")
    end: float = 0.0
    messages: int = 0
    retries: int = 0
    fallbacks: int = 0


def _call(run: _Run, event: AnyEvent) -> _Step:
    step = run.calls.get(event.call_id)
    if step is None:  # a log that starts mid-call: the step starts at its first event
        step = _Step("call", event.call_id, f"{event.provider}/{event.model}", event.time)
        run.calls[event.call_id] = step
        run.steps.append(step)
    return step


def _apply(run: _Run, event: AnyEvent) -> None:
    run.start = min(run.start, event.time)
    run.end = max(run.end, event.time)
    if isinstance(event, RequestStarted):
        _call(run, event).label = event.models[0] if event.models else event.model
    elif isinstance(event, FirstToken):
        _call(run, event).first_token = event.elapsed
    elif isinstance(event, RetryScheduled):
        run.retries += 1
        status = f" {event.status}" if event.status is not None else ""
        text = f"↻ retry {event.attempt}: {event.error}{status}, waited {event.wait:.2f}s"
        _call(run, event).notes.append((event.time, text, "yellow"))
    elif isinstance(event, FallbackUsed):
        run.fallbacks += 1
        text = f"⇢ fallback {event.from_model} → {event.to_model} ({event.reason})"
        step = run.calls.get(event.call_id)
        if step is not None:
            step.notes.append((event.time, text, "yellow"))
    elif isinstance(event, RequestFinished):
        step = _call(run, event)
        step.end, step.label = event.time, event.served_by or step.label
        step.input_tokens = event.usage.input_tokens
        step.output_tokens = event.usage.output_tokens
        step.cost, step.priced = event.cost, event.cost is not None
        if event.incomplete:
            step.status = "incomplete"
    elif isinstance(event, RequestFailed):
        step = _call(run, event)
        step.end, step.ok = event.time, False
        status = f" {event.status}" if event.status is not None else ""
        step.status = "cancelled" if event.cancelled else f"{event.error}{status}"
    elif isinstance(event, ToolCalled):
        step = _Step("tool", event.tool_call_id, event.tool, event.time)
        run.tools[event.tool_call_id] = step
        run.steps.append(step)
    elif isinstance(event, ToolFinished):
        step = run.tools.get(event.tool_call_id)
        if step is None:
            step = _Step("tool", event.tool_call_id, event.tool, event.time - event.duration)
            run.tools[event.tool_call_id] = step
            run.steps.append(step)
        step.end, step.ok = step.start + event.duration, not event.is_error
        if event.is_error:
            step.status = event.error or "error result"
    else:  # MessageAdded
        run.messages += 1


def group_runs(events: Iterable[AnyEvent]) -> list[_Run]:
    """The events' runs, in the order they started (calls outside a run form one group)."""
    runs: dict[str | None, _Run] = {}
    for event in sorted(events, key=lambda e: e.time):
        run = runs.get(event.run_id)
        if run is None:
            run = runs[event.run_id] = _Run(event.run_id)
        _apply(run, event)
    for run in runs.values():
        for step in run.steps:
            if step.end is None:  # no end in the log (still running, or the process died)
                step.status = step.status or "no end in the log"
        run.steps.sort(key=lambda s: s.start)
    return sorted(runs.values(), key=lambda r: r.start)


# ---------------------------------------------------------------------- formatting


def _money(value: Decimal) -> str:
    if value == 0:
        return "$0"
    text = f"{value:.6f}" if value < Decimal("0.01") else f"{value:.4f}"
    return "$" + text.rstrip("0").rstrip(".")


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f}ms" if value < 1 else f"{value:.2f}s"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _tokens(step: _Step) -> str:
    if step.input_tokens is None and step.output_tokens is None:
        return ""
    into = "?" if step.input_tokens is None else f"{step.input_tokens:,}"
    out = "?" if step.output_tokens is None else f"{step.output_tokens:,}"
    return f"{into}→{out} tok"


def _bar(step: _Step, run: _Run, width: int, paint: _Paint) -> str:
    span = max(run.end - run.start, 1e-9)

    def column(moment: float) -> int:
        return min(int((moment - run.start) / span * width), width - 1)

    begin = column(step.start)
    length = min(max(1, round(step.duration / span * width)), width - begin)
    cells = ["█" if step.kind == "call" else "▓"] * length
    for moment, text, _ in step.notes:  # where each retry or fallback happened
        at = column(moment) - begin
        if 0 <= at < length:
            cells[at] = text[0]
    style = ("green" if step.kind == "call" else "cyan") if step.ok else "red"
    return (
        paint("·" * begin, "dim")
        + paint("".join(cells), style)
        + paint("·" * (width - begin - length), "dim")
    )


def _detail(step: _Step, paint: _Paint) -> str:
    if not step.ok or step.status:
        return paint(f"✗ {step.status}" if not step.ok else step.status, "red")
    if step.kind == "tool":
        return ""
    parts = [_tokens(step)]
    if step.first_token is not None:
        parts.insert(0, f"ttft {_seconds(step.first_token)}")
    if step.cost is not None:
        parts.append(_money(step.cost))
    elif not step.priced:
        parts.append("cost ?")
    return "  ".join(p for p in parts if p)


def _header(run: _Run, paint: _Paint) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.start))
    title = f"run {run.run_id}" if run.run_id else "calls outside a run"
    return paint(f"▸ {title}", "bold") + paint(f"  ·  started {when}", "dim")


def _total(run: _Run, paint: _Paint) -> str:
    calls = [s for s in run.steps if s.kind == "call"]
    tools = [s for s in run.steps if s.kind == "tool"]
    failed = sum(1 for s in calls if not s.ok)
    into = sum(s.input_tokens or 0 for s in calls)
    out = sum(s.output_tokens or 0 for s in calls)
    known = [s.cost for s in calls if s.cost is not None]
    unpriced = sum(1 for s in calls if s.cost is None and s.ok)
    cost = _money(sum(known, Decimal(0))) if known else "cost unknown"
    if known and unpriced:
        cost = f"≥ {cost} ({unpriced} unpriced)"
    extra = [_count(run.retries, "retry", "retries")] if run.retries else []
    extra += [_count(run.fallbacks, "fallback", "fallbacks")] if run.fallbacks else []
    extra += [f"{failed} failed"] if failed else []
    call_text = _count(len(calls), "call", "calls") + (f" ({', '.join(extra)})" if extra else "")
    parts = [
        call_text,
        _count(len(tools), "tool call", "tool calls"),
        f"{into + out:,} tokens ({into:,} in, {out:,} out)",
        cost,
        _seconds(run.end - run.start),
    ]
    if run.messages:
        parts.insert(2, _count(run.messages, "message", "messages"))
    return paint("  total  ", "bold") + " · ".join(parts)


def render_run(run: _Run, *, width: int, paint: _Paint) -> list[str]:
    """One run as lines of text."""
    bar_width = max(10, width - _FIXED)
    slowest = max(run.steps, key=lambda s: s.duration) if len(run.steps) > 1 else None
    lines = [_header(run, paint)]
    head = f"{'start':>8} {'step':<6} {'model / tool':<28} {'timeline':<{bar_width}}  {'took':>7}"
    lines.append(paint(head, "dim"))
    for step in run.steps:
        kind = "● call" if step.kind == "call" else "⚙ tool"
        took = _seconds(step.duration) if step.end is not None else "…"
        mark = paint("  ◀ slowest", "bold", "yellow") if step is slowest else ""
        label = paint(f"{_cut(step.label, 28):<28}", "bold" if step is slowest else "")
        line = (
            f"{'+' + _seconds(step.start - run.start):>8} {kind:<6} {label} "
            f"{_bar(step, run, bar_width, paint)}  {took:>7}  {_detail(step, paint)}{mark}"
        )
        lines.append(line.rstrip())
        for moment, text, style in sorted(step.notes):
            offset = "+" + _seconds(moment - run.start)
            lines.append(paint(f"{offset:>8}        {_cut(text, width - 16)}", style))
    lines.append(_total(run, paint))
    return lines


def render_trace(
    events: Iterable[AnyEvent], *, width: int = 100, color: bool = False, run: str | None = None
) -> str:
    """The timeline of ``events`` as text (what ``atoll trace`` prints).

    Args:
        events: Events as ``JsonlSink.read`` gives them.
        width: Columns available.
        color: Add ANSI colours.
        run: Show only the run whose id starts with this.
    """
    paint = _Paint(color)
    runs = group_runs(events)
    if run is not None:
        runs = [r for r in runs if r.run_id is not None and r.run_id.startswith(run)]
    blocks = ["\n".join(render_run(r, width=width, paint=paint)) for r in runs if r.steps]
    return "\n\n".join(blocks) + ("\n" if blocks else "")


# ---------------------------------------------------------------------- the command


def run_trace(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``atoll trace`` with parsed ``args``; returns the exit code."""
    stream: TextIO = out if out is not None else sys.stdout
    try:
        events: Sequence[AnyEvent] = list(JsonlSink.read(args.path))
    except OSError as error:
        print(f"atoll trace: cannot read {args.path}: {error.strerror or error}", file=sys.stderr)
        return 2
    if not events:
        print(f"atoll trace: no Atoll events in {args.path}", file=sys.stderr)
        return 1
    if args.color == "auto":
        color = stream.isatty() and "NO_COLOR" not in os.environ
    else:
        color = args.color == "always"
    width = args.width or shutil.get_terminal_size((110, 24)).columns
    text = render_trace(events, width=max(width, 60), color=color, run=args.run)
    if not text:
        print(f"atoll trace: no run starts with {args.run!r} in {args.path}", file=sys.stderr)
        return 1
    stream.write(text)
    return 0
