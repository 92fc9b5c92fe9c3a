"""BatchClient end to end on the local server, both providers, asyncio and trio."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from atoll_dialects import (
    BadRequestError,
    BatchItemError,
    BatchJob,
    BatchNotEndedError,
    BatchResponse,
    BatchStatus,
)
from atoll_registry import Registry
from atoll_testing import BatchControl, FakeLLMServer, ToolCall, Turn
from atoll_wire import ChatRequest, Message, ToolCallPart, ToolSpec

from .conftest import KEY, MODELS, MakeClient, create_path, wait

pytestmark = pytest.mark.anyio


def _batch_cost(registry: Registry, provider: str, item: BatchResponse, job: BatchJob) -> Decimal:
    created = next(p.created_at for p in job.status.parts if p.batch_id == item.batch_id)
    assert created is not None
    spec = registry.resolve(MODELS[provider][0])
    cost = registry.cost(spec, item.usage, at=datetime.fromtimestamp(created, UTC), batch=True)
    assert cost is not None
    return cost.total


async def test_ten_thousand_requests_split_across_batches(
    make_client: MakeClient,
    provider: str,
    server: FakeLLMServer,
    control: BatchControl,
    tmp_path: Path,
) -> None:
    control.max_requests = 2_500  # the server refuses a larger batch, as the provider does
    requests = {f"r{i:05d}": f"{'bad' if i % 1000 == 7 else 'say'} item {i}" for i in range(10_000)}
    registry = Registry.default()
    seen: list[BatchStatus] = []
    async with make_client(max_requests=2_500) as batch:
        job = await batch.submit(requests, record=tmp_path / "job.json", max_tokens=64)
        assert len(job.batch_ids) == 4
        final = await wait(job, seen.append)
        assert final.state == "completed" and final.ended
        assert final.counts.total == 10_000
        assert (final.counts.succeeded, final.counts.errored) == (9_990, 10)
        assert [p.counts.total for p in final.parts] == [2_500] * 4
        assert seen[-1] == final and len(seen) >= 2
        answered: dict[str, BatchResponse] = {}
        refused: dict[str, BatchItemError] = {}
        total = Decimal(0)
        async with job.results() as results:
            async for item in results:
                if isinstance(item, BatchItemError):
                    refused[item.custom_id] = item
                    continue
                assert item.custom_id not in answered
                answered[item.custom_id] = item
                assert item.text == f"re: {requests[item.custom_id]}"
                assert item.cost is not None
                assert item.cost.total == _batch_cost(registry, provider, item, job)
                total += item.cost.total
        assert len(answered) == 9_990 and len(refused) == 10
        assert set(answered) | set(refused) == set(requests)
        assert results.cost == total and results.succeeded == 9_990 and results.failed == 10
    item = refused["r00007"]
    assert item.outcome == "errored" and item.error_type == "invalid_request_error"
    assert isinstance(item.error, BadRequestError) and "refused: bad item 7" in item.message
    assert item.batch_id == job.batch_ids[0]
    assert server.counts[MODELS[provider][1]] == 10_000  # every request ran exactly once
    creates = [
        r for r in server.requests if r.method == "POST" and r.path.endswith(create_path(provider))
    ]
    assert len(creates) == 4


async def test_costs_are_the_registry_batch_prices(
    make_client: MakeClient, provider: str, tmp_path: Path
) -> None:
    async with make_client() as batch:
        job = await batch.submit({"a": "one two three"}, record=tmp_path / "job.json")
        await wait(job)
        async with job.results() as results:
            (item,) = [i async for i in results]
    assert isinstance(item, BatchResponse)
    # answer(): 100 + 3 input and 20 + 3 output tokens
    if provider == "openai":  # gpt-4o-mini: $0.075 / $0.30 per million through the Batch API
        expected = Decimal(103) * Decimal("0.075") / 10**6 + Decimal(23) * Decimal("0.3") / 10**6
    else:  # claude-haiku-4-5: $0.50 / $2.50 per million through Message Batches
        expected = Decimal(103) * Decimal("0.5") / 10**6 + Decimal(23) * Decimal("2.5") / 10**6
    assert item.usage.input_tokens == 103 and item.usage.output_tokens == 23
    assert item.cost is not None and item.cost.total == expected
    assert item.cost.price.note is not None and "batch" in item.cost.price.note
    standard = Registry.default().cost(MODELS[provider][0], item.usage)
    assert standard is not None and item.cost.total == standard.total / 2
    assert results.cost == expected
    assert item.served_by == MODELS[provider][0] and item.provider == provider


async def test_split_by_bytes(
    make_client: MakeClient, control: BatchControl, tmp_path: Path, provider: str
) -> None:
    control.max_bytes = 3_000
    requests = {f"q{i}": f"say {'word ' * 40}{i}" for i in range(30)}
    async with make_client(max_bytes=3_000) as batch:
        job = await batch.submit(requests, record=tmp_path / "job.json")
        parts = job.status.parts
        assert len(parts) > 2
        record = json.loads(job.path.read_text())
        for part in record["parts"]:
            assert part["size"] <= 3_000
        await wait(job)
        async with job.results() as results:
            ids = sorted([item.custom_id async for item in results])
    assert ids == sorted(requests)


async def test_per_request_settings_survive_the_batch(
    make_client: MakeClient, server: FakeLLMServer, provider: str, tmp_path: Path
) -> None:
    tool = ToolSpec(name="lookup", parameters={"type": "object", "properties": {}})
    server.models[MODELS[provider][1]] = lambda chat: (
        Turn(tool_calls=[ToolCall(name="lookup", arguments={"q": chat.last_user_text})])
        if chat.tool_names
        else Turn(text="plain")
    )
    with_tools = ChatRequest(model="", messages=[Message.user("find x")], tools=[tool])
    async with make_client() as batch:
        job = await batch.submit(
            [("tools", with_tools), ("plain", [Message.user("hi")])],
            record=tmp_path / "job.json",
            temperature=0.5,
            system="be brief",
        )
        await wait(job)
        async with job.results() as results:
            items = {item.custom_id: item async for item in results}
    record = json.loads(job.path.read_text())
    assert len(record["shapes"]) == 2  # the two requests differ in settings, not only messages
    tools = items["tools"]
    assert isinstance(tools, BatchResponse)
    (call,) = [p for p in tools.message.parts if isinstance(p, ToolCallPart)]
    assert call.name == "lookup" and call.arguments == {"q": "find x"}
    assert isinstance(items["plain"], BatchResponse) and items["plain"].text == "plain"
    # The upload (OpenAI) or the create (Anthropic) carried every request with its options.
    sent = max((r for r in server.requests if r.method == "POST"), key=lambda r: len(r.body))
    assert sent.body.count(b"be brief") == 2 and sent.body.count(b'"temperature":0.5') == 2


async def test_results_before_the_job_ended_are_refused(
    make_client: MakeClient, control: BatchControl, tmp_path: Path
) -> None:
    control.duration = None
    async with make_client() as batch:
        job = await batch.submit({"a": "x"}, record=tmp_path / "job.json")
        status = await job.refresh()
        assert status.state == "in_progress" and not status.ended
        with pytest.raises(BatchNotEndedError) as caught:
            async for _ in job.results():
                pass
        assert caught.value.state == "in_progress" and caught.value.job_id == job.id
        control.finish()
        assert (await wait(job)).state == "completed"


async def test_progress_reports_counts_as_they_grow(
    make_client: MakeClient, control: BatchControl, tmp_path: Path, provider: str
) -> None:
    control.duration = 0.4  # seconds of real time to run the whole batch
    reports: list[BatchStatus] = []

    async def report(status: BatchStatus) -> None:  # an async callback is awaited
        reports.append(status)

    async with make_client() as batch:
        job = await batch.submit({f"q{i}": f"x {i}" for i in range(40)}, record=tmp_path / "j")
        await job.wait(progress=report, poll_interval=0.02, max_interval=0.05)
    done = [r.counts.done for r in reports]
    assert done == sorted(done) and done[-1] == 40
    if provider == "openai":  # OpenAI counts requests as they finish; Anthropic at the end
        assert any(0 < d < 40 for d in done)
    assert reports[0].state in ("validating", "in_progress", "finalizing")


async def test_the_record_is_plain_json_without_secrets(
    make_client: MakeClient, tmp_path: Path, provider: str
) -> None:
    async with make_client() as batch:
        job = await batch.submit({"a": "x"}, record=tmp_path / "job.json", job_metadata={"t": "1"})
        await wait(job)
    text = job.path.read_text()
    assert KEY not in text and "authorization" not in text.lower()
    record = json.loads(text)
    assert record["format"] == "atoll-batch-job" and record["job_id"] == job.id
    assert record["model"] == MODELS[provider][0] and record["metadata"] == {"t": "1"}
    assert [p["step"] for p in record["parts"]] == ["created"]
    assert repr(job).startswith("BatchJob(") and KEY not in repr(job)
    assert not _files_holding(tmp_path, KEY.encode())


def _files_holding(folder: Path, secret: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and secret in p.read_bytes()]


async def test_a_transport_of_httpx_works_too(make_client: MakeClient, tmp_path: Path) -> None:
    from atoll_httpx import HttpxTransport

    async with HttpxTransport() as transport, make_client(transport=transport) as batch:
        job = await batch.submit({"a": "one", "b": "bad two"}, record=tmp_path / "job.json")
        await wait(job)
        async with job.results() as results:
            outcomes = {item.custom_id: isinstance(item, BatchResponse) async for item in results}
    assert outcomes == {"a": True, "b": False}
