"""Agent benchmark (issue 15): atoll's Agent against the same loop by hand and pydantic-ai.

1,000 runs, each one tool turn and one answer, at concurrency 64, against one atoll_testing
server in a child process (a scripted model: a tool call, then the tool's result as the answer;
tools return at once). Side by side in one run, reported as ratios:

- ``hand_loop``: the same two calls written by hand on the Client (``Client.stream``, as the
  agent does, then ``ToolSet.execute_many``, then the second call);
- ``hand_loop_chat``: the hand loop with non-streamed ``Client.chat`` calls, for reference;
- ``atoll_agent``: ``Agent.run``;
- ``atoll_run_many``: ``run_many`` on the Executor;
- ``pydantic_ai``: pydantic-ai's Agent with its OpenAI model pointed at the same server
  (``peers`` group; null when absent).

Targets: the agent at least 0.85x the hand loop and at least 5x pydantic-ai (runs/s).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
from _common import ratio, write_result

RUNS = 1_000
CONCURRENCY = 64
ROUNDS = 3
MODEL = "bench-agent"

_SERVE = """
from atoll_testing import FakeLLMServer, ToolCall, Turn

CALL = Turn(tool_calls=[ToolCall(name="lookup", arguments={"key": "atoll"})],
            input_tokens=50, output_tokens=10)

def model(request):
    if request.tool_results:
        return Turn(text="found " + request.tool_results[0].content,
                    input_tokens=70, output_tokens=3)
    return CALL

server = FakeLLMServer(models={"bench-agent": model}, log_limit=100)
server.start()
print(server.url, flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def agent_server() -> Iterator[str]:
    """Yield the base URL of a scripted server running in a child process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"server did not start: {url!r}")
        yield url + "/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: The key.
    """
    return f"value-of-{key}"


async def _many(one: Callable[[int], Awaitable[None]]) -> dict[str, float]:
    limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def run(i: int) -> None:
        async with limiter:
            await one(i)

    cpu0, t0 = time.process_time(), time.perf_counter()
    async with anyio.create_task_group() as group:
        for i in range(RUNS):
            group.start_soon(run, i)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "seconds": round(wall, 4),
        "runs_per_second": round(RUNS / wall, 1),
        "cpu_ms_per_run": round(cpu / RUNS * 1000, 3),
    }


def _best(rounds: list[dict[str, float]]) -> dict[str, float]:
    return max(rounds, key=lambda r: r["runs_per_second"])


# ------------------------------------------------------------------ contenders


async def atoll(url: str) -> dict[str, dict[str, float]]:
    from atoll_agents import Agent, AgentResult, run_many
    from atoll_dialects import Client, RetryPolicy
    from atoll_tools import Tool, ToolSet
    from atoll_wire import Message

    tool = Tool(lookup, run_in_thread=False)
    tools = ToolSet([tool])
    out: dict[str, list[dict[str, float]]] = {}
    async with Client(MODEL, base_url=url, retry=RetryPolicy.none()) as client:
        agent = Agent(client, tools=[tool], instructions="Use the tool.")

        async def hand(_: int) -> None:
            messages = [Message.user("find atoll")]
            async with client.stream(messages, system="Use the tool.", tools=tools) as s:
                async for _event in s:
                    pass
            first = s.response
            results = await tools.execute_many(first.message.tool_calls)
            messages += [first.message, Message(role="tool", parts=list(results))]
            async with client.stream(messages, system="Use the tool.", tools=tools) as s:
                async for _event in s:
                    pass
            assert s.response.text == "found value-of-atoll"

        async def hand_chat(_: int) -> None:
            messages = [Message.user("find atoll")]
            first = await client.chat(messages, system="Use the tool.", tools=tools)
            results = await tools.execute_many(first.message.tool_calls)
            messages += [first.message, Message(role="tool", parts=list(results))]
            final = await client.chat(messages, system="Use the tool.", tools=tools)
            assert final.text == "found value-of-atoll"

        async def with_agent(_: int) -> None:
            result = await agent.run("find atoll")
            assert result.output == "found value-of-atoll", result

        async def batch() -> dict[str, float]:
            cpu0, t0 = time.process_time(), time.perf_counter()
            outcomes = await run_many(agent, ["find atoll"] * RUNS, concurrency=CONCURRENCY)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            assert all(isinstance(o, AgentResult) for o in outcomes)
            return {
                "seconds": round(wall, 4),
                "runs_per_second": round(RUNS / wall, 1),
                "cpu_ms_per_run": round(cpu / RUNS * 1000, 3),
            }

        await hand(0)
        await with_agent(0)
        # Interleaved rounds, so drift on a shared machine hits every contender alike.
        for _ in range(ROUNDS):
            out.setdefault("hand_loop", []).append(await _many(hand))
            out.setdefault("atoll_agent", []).append(await _many(with_agent))
            out.setdefault("hand_loop_chat", []).append(await _many(hand_chat))
            out.setdefault("atoll_run_many", []).append(await batch())
    return {name: _best(rounds) for name, rounds in out.items()}


async def pydantic_ai(url: str) -> dict[str, float] | None:
    try:
        # The peers group (make bench only): absent under make test.
        from pydantic_ai import Agent  # pyright: ignore[reportMissingImports]
        from pydantic_ai.models.openai import (  # pyright: ignore[reportMissingImports]
            OpenAIChatModel,  # pyright: ignore[reportUnknownVariableType]
        )
        from pydantic_ai.providers.openai import (  # pyright: ignore[reportMissingImports]
            OpenAIProvider,  # pyright: ignore[reportUnknownVariableType]
        )
    except ImportError:
        return None
    model: Any = OpenAIChatModel(MODEL, provider=OpenAIProvider(base_url=url, api_key="bench"))
    agent: Any = Agent(model, instructions="Use the tool.")
    agent.tool_plain(lookup)

    async def one(_: int) -> None:
        result = await agent.run("find atoll")
        assert result.output == "found value-of-atoll", result.output

    await one(0)
    return _best([await _many(one) for _ in range(2)])


def main() -> None:
    with agent_server() as url:
        ours = anyio.run(atoll, url)
        peer = anyio.run(pydantic_ai, url)
    agent_rate = ours["atoll_agent"]["runs_per_second"]
    results: dict[str, Any] = {
        "runs": RUNS,
        "concurrency": CONCURRENCY,
        "workload": "one tool turn + one answer per run, streamed; scripted server, own process",
        **ours,
        "pydantic_ai": peer,
        "ratios": {
            "agent_vs_hand_loop": ratio(agent_rate, ours["hand_loop"]["runs_per_second"]),
            "agent_vs_hand_loop_chat": ratio(agent_rate, ours["hand_loop_chat"]["runs_per_second"]),
            # CPU per run is steadier than runs/s on a shared machine: hand CPU / agent CPU.
            "agent_vs_hand_loop_by_cpu": ratio(
                ours["hand_loop"]["cpu_ms_per_run"], ours["atoll_agent"]["cpu_ms_per_run"]
            ),
            "run_many_vs_hand_loop": ratio(
                ours["atoll_run_many"]["runs_per_second"], ours["hand_loop"]["runs_per_second"]
            ),
            "agent_vs_pydantic_ai": (
                ratio(agent_rate, peer["runs_per_second"]) if peer is not None else None
            ),
        },
        "targets": {"agent_vs_hand_loop": 0.85, "agent_vs_pydantic_ai": 5.0},
    }
    write_result("agents", results)


if __name__ == "__main__":
    main()
