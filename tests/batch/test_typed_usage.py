"""Typed usage of the batch API, as a user writes it (checked by pyright and run by pytest)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import assert_type

import pytest
from atoll_dialects import (
    APIError,
    BatchClient,
    BatchCounts,
    BatchItemError,
    BatchJob,
    BatchOutcomeError,
    BatchPart,
    BatchResponse,
    BatchResults,
    BatchState,
    BatchStatus,
)
from atoll_testing import BatchControl, FakeLLMServer

from .conftest import MakeClient, wait

pytestmark = pytest.mark.anyio


async def run_job(batch: BatchClient, record: Path) -> tuple[dict[str, str], Decimal | None]:
    job: BatchJob = await batch.submit({"a": "hi", "b": "bad"}, record=record, max_tokens=32)
    done: list[int] = []
    status: BatchStatus = await job.wait(
        progress=lambda s: done.append(s.counts.done), poll_interval=0.01
    )
    assert done[-1] == 2
    assert_type(status.state, BatchState)
    assert_type(status.parts, tuple[BatchPart, ...])
    assert_type(status.counts, BatchCounts)
    failure: BatchOutcomeError | None = status.error()
    assert failure is None
    texts: dict[str, str] = {}
    results = job.results()
    assert_type(results, BatchResults)
    async with results:
        async for item in results:
            if isinstance(item, BatchItemError):
                cause: APIError | None = item.error
                texts[item.custom_id] = f"{item.outcome}:{cause is not None}"
            else:
                assert_type(item, BatchResponse)
                texts[item.custom_id] = item.text
    return texts, results.cost


async def resume(path: Path, batch: BatchClient) -> BatchStatus:
    job = BatchJob.load(path, batch)
    return await job.refresh()


async def test_typed_usage(make_client: MakeClient, control: BatchControl, tmp_path: Path) -> None:
    async with make_client() as batch:
        control.duration = 0.0
        status = await resume(await _submitted(batch, tmp_path), batch)
        assert status.job_id.startswith("batch-")
        texts, cost = await run_job(batch, tmp_path / "typed.json")
    assert texts == {"a": "re: hi", "b": "errored:True"}
    assert cost is not None and cost > 0


async def _submitted(batch: BatchClient, tmp_path: Path) -> Path:
    job = await batch.submit({"x": "y"}, record=tmp_path / "first.json")
    await wait(job)
    return job.path


def test_server_side_names(server: FakeLLMServer, control: BatchControl) -> None:
    assert control.batch_ids() == [] and control.uploads() == []
    assert server.url.startswith("http://127.0.0.1")
