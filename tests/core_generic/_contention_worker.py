"""One worker process of the contention test: reserve (and settle) through a shared limiter.

Usage: ``python _contention_worker.py URL PREFIX KIND CALLS TASKS BACKEND START SEED``. Waits
until the UNIX time START (so the workers' start-up cost is not measured), then makes CALLS
reservations from TASKS concurrent tasks and prints one JSON line per grant: the server's grant
time, the estimate reserved and the actual amount settled.
"""

from __future__ import annotations

import json
import random
import sys
import time

import anyio
from atoll_generic import RedisBackend, RequestLimiter, TokenLimiter

REQUEST_LIMIT, TOKEN_LIMIT, INTERVAL = 100, 6000, 2.0


async def main(url: str, prefix: str, kind: str, calls: int, tasks: int, start: float, seed: int):
    rng = random.Random(seed)
    grants: list[tuple[float, float, float]] = []
    async with RedisBackend(url, prefix=prefix) as redis:
        if kind == "requests":
            limiter = RequestLimiter(REQUEST_LIMIT, INTERVAL, name="shared", backend=redis)
        else:
            limiter = TokenLimiter(TOKEN_LIMIT, INTERVAL, name="shared", backend=redis)
        left = calls
        await anyio.sleep(max(0.0, start - time.time()))

        async def caller() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                estimate = 1.0 if kind == "requests" else float(rng.randint(40, 80))
                # Actual usage differs from the estimate: 30% to 100% of it.
                actual = 1.0 if kind == "requests" else float(round(estimate * rng.uniform(0.3, 1)))
                reservation = await limiter.reserve(estimate)
                assert reservation.granted_at is not None
                await anyio.sleep(0.001)  # the call
                await reservation.asettle(actual)
                grants.append((reservation.granted_at, estimate, actual))

        async with anyio.create_task_group() as tg:
            for _ in range(tasks):
                tg.start_soon(caller)
    for grant in grants:
        print(json.dumps(grant))


if __name__ == "__main__":
    url, prefix, kind, calls, tasks, backend, start, seed = sys.argv[1:9]
    anyio.run(
        main, url, prefix, kind, int(calls), int(tasks), float(start), int(seed), backend=backend
    )
