"""Responses streams (issue 22): atoll's Client against the openai SDK's ``responses.stream``.

One atoll_testing server in a child process answers ``POST /v1/responses`` with a 5,000-delta
stream (model ``stream-5000``: 5,008 server-sent events in all). In one run, interleaved, best
of several rounds, each contender reads the whole stream and counts what it yields:

- atoll's ``Client.stream`` on the openai-responses dialect, on atoll_curl and atoll_httpx
  (neutral events, the accumulated ``ChatResponse`` at the end);
- the openai SDK's ``client.responses.stream`` (async and sync; typed events and the
  accumulated ``Response`` from ``get_final_response()``).

Events/s is the stream's server-sent events over the time to read them all; the client
process's CPU time per stream is reported beside it (steadier on a shared machine, the server
running in another process). The target is atoll at least 10x the SDK's events/s.

Run: ``cd benchmarks && ../.venv/bin/python responses.py``; writes results/responses.json.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from _common import ratio, write_result
from _fake import fake_server_process

MODEL = "stream-5000"
DELTAS = 5_000
ROUNDS = 7
TARGET = 10.0


def _sse_events(url: str) -> int:
    """How many server-sent events the stream holds (counted once on raw bytes)."""
    import httpx

    body = {"model": MODEL, "input": "go", "stream": True}
    raw = httpx.post(url + "/v1/responses", json=body, timeout=60).content
    return raw.count(b"\n\n")


async def atoll_stream(url: str, transport: str) -> Callable[[], Awaitable[int]]:
    from atoll_curl import CurlTransport
    from atoll_dialects import Client, RetryPolicy
    from atoll_httpx import HttpxTransport

    made = CurlTransport() if transport == "curl" else HttpxTransport()
    client = Client(
        MODEL,
        base_url=url + "/v1",
        dialect="openai-responses",
        api_key="bench",
        transport=made,
        retry=RetryPolicy.none(),
    )

    async def once() -> int:
        count = 0
        async with client.stream("go") as stream:
            async for _event in stream:
                count += 1
        assert len(stream.response.text) > DELTAS, "the whole text arrived"
        return count

    return once


async def sdk_async_stream(url: str) -> Callable[[], Awaitable[int]]:
    import openai

    client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="bench", max_retries=0)

    async def once() -> int:
        count = 0
        async with client.responses.stream(model=MODEL, input="go") as stream:
            async for _event in stream:
                count += 1
            final = await stream.get_final_response()
        assert len(final.output_text) > DELTAS
        return count

    return once


def sdk_sync_stream(url: str) -> Callable[[], int]:
    import openai

    client = openai.OpenAI(base_url=url + "/v1", api_key="bench", max_retries=0)

    def once() -> int:
        count = 0
        with client.responses.stream(model=MODEL, input="go") as stream:
            for _event in stream:
                count += 1
            final = stream.get_final_response()
        assert len(final.output_text) > DELTAS
        return count

    return once


def _figures(
    sse_events: int, walls: list[float], cpus: list[float], yielded: int
) -> dict[str, Any]:
    wall, cpu = min(walls), min(cpus)
    return {
        "events_per_second": round(sse_events / wall, 1),
        "seconds": round(wall, 5),
        "cpu_seconds": round(cpu, 5),
        "events_per_cpu_second": round(sse_events / cpu, 1),
        "yielded": yielded,
    }


async def measure(url: str) -> dict[str, Any]:
    sse_events = _sse_events(url)
    async_runs: dict[str, Callable[[], Awaitable[int]]] = {
        "atoll_client_curl": await atoll_stream(url, "curl"),
        "atoll_client_httpx": await atoll_stream(url, "httpx"),
        "openai_sdk_async": await sdk_async_stream(url),
    }
    sync_runs: dict[str, Callable[[], int]] = {"openai_sdk_sync": sdk_sync_stream(url)}
    walls: dict[str, list[float]] = {name: [] for name in [*async_runs, *sync_runs]}
    cpus: dict[str, list[float]] = {name: [] for name in walls}
    yielded: dict[str, int] = {}
    for name, run in async_runs.items():  # warm up: connections, imports, caches
        yielded[name] = await run()
    for name, run in sync_runs.items():
        yielded[name] = await anyio.to_thread.run_sync(run)
    for _ in range(ROUNDS):  # interleaved, so load on the machine hits every contender alike
        for name, run in async_runs.items():
            cpu0, t0 = time.process_time(), time.perf_counter()
            await run()
            walls[name].append(time.perf_counter() - t0)
            cpus[name].append(time.process_time() - cpu0)
        for name, run in sync_runs.items():
            cpu0, t0 = time.process_time(), time.perf_counter()
            run()
            walls[name].append(time.perf_counter() - t0)
            cpus[name].append(time.process_time() - cpu0)
    return {
        name: _figures(sse_events, walls[name], cpus[name], yielded[name]) for name in walls
    } | {"sse_events": sse_events}


def main() -> None:
    with fake_server_process() as url:
        figures = anyio.run(measure, url)
    sse_events = figures.pop("sse_events")
    sdk = max(
        (figures["openai_sdk_async"], figures["openai_sdk_sync"]),
        key=lambda f: f["events_per_second"],
    )
    sdk_cpu = max(
        (figures["openai_sdk_async"], figures["openai_sdk_sync"]),
        key=lambda f: f["events_per_cpu_second"],
    )
    ratios: dict[str, Any] = {}
    for name in ("atoll_client_curl", "atoll_client_httpx"):
        ratios[f"{name}_vs_faster_sdk_events_per_second"] = ratio(
            figures[name]["events_per_second"], sdk["events_per_second"]
        )
        ratios[f"{name}_vs_faster_sdk_events_per_cpu_second"] = ratio(
            figures[name]["events_per_cpu_second"], sdk_cpu["events_per_cpu_second"]
        )
    best = max(
        ratios["atoll_client_curl_vs_faster_sdk_events_per_second"] or 0,
        ratios["atoll_client_httpx_vs_faster_sdk_events_per_second"] or 0,
    )
    write_result(
        "responses",
        {
            "stream": {"model": MODEL, "text_deltas": DELTAS, "sse_events": sse_events},
            "rounds": ROUNDS,
            "results": figures,
            "ratios": ratios,
            "target": {"ratio": TARGET, "met": best >= TARGET},
        },
    )


if __name__ == "__main__":
    main()
