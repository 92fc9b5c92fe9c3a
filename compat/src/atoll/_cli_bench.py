"""``atoll bench``: the Client against the local server, as ratios to raw httpx.

The fake server runs in a child process so the client under test owns its CPU. Each contender
makes the same non-stream calls (``--calls`` at ``--concurrency``) and the same concurrent
streams (``--streams`` of ``--events`` events); the table shows calls/s and events/s and their
ratio to raw httpx, the named baseline (above 1 is faster). Contenders: atoll's ``Client`` on
each installed transport, raw ``httpx``, and the ``openai`` SDK when it is installed. Numbers
on a busy machine vary run to run; compare ratios from one run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import anyio

from . import _cli_errors as errors

_SERVE = (
    "from atoll_testing import FakeLLMServer\n"
    "server = FakeLLMServer(log_limit=100)\n"
    "server.start()\n"
    "print(server.url, flush=True)\n"
    "server.serve_forever()\n"
)
_BODY = {"model": "echo", "messages": [{"role": "user", "content": "hello benchmark"}]}

Call = Callable[[], Awaitable[None]]


@contextlib.contextmanager
def server_process() -> Generator[str]:
    """``http://127.0.0.1:PORT`` of a fake server in a child process (stopped on exit)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the benchmark server did not start (said {url!r})")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


async def _many(count: int, concurrency: int, one: Call) -> float:
    """Seconds to run ``one`` ``count`` times, at most ``concurrency`` at once."""
    limiter = anyio.CapacityLimiter(concurrency)

    async def run() -> None:
        async with limiter:
            await one()

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(run)
    return time.perf_counter() - started


async def _measure(args: argparse.Namespace, chat: Call, stream: Call) -> dict[str, float]:
    await chat()  # warm the connection pool
    seconds = await _many(args.calls, args.concurrency, chat)
    stream_seconds = await _many(args.streams, args.streams, stream)
    return {
        "calls_per_second": round(args.calls / seconds, 1),
        "events_per_second": round(args.streams * args.events / stream_seconds, 1),
    }


async def _atoll(url: str, transport: str, args: argparse.Namespace) -> dict[str, float]:
    from atoll_dialects import Client, RetryPolicy

    if transport == "curl":
        from atoll_curl import CurlTransport

        made: Any = CurlTransport()
    else:
        from atoll_httpx import HttpxTransport

        made = HttpxTransport(max_connections=max(args.concurrency, args.streams))
    async with (
        made,
        Client("echo", base_url=url + "/v1", transport=made, retry=RetryPolicy.none()) as chatter,
        Client(f"stream-{args.events}", base_url=url + "/v1", transport=made) as streamer,
    ):

        async def chat() -> None:
            reply = await chatter.chat("hello benchmark")
            assert reply.text == "hello benchmark"

        async def stream() -> None:
            async with streamer.stream("go") as events:
                async for _ in events:
                    pass

        return await _measure(args, chat, stream)


async def _raw_httpx(url: str, args: argparse.Namespace) -> dict[str, float]:
    import httpx

    size = max(args.concurrency, args.streams)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        endpoint = url + "/v1/chat/completions"
        stream_body = {**_BODY, "model": f"stream-{args.events}", "stream": True}

        async def chat() -> None:
            reply = await client.post(endpoint, json=_BODY)
            assert reply.json()["choices"][0]["message"]["content"] == "hello benchmark"

        async def stream() -> None:
            async with client.stream("POST", endpoint, json=stream_body) as reply:
                async for line in reply.aiter_lines():
                    if line.startswith("data:") and line != "data: [DONE]":
                        json.loads(line[5:])

        return await _measure(args, chat, stream)


async def _openai(url: str, args: argparse.Namespace) -> dict[str, float]:
    import openai  # pyright: ignore[reportMissingImports] (optional contender)

    client: Any = openai.AsyncOpenAI(base_url=url + "/v1", api_key="bench", max_retries=0)

    async def chat() -> None:
        reply = await client.chat.completions.create(**_BODY)
        assert reply.choices[0].message.content == "hello benchmark"

    async def stream() -> None:
        chunks = await client.chat.completions.create(
            model=f"stream-{args.events}", messages=_BODY["messages"], stream=True
        )
        async for _ in chunks:
            pass

    try:
        return await _measure(args, chat, stream)
    finally:
        await client.close()


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


async def _all(url: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {"raw httpx (baseline)": await _raw_httpx(url, args)}
    for transport in ("curl", "httpx"):
        if _installed(f"atoll_{transport}"):
            results[f"atoll Client on {transport}"] = await _atoll(url, transport, args)
    if _installed("openai"):
        results["openai SDK"] = await _openai(url, args)
    return results


def _table(results: dict[str, dict[str, float]], args: argparse.Namespace) -> str:
    base = results["raw httpx (baseline)"]
    rows = [["contender", "calls/s", "x httpx", "stream events/s", "x httpx"]]
    for name, r in results.items():
        rows.append(
            [
                name,
                f"{r['calls_per_second']:,.0f}",
                f"{r['calls_per_second'] / base['calls_per_second']:.2f}",
                f"{r['events_per_second']:,.0f}",
                f"{r['events_per_second'] / base['events_per_second']:.2f}",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row))
        for row in rows
    ]
    head = (
        f"{args.calls} calls at concurrency {args.concurrency}; {args.streams} concurrent "
        f"streams of {args.events} events; local server in a child process"
    )
    return "\n".join([head, *lines])


def run_bench(args: argparse.Namespace) -> int:
    """Run the benchmark and print the table (or JSON)."""
    with server_process() as url:
        results = anyio.run(_all, url, args)
    if args.json:
        print(json.dumps({"baseline": "raw httpx (baseline)", "results": results}, indent=2))
    else:
        print(_table(results, args))
    return errors.OK
