"""Scale: 10,000 calls as a Ray job vs one process's Executor; Redis limiter overhead.

In one run, against one local LLM server (atoll_testing, model ``echo``) in a process of its
own (in the benchmark's process it would share one GIL with the single-process baseline, and
Ray's separate actor processes would win for that reason alone):

1. the baseline: a single-process ``Executor`` running 10,000 ``CallEvent``s at concurrency 64;
2. ``atoll_ray.run_batch`` of the same 10,000 calls on a local Ray cluster (2 CPUs, 2 actors,
   64 calls in flight in all), results written to JSONL. Ray's start-up is reported apart.

The ratio is Ray's wall time over the Executor's. On 2 cores, where the server, the driver and
both actors share the same two cores, parity is the honest expectation: the Ray pool pays for
serialization and the results file and gains no cores.

It also measures what a limiter costs per acquire (reserve + settle): in process, and through
Redis (a real redis-server on a free port), sequentially and with 16 concurrent callers, on
asyncio and trio; and the raw EVALSHA round trip of coredis (asyncio, trio) against redis-py's
asyncio client -- the measurement behind the choice of client (docs/scale.md). Each of these
is the best of ROUNDS runs (a shared 2-core machine is noisy; all runs are kept in the JSON).

Writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import ratio, write_result

from tests.core_generic._redis_server import RedisServer

CALLS = 10_000
CONCURRENCY = 64
ROUNDS = 3


class LLMServerProcess:
    """``python -m atoll_testing serve --port 0`` in a child process."""

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "atoll_testing", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # "atoll_testing serving on http://.../v1 (...)"
        return line.split(" on ", 1)[1].split()[0]

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def best(runs: list[float]) -> dict[str, Any]:
    return {"best": round(min(runs), 2), "runs": [round(r, 2) for r in runs]}


async def executor_baseline(base_url: str) -> float:
    from atoll_dialects import CallEvent, Client
    from atoll_generic import Executor

    async with Client("echo", base_url=base_url, api_key="sk-bench") as client:
        started = time.perf_counter()
        async with Executor(max_concurrency=CONCURRENCY, retention=0) as ex:
            for i in range(CALLS):
                await ex.submit(CallEvent.of(client, f"item {i}"))
        return time.perf_counter() - started


def ray_job(base_url: str) -> dict[str, float]:
    import ray
    from atoll_ray import run_batch

    started = time.perf_counter()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 * 1024 * 1024,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    startup = time.perf_counter() - started
    try:
        with tempfile.TemporaryDirectory() as folder:
            summary = run_batch(
                ({"id": i, "prompt": f"item {i}"} for i in range(CALLS)),
                model="echo",
                results_path=Path(folder) / "results.jsonl",
                concurrency=CONCURRENCY,
                chunk_size=100,
                client_options={"base_url": base_url, "api_key": "sk-bench"},
            )
            assert summary.done == CALLS and summary.failed == 0, summary
    finally:
        ray.shutdown()
    return {"ray_startup_s": round(startup, 2), "ray_job_s": round(summary.seconds, 3)}


async def limiter_costs(url: str, callers: int, n: int) -> dict[str, float]:
    from atoll_generic import RedisBackend, TokenLimiter

    async def per_acquire(limiter: TokenLimiter) -> float:
        left = n

        async def caller() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                reservation = await limiter.reserve(10)
                await reservation.asettle(5)

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(callers):
                tg.start_soon(caller)
        return (time.perf_counter() - started) / n * 1e6

    local = await per_acquire(TokenLimiter(1e12, 60))
    async with RedisBackend(url, prefix=f"bench-{uuid.uuid4().hex[:8]}") as redis:
        shared = await per_acquire(TokenLimiter(1e12, 60, name="bench", backend=redis))
    return {"in_process_us": round(local, 2), "redis_us": round(shared, 1)}


async def coredis_roundtrip(url: str, callers: int, n: int) -> float:
    import coredis

    client: Any = coredis.Redis.from_url(url)
    async with client:
        sha = await client.script_load("return redis.call('TIME')")

        async def caller() -> None:
            for _ in range(n // callers):
                await client.evalsha(sha, [], [])

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(callers):
                tg.start_soon(caller)
        return (time.perf_counter() - started) / n * 1e6


async def redispy_roundtrip(url: str, callers: int, n: int) -> float:
    import redis.asyncio as redis_asyncio

    client: Any = redis_asyncio.Redis.from_url(url)
    sha = await client.script_load("return redis.call('TIME')")

    async def caller() -> None:
        for _ in range(n // callers):
            await client.evalsha(sha, 0)

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(callers):
            tg.start_soon(caller)
    elapsed = (time.perf_counter() - started) / n * 1e6
    await client.aclose()
    return elapsed


def main() -> None:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # `make bench` runs this under `uv run`: Ray's workers use this interpreter, not `uv run`.
    os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"
    server = RedisServer().start()
    limiters: dict[str, Any] = {}
    clients: dict[str, Any] = {}
    try:
        for backend in ("asyncio", "trio"):
            for callers in (1, 16):
                key = f"{backend}_{callers}_callers"
                runs = [
                    anyio.run(limiter_costs, server.url, callers, 2000, backend=backend)
                    for _ in range(ROUNDS)
                ]
                local = best([r["in_process_us"] for r in runs])
                shared = best([r["redis_us"] for r in runs])
                limiters[key] = {
                    "in_process_us": local,
                    "redis_us": shared,
                    "ratio": ratio(shared["best"], local["best"]),
                }
                clients[f"coredis_{key}_us"] = best(
                    [
                        anyio.run(coredis_roundtrip, server.url, callers, 2000, backend=backend)
                        for _ in range(ROUNDS)
                    ]
                )
        for callers in (1, 16):
            clients[f"redis_py_asyncio_{callers}_callers_us"] = best(
                [
                    anyio.run(redispy_roundtrip, server.url, callers, 2000, backend="asyncio")
                    for _ in range(ROUNDS)
                ]
            )
    finally:
        server.close()
    with LLMServerProcess() as base_url:
        baseline = anyio.run(executor_baseline, base_url)
        ray_figures = ray_job(base_url)
    write_result(
        "scale",
        {
            "calls": CALLS,
            "concurrency": CONCURRENCY,
            "executor_s": round(baseline, 3),
            **ray_figures,
            "ray_over_executor": ratio(ray_figures["ray_job_s"], baseline),
            "executor_calls_per_s": round(CALLS / baseline, 1),
            "ray_calls_per_s": round(CALLS / ray_figures["ray_job_s"], 1),
            "limiter_per_acquire": limiters,
            "redis_client_evalsha": clients,
            "note": (
                "2 cores shared by the LLM server, the driver and the actors: parity expected; "
                "ray_startup_s is apart from ray_job_s"
            ),
        },
    )


if __name__ == "__main__":
    main()
