"""Observability benchmarks (issue 21): what call events, callbacks and metrics cost per call.

CPU time per call of a tight loop over an in-memory ``AsyncTransport`` (no sockets, no server:
the figure is the Client's own work), one process per contender, rounds interleaved so drift on
a busy machine hits every contender alike; each process keeps its cheapest batch of calls and
the best round wins (on a shared machine other work only ever adds time):

- ``none``: no callback, no metrics SDK (the default; it must cost nothing);
- ``sync``: one sync callback that does nothing;
- ``async``: one async callback that does nothing (queued, drained by the Client's task);
- ``jsonl``: a ``JsonlSink`` writing every event to a file;
- ``metrics``: no callback, an OpenTelemetry SDK ``MeterProvider`` with an in-memory reader.

With ``--base REV`` (default: the merge base with ``main`` when it differs from HEAD) the
``none`` contender also runs on that revision's sources (``git archive``), side by side: the
ratio ``none / base`` is the cost of this work with no callback registered.

CPU time on a machine shared by many busy processes still wanders by several percent, more
than the 1% this work may add. So, when valgrind is installed, every contender's instructions
per call are also counted (callgrind; deterministic): two runs differing only in the number
of calls, whose difference divided by the extra calls is the cost of one call.

Usage: ``python observability.py [--calls N] [--rounds N] [--base REV | --no-base]
[--no-instructions]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from _common import ratio, write_result

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONTENDERS = ("none", "sync", "async", "jsonl", "metrics")
STREAM_EVENTS = 50
BATCHES = 20

CHAT_BODY = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "echo",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hello benchmark"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4},
    }
).encode()


def _stream_body(events: int) -> bytes:
    chunks = [
        b'data: {"id":"c","object":"chat.completion.chunk","model":"echo","choices":[{"index":0,'
        b'"delta":{"content":"tok%d "},"finish_reason":null}]}\n\n' % i
        for i in range(events)
    ]
    chunks.append(
        b'data: {"id":"c","object":"chat.completion.chunk","model":"echo","choices":[{"index":0,'
        b'"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":%d}}'
        b"\n\ndata: [DONE]\n\n" % events
    )
    return b"".join(chunks)


# ---------------------------------------------------------------- one contender, in a child


def _memory_transport() -> Any:
    from atoll_wire import AsyncTransport, HttpRequest, HttpResponse

    stream_body = _stream_body(STREAM_EVENTS)

    class MemoryTransport(AsyncTransport):
        async def send(self, request: HttpRequest) -> HttpResponse:
            if b'"stream":true' in request.body:

                async def pieces() -> AsyncIterator[bytes]:
                    for start in range(0, len(stream_body), 4096):
                        yield stream_body[start : start + 4096]

                return HttpResponse(200, {"content-type": "text/event-stream"}, request, pieces())
            return HttpResponse(200, {"content-type": "application/json"}, request, CHAT_BODY)

        async def aclose(self) -> None:
            return None

    return MemoryTransport()


def _client(contender: str) -> Any:
    from atoll_dialects import Client, RetryPolicy

    options: dict[str, Any] = {}
    if contender == "sync":
        options["callbacks"] = [lambda event: None]
    elif contender == "async":

        async def noop(event: object) -> None:
            return None

        options["callbacks"] = [noop]
    elif contender == "jsonl":
        from atoll_dialects import JsonlSink

        path = os.path.join(tempfile.mkdtemp(prefix="atoll-bench-"), "events.jsonl")
        options["callbacks"] = [JsonlSink(path)]
    elif contender == "metrics":
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        options["meter_provider"] = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return Client(
        "echo",
        base_url="http://127.0.0.1:9/v1",
        transport=_memory_transport(),
        retry=RetryPolicy.none(),
        **options,
    )


async def _chats(client: Any, count: int) -> None:
    for _ in range(count):
        await client.chat("hello benchmark")


async def _streams(client: Any, count: int) -> None:
    for _ in range(count):
        async with client.stream("go") as stream:
            async for _event in stream:
                pass


async def _measure(contender: str, calls: int, stream_calls: int) -> dict[str, float]:
    chat_batch = max(calls // BATCHES, 1)
    stream_batch = max(stream_calls // BATCHES, 1)
    async with _client(contender) as client:
        await _chats(client, 200)  # warm up
        # The cheapest batch: on a shared machine, other work only ever adds time.
        chat = stream = float("inf")
        for _ in range(BATCHES):
            cpu0 = time.process_time()
            await _chats(client, chat_batch)
            chat = min(chat, (time.process_time() - cpu0) / chat_batch)
            cpu0 = time.process_time()
            await _streams(client, stream_batch)
            stream = min(stream, (time.process_time() - cpu0) / stream_batch)
    return {"chat_cpu_us": chat * 1e6, "stream_cpu_us": stream * 1e6}


def _child(contender: str, calls: int, stream_calls: int) -> None:
    import anyio

    print(json.dumps(anyio.run(_measure, contender, calls, stream_calls)))


async def _only_calls(contender: str, kind: str, count: int) -> None:
    """Warm up, then ``count`` calls of one kind and nothing else (counted under callgrind)."""
    async with _client(contender) as client:
        await _chats(client, 50)
        await _streams(client, 2)
        await (_chats if kind == "chat" else _streams)(client, count)


def _instructions(contender: str, kind: str, base: Path | None) -> float:
    """Instructions per call: (run with many calls - run with few) / the extra calls."""
    few, many = (20, 420) if kind == "chat" else (5, 65)
    env = dict(os.environ, PYTHONHASHSEED="0")
    if base is not None:
        env["PYTHONPATH"] = _sources(base)
    counts: list[int] = []
    for count in (few, many):
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
             __file__, "--child-ir", contender, kind, str(count)],
            check=True, capture_output=True, text=True, env=env, cwd=HERE,
        )  # fmt: skip
        found = re.search(r"Collected : (\d+)", done.stderr)
        assert found is not None, done.stderr[-2000:]
        counts.append(int(found.group(1)))
    return (counts[1] - counts[0]) / (many - few)


# ---------------------------------------------------------------- the parent


def _sources(base: Path | None) -> str:
    if base is None:
        return ""
    return os.pathsep.join(str(p) for p in sorted(base.glob("packages/*/src")))


def _run(contender: str, calls: int, stream_calls: int, base: Path | None) -> dict[str, float]:
    env = dict(os.environ)
    if base is not None:
        env["PYTHONPATH"] = _sources(base)
    done = subprocess.run(
        [sys.executable, __file__, "--child", contender, str(calls), str(stream_calls)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _extract(rev: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix="atoll-base-"))
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "packages"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with tempfile.TemporaryFile() as handle:
        handle.write(archive.stdout)
        handle.seek(0)
        with tarfile.open(fileobj=handle) as tar:
            tar.extractall(target, filter="data")
    return target


def _default_base() -> str | None:
    try:
        base = subprocess.run(
            ["git", "merge-base", "HEAD", "main"], cwd=ROOT, check=True, capture_output=True
        ).stdout.decode()
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return None
    return base.strip() if base.strip() != head.strip() else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--stream-calls", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base", default=None)
    parser.add_argument("--no-base", action="store_true")
    parser.add_argument("--no-instructions", action="store_true")
    args = parser.parse_args(argv)
    rev = None if args.no_base else (args.base or _default_base())
    base = _extract(rev) if rev else None
    best: dict[str, dict[str, float]] = {}
    names = [*CONTENDERS, *(["base"] if base is not None else [])]
    for _ in range(args.rounds):
        for name in names:
            figures = _run(
                "none" if name == "base" else name,
                args.calls,
                args.stream_calls,
                base if name == "base" else None,
            )
            kept = best.setdefault(name, figures)
            for key, value in figures.items():
                kept[key] = min(kept[key], value)
    reference = best["none"]
    ratios = {
        name: {
            key: ratio(value, reference[key]) for key, value in figures.items() if key in reference
        }
        for name, figures in best.items()
        if name != "none"
    }
    if base is not None:
        ratios["none_vs_base"] = {
            key: ratio(reference[key], best["base"][key]) for key in reference
        }
    instructions: dict[str, dict[str, float]] = {}
    if not args.no_instructions and shutil.which("valgrind"):
        for name in names:
            instructions[name] = {
                f"{kind}_instructions": _instructions(
                    "none" if name == "base" else name, kind, base if name == "base" else None
                )
                for kind in ("chat", "stream")
            }
    instruction_ratios = {
        name: {key: ratio(value, instructions["none"][key]) for key, value in figures.items()}
        for name, figures in instructions.items()
        if name != "none"
    }
    if "base" in instructions:
        instruction_ratios["none_vs_base"] = {
            key: ratio(value, instructions["base"][key])
            for key, value in instructions["none"].items()
        }
    write_result(
        "observability",
        {
            "what": "CPU microseconds per call, in-memory transport, best of rounds",
            "calls": args.calls,
            "stream_calls": args.stream_calls,
            "stream_events": STREAM_EVENTS,
            "rounds": args.rounds,
            "base_revision": rev,
            "cpu_us": {k: {m: round(v, 2) for m, v in f.items()} for k, f in best.items()},
            "ratios_vs_none": ratios,
            "instructions_per_call": {
                k: {m: round(v) for m, v in f.items()} for k, f in instructions.items()
            },
            "instruction_ratios_vs_none": instruction_ratios,
        },
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-ir":
        import anyio

        anyio.run(_only_calls, sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit(main(sys.argv[1:]))
