"""How fast is atoll_testing's FakeLLMServer? Its ceiling, measured with raw keep-alive clients.

Each server runs in its own process; load comes from several client processes over raw
sockets (no HTTP library on the client side, so the client costs little). Figures:

* non-stream ``POST /v1/chat/completions`` (echo model), pipelined 1 deep and 16 deep;
* stream events/s with ``stream-200`` and ``stream-5000`` (OpenAI SSE chunks);
* the server process's CPU use during each run, to express throughput per core.

Baseline, side by side in the same run: a minimal aiohttp server answering the same path with
a constant, pre-encoded body (and a pre-encoded 5,000-event stream). Targets from issue 5:
8,000 req/s and 150,000 events/s on one core.

Run: ``uv run --no-sync python benchmarks/fake_server.py`` (needs the bench group for aiohttp
and psutil; without aiohttp the baseline is skipped).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Any

import psutil
from _common import ratio, write_result

DURATION = 3.0
CLIENTS = 3
TARGET_RPS = 8_000
TARGET_EPS = 150_000
ENV = dict(os.environ)


def _request(model: str, stream: bool) -> bytes:
    body = {"model": model, "messages": [{"role": "user", "content": "hello there world"}]}
    if stream:
        body["stream"] = True
    raw = json.dumps(body).encode()
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n%b" % (len(raw), raw)
    )


def _read_plain(sock: socket.socket, buf: bytearray, want: int) -> int:
    """Read ``want`` Content-Length responses; returns how many were 200."""
    ok = 0
    done = 0
    while done < want:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buf[:end]).lower()
            start = head.find(b"content-length: ") + 16
            stop = head.find(b"\r\n", start)
            length = int(head[start : stop if stop >= 0 else len(head)])
            if len(buf) >= end + 4 + length:
                ok += head.startswith(b"http/1.1 200")
                del buf[: end + 4 + length]
                done += 1
                continue
        data = sock.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed")
        buf += data
    return ok


def _read_streams(sock: socket.socket, want: int) -> int:
    """Read ``want`` chunked responses (each ends with the zero chunk); returns bytes read."""
    seen = 0
    total = 0
    tail = b""
    while seen < want:
        data = sock.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed")
        total += len(data)
        window = tail + data
        seen += window.count(b"\r\n0\r\n\r\n")
        tail = window[-8:]
    return total


def _client(port: int, payload: bytes, depth: int, stream: bool, stop_at: float, out: Any) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    batch = payload * depth
    buf = bytearray()
    done = 0
    nbytes = 0
    while time.perf_counter() < stop_at:
        sock.sendall(batch)
        if stream:
            nbytes += _read_streams(sock, depth)
            done += depth
        else:
            done += _read_plain(sock, buf, depth)
    sock.close()
    out.put((done, nbytes))


def _load(port: int, pid: int, model: str, stream: bool, depth: int) -> dict[str, float]:
    payload = _request(model, stream)
    # warm up (first connections, caches), then measure
    warm = mp.Queue()
    _client(port, payload, 1, stream, time.perf_counter() + 0.3, warm)
    warm.get()
    proc = psutil.Process(pid)
    out: Any = mp.Queue()
    cpu0 = sum(proc.cpu_times()[:2])
    start = time.perf_counter()
    stop_at = start + DURATION
    workers = [
        mp.Process(target=_client, args=(port, payload, depth, stream, stop_at, out))
        for _ in range(CLIENTS)
    ]
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    elapsed = time.perf_counter() - start
    for w in workers:
        w.join()
    cpu = sum(proc.cpu_times()[:2]) - cpu0
    done = sum(r[0] for r in results)
    return {
        "requests": done,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(done / elapsed),
        "server_cpu_cores": round(cpu / elapsed, 2),
        "requests_per_cpu_s": round(done / cpu) if cpu else 0,
        "mbytes_per_s": round(sum(r[1] for r in results) / elapsed / 1e6, 1),
    }


def _spawn(code: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=ENV
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, int(line.strip().rsplit(":", 1)[1].split("/")[0])


FAKE = """
from atoll_testing import FakeLLMServer
s = FakeLLMServer(log_limit=1000)
s.start()
print(s.url, flush=True)
s.serve_forever()
"""

AIOHTTP = textwrap.dedent(
    """
    import json, os, socket
    from aiohttp import web
    # Byte-identical bodies captured from the fake server: the baseline only skips generating them.
    bodies = json.load(open(os.environ["BENCH_BODIES"]))
    body = bodies["echo"].encode()
    events = {200: bodies["stream-200"].encode(), 5000: bodies["stream-5000"].encode()}
    async def chat(request):
        data = await request.json()
        if not data.get("stream"):
            return web.Response(body=body, content_type="application/json")
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(events[int(data["model"].split("-")[1])])
        await resp.write_eof()
        return resp
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    sock = socket.socket(); sock.bind(("127.0.0.1", 0))
    print("http://127.0.0.1:%d" % sock.getsockname()[1], flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None)
    """
)


def _capture_bodies(path: str) -> None:
    """Save the fake server's bodies so the baseline serves exactly the same bytes."""
    import httpx
    from atoll_testing import FakeLLMServer

    bodies: dict[str, str] = {}
    with FakeLLMServer().run_in_thread() as srv:
        for model in ("echo", "stream-200", "stream-5000"):
            body = {"model": model, "messages": [{"role": "user", "content": "hello there world"}]}
            body["stream"] = model != "echo"
            bodies[model] = httpx.post(srv.base_url + "/chat/completions", json=body).text
    with open(path, "w") as fh:
        json.dump(bodies, fh)


