"""Correctness under contention (issue 19): 8 processes, 2,000 calls, one limit in Redis.

Half the workers run on asyncio and half on trio, against one real redis-server. Every grant
carries the server's own time, so the windows are checked on the clock that scheduled them: in
no window of 2 s does the total exceed the limit, and the achieved rate is at least 90% of it.
These take about a minute together (the limit itself sets the pace) and run in `make test`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.core_generic._redis_server import RedisServer
from tests.core_generic.test_redis_limiters import most_in_any_window

WORKER = Path(__file__).with_name("_contention_worker.py")
PROCESSES, CALLS, INTERVAL = 8, 2000, 2.0


def run_workers(server: RedisServer, prefix: str, kind: str) -> list[tuple[float, float, float]]:
    start = time.time() + 3.0  # every worker imported and connected before the clock starts
    procs = [
        subprocess.Popen(
            [
                sys.executable, str(WORKER), server.url, prefix, kind, str(CALLS // PROCESSES),
                "4", "trio" if i % 2 else "asyncio", str(start), str(i),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]  # fmt: skip
    grants: list[tuple[float, float, float]] = []
    for proc in procs:
        out, err = proc.communicate(timeout=150)
        assert proc.returncode == 0, err
        grants += [tuple(json.loads(line)) for line in out.splitlines()]  # type: ignore[misc]
    return grants


def achieved_share(times: list[float], amounts: list[float], limit: float) -> float:
    """What was granted over what the limit allows, in the whole windows the run spanned.

    Windows of INTERVAL are laid from the first grant; the last, partly used window (the work
    simply ran out) is left out.
    """
    first = min(times)
    whole = int((max(times) - first) // INTERVAL)
    assert whole >= 5, "too short a run to measure a rate"
    granted = sum(a for t, a in zip(times, amounts, strict=True) if t < first + whole * INTERVAL)
    return granted / (whole * limit)


@pytest.mark.slow
def test_eight_processes_share_100_requests_per_2s(redis_server: RedisServer, prefix: str) -> None:
    grants = run_workers(redis_server, prefix, "requests")
    assert len(grants) == CALLS
    times = [g[0] for g in grants]
    assert most_in_any_window(times, [1.0] * CALLS, INTERVAL) <= 100
    share = achieved_share(times, [1.0] * CALLS, 100)
    print(f"requests: {share:.3f} of the limit over {max(times) - min(times):.1f}s")
    assert share >= 0.9


@pytest.mark.slow
def test_eight_processes_share_a_token_limit_with_wrong_estimates(
    redis_server: RedisServer, prefix: str
) -> None:
    grants = run_workers(redis_server, prefix, "tokens")
    assert len(grants) == CALLS
    times, estimates, actual = ([g[i] for g in grants] for i in range(3))
    assert sum(estimates) > 1.4 * sum(actual)  # the estimates were far off
    assert most_in_any_window(times, actual, INTERVAL) <= 6000
    # Without settling, the over-estimates would hold the rate to about 65% of the limit.
    share = achieved_share(times, actual, 6000)
    print(f"tokens: {share:.3f} of the limit over {max(times) - min(times):.1f}s")
    assert share >= 0.9
