"""Transports side by side against atoll_testing's FakeLLMServer (issue 6).

Two loads, each client alone in this process on asyncio (the server runs in its own process):

* plain: 2,000 non-stream ``POST /v1/chat/completions`` (model ``echo``) at concurrency 64;
* streams: 200 concurrent streams of model ``stream-200`` (203 SSE events each).

Clients: atoll_curl (asyncio, and trio for reference), atoll_httpx (on httpx and on httpx2),
raw ``httpx.AsyncClient``, raw ``httpx2.AsyncClient``, raw aiohttp, and a bare pycurl
``CurlMulti`` loop on asyncio (``loop.add_reader`` per socket, futures per transfer: the
fastest thing one can write in Python on libcurl, with none of a transport's duties).

Reported per run: wall seconds, requests/s, events/s, client CPU seconds per request (this
process's CPU time), and the server's CPU use in cores: when the server sits near one full core
it, not the client, bounds throughput, and CPU per request is the fairer comparison.

Targets: atoll_curl >= 0.7x the bare pycurl loop and >= 10x raw httpx; atoll_httpx >= 0.9x
the raw client it wraps. Run: ``uv run --no-sync python benchmarks/transports.py`` (bench group
for aiohttp and psutil: ``uv sync --all-packages --all-extras --group bench``).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import psutil
import pycurl
from _common import ratio, write_result

PLAIN_REQUESTS = 2_000
CONCURRENCY = 64
STREAMS = 200
WARMUP = 128
MODEL_EVENTS = 200
MAX_CONNECTIONS = 256
ROUNDS = 5
FAST_CLIENT_S = 3.0
PLAIN_BODY = json.dumps(
    {"model": "echo", "messages": [{"role": "user", "content": "hello there world"}]}
).encode()
STREAM_BODY = json.dumps(
    {
        "model": f"stream-{MODEL_EVENTS}",
        "stream": True,
        "messages": [{"role": "user", "content": "hello there world"}],
    }
).encode()
HEADERS = {"content-type": "application/json", "authorization": "Bearer bench"}

SERVER = """
from atoll_testing import FakeLLMServer
s = FakeLLMServer(log_limit=100)
s.start()
print(s.url, flush=True)
s.serve_forever()
"""


class Events:
    """Counts SSE events (blank-line terminators) across chunk boundaries."""

    __slots__ = ("count", "last")

    def __init__(self) -> None:
        self.count = 0
        self.last = b""

    def feed(self, chunk: bytes) -> None:
        self.count += (self.last + chunk[:1]).count(b"\n\n") + chunk.count(b"\n\n")
        self.last = chunk[-1:]


# A client is: setup() -> (plain(url) -> bytes, stream(url) -> events, teardown()).
Plain = Callable[[], Awaitable[int]]
Stream = Callable[[], Awaitable[int]]
Client = tuple[Plain, Stream, Callable[[], Awaitable[None]]]


# ---------------------------------------------------------------- atoll transports
async def atoll_client(transport: Any, url: str) -> Client:
    from atoll_wire import HttpRequest

    plain_request = HttpRequest("POST", url, HEADERS, PLAIN_BODY)
    stream_request = HttpRequest("POST", url, HEADERS, STREAM_BODY)

    async def plain() -> int:
        response = await transport.send(plain_request)
        body = await response.aread()
        assert response.status == 200
        return len(body)

    async def stream() -> int:
        events = Events()
        async with await transport.send(stream_request) as response:
            async for chunk in response.aiter_bytes():
                events.feed(chunk)
        return events.count

    return plain, stream, transport.aclose


async def atoll_curl(url: str) -> Client:
    from atoll_curl import CurlTransport

    return await atoll_client(CurlTransport(max_connections=MAX_CONNECTIONS, trust_env=False), url)


async def atoll_httpx_on(url: str, backend: str) -> Client:
    from atoll_httpx import HttpxTransport

    transport = HttpxTransport(max_connections=MAX_CONNECTIONS, trust_env=False, backend=backend)  # pyright: ignore[reportArgumentType]
    return await atoll_client(transport, url)


# ---------------------------------------------------------------- raw clients
async def raw_httpx_module(module_name: str, url: str) -> Client:
    module: Any = __import__(module_name)
    limits = module.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    client = module.AsyncClient(limits=limits, timeout=60.0, trust_env=False)

    async def plain() -> int:
        response = await client.post(url, content=PLAIN_BODY, headers=HEADERS)
        assert response.status_code == 200
        return len(response.content)

    async def stream() -> int:
        events = Events()
        async with client.stream("POST", url, content=STREAM_BODY, headers=HEADERS) as response:
            async for chunk in response.aiter_bytes():
                events.feed(chunk)
        return events.count

    return plain, stream, client.aclose


async def raw_aiohttp(url: str) -> Client:
    import aiohttp

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS), trust_env=False
    )

    async def plain() -> int:
        async with session.post(url, data=PLAIN_BODY, headers=HEADERS) as response:
            body = await response.read()
            assert response.status == 200
            return len(body)

    async def stream() -> int:
        events = Events()
        async with session.post(url, data=STREAM_BODY, headers=HEADERS) as response:
            async for chunk in response.content.iter_any():
                events.feed(chunk)
        return events.count

    return plain, stream, session.close


# ---------------------------------------------------------------- bare pycurl on asyncio
class BareMulti:
    """The minimal CurlMulti loop: add_reader/add_writer per socket, call_later for the timer."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_SOCKETFUNCTION, self._socket)
        self.multi.setopt(pycurl.M_TIMERFUNCTION, self._timer)
        self.multi.setopt(pycurl.M_MAXCONNECTS, MAX_CONNECTIONS)
        self.timer: asyncio.TimerHandle | None = None
        self.futures: dict[pycurl.Curl, asyncio.Future[None]] = {}
        self.watched: dict[int, int] = {}
        self.idle: list[pycurl.Curl] = []

    def _socket(self, what: int, fd: int, multi: object, data: object) -> None:
        old = self.watched.pop(fd, 0)
        if old & pycurl.POLL_IN:
            self.loop.remove_reader(fd)
        if old & pycurl.POLL_OUT:
            self.loop.remove_writer(fd)
        if what == pycurl.POLL_REMOVE:
            return
        if what & pycurl.POLL_IN:
            self.loop.add_reader(fd, self._act, fd, pycurl.CSELECT_IN)
        if what & pycurl.POLL_OUT:
            self.loop.add_writer(fd, self._act, fd, pycurl.CSELECT_OUT)
        self.watched[fd] = what

    def _timer(self, ms: int) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if ms >= 0:
            self.timer = self.loop.call_later(ms / 1000, self._act, pycurl.SOCKET_TIMEOUT, 0)

    def _act(self, fd: int, flags: int) -> None:
        self.multi.socket_action(fd, flags)
        while True:
            queued, ok, failed = self.multi.info_read()
            for easy in ok:
                self.multi.remove_handle(easy)
                self.futures.pop(easy).set_result(None)
            for easy, _code, message in failed:
                self.multi.remove_handle(easy)
                self.futures.pop(easy).set_exception(RuntimeError(message))
            if not queued:
                return

    async def perform(self, url: str, body: bytes, write: Callable[[bytes], object]) -> None:
        easy = self.idle.pop() if self.idle else pycurl.Curl()
        easy.setopt(pycurl.URL, url)
        easy.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in HEADERS.items()])
        easy.setopt(pycurl.POSTFIELDS, body)
        easy.setopt(pycurl.WRITEFUNCTION, write)
        future = self.loop.create_future()
        self.futures[easy] = future
        self.multi.add_handle(easy)
        try:
            await future
        finally:
            self.idle.append(easy)


