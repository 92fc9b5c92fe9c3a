"""Record the run shown in docs/assets/trace.png.

An agent on the local server, with a retry, a fallback to a second model and two tools (one
slow), written to a JSONL event log.

    .venv/bin/python docs/assets/trace_example.py /tmp/run.jsonl
    .venv/bin/atoll trace /tmp/run.jsonl --color always --width 118 > /tmp/trace.ansi
    python3 -m uv run --script docs/assets/render_png.py /tmp/trace.ansi docs/assets/trace.png
"""

from __future__ import annotations

import sys

import anyio
from atoll_agents import Agent
from atoll_dialects import Client, JsonlSink, RetryPolicy
from atoll_testing import FakeLLMServer, Script, ToolCall, Turn


async def get_weather(atoll: str) -> str:
    """Today's weather.

    Args:
        atoll: The atoll.
    """
    await anyio.sleep(0.9)  # a slow upstream service
    return "sunny, 29 C, trade winds 15 kn"


def get_tide(atoll: str) -> str:
    """The next high tide.

    Args:
        atoll: The atoll.
    """
    return f"high tide at {atoll} in 6 h"


async def main(path: str) -> None:
    """Run the example agent and write its events to ``path``."""
    ask = Turn(
        tool_calls=[
            ToolCall(name="get_weather", arguments={"atoll": "Tarawa"}),
            ToolCall(name="get_tide", arguments={"atoll": "Tarawa"}),
        ],
        input_tokens=412,
        output_tokens=38,
        fault="chunk-delay=0.03",
    )
    answer = Turn(
        text="Sunny and 29 C on Tarawa; high tide in 6 hours.",
        input_tokens=530,
        output_tokens=21,
        fault="chunk-delay=0.04",
    )
    # gpt-4o-mini is rate limited, then overloaded: Claude takes the first turn over.
    models = {"gpt-4o-mini": Script([answer]), "claude-haiku-4-5": Script([ask])}
    async with FakeLLMServer(models=models) as srv:
        retry = RetryPolicy(attempts=2, initial_backoff=0.3, max_backoff=0.3)
        client = Client(
            ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"],
            base_url=srv.base_url,
            api_key="sk-example-not-a-key",
            retry=retry,
        )
        with JsonlSink(path) as sink:
            async with (
                client,
                Agent(client, tools=[get_weather, get_tide], callbacks=[sink]) as agent,
            ):
                srv.inject("status=429; retry-after=0.4")
                srv.inject("status=503")
                await agent.run("What is the weather and the tide at Tarawa?")


anyio.run(main, sys.argv[1])
