"""Gemini dialect benchmark (issue 17): atoll's Client against the google-genai SDK.

Both talk to one atoll_testing server speaking the Gemini API, in a child process, in one run:
- one stream of 5,000 events (``stream-5000``; events/s);
- 2,000 non-stream calls at concurrency 64 (calls/s).
google-genai comes from the ``peers`` group (``make bench``), pointed at the same server with
``http_options.base_url``; its figures are null when it is not installed. Target: atoll at
least 10x the SDK's events/s and calls/s.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
from _common import ratio, write_result

CALLS = 2_000
CONCURRENCY = 64
LONG_STREAM = 5_000
ROUNDS = 3
KEY = "bench-key"

_SERVE = """
from atoll_testing import FakeLLMServer, GeminiServer, registered_server_dialects
server = FakeLLMServer(log_limit=100, dialects=[*registered_server_dialects(), GeminiServer()])
server.start()
print(server.url, flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def gemini_server() -> Iterator[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"server did not start: {url!r}")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


async def _many(n: int, one: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def run(i: int) -> None:
        async with limiter:
            await one(i)

    cpu0, t0 = time.process_time(), time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(run, i)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"seconds": round(wall, 4), "per_second": round(n / wall, 1), "cpu_s_per_item": cpu / n}


async def _timed_stream(consume: Callable[[], Awaitable[int]]) -> dict[str, float]:
    t0 = time.perf_counter()
    count = await consume()
    wall = time.perf_counter() - t0
    return {"events": count, "seconds": round(wall, 4), "events_per_second": round(count / wall, 1)}


async def _best(consume: Callable[[], Awaitable[int]]) -> dict[str, float]:
    runs = [await _timed_stream(consume) for _ in range(ROUNDS)]
    return max(runs, key=lambda r: r["events_per_second"])


async def atoll(url: str) -> dict[str, dict[str, float]]:
    from atoll_curl import CurlTransport
    from atoll_dialects import Client, RetryPolicy

    out: dict[str, dict[str, float]] = {}
    async with CurlTransport() as transport:
        options: dict[str, Any] = {
            "base_url": url + "/v1beta",
            "api_key": KEY,
            "transport": transport,
            "retry": RetryPolicy.none(),
        }
        async with (
            Client("gemini/echo", **options) as chat,
            Client(f"gemini/stream-{LONG_STREAM}", **options) as long,
        ):
            await chat.chat("warm up")

            async def one(_: int) -> None:
                reply = await chat.chat("hello benchmark")
                assert reply.text == "hello benchmark"

            async def consume() -> int:
                count = 0
                async with long.stream("go") as s:
                    async for _event in s:
                        count += 1
                return count

            out["stream"] = await _best(consume)
            out["chat"] = await _many(CALLS, one)
    return out


async def genai_sdk(url: str) -> dict[str, dict[str, float]] | None:
    try:  # the peers group (make bench); imported by name so pyright passes without it
        genai: Any = importlib.import_module("google.genai")
        types: Any = importlib.import_module("google.genai.types")
    except ImportError:
        return None
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=url))
    out: dict[str, dict[str, float]] = {}
    await client.aio.models.generate_content(model="echo", contents="warm up")

    async def one(_: int) -> None:
        reply = await client.aio.models.generate_content(model="echo", contents="hello benchmark")
        assert reply.text == "hello benchmark"

    async def consume() -> int:
        count = 0
        async for _chunk in await client.aio.models.generate_content_stream(
            model=f"stream-{LONG_STREAM}", contents="go"
        ):
            count += 1
        return count

    out["stream"] = await _best(consume)
    out["chat"] = await _many(CALLS, one)
    return out


async def main() -> None:
    with gemini_server() as url:
        ours = await atoll(url)
        theirs = await genai_sdk(url)
    ratios: dict[str, float | None] = {
        "events_per_second": None,
        "calls_per_second": None,
        "client_cpu_per_call": None,
    }
    if theirs is not None:
        ratios = {
            "events_per_second": ratio(
                ours["stream"]["events_per_second"], theirs["stream"]["events_per_second"]
            ),
            "calls_per_second": ratio(ours["chat"]["per_second"], theirs["chat"]["per_second"]),
            # CPU the client process spends per call, theirs over ours: what the client costs,
            # apart from the shared server and a loaded machine.
            "client_cpu_per_call": ratio(
                theirs["chat"]["cpu_s_per_item"], ours["chat"]["cpu_s_per_item"]
            ),
        }
    write_result(
        "gemini",
        {
            "workload": {"calls": CALLS, "concurrency": CONCURRENCY, "stream_events": LONG_STREAM},
            "baseline": "google-genai SDK (async), same local server",
            "atoll_client_curl": ours,
            "google_genai": theirs,
            "ratio_vs_google_genai": ratios,
            "target": ">= 10x events/s and calls/s",
        },
    )


if __name__ == "__main__":
    anyio.run(main)
