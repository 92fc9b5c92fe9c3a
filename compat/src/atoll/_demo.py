"""``atoll demo``: the main job, end to end, against the built-in local server (or a provider).

It shows a chat with usage and cost, a stream printed as it arrives, a tool call round trip
with validated arguments (atoll_tools), and a batch of calls through the Executor with a live
progress bar and a summary. Locally, faults are injected into the batch so retries are visible.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from typing import TextIO

from atoll_dialects import CallEvent, Client, ClientResponse, RetryPolicy
from atoll_generic import EventStatus, Executor
from atoll_testing import FakeLLMServer
from atoll_tools import ToolSet, tool
from atoll_wire import Message, TextDelta, TextPart

from ._demo_model import DemoModel, faults_for
from ._progress import ProgressBar

LOCAL_MODEL = "openai/gpt-4o-mini"
_RETRY = RetryPolicy(attempts=4, initial_backoff=0.05, max_backoff=0.5)


@tool
def get_tide(atoll: str, hours: int) -> str:
    """Tide forecast for an atoll.

    Args:
        atoll: Name of the atoll.
        hours: How many hours ahead, 1 to 48.
    """
    return f"high tide at {atoll} in {hours} h: 1.4 m above chart datum"


async def run_demo(
    model: str | None = None, calls: int | None = None, out: TextIO = sys.stdout
) -> int:
    """Run the demo; returns a process exit code.

    Args:
        model: A registry name to run against a real provider (its key from the environment);
            None runs everything against the built-in local server.
        calls: Size of the batch (default 500 locally, 20 against a provider).
        out: Where to print.

    Raises:
        ValueError: ``calls`` is below 1.
    """
    if calls is not None and calls < 1:
        raise ValueError(f"the batch needs at least 1 call, got {calls}")
    if model is not None:
        async with Client(model, retry=_RETRY) as client:
            _say(
                out,
                f"Atoll demo against {client.targets[0].label} (a real provider; costs apply)\n",
            )
            return await _run(client, None, 20 if calls is None else calls, out)
    async with FakeLLMServer(models={"gpt-4o-mini": DemoModel()}) as server:
        client = Client(LOCAL_MODEL, base_url=server.base_url, api_key="local-demo", retry=_RETRY)
        async with client:
            _say(
                out,
                f"Atoll demo against the built-in local server at {server.base_url} (no keys).\n"
                f"Replies are scripted; prices are {LOCAL_MODEL}'s list prices "
                "from the registry.\n",
            )
            return await _run(client, server, 500 if calls is None else calls, out)


async def _run(client: Client, server: FakeLLMServer | None, calls: int, out: TextIO) -> int:
    await _chat(client, out)
    await _stream(client, server, out)
    await _tools(client, out)
    return await _batch(client, server, calls, out)


async def _chat(client: Client, out: TextIO) -> None:
    _say(out, "1. Chat")
    prompt = "Name three atolls in the Pacific."
    reply = await client.chat(prompt, max_tokens=100)
    _say(out, f"   > {prompt}\n   < {reply.text}")
    _say(out, f"   usage: {_usage(reply)} · cost: {_cost(reply)} · served by {reply.served_by}\n")


async def _stream(client: Client, server: FakeLLMServer | None, out: TextIO) -> None:
    _say(out, "2. Stream, printed as it arrives")
    prompt = "How do atolls form?"
    if server is not None:
        server.inject("chunk-delay=0.03")  # slow the local server down so the stream is visible
    _say(out, f"   > {prompt}\n   < ", end="")
    started = time.perf_counter()
    first: float | None = None
    events = 0
    async with client.stream(prompt, max_tokens=200) as stream:
        async for event in stream:
            events += 1
            if isinstance(event, TextDelta):
                first = first if first is not None else time.perf_counter() - started
                out.write(event.text)
                out.flush()
    reply = stream.response
    ttfc = f"{first * 1000:.0f} ms" if first is not None else "n/a"
    _say(
        out,
        f"\n   {events} events · first text after {ttfc} · usage: {_usage(reply)} · "
        f"cost: {_cost(reply)}\n",
    )


async def _tools(client: Client, out: TextIO) -> None:
    _say(out, "3. Tool call round trip (arguments validated by atoll_tools before the call)")
    tools = ToolSet([get_tide])
    messages = [Message.user("What is the tide at Tarawa in six hours?")]
    _say(out, f"   > {messages[0].text}")
    for turn in range(4):
        reply = await client.chat(
            messages, tools=tools, tool_choice="required" if turn == 0 else "auto", max_tokens=200
        )
        messages.append(reply.message)
        calls = reply.message.tool_calls
        if not calls:
            _say(out, f"   < {reply.text}\n")
            return
        results = await tools.execute_many(calls)
        for call, result in zip(calls, results, strict=True):
            text = " ".join(p.text for p in result.content if isinstance(p, TextPart))
            text = text.replace("\n", "\n     ")
            verdict = "rejected, told the model why" if result.is_error else "ran"
            _say(out, f"   model called {call.name}({call.raw_arguments}) → {verdict}: {text}")
        messages.append(Message(role="tool", parts=list(results)))
    _say(out, "   (stopped after 4 turns)\n")


async def _batch(client: Client, server: FakeLLMServer | None, calls: int, out: TextIO) -> int:
    _say(out, f"4. A batch of {calls} calls through the Executor (32 at a time)")
    if server is not None:
        # Realistic: some overloads and rate limits (see DemoModel), which the Client retries.
        overloads, limits = faults_for(calls)
        _say(
            out,
            f"   (the local server will answer {overloads} x 503 and {limits} x 429 along the way)",
        )
    events = [
        CallEvent.of(client, f"Fact #{n} about atolls, please.", max_tokens=64)
        for n in range(calls)
    ]
    started = time.perf_counter()
    async with Executor(max_concurrency=32, on_progress=ProgressBar(calls)) as executor:
        for event in events:
            await executor.submit(event)
        await executor.join()
    elapsed = time.perf_counter() - started
    responses = [e.response for e in events if e.status is EventStatus.COMPLETED]
    done = [r for r in responses if isinstance(r, ClientResponse)]
    failed = [e for e in events if e.status is EventStatus.FAILED]
    retried = sum(len(r.attempts) for r in done)
    known = [r.cost.total for r in done if r.cost is not None]
    total = sum(known, Decimal(0))
    unknown = len(done) - len(known)
    _say(
        out,
        f"   {len(done)} calls in {elapsed:.2f} s ({len(done) / elapsed:,.0f} calls/s) · "
        f"{len(failed)} failed · {retried} failures retried · total cost ${total:.6f}"
        + (f" (+{unknown} calls with unknown price)" if unknown else ""),
    )
    for event in failed[:3]:
        error = event.execution.error
        _say(out, f"   failed: {error.type if error else '?'}: {error.message if error else ''}")
    return 1 if failed else 0


def _usage(reply: ClientResponse) -> str:
    u = reply.usage
    return f"{u.input_tokens} in / {u.output_tokens} out tokens"


def _cost(reply: ClientResponse) -> str:
    if reply.cost is None:
        return f"unknown ({reply.cost_note})"
    return f"${reply.cost.total:.8f}"


def _say(out: TextIO, text: str, end: str = "\n") -> None:
    out.write(text + end)
    out.flush()
