"""Client benchmarks (issue 8): atoll's Client against the bare transports and the vendor SDKs.

All against one atoll_testing server in a child process, in one run, reported as ratios:
- 2,000 non-stream calls at concurrency 64;
- 200 concurrent streams of 200 events;
- one stream of 5,000 events (events/s);
- import time of atoll_dialects against openai, anthropic and litellm.

Contenders: atoll's Client on atoll_curl and atoll_httpx, the bare transports, raw httpx, a bare
pycurl ``CurlMulti`` loop on asyncio (``transports.BareMulti``: the floor for Python on libcurl,
with a plain line split for the long stream), the openai SDK, the anthropic SDK and litellm
(``peers`` dependency group, installed by ``make bench``; null when absent).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from _common import ratio, write_result
from _fake import fake_server_process

CALLS = 2_000
CONCURRENCY = 64
STREAMS = 200
STREAM_EVENTS = 200
LONG_STREAM = 5_000
ROUNDS = 3


async def _many(n: int, concurrency: int, one: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    limiter = anyio.CapacityLimiter(concurrency)

    async def run(i: int) -> None:
        async with limiter:
            await one(i)

    cpu0, t0 = time.process_time(), time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(run, i)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"seconds": round(wall, 4), "per_second": round(n / wall, 1), "cpu_s_per_item": cpu / n}


# ------------------------------------------------------------------ contenders


async def atoll_client(url: str, transport: str) -> dict[str, dict[str, float]]:
    from atoll_curl import CurlTransport
    from atoll_dialects import Client, RetryPolicy
    from atoll_httpx import HttpxTransport

    made = CurlTransport() if transport == "curl" else HttpxTransport(max_connections=CONCURRENCY)
    out: dict[str, dict[str, float]] = {}
    async with (
        made,
        Client("echo", base_url=url + "/v1", transport=made, retry=RetryPolicy.none()) as c,
    ):
        await c.chat("warm up")

        async def chat(_: int) -> None:
            reply = await c.chat("hello benchmark")
            assert reply.text == "hello benchmark"

        out["chat"] = await _many(CALLS, CONCURRENCY, chat)
        streamer = Client(f"stream-{STREAM_EVENTS}", base_url=url + "/v1", transport=made)

        async def stream(_: int) -> None:
            async with streamer.stream("go") as s:
                async for _event in s:
                    pass

        out["streams"] = await _many(STREAMS, STREAMS, stream)
        out["streams"]["events_per_second"] = round(
            STREAMS * STREAM_EVENTS / out["streams"]["seconds"], 1
        )
        long = Client(f"stream-{LONG_STREAM}", base_url=url + "/v1", transport=made)
        t0 = time.perf_counter()
        count = 0
        async with long.stream("go") as s:
            async for _event in s:
                count += 1
        wall = time.perf_counter() - t0
        out["long_stream"] = {
            "events": count,
            "seconds": wall,
            "events_per_second": round(count / wall, 1),
        }
    return out


async def bare_transport(url: str, transport: str) -> dict[str, dict[str, float]]:
    from atoll_curl import CurlTransport
    from atoll_httpx import HttpxTransport
    from atoll_wire import HttpRequest

    made = CurlTransport() if transport == "curl" else HttpxTransport(max_connections=CONCURRENCY)
    body = b'{"model":"echo","messages":[{"role":"user","content":"hello benchmark"}]}'
    headers = {"content-type": "application/json"}
    async with made:

        async def chat(_: int) -> None:
            response = await made.send(
                HttpRequest("POST", url + "/v1/chat/completions", headers, body)
            )
            assert b"hello benchmark" in await response.aread()

        await chat(0)
        return {"chat": await _many(CALLS, CONCURRENCY, chat)}


async def bare_pycurl_loop(url: str) -> dict[str, dict[str, float]]:
    from transports import BareMulti

    bare = BareMulti()
    body = b'{"model":"echo","messages":[{"role":"user","content":"hello benchmark"}]}'
    long_body = (
        b'{"model":"stream-%d","stream":true,"messages":[{"role":"user","content":"go"}]}'
        % LONG_STREAM
    )

    async def chat(_: int) -> None:
        chunks: list[bytes] = []
        await bare.perform(url + "/v1/chat/completions", body, chunks.append)
        assert b"hello benchmark" in b"".join(chunks)

    await chat(0)
    out = {"chat": await _many(CALLS, CONCURRENCY, chat)}
    # The long stream with the least work that still finds events: split lines, count data lines.
    tail = b""
    count = 0

    def feed(chunk: bytes) -> None:
        nonlocal tail, count
        lines = (tail + chunk).split(b"\n")
        tail = lines.pop()
        count += sum(1 for line in lines if line.startswith(b"data:"))

    t0 = time.perf_counter()
    await bare.perform(url + "/v1/chat/completions", long_body, feed)
    wall = time.perf_counter() - t0
    out["long_stream"] = {
        "events": count,
        "seconds": wall,
        "events_per_second": round(count / wall, 1),
    }
    bare.multi.close()
    return out


def litellm_in_subprocess(url: str) -> dict[str, dict[str, float]] | None:
    """Run ``litellm_calls`` in a fresh interpreter; None when litellm is not installed."""
    done = subprocess.run(
        [sys.executable, __file__, "--litellm", url], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"litellm run failed: {done.stderr[-500:]}")
    return json.loads(done.stdout)


async def litellm_calls(url: str) -> dict[str, dict[str, float]] | None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch at import
    try:
        import litellm  # pyright: ignore[reportMissingImports] (peers group: make bench only)
    except ImportError:
        return None

    async def create(model: str, **kwargs: Any) -> Any:
        return await litellm.acompletion(
            model="openai/" + model,
            api_base=url + "/v1",
            api_key="bench",
            num_retries=0,
            **kwargs,
        )

    return await chat_completions_api(create)


async def raw_httpx(url: str) -> dict[str, dict[str, float]]:
    import httpx

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:
        payload = {"model": "echo", "messages": [{"role": "user", "content": "hello benchmark"}]}

        async def chat(_: int) -> None:
            r = await client.post(url + "/v1/chat/completions", json=payload)
            assert b"hello benchmark" in r.content

        await chat(0)
        return {"chat": await _many(CALLS, CONCURRENCY, chat)}


async def openai_sdk(url: str) -> dict[str, dict[str, float]]:
    import httpx2
    import openai

    # A pool as large as the widest test, so the SDK is measured, not its default pool limit.
    http = openai.DefaultAsyncHttpxClient(
        limits=httpx2.Limits(max_connections=STREAMS + 8),
        timeout=120,
    )
    client = openai.AsyncOpenAI(
        base_url=url + "/v1", api_key="bench", max_retries=0, http_client=http
    )
    out = await chat_completions_api(client.chat.completions.create)
    await client.close()
    return out


async def chat_completions_api(
    create: Callable[..., Awaitable[Any]],
) -> dict[str, dict[str, float]]:
    """Measure a chat-completions style ``create(model=, messages=, stream=)`` (SDK or litellm)."""

    async def chat(_: int) -> None:
        r = await create(model="echo", messages=[{"role": "user", "content": "hello benchmark"}])
        assert r.choices[0].message.content == "hello benchmark"

    await chat(0)
    out = {"chat": await _many(CALLS, CONCURRENCY, chat)}

    async def stream(_: int) -> None:
        s = await create(
            model=f"stream-{STREAM_EVENTS}",
            messages=[{"role": "user", "content": "go"}],
            stream=True,
        )
        async for _chunk in s:
            pass

    out["streams"] = await _many(STREAMS, STREAMS, stream)
    out["streams"]["events_per_second"] = round(
        STREAMS * STREAM_EVENTS / out["streams"]["seconds"], 1
    )
    t0 = time.perf_counter()
    count = 0
    s = await create(
        model=f"stream-{LONG_STREAM}", messages=[{"role": "user", "content": "go"}], stream=True
    )
    async for _chunk in s:
        count += 1
    wall = time.perf_counter() - t0
    out["long_stream"] = {
        "events": count,
        "seconds": wall,
        "events_per_second": round(count / wall, 1),
    }
    return out


async def anthropic_pair(url: str) -> dict[str, dict[str, float]]:
    import anthropic
    from atoll_curl import CurlTransport
    from atoll_dialects import Client, RetryPolicy

    sdk = anthropic.AsyncAnthropic(base_url=url, api_key="bench", max_retries=0)

    async def sdk_chat(_: int) -> None:
        r = await sdk.messages.create(
            model="echo", max_tokens=64, messages=[{"role": "user", "content": "hello benchmark"}]
        )
        assert r.content[0].text == "hello benchmark"  # type: ignore[union-attr]

    await sdk_chat(0)
    out = {"anthropic_sdk": await _many(CALLS, CONCURRENCY, sdk_chat)}
    await sdk.close()
    async with (
        CurlTransport() as made,
        Client(
            "echo",
            base_url=url + "/v1",
            dialect="anthropic-messages",
            api_key="bench",
            transport=made,
            retry=RetryPolicy.none(),
        ) as client,
    ):

        async def atoll_chat(_: int) -> None:
            reply = await client.chat("hello benchmark", max_tokens=64)
            assert reply.text == "hello benchmark"

        await atoll_chat(0)
        out["atoll_curl"] = await _many(CALLS, CONCURRENCY, atoll_chat)
    return out


async def chat_rounds(url: str) -> dict[str, dict[str, float]]:
    """Best of ROUNDS round-robin runs of the 2,000 non-stream calls for the fast contenders.

    The server shares the machine's two cores with the client, so a single run swings with
    whatever else runs; round-robin spreads such bursts over every contender alike.
    """
    import httpx
    from atoll_curl import CurlTransport
    from atoll_dialects import Client, RetryPolicy
    from atoll_httpx import HttpxTransport
    from atoll_wire import HttpRequest
    from transports import BareMulti

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    body = b'{"model":"echo","messages":[{"role":"user","content":"hello benchmark"}]}'
    endpoint = url + "/v1/chat/completions"
    request = HttpRequest("POST", endpoint, {"content-type": "application/json"}, body)
    bare = BareMulti()
    async with (
        CurlTransport() as curl,
        HttpxTransport(max_connections=CONCURRENCY) as hx,
        Client("echo", base_url=url + "/v1", transport=curl, retry=RetryPolicy.none()) as on_curl,
        Client("echo", base_url=url + "/v1", transport=hx, retry=RetryPolicy.none()) as on_httpx,
        httpx.AsyncClient(limits=limits) as raw,
    ):

        async def client_curl(_: int) -> None:
            assert (await on_curl.chat("hello benchmark")).text == "hello benchmark"

        async def client_httpx(_: int) -> None:
            assert (await on_httpx.chat("hello benchmark")).text == "hello benchmark"

        async def transport_curl(_: int) -> None:
            assert b"hello benchmark" in await (await curl.send(request)).aread()

        async def raw_httpx(_: int) -> None:
            reply = await raw.post(endpoint, content=body, headers=request.headers)
            assert b"hello benchmark" in reply.content

        async def pycurl_loop(_: int) -> None:
            chunks: list[bytes] = []
            await bare.perform(endpoint, body, chunks.append)
            assert b"hello benchmark" in b"".join(chunks)

        contenders = {
            "atoll_client_curl": client_curl,
            "atoll_client_httpx": client_httpx,
            "bare_curl_transport": transport_curl,
            "bare_pycurl_loop": pycurl_loop,
            "raw_httpx": raw_httpx,
        }
        best: dict[str, dict[str, float]] = {}
        for one in contenders.values():
            await one(0)
        for _round in range(ROUNDS):
            for name, one in contenders.items():
                run = await _many(CALLS, CONCURRENCY, one)
                if name not in best or run["per_second"] > best[name]["per_second"]:
                    best[name] = run
    bare.multi.close()
    return best


def import_seconds(module: str, repeat: int = 3) -> float | None:
    """Best wall time of ``import module`` in a fresh interpreter, minus bare startup."""

    def once(code: str) -> float:
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
        if done.returncode:
            raise ImportError(done.stderr.decode()[-300:])
        return time.perf_counter() - t0

    try:
        base = min(once("pass") for _ in range(repeat))
        return round(min(once(f"import {module}") for _ in range(repeat)) - base, 4)
    except ImportError:
        return None


async def main() -> None:
    results: dict[str, Any] = {}
    with fake_server_process() as url:
        results["atoll_client_curl"] = await atoll_client(url, "curl")
        results["atoll_client_httpx"] = await atoll_client(url, "httpx")
        results["bare_curl_transport"] = await bare_transport(url, "curl")
        results["bare_httpx_transport"] = await bare_transport(url, "httpx")
        results["raw_httpx"] = await raw_httpx(url)
        results["bare_pycurl_loop"] = await bare_pycurl_loop(url)
        results["chat_best_of_rounds"] = await chat_rounds(url)
        results["openai_sdk"] = await openai_sdk(url)
        results["anthropic"] = await anthropic_pair(url)
        # litellm starts background threads at import that keep using the CPU: it runs last and
        # in a process of its own, so it cannot slow the contenders measured after it.
        results["litellm"] = litellm_in_subprocess(url)
    imports = {
        m: import_seconds(m)
        for m in ("msgspec", "pydantic", "atoll_dialects", "openai", "anthropic", "litellm")
    }
    rounds = results["chat_best_of_rounds"]
    c_chat = rounds["atoll_client_curl"]["per_second"]
    h_chat = rounds["atoll_client_httpx"]["per_second"]
    o = results["openai_sdk"]
    bare = results["bare_pycurl_loop"]
    lite = results["litellm"]
    ratios = {
        "client_curl_vs_openai_sdk_chat": ratio(c_chat, o["chat"]["per_second"]),
        "client_curl_vs_bare_curl_transport_chat": ratio(
            c_chat, rounds["bare_curl_transport"]["per_second"]
        ),
        "client_curl_vs_bare_pycurl_loop_chat": ratio(
            c_chat, rounds["bare_pycurl_loop"]["per_second"]
        ),
        "client_curl_vs_bare_pycurl_loop_long_stream_events": ratio(
            results["atoll_client_curl"]["long_stream"]["events_per_second"],
            bare["long_stream"]["events_per_second"],
        ),
        "client_curl_vs_litellm_chat": ratio(c_chat, lite["chat"]["per_second"]) if lite else None,
        "client_curl_vs_litellm_long_stream_events": ratio(
            results["atoll_client_curl"]["long_stream"]["events_per_second"],
            lite["long_stream"]["events_per_second"],
        )
        if lite
        else None,
        "client_httpx_vs_raw_httpx_chat": ratio(h_chat, rounds["raw_httpx"]["per_second"]),
        "client_curl_vs_openai_sdk_long_stream_events": ratio(
            results["atoll_client_curl"]["long_stream"]["events_per_second"],
            o["long_stream"]["events_per_second"],
        ),
        "client_curl_vs_openai_sdk_200_streams": ratio(
            results["atoll_client_curl"]["streams"]["events_per_second"],
            o["streams"]["events_per_second"],
        ),
        "client_curl_vs_anthropic_sdk_messages": ratio(
            results["anthropic"]["atoll_curl"]["per_second"],
            results["anthropic"]["anthropic_sdk"]["per_second"],
        ),
        "import_atoll_dialects_vs_openai": ratio(
            imports["atoll_dialects"] or 0, imports["openai"] or 0
        ),
        "import_atoll_dialects_vs_litellm": ratio(
            imports["atoll_dialects"] or 0, imports["litellm"] or 0
        ),
    }
    write_result(
        "client",
        {
            "calls": CALLS,
            "concurrency": CONCURRENCY,
            "streams": STREAMS,
            "stream_events": STREAM_EVENTS,
            "long_stream_events": LONG_STREAM,
            "results": results,
            "import_seconds": imports,
            "ratios": ratios,
            "notes": [
                "server: atoll_testing FakeLLMServer in a child process on 127.0.0.1",
                "litellm comes from the peers group (make bench installs it); null when absent",
                "litellm import measured with LITELLM_LOCAL_MODEL_COST_MAP=True (no fetch)",
                f"the Client-vs-bare chat ratios use the best of {ROUNDS} round-robin runs "
                "(chat_best_of_rounds); every other figure is one run",
            ],
        },
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--litellm"]:
        print(json.dumps(anyio.run(litellm_calls, sys.argv[2])))
    else:
        anyio.run(main)
