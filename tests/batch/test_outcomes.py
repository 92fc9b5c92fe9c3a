"""Expired, partly failed, failed and cancelled batches: typed, and every request accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest
from atoll_curl import CurlTransport
from atoll_dialects import (
    BadRequestError,
    BatchCancelledError,
    BatchExpiredError,
    BatchFailedError,
    BatchItemError,
    BatchJob,
    BatchResponse,
    ServerError,
)
from atoll_testing import BatchControl, FakeLLMServer

from .conftest import MODELS, Crash, CrashingTransport, MakeClient, create_path, wait

pytestmark = pytest.mark.anyio

REQUESTS = {f"q{i}": f"hello {i}" for i in range(10)}


async def _items(job: BatchJob) -> dict[str, BatchResponse | BatchItemError]:
    async with job.results() as results:
        return {item.custom_id: item async for item in results}


async def test_an_expired_batch_keeps_what_ran(
    make_client: MakeClient, provider: str, control: BatchControl, tmp_path: Path
) -> None:
    control.duration = 100.0  # a whole batch would take 100 s of the batch clock ...
    control.window = 50.0  # ... but its window closes after 50
    async with make_client() as batch:
        job = await batch.submit(REQUESTS, record=tmp_path / "job.json")
        await job.refresh()  # the batch starts running
        control.advance(20)  # 2 of 10 requests ran ...
        await job.refresh()
        control.advance(100)  # ... and the clock passes the window: 5 ran in all
        status = await wait(job)
        items = await _items(job)
    assert status.state == "expired" and status.ended
    assert (status.counts.succeeded, status.counts.expired) in ((4, 6), (5, 5))
    ran = {k for k, v in items.items() if isinstance(v, BatchResponse)}
    expired = {k: v for k, v in items.items() if isinstance(v, BatchItemError)}
    assert len(ran) == status.counts.succeeded and set(items) == set(REQUESTS)
    assert {e.outcome for e in expired.values()} == {"expired"}
    assert all(e.batch_id == job.batch_ids[0] and e.cost is None for e in expired.values())
    error = status.error()
    assert isinstance(error, BatchExpiredError) and error.batch_ids == job.batch_ids
    with pytest.raises(BatchExpiredError, match="1 of 1 batches expired"):
        status.raise_for_state()


async def test_expired_on_request(
    make_client: MakeClient, control: BatchControl, tmp_path: Path
) -> None:
    control.duration = None
    async with make_client() as batch:
        job = await batch.submit(REQUESTS, record=tmp_path / "job.json")
        await job.refresh()
        control.expire()
        status = await wait(job)
        items = await _items(job)
    assert status.state == "expired" and status.counts.expired == 10
    assert {i.outcome for i in items.values() if isinstance(i, BatchItemError)} == {"expired"}
    assert len(items) == 10


async def test_a_partly_failed_batch_types_each_error(
    make_client: MakeClient, provider: str, server: FakeLLMServer, tmp_path: Path
) -> None:
    requests = {"good": "fine", "bad": "bad input", "worse": "bad again"}
    async with make_client() as batch:
        job = await batch.submit(requests, record=tmp_path / "job.json")
        status = await wait(job)
        items = await _items(job)
    assert status.state == "completed"  # a batch completes even when some requests errored
    assert (status.counts.succeeded, status.counts.errored) == (1, 2)
    status.raise_for_state()  # nothing to raise
    assert isinstance(items["good"], BatchResponse)
    bad = items["bad"]
    assert isinstance(bad, BatchItemError) and bad.outcome == "errored"
    assert isinstance(bad.error, BadRequestError) and bad.error_type == "invalid_request_error"
    assert bad.message == "refused: bad input" and bad.custom_id == "bad"
    assert bad.provider == provider and bad.model == MODELS[provider][1]
    assert str(bad).startswith("bad: errored: refused: bad input")
    if provider == "openai":  # the error file gives the HTTP status of the failed request
        assert bad.status == 400 and bad.request_id is not None


async def test_a_failed_batch(
    make_client: MakeClient, provider: str, control: BatchControl, tmp_path: Path
) -> None:
    control.duration = None
    async with make_client() as batch:
        job = await batch.submit(REQUESTS, record=tmp_path / "job.json")
        await job.refresh()
        control.fail(message="the input was refused")
        status = await wait(job)
        items = await _items(job)
    assert len(items) == 10 and all(isinstance(i, BatchItemError) for i in items.values())
    if provider == "openai":  # OpenAI fails the batch as a whole: nothing ran
        assert status.state == "failed" and status.counts.failed == 10
        assert status.parts[0].errors == ("batch_failed: the input was refused",)
        failed = [i for i in items.values() if isinstance(i, BatchItemError)]
        assert {i.outcome for i in failed} == {"failed"}
        assert all("the input was refused" in i.message for i in failed)
        with pytest.raises(BatchFailedError, match="the input was refused"):
            status.raise_for_state()
    else:  # Message Batches have no failed state: every request errored
        assert status.state == "completed" and status.counts.errored == 10
        item = items["q0"]
        assert isinstance(item, BatchItemError) and isinstance(item.error, ServerError)
        assert item.error_type == "api_error" and item.message == "the input was refused"


async def test_cancel_a_running_job(
    make_client: MakeClient, provider: str, control: BatchControl, tmp_path: Path
) -> None:
    control.duration = 100.0
    async with make_client(max_requests=5) as batch:
        job = await batch.submit(REQUESTS, record=tmp_path / "job.json")
        await job.refresh()
        control.advance(40)
        await job.refresh()
        cancelling = await job.cancel()
        assert cancelling.state == "cancelling" and not cancelling.ended
        status = await wait(job)
        items = await _items(job)
    assert status.state == "cancelled"
    kinds = sorted(type(i).__name__ for i in items.values())
    assert len(items) == 10 and "BatchItemError" in kinds
    assert {i.outcome for i in items.values() if isinstance(i, BatchItemError)} == {"cancelled"}
    with pytest.raises(BatchCancelledError):
        status.raise_for_state()
    assert all(control.status(b) == "cancelled" for b in job.batch_ids)


async def test_cancel_before_every_batch_was_created(
    make_client: MakeClient, provider: str, control: BatchControl, tmp_path: Path
) -> None:
    record = tmp_path / "job.json"
    control.duration = None  # nothing runs until the test says so
    async with CurlTransport() as inner:
        # The first batch is created; the process dies as the second create goes out.
        crashing = CrashingTransport(inner, "POST", create_path(provider), when="before", at=2)
        async with make_client(transport=crashing, max_requests=5) as batch:
            with pytest.raises(Crash):
                await batch.submit(REQUESTS, record=record)
    assert len(control.batch_ids()) == 1
    async with make_client() as batch:
        job = batch.load(record)
        await job.cancel()
        status = await wait(job)
        items = await _items(job)
    assert len(control.batch_ids()) == 1  # the second batch was never created
    assert status.state == "cancelled" and [p.state for p in status.parts] == ["cancelled"] * 2
    assert status.parts[1].batch_id is None and status.counts.cancelled == 10
    late = items["q9"]
    assert isinstance(late, BatchItemError) and late.outcome == "cancelled"
    assert "before its batch was created" in late.message and late.batch_id is None
    assert len(items) == 10
