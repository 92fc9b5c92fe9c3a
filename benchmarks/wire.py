"""atoll_wire benchmarks: SSE decoding, bytes to typed chunks, and import time.

1. SSE: a 5,000-event OpenAI chat stream fed in random-sized chunks to atoll_wire.SSEDecoder,
   httpx-sse (its public EventSource over an httpx.Response, and its bare line+event decoders)
   and the openai SDK's SSEDecoder. Events/s; target: atoll >= 2x the faster baseline.
2. Bytes -> typed chunk: SSE decode + ChatCompletionChunk decode (msgspec) vs the openai SDK's
   path (its SSEDecoder, json.loads, then construct_type into its pydantic ChatCompletionChunk,
   which is what openai.Stream does by default) and vs pydantic model_validate. Target: >= 3x.
3. Import: ``python -X importtime -c "import atoll_wire"`` vs ``import msgspec``, both in fresh
   processes, median of several runs. Target: atoll_wire <= 1.5x msgspec.

Timing uses CPU time of this process (time.process_time), best of several interleaved rounds:
the benchmark machine is shared, and wall-clock figures there swing by 2x between runs.

Run: uv run --no-sync python benchmarks/wire.py   (needs the bench group: httpx-sse)
"""

from __future__ import annotations

import codecs
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from _common import ratio, write_result

N_EVENTS = 5_000
REPEATS = 15
SEED = 20251123


