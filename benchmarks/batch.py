"""Reading a batch's results (issue 20): atoll's ``job.results()`` against the official SDKs.

Two batches of 10,000 requests each (OpenAI Batch, Anthropic Message Batches) are run on the
local server (``BatchControl``); then, on asyncio, each contender reads every result:

* atoll: ``BatchJob.results()``: the result file streamed line by line, each line parsed by the
  dialect into a neutral response and priced at the batch rate (``CurlTransport``);
* openai SDK (the baseline for OpenAI): ``files.content(id)`` (the file read whole), each line
  ``json.loads`` and its body validated into ``ChatCompletion``, as a user of the SDK writes it;
* anthropic SDK (the baseline for Anthropic): ``messages.batches.results(id)``, its own JSONL
  decoder into ``MessageBatchIndividualResponse`` models.

Reported: results/s (best of ``ROUNDS``), the ratio atoll / SDK, and the peak Python memory of
one pass (tracemalloc, a separate pass: it slows everything down). The server runs in a child
process, so neither its CPU nor its memory counts against a contender.
Run: ``cd benchmarks && ../.venv/bin/python batch.py``.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import anyio
from _common import ratio, write_result
from atoll_curl import CurlTransport
from atoll_dialects import BatchClient, BatchJob
from atoll_testing import BatchControl, ChatInput, FakeLLMServer, Turn, registered_server_dialects

REQUESTS = 10_000
ROUNDS = 3
KEY = "sk-bench"
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}


def answer(chat: ChatInput) -> Turn:
    return Turn(text=f"an answer to {chat.last_user_text} " * 3, input_tokens=200, output_tokens=40)


class Server:
    """Where the child process's server answers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.base_url = url + "/v1"


def serve(urls: Any, stop: Event) -> None:
    """The child process: the local server with both batch APIs, until ``stop`` is set."""
    control = BatchControl()
    dialects = [*registered_server_dialects(), *control.dialects(bearer=True)]
    models = dict.fromkeys(MODELS.values(), answer)
    with FakeLLMServer(models=models, api_key=KEY, dialects=dialects).run_in_thread() as srv:
        urls.put(srv.url)
        stop.wait()


async def submit(srv: Server, provider: str, folder: Path) -> Path:
    base = srv.base_url if provider == "openai" else srv.url + "/v1"
    record = folder / f"{provider}.json"
    async with BatchClient(f"{provider}/{MODELS[provider]}", base_url=base, api_key=KEY) as batch:
        requests = {f"r{i}": f"question number {i}" for i in range(REQUESTS)}
        job = await batch.submit(requests, record=record, max_tokens=100)
        await job.wait(poll_interval=0.01)
    return record


def _first_part(record: Path) -> dict[str, Any]:
    return json.loads(record.read_text())["parts"][0]


async def atoll_pass(record: Path) -> int:
    async with CurlTransport() as transport:
        async with BatchJob.load(record, api_key=KEY, transport=transport) as job:
            count = 0
            async with job.results() as results:
                async for _ in results:
                    count += 1
            assert results.cost is not None
            return count


async def openai_pass(srv: Server, record: Path) -> int:
    import openai
    from openai.types.chat import ChatCompletion

    file_id = _first_part(record)["output_file_id"]
    async with openai.AsyncOpenAI(base_url=srv.base_url, api_key=KEY, max_retries=0) as client:
        content = await client.files.content(file_id)
        count = 0
        for line in content.text.splitlines():
            item = json.loads(line)
            ChatCompletion.model_validate(item["response"]["body"])
            count += 1
        return count


async def anthropic_pass(srv: Server, record: Path) -> int:
    import anthropic

    batch_id = _first_part(record)["batch_id"]
    async with anthropic.AsyncAnthropic(base_url=srv.url, api_key=KEY, max_retries=0) as client:
        count = 0
        async for _ in await client.messages.batches.results(batch_id):
            count += 1
        return count


def timed(run: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        count = anyio.run(run)
        best = min(best, time.perf_counter() - started)
    return best, count


def peak(run: Callable[[], Awaitable[int]]) -> int:
    tracemalloc.start()
    try:
        anyio.run(run)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    context = multiprocessing.get_context("spawn")
    urls = context.Queue()
    stop = context.Event()
    child = context.Process(target=serve, args=(urls, stop), daemon=True)
    child.start()
    report: dict[str, Any] = {"requests": REQUESTS, "rounds": ROUNDS}
    try:
        srv = Server(urls.get(timeout=60))
        with tempfile.TemporaryDirectory() as tmp:
            for provider in ("openai", "anthropic"):
                report[provider] = measure(srv, provider, Path(tmp))
    finally:
        stop.set()
        child.join(timeout=10)
    write_result("batch", report)


def measure(srv: Server, provider: str, folder: Path) -> dict[str, Any]:
    record = anyio.run(submit, srv, provider, folder)

    def ours() -> Awaitable[int]:
        return atoll_pass(record)

    def theirs() -> Awaitable[int]:
        return (openai_pass if provider == "openai" else anthropic_pass)(srv, record)

    atoll_seconds, atoll_count = timed(ours)
    sdk_seconds, sdk_count = timed(theirs)
    assert atoll_count == sdk_count == REQUESTS
    return {
        "atoll_results_per_s": round(REQUESTS / atoll_seconds),
        "sdk_results_per_s": round(REQUESTS / sdk_seconds),
        "ratio_atoll_over_sdk": ratio(sdk_seconds, atoll_seconds),
        "atoll_peak_mib": round(peak(ours) / 2**20, 2),
        "sdk_peak_mib": round(peak(theirs) / 2**20, 2),
    }


if __name__ == "__main__":
    main()
