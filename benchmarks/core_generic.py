"""atoll_generic: Executor and Pile against plain anyio / dict+list baselines, in one run.

Executor: 100,000 no-op events (created before the clock starts) at concurrency 256, against
(a) a bare anyio TaskGroup + CapacityLimiter spawning one task per item and (b) a fixed pool of
256 worker tasks reading one memory object stream. Target: at most 3x (b) per event.

Pile: include / get / pop of 100,000 elements against a minimal dict+list class. Target: 3x.

Memory: peak RSS growth while 100,000 events flow through an Executor with ``retention=1000``,
generated on the fly, measured in a fresh subprocess (``VmHWM`` minus the starting ``VmRSS``).
Target: under 50 MB.

Usage: ``uv run --no-sync python benchmarks/core_generic.py [--quick]``.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
from _common import ratio, write_result
from atoll_generic import Element, Event, Executor, Pile

CONCURRENCY = 256
QUEUE = 1024


class Noop(Event):
    async def invoke(self) -> None:
        return None


async def _noop(_: object) -> None:
    return None


# ---------------------------------------------------------------------------- executor
async def bench_executor(n: int) -> float:
    events = [Noop() for _ in range(n)]
    gc.collect()
    start = time.perf_counter()
    async with Executor(max_concurrency=CONCURRENCY, queue_size=QUEUE, retention=1000) as ex:
        for ev in events:
            await ex.submit(ev)
        await ex.join()
    elapsed = time.perf_counter() - start
    assert sum(ex.counts.values()) == n
    return elapsed


async def bench_spawn(n: int) -> float:
    items = [object() for _ in range(n)]
    gc.collect()
    start = time.perf_counter()
    limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def one(item: object) -> None:
        async with limiter:
            await _noop(item)

    async with anyio.create_task_group() as tg:
        for item in items:
            tg.start_soon(one, item)
    return time.perf_counter() - start


async def bench_pool(n: int) -> float:
    items = [object() for _ in range(n)]
    gc.collect()
    start = time.perf_counter()
    send, receive = anyio.create_memory_object_stream[object](QUEUE)

    async def worker() -> None:
        async for item in receive:
            await _noop(item)

    async with anyio.create_task_group() as tg:
        for _ in range(CONCURRENCY):
            tg.start_soon(worker)
        async with send:
            for item in items:
                await send.send(item)
    receive.close()
    return time.perf_counter() - start


# ---------------------------------------------------------------------------- pile
class DictListPile:
    """The baseline: a dict for lookup plus a list for order, no locks, no checks."""

    def __init__(self) -> None:
        self.items: dict[uuid.UUID, Element] = {}
        self.order: list[uuid.UUID] = []

    def include(self, item: Element) -> None:
        if item.id not in self.items:
            self.items[item.id] = item
            self.order.append(item.id)

    def get(self, key: uuid.UUID) -> Element:
        return self.items[key]

    def pop(self, key: uuid.UUID) -> Element:
        item = self.items.pop(key)
        if self.order and self.order[-1] == key:
            self.order.pop()
        else:
            self.order.remove(key)
        return item


def bench_pile_ops(n: int) -> dict[str, dict[str, float]]:
    elements = [Element() for _ in range(n)]
    keys = [e.id for e in elements]
    out: dict[str, dict[str, float]] = {}
    for name, factory in (("pile", Pile), ("dict_list", DictListPile)):
        pile: Any = factory()
        gc.collect()
        gc.disable()  # as timeit does: collector pauses are noise for these microsecond ops
        t0 = time.perf_counter()
        for e in elements:
            pile.include(e)
        t1 = time.perf_counter()
        for k in keys:
            pile.get(k)
        t2 = time.perf_counter()
        for k in reversed(keys):  # newest first: the baseline's list.pop() fast path
            pile.pop(k)
        t3 = time.perf_counter()
        gc.enable()
        out[name] = {
            "include_us": (t1 - t0) / n * 1e6,
            "get_us": (t2 - t1) / n * 1e6,
            "pop_us": (t3 - t2) / n * 1e6,
        }
    return out


# ---------------------------------------------------------------------------- memory
async def _rss_run(n: int, retention: int) -> None:
    async with Executor(max_concurrency=CONCURRENCY, queue_size=QUEUE, retention=retention) as ex:
        for _ in range(n):
            await ex.submit(Noop())
        await ex.join()
    assert sum(ex.counts.values()) == n


def _status_kb(field: str) -> int:
    # VmHWM is this process's own peak (ru_maxrss survives exec and would report the parent's).
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def rss_child(n: int, retention: int) -> None:
    gc.collect()
    before = _status_kb("VmRSS")
    anyio.run(_rss_run, n, retention)
    print(json.dumps({"before_kb": before, "peak_kb": _status_kb("VmHWM")}))


def bench_rss(n: int, retention: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(n), str(retention)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "events": n,
        "retention": retention,
        "rss_before_mb": round(data["before_kb"] / 1024, 1),
        "rss_peak_mb": round(data["peak_kb"] / 1024, 1),
        "rss_growth_mb": round((data["peak_kb"] - data["before_kb"]) / 1024, 1),
    }


# ---------------------------------------------------------------------------- main
def main(quick: bool) -> None:
    n = 20_000 if quick else 100_000
    spawn_n = 20_000
    rounds = 2
    results: dict[str, Any] = {
        "events": n,
        "concurrency": CONCURRENCY,
        "queue_size": QUEUE,
        "method": f"best of {rounds} interleaved rounds (the machine is shared: minima are the "
        "least disturbed figures); spawn-per-item measured once at 20,000 items",
    }
    executor: dict[str, Any] = {}
    for backend in ("asyncio", "trio"):
        pool_runs: list[float] = []
        ex_runs: list[float] = []
        for _ in range(rounds):  # interleaved so load changes hit both sides alike
            pool_runs.append(anyio.run(bench_pool, n, backend=backend) / n * 1e6)
            ex_runs.append(anyio.run(bench_executor, n, backend=backend) / n * 1e6)
        spawn_us = anyio.run(bench_spawn, spawn_n, backend=backend) / spawn_n * 1e6
        ex_us, pool_us = min(ex_runs), min(pool_runs)
        executor[backend] = {
            "executor_us_per_event": round(ex_us, 2),
            "worker_pool_us_per_item": round(pool_us, 2),
            f"spawn_per_item_us_per_item_at_{spawn_n}": round(spawn_us, 2),
            "executor_vs_worker_pool": ratio(ex_us, pool_us),
            "executor_vs_spawn_per_item": ratio(ex_us, spawn_us),
            "all_rounds_us": {
                "executor": [round(x, 2) for x in ex_runs],
                "worker_pool": [round(x, 2) for x in pool_runs],
            },
            "target_executor_vs_worker_pool_max": 3.0,
        }
    results["executor"] = executor
    runs = [bench_pile_ops(n) for _ in range(rounds)]
    pile = {
        side: {op: min(r[side][op] for r in runs) for op in runs[0][side]}
        for side in ("pile", "dict_list")
    }
    results["pile"] = {
        "elements": n,
        **{k: {op: round(v, 3) for op, v in d.items()} for k, d in pile.items()},
        "ratios_pile_vs_dict_list": {
            op: ratio(pile["pile"][op], pile["dict_list"][op]) for op in pile["pile"]
        },
        "target_max_ratio": 3.0,
    }
    results["memory"] = {**bench_rss(n, 1000), "target_growth_mb_max": 50}
    write_result("core_generic", results)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--rss-child":
        rss_child(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main(quick="--quick" in sys.argv)