def make_stream(n: int = N_EVENTS) -> bytes:
    """A realistic OpenAI chat stream of n events: n-2 chunks (role first), usage, [DONE]."""
    rng = random.Random(SEED)
    words = [
        "the",
        " quick",
        " brown",
        " fox",
        " jumps",
        " over",
        " lazy",
        " dogs",
        ",",
        " é",
        "🌊",
    ]
    out: list[bytes] = []
    base = {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion.chunk",
        "created": 1741570283,
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "system_fingerprint": "fp_eb9dce56a8",
    }
    for i in range(n - 2):
        if i == 0:
            delta: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        else:
            delta = {"content": rng.choice(words)}
        finish = "stop" if i == n - 3 else None
        chunk = {
            **base,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None,
        }
        out.append(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")
    usage = {
        **base,
        "choices": [],
        "usage": {
            "prompt_tokens": 19,
            "completion_tokens": n,
            "total_tokens": n + 19,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    }
    out.append(b"data: " + json.dumps(usage, separators=(",", ":")).encode() + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def split(body: bytes, low: int, high: int) -> list[bytes]:
    rng = random.Random(SEED + low)
    chunks: list[bytes] = []
    pos = 0
    while pos < len(body):
        step = rng.randint(low, high)
        chunks.append(body[pos : pos + step])
        pos += step
    return chunks


# ---------------------------------------------------------------- SSE decoders


def atoll_sse(chunks: list[bytes]) -> int:
    from atoll_wire import SSEDecoder

    decoder = SSEDecoder()
    n = 0
    for chunk in chunks:
        n += len(decoder.feed(chunk))
    return n + len(decoder.flush())


def httpx_sse_eventsource(chunks: list[bytes]) -> int:
    import httpx
    from httpx_sse import EventSource

    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
    )
    return sum(1 for _ in EventSource(response).iter_sse())


def httpx_sse_decoders(chunks: list[bytes]) -> int:
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    text = codecs.getincrementaldecoder("utf-8")()
    lines = SSELineDecoder()
    events = SSEDecoder()
    n = 0
    for chunk in chunks:
        for line in lines.decode(text.decode(chunk)):
            if events.decode(line.rstrip("\n")) is not None:
                n += 1
    for line in lines.flush():
        if events.decode(line.rstrip("\n")) is not None:
            n += 1
    return n


def openai_sse(chunks: list[bytes]) -> int:
    from openai._streaming import SSEDecoder

    return sum(1 for _ in SSEDecoder().iter_bytes(iter(chunks)))


# ---------------------------------------------------------------- bytes -> typed chunk


def atoll_typed(chunks: list[bytes]) -> int:
    from atoll_wire import SSEDecoder
    from atoll_wire.openai import decode_chunk

    decoder = SSEDecoder()
    n = 0
    for chunk in chunks:
        for event in decoder.feed(chunk):
            if event.data != "[DONE]":
                decode_chunk(event.data)
                n += 1
    return n


def openai_typed_construct(chunks: list[bytes]) -> int:
    from openai._models import construct_type
    from openai._streaming import SSEDecoder
    from openai.types.chat import ChatCompletionChunk

    n = 0
    for sse in SSEDecoder().iter_bytes(iter(chunks)):
        if sse.data.startswith("[DONE]"):
            continue
        construct_type(type_=ChatCompletionChunk, value=sse.json())
        n += 1
    return n


def openai_typed_validate(chunks: list[bytes]) -> int:
    from openai._streaming import SSEDecoder
    from openai.types.chat import ChatCompletionChunk

    n = 0
    for sse in SSEDecoder().iter_bytes(iter(chunks)):
        if sse.data.startswith("[DONE]"):
            continue
        ChatCompletionChunk.model_validate_json(sse.data)
        n += 1
    return n


def measure(fn: Callable[[list[bytes]], int], chunks: list[bytes], repeats: int) -> dict[str, Any]:
    count = fn(chunks)  # warm-up, imports
    times: list[float] = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn(chunks)
        times.append(time.process_time() - t0)
    best = min(times)
    return {
        "events": count,
        "best_s": round(best, 6),
        "median_s": round(statistics.median(times), 6),
        "events_per_s": round(count / best),
    }


def _rounds(
    contenders: dict[str, Callable[[list[bytes]], int]], chunks: list[bytes]
) -> dict[str, dict[str, Any]]:
    # Interleave contenders so machine load (shared CI box) hits all of them alike.
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    for _ in range(3):
        for name, fn in contenders.items():
            results[name].append(measure(fn, chunks, REPEATS // 3))
    return {name: max(runs, key=lambda r: r["events_per_s"]) for name, runs in results.items()}


# ---------------------------------------------------------------- import time


def _import_us(module: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise RuntimeError(f"no importtime line for {module}")


_CPU_PROBE = (
    "import time; t = time.process_time(); import msgspec; a = time.process_time() - t; "
    "t = time.process_time(); import atoll_wire; b = time.process_time() - t; print(a, a + b)"
)


def _import_cpu() -> tuple[float, float]:
    """CPU seconds for `import msgspec` and for msgspec + atoll_wire, in one fresh process."""
    proc = subprocess.run(
        [sys.executable, "-c", _CPU_PROBE], capture_output=True, text=True, check=True
    )
    first, second = proc.stdout.split()
    return float(first), float(second)


def import_times(runs: int = 15) -> dict[str, Any]:
    samples: dict[str, list[int]] = {"msgspec": [], "atoll_wire": []}
    cpu_msgspec: list[float] = []
    cpu_wire: list[float] = []
    for _ in range(runs):
        for module in samples:
            samples[module].append(_import_us(module))
        a, b = _import_cpu()
        cpu_msgspec.append(a)
        cpu_wire.append(b)
    med = {m: statistics.median(v) for m, v in samples.items()}
    cpu = (statistics.median(cpu_msgspec), statistics.median(cpu_wire))
    return {
        "importtime_msgspec_us_median": med["msgspec"],
        "importtime_atoll_wire_us_median": med["atoll_wire"],
        "importtime_ratio_median": ratio(med["atoll_wire"], med["msgspec"]),
        "cpu_msgspec_ms_median": round(cpu[0] * 1e3, 2),
        "cpu_atoll_wire_ms_median": round(cpu[1] * 1e3, 2),
        "cpu_ratio_median": ratio(cpu[1], cpu[0]),
        "target_max_ratio": 1.5,
        "note": "-X importtime is wall-clock and noisy on a shared machine; the CPU-time probe "
        "imports msgspec then atoll_wire in one fresh process and is steadier",
    }


def main() -> None:
    body = make_stream()
    data: dict[str, Any] = {"stream_bytes": len(body), "events": N_EVENTS}
    sse_contenders: dict[str, Callable[[list[bytes]], int]] = {
        "atoll_wire": atoll_sse,
        "httpx_sse_eventsource": httpx_sse_eventsource,
        "httpx_sse_decoders": httpx_sse_decoders,
        "openai_sdk": openai_sse,
    }
    for label, (low, high) in {"chunks_16_1024": (16, 1024), "chunks_1_64": (1, 64)}.items():
        chunks = split(body, low, high)
        res = _rounds(sse_contenders, chunks)
        counts = {r["events"] for r in res.values()}
        assert counts == {N_EVENTS}, counts
        ours = res["atoll_wire"]["events_per_s"]
        fastest = max(v["events_per_s"] for k, v in res.items() if k != "atoll_wire")
        data[f"sse_{label}"] = {
            "n_chunks": len(chunks),
            "results": res,
            "ratio_vs_fastest_baseline": ratio(ours, fastest),
            "ratio_vs_httpx_sse_eventsource": ratio(
                ours, res["httpx_sse_eventsource"]["events_per_s"]
            ),
            "ratio_vs_httpx_sse_decoders": ratio(ours, res["httpx_sse_decoders"]["events_per_s"]),
            "ratio_vs_openai_sdk": ratio(ours, res["openai_sdk"]["events_per_s"]),
            "target_min_ratio": 2.0,
        }
    chunks = split(body, 16, 1024)
    typed = _rounds(
        {
            "atoll_wire": atoll_typed,
            "openai_sdk_construct": openai_typed_construct,
            "openai_pydantic_validate": openai_typed_validate,
        },
        chunks,
    )
    data["bytes_to_typed_chunk"] = {
        "results": typed,
        "ratio_vs_openai_sdk_construct": ratio(
            typed["atoll_wire"]["events_per_s"], typed["openai_sdk_construct"]["events_per_s"]
        ),
        "ratio_vs_openai_pydantic_validate": ratio(
            typed["atoll_wire"]["events_per_s"], typed["openai_pydantic_validate"]["events_per_s"]
        ),
        "target_min_ratio": 3.0,
    }
    data["import"] = import_times()
    write_result("wire", data)


if __name__ == "__main__":
    main()
