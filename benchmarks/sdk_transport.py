"""What the opt-in SDK transport costs (issue 22): atoll_openai_sdk against atoll_curl.

The loads and harness of ``transports.py`` (FakeLLMServer in its own process; 2,000 non-stream
requests at concurrency 64 after a warm-up; 200 concurrent streams of 200 events), at two
levels, each contender alone in this process on asyncio, best of a few round-robin rounds:

* transport: raw ``send`` + read, as in transports.py: ``CurlTransport``, ``HttpxTransport`` on
  httpx2 (the HTTP library the SDK sends with, to tell its cost from the SDK's), and
  ``OpenAISDKTransport`` over an ``openai.AsyncOpenAI`` (default routing: the endpoint re-rooted
  on the client's base URL, its key; SDK retries off);
* client: the Atoll ``Client`` (``chat`` and ``stream``, parsed into neutral responses and
  events) on ``CurlTransport`` and on ``OpenAISDKTransport``: what a user of the Client feels.

Reported as ratios to atoll_curl at the same level: requests/s, events/s, and client CPU per
request (atoll_curl's divided by the other's: below 1 means more CPU than atoll_curl).
Run: ``cd benchmarks && ../.venv/bin/python sdk_transport.py``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import psutil
from _common import ratio, write_result
from transports import (
    CONCURRENCY,
    MAX_CONNECTIONS,
    MODEL_EVENTS,
    PLAIN_REQUESTS,
    STREAMS,
    WARMUP,
    Client,
    atoll_client,
    atoll_curl,
    atoll_httpx_on,
    best,
    measure,
    report,
    start_server,
)

ROUNDS = 3
KEY = "sk-bench"


def _base(url: str) -> str:
    return url.removesuffix("/chat/completions")  # .../v1


def _sdk_client(url: str) -> Any:
    import httpx2
    import openai

    limits = httpx2.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    return openai.AsyncOpenAI(
        api_key=KEY,
        base_url=_base(url),
        http_client=openai.DefaultAsyncHttpxClient(limits=limits, trust_env=False),
        timeout=60.0,
    )


async def sdk_transport(url: str) -> Client:
    from atoll_openai_sdk import OpenAISDKTransport

    sdk = _sdk_client(url)
    plain, stream, close = await atoll_client(OpenAISDKTransport(sdk), url)

    async def close_both() -> None:
        await close()
        await sdk.close()

    return plain, stream, close_both


async def atoll_httpx2(url: str) -> Client:
    return await atoll_httpx_on(url, "httpx2")


async def _on_client(url: str, transport: Any, close_more: Callable[[], Awaitable[None]]) -> Client:
    from atoll_dialects import Client as AtollClient
    from atoll_dialects import RetryPolicy

    base = _base(url)
    chatter = AtollClient(
        "echo", base_url=base, api_key=KEY, transport=transport, retry=RetryPolicy.none()
    )
    streamer = AtollClient(
        f"stream-{MODEL_EVENTS}",
        base_url=base,
        api_key=KEY,
        transport=transport,
        retry=RetryPolicy.none(),
    )

    async def plain() -> int:
        reply = await chatter.chat("hello there world")
        return len(reply.text)

    async def stream() -> int:
        count = 0
        async with streamer.stream("hello there world") as events:
            async for _ in events:
                count += 1
        return count

    async def close() -> None:
        await chatter.aclose()
        await streamer.aclose()
        await transport.aclose()
        await close_more()

    return plain, stream, close


async def client_on_curl(url: str) -> Client:
    from atoll_curl import CurlTransport

    async def nothing() -> None:
        return None

    transport = CurlTransport(max_connections=MAX_CONNECTIONS, trust_env=False)
    return await _on_client(url, transport, nothing)


async def client_on_sdk(url: str) -> Client:
    from atoll_openai_sdk import OpenAISDKTransport

    sdk = _sdk_client(url)
    return await _on_client(url, OpenAISDKTransport(sdk), sdk.close)


CONTENDERS: dict[str, Callable[[str], Awaitable[Client]]] = {
    "atoll_curl": atoll_curl,
    "atoll_httpx_on_httpx2": atoll_httpx2,
    "openai_sdk_transport": sdk_transport,
    "client_on_atoll_curl": client_on_curl,
    "client_on_openai_sdk_transport": client_on_sdk,
}
# (contender, its baseline at the same level)
PAIRS = [
    ("openai_sdk_transport", "atoll_curl"),
    ("atoll_httpx_on_httpx2", "atoll_curl"),
    ("openai_sdk_transport", "atoll_httpx_on_httpx2"),
    ("client_on_openai_sdk_transport", "client_on_atoll_curl"),
]


def summarise(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def rps(name: str) -> float:
        return float(results[name]["plain"]["requests_per_s"])

    def eps(name: str) -> float:
        return float(results[name]["streams"]["events_per_s"])

    def cpu(name: str) -> float:
        return float(results[name]["plain"]["client_cpu_s_per_request"])

    summary: dict[str, Any] = {}
    for ours, base in PAIRS:
        if ours in results and base in results:
            summary[f"{ours}_vs_{base}"] = {
                "requests_per_s": ratio(rps(ours), rps(base)),
                "events_per_s": ratio(eps(ours), eps(base)),
                "cpu_per_request": ratio(cpu(base), cpu(ours)),
            }
    return summary


def main() -> None:
    proc, url = start_server()
    server = psutil.Process(proc.pid)
    runs: dict[str, list[dict[str, Any]]] = {}
    try:
        time.sleep(0.3)
        for _ in range(ROUNDS):
            for name, make in CONTENDERS.items():
                started = time.perf_counter()
                run = anyio.run(measure, make, url, server)
                run["seconds_total"] = round(time.perf_counter() - started, 2)
                runs.setdefault(name, []).append(run)
                report(name, run, run["seconds_total"])
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    results = {name: best(contender_runs) for name, contender_runs in runs.items()}
    write_result(
        "sdk_transport",
        {
            "method": (
                f"FakeLLMServer in its own process; each contender alone in this process on "
                f"asyncio; plain: {PLAIN_REQUESTS} non-stream requests at concurrency "
                f"{CONCURRENCY} after {WARMUP} warm-up; streams: {STREAMS} concurrent streams "
                f"of {MODEL_EVENTS} events; best of {ROUNDS} round-robin rounds; "
                f"{os.cpu_count()} cores shared by client and server (and anything else)"
            ),
            "versions": _versions(),
            "summary": summarise(results),
            "results": results,
        },
    )


def _versions() -> dict[str, str]:
    import openai
    import pycurl

    return {"openai": openai.__version__, "pycurl": pycurl.version, "python": sys.version}


if __name__ == "__main__":
    main()