async def bare_pycurl(url: str) -> Client:
    bare = BareMulti()

    async def plain() -> int:
        chunks: list[bytes] = []
        await bare.perform(url, PLAIN_BODY, chunks.append)
        return len(b"".join(chunks))

    async def stream() -> int:
        events = Events()
        await bare.perform(url, STREAM_BODY, events.feed)
        return events.count

    async def close() -> None:
        bare.multi.close()

    return plain, stream, close


# ---------------------------------------------------------------- harness
class Meter:
    """Wall time, this process's CPU time and the server's CPU time over one run."""

    def __init__(self, server: psutil.Process) -> None:
        self.server = server

    def __enter__(self) -> Meter:
        gc.collect()
        self.wall0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.server0 = sum(self.server.cpu_times()[:2])
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0
        self.server_cpu = sum(self.server.cpu_times()[:2]) - self.server0


async def run_plain(plain: Plain, total: int, concurrency: int) -> int:
    sizes: list[int] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            sizes.append(await plain())

    async with anyio.create_task_group() as tg:
        for i in range(concurrency):
            tg.start_soon(worker, total // concurrency + (i < total % concurrency))
    assert len(sizes) == total and min(sizes) > 0
    return total


async def run_streams(stream: Stream, count: int) -> int:
    counts: list[int] = []

    async def one() -> None:
        counts.append(await stream())

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one)
    assert len(counts) == count and min(counts) >= MODEL_EVENTS, counts[:3]
    return sum(counts)


