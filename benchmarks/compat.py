"""The compat package (issue 16): what the legacy one-import API costs on top of the Client.

One call at a time (how legacy code calls), against one atoll_testing server in a child
process, the same model (a registry entry, so pricing runs too) and the same transport:
- ``aigenerate`` (SyncClient per call on a shared keep-alive transport) vs ``SyncClient.chat``;
- ``aigenerate_async`` (a Client, and its transport, per call) vs ``Client.chat`` on one Client;
- ``aigenerate(..., dry_run=True)``: planning and rendering alone, no network;
- import time of ``atoll`` (names load lazily) vs ``atoll_dialects``.
Ratios are compat / Client (1.0 = no overhead; lower is better).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
from _common import ratio, write_result

CALLS = 400
ROUNDS = 3
_SERVE = """
from atoll_testing import FakeLLMServer, Turn
server = FakeLLMServer(models={"gpt-4o-mini": lambda r: Turn(text="hello")}, log_limit=100)
server.start()
print(server.base_url, flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def _server() -> Iterator[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


def _best_us(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(CALLS):
            run()
        best = min(best, (time.perf_counter() - started) / CALLS)
    return round(best * 1e6, 1)


async def _best_us_async(run: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(CALLS):
            await run()
        best = min(best, (time.perf_counter() - started) / CALLS)
    return round(best * 1e6, 1)


def _sync(url: str) -> dict[str, float]:
    from atoll import CustomOpenAISchema, aigenerate
    from atoll_dialects import SyncClient

    options = {"model": "gpt-4o-mini", "api_kwargs": {"url": url}, "verbose": False}
    aigenerate(CustomOpenAISchema(), "warm", **options)
    compat = _best_us(lambda: aigenerate(CustomOpenAISchema(), "hello", **options))
    with SyncClient("gpt-4o-mini", base_url=url, api_key="bench") as client:
        client.chat("warm")
        direct = _best_us(lambda: client.chat("hello"))
    dry = _best_us(
        lambda: aigenerate(CustomOpenAISchema(), "hello {{x}}", x=1, dry_run=True, **options)
    )
    return {"aigenerate_us": compat, "sync_client_us": direct, "dry_run_us": dry}


async def _async(url: str) -> dict[str, float]:
    from atoll import CustomOpenAISchema, aigenerate_async
    from atoll_dialects import Client

    options = {"model": "gpt-4o-mini", "api_kwargs": {"url": url}, "verbose": False}
    await aigenerate_async(CustomOpenAISchema(), "warm", **options)
    compat = await _best_us_async(lambda: aigenerate_async(CustomOpenAISchema(), "hi", **options))
    async with Client("gpt-4o-mini", base_url=url, api_key="bench") as client:
        await client.chat("warm")
        direct = await _best_us_async(lambda: client.chat("hi"))
    return {"aigenerate_async_us": compat, "client_us": direct}


def _import_ms(module: str) -> float:
    def once(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - started

    base = min(once("pass") for _ in range(3))
    return round((min(once(f"import {module}") for _ in range(3)) - base) * 1000, 1)


def main() -> None:
    with _server() as url:
        sync = _sync(url)
        asynchronous = anyio.run(_async, url)
    imports = {m: _import_ms(m) for m in ("atoll", "atoll_dialects")}
    write_result(
        "compat",
        {
            "calls": CALLS,
            "rounds": ROUNDS,
            "sync": sync,
            "async": asynchronous,
            "import_ms": imports,
            "ratios": {
                "aigenerate_vs_sync_client": ratio(sync["aigenerate_us"], sync["sync_client_us"]),
                "aigenerate_async_vs_client": ratio(
                    asynchronous["aigenerate_async_us"], asynchronous["client_us"]
                ),
                "import_atoll_vs_atoll_dialects": ratio(
                    imports["atoll"], imports["atoll_dialects"]
                ),
            },
        },
    )


if __name__ == "__main__":
    main()