def _suite(code: str) -> dict[str, Any]:
    proc, port = _spawn(code)
    try:
        time.sleep(0.3)
        runs = {
            "plain_depth1": _load(port, proc.pid, "echo", False, 1),
            "plain_depth16": _load(port, proc.pid, "echo", False, 16),
            "stream200": _load(port, proc.pid, "stream-200", True, 1),
            "stream5000": _load(port, proc.pid, "stream-5000", True, 1),
        }
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    for name, events in (("stream200", 200), ("stream5000", 5000)):
        runs[name]["events_per_s"] = runs[name]["requests_per_s"] * events
        cpu = runs[name]["server_cpu_cores"]
        runs[name]["events_per_cpu_s"] = round(runs[name]["events_per_s"] / cpu) if cpu else 0
    return runs


def main() -> None:
    fake = _suite(FAKE)
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        baseline = None
    else:
        with tempfile.TemporaryDirectory() as tmp:
            ENV["BENCH_BODIES"] = os.path.join(tmp, "bodies.json")
            _capture_bodies(ENV["BENCH_BODIES"])
            baseline = _suite(AIOHTTP)
    best_rps = max(fake["plain_depth1"]["requests_per_s"], fake["plain_depth16"]["requests_per_s"])
    best_eps = fake["stream5000"]["events_per_s"]
    summary: dict[str, Any] = {
        "nonstream_requests_per_s": best_rps,
        "nonstream_requests_per_s_no_pipelining": fake["plain_depth1"]["requests_per_s"],
        "stream_events_per_s": best_eps,
        "ratio_vs_target_8000_rps": ratio(best_rps, TARGET_RPS),
        "ratio_vs_target_150000_eps": ratio(best_eps, TARGET_EPS),
    }
    if baseline is not None:
        for key in ("plain_depth1", "plain_depth16", "stream200", "stream5000"):
            field = "events_per_s" if key.startswith("stream") else "requests_per_s"
            summary[f"ratio_vs_aiohttp_{key}"] = ratio(fake[key][field], baseline[key][field])
    write_result(
        "fake_server",
        {
            "method": f"{CLIENTS} raw-socket client processes, keep-alive, {DURATION}s per run; "
            f"server alone in its own process; {os.cpu_count()} cores shared with the clients",
            "summary": summary,
            "atoll_fake_server": fake,
            "baseline_aiohttp_same_bytes_pre_encoded": baseline,
        },
    )


if __name__ == "__main__":
    main()