async def measure(
    make: Callable[[str], Awaitable[Client]], url: str, server: psutil.Process
) -> dict[str, Any]:
    plain, stream, close = await make(url)
    try:
        await run_plain(plain, WARMUP, CONCURRENCY)  # open the connections first
        with Meter(server) as m:
            await run_plain(plain, PLAIN_REQUESTS, CONCURRENCY)
        plain_stats = {
            "seconds": round(m.wall, 3),
            "requests_per_s": round(PLAIN_REQUESTS / m.wall),
            "client_cpu_s_per_request": round(m.cpu / PLAIN_REQUESTS, 7),
            "server_cpu_cores": round(m.server_cpu / m.wall, 2),
        }
        with Meter(server) as m:
            events = await run_streams(stream, STREAMS)
        stream_stats = {
            "seconds": round(m.wall, 3),
            "events": events,
            "events_per_s": round(events / m.wall),
            "client_cpu_s_per_stream": round(m.cpu / STREAMS, 6),
            "client_cpu_us_per_event": round(m.cpu / events * 1e6, 2),
            "server_cpu_cores": round(m.server_cpu / m.wall, 2),
        }
    finally:
        await close()
    return {"plain": plain_stats, "streams": stream_stats}


def clients() -> dict[str, tuple[Callable[[str], Awaitable[Client]], str]]:
    """Name -> (factory, anyio backend). Clients whose package is missing are left out.

    ``BENCH_CLIENTS=atoll_curl,bare_pycurl_multi`` narrows the run (for quick comparisons).
    """
    found = _all_clients()
    only = [name for name in os.environ.get("BENCH_CLIENTS", "").split(",") if name]
    return {name: found[name] for name in only if name in found} if only else found


def _all_clients() -> dict[str, tuple[Callable[[str], Awaitable[Client]], str]]:
    found: dict[str, tuple[Callable[[str], Awaitable[Client]], str]] = {
        "bare_pycurl_multi": (bare_pycurl, "asyncio"),
        "atoll_curl": (atoll_curl, "asyncio"),
        "atoll_curl_trio": (atoll_curl, "trio"),
    }
    try:
        import atoll_httpx

        if "HttpxTransport" in atoll_httpx.__all__:
            found["atoll_httpx"] = (lambda url: atoll_httpx_on(url, "httpx"), "asyncio")
            found["atoll_httpx_on_httpx2"] = (lambda url: atoll_httpx_on(url, "httpx2"), "asyncio")
    except ImportError:
        pass
    for module in ("httpx", "httpx2"):
        try:
            __import__(module)
        except ImportError:
            continue
        found[f"raw_{module}"] = (lambda url, m=module: raw_httpx_module(m, url), "asyncio")
    try:
        import aiohttp  # noqa: F401

        found["raw_aiohttp"] = (raw_aiohttp, "asyncio")
    except ImportError:
        pass
    return found


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    return proc, f"{base}/v1/chat/completions"


def summarise(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def rps(name: str) -> float:
        return float(results[name]["plain"]["requests_per_s"]) if name in results else 0.0

    def eps(name: str) -> float:
        return float(results[name]["streams"]["events_per_s"]) if name in results else 0.0

    def cpu(name: str) -> float:
        return float(results[name]["plain"]["client_cpu_s_per_request"]) if name in results else 0.0

    # The server runs on one core: near 1.0 it, not the client, would set the pace.
    busiest = max(
        max(run["plain"]["server_cpu_cores"], run["streams"]["server_cpu_cores"])
        for run in results.values()
    )
    summary: dict[str, Any] = {
        "server_cpu_cores_max": busiest,
        "server_is_bottleneck": busiest >= 0.9,
    }
    pairs = [
        ("atoll_curl", "bare_pycurl_multi", 0.7),
        ("atoll_curl", "raw_httpx", 10.0),
        ("atoll_httpx", "raw_httpx", 0.9),
        ("atoll_httpx_on_httpx2", "raw_httpx2", 0.9),
    ]
    for ours, base, target in pairs:
        if ours in results and base in results:
            summary[f"{ours}_vs_{base}"] = {
                "target": target,
                "requests_per_s": ratio(rps(ours), rps(base)),
                "events_per_s": ratio(eps(ours), eps(base)),
                # >1 means ours spends less CPU per request than the baseline
                "cpu_per_request": ratio(cpu(base), cpu(ours)),
            }
    return summary


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per load, the run with the highest throughput (the least disturbed by other work)."""
    plain = max((r["plain"] for r in runs), key=lambda p: p["requests_per_s"])
    streams = max((r["streams"] for r in runs), key=lambda p: p["events_per_s"])
    return {"runs": len(runs), "plain": plain, "streams": streams}


def report(name: str, run: dict[str, Any], took: float) -> None:
    plain, streams = run["plain"], run["streams"]
    print(
        f"{name:24} plain {plain['requests_per_s']:>7} req/s "
        f"{plain['client_cpu_s_per_request'] * 1e6:7.1f} us/req "
        f"(server {plain['server_cpu_cores']:.2f} cores) | streams "
        f"{streams['events_per_s']:>8} ev/s (server {streams['server_cpu_cores']:.2f}) "
        f"[{took:.1f}s]",
        file=sys.stderr,
    )


def main() -> None:
    proc, url = start_server()
    server = psutil.Process(proc.pid)
    runs: dict[str, list[dict[str, Any]]] = {}
    chosen = clients()
    try:
        time.sleep(0.3)
        # Round-robin, so that a burst of load from elsewhere on the machine hits every client
        # alike; clients that take more than FAST_CLIENT_S per round are measured once.
        for round_ in range(ROUNDS):
            for name, (make, backend) in chosen.items():
                if round_ and runs[name][0]["seconds_total"] > FAST_CLIENT_S:
                    continue
                started = time.perf_counter()
                run = anyio.run(measure, make, url, server, backend=backend)
                run["seconds_total"] = round(time.perf_counter() - started, 2)
                runs.setdefault(name, []).append(run)
                report(name, run, run["seconds_total"])
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    results = {name: best(client_runs) for name, client_runs in runs.items()}
    write_result(
        "transports",
        {
            "method": (
                f"FakeLLMServer in its own process; each client alone in this process on "
                f"asyncio (atoll_curl_trio on trio); plain: {PLAIN_REQUESTS} non-stream "
                f"requests at concurrency {CONCURRENCY} after {WARMUP} warm-up; streams: "
                f"{STREAMS} concurrent streams of {MODEL_EVENTS} events; best of {ROUNDS} "
                f"round-robin rounds for clients faster than {FAST_CLIENT_S} s a round, one "
                f"run otherwise; {os.cpu_count()} cores shared by client and server (and "
                "anything else running)"
            ),
            "summary": summarise(results),
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
