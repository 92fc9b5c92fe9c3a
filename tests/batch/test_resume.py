"""A job survives its process: a crash at each step resumes from the record, never submitting
anything twice; a record is never submitted to twice; one process drives a job at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from atoll_curl import CurlTransport
from atoll_dialects import (
    BatchClient,
    BatchJob,
    BatchRecordError,
    BatchResponse,
    ServerError,
)
from atoll_dialects._batch_record import RecordLock
from atoll_testing import BatchControl, FakeLLMServer

from .conftest import (
    KEY,
    MODELS,
    Crash,
    CrashingTransport,
    FaultyTransport,
    MakeClient,
    base_url,
    create_path,
    wait,
)

pytestmark = pytest.mark.anyio

REQUESTS = {f"q{i}": f"hello {i}" for i in range(10)}


def _steps(path: Path) -> list[str]:
    return [part["step"] for part in json.loads(path.read_text())["parts"]]


def _creates(server: FakeLLMServer, provider: str) -> int:
    path = create_path(provider)
    return sum(1 for r in server.requests if r.method == "POST" and r.path.endswith(path))


async def _finish(job: BatchJob) -> dict[str, str]:
    """Wait for the job, then read every result: custom id -> text (or the error outcome)."""
    await wait(job)
    out: dict[str, str] = {}
    async with job.results() as results:
        async for item in results:
            assert item.custom_id not in out
            out[item.custom_id] = item.text if isinstance(item, BatchResponse) else item.outcome
    return out


async def _crash_then_resume(
    make_client: MakeClient, tmp_path: Path, method: str, path_end: str, when: str
) -> BatchJob:
    record = tmp_path / "job.json"
    async with CurlTransport() as inner:
        crashing = CrashingTransport(inner, method, path_end, when=when)
        async with make_client(transport=crashing, max_requests=4) as batch:
            with pytest.raises(Crash):
                await batch.submit(REQUESTS, record=record)
    return BatchJob.load(record, api_key=KEY)


async def test_crash_between_upload_and_create(
    make_client: MakeClient,
    provider: str,
    server: FakeLLMServer,
    control: BatchControl,
    tmp_path: Path,
) -> None:
    # OpenAI: the file of part 0 is uploaded and recorded; the process dies as the create goes
    # out. Anthropic (no upload): the record is written; the process dies as the create goes
    # out. The record says "creating" (it cannot know whether the create left): the next run
    # looks for the batch at the provider, finds none, and creates it.
    job = await _crash_then_resume(make_client, tmp_path, "POST", create_path(provider), "before")
    assert _steps(job.path) == ["creating", "planned", "planned"]
    part = json.loads(job.path.read_text())["parts"][0]
    assert (part["file_id"] is not None) == (provider == "openai")
    assert control.batch_ids() == []
    async with job:
        results = await _finish(job)
    assert results == {k: f"re: {v}" for k, v in REQUESTS.items()}
    assert len(control.batch_ids()) == 3 and _creates(server, provider) == 3
    if provider == "openai":
        assert len(control.uploads()) == 3  # part 0's file was not uploaded again
    assert server.counts[MODELS[provider][1]] == 10


async def test_crash_after_the_create_was_answered_but_not_recorded(
    make_client: MakeClient,
    provider: str,
    server: FakeLLMServer,
    control: BatchControl,
    tmp_path: Path,
) -> None:
    # The provider made the batch; the process died before writing its id down.
    job = await _crash_then_resume(make_client, tmp_path, "POST", create_path(provider), "after")
    assert _steps(job.path) == ["creating", "planned", "planned"]
    assert len(control.batch_ids()) == 1
    orphan = control.batch_ids()[0]
    async with job:
        results = await _finish(job)
        assert job.batch_ids[0] == orphan  # found at the provider, not created again
    assert results == {k: f"re: {v}" for k, v in REQUESTS.items()}
    assert len(control.batch_ids()) == 3 and _creates(server, provider) == 3
    assert server.counts[MODELS[provider][1]] == 10


@pytest.mark.parametrize("provider", ["openai"])  # Message Batches have no upload step
async def test_crash_after_an_upload_was_answered_but_not_recorded(
    make_client: MakeClient, provider: str, control: BatchControl, tmp_path: Path
) -> None:
    job = await _crash_then_resume(make_client, tmp_path, "POST", "/files", "after")
    assert _steps(job.path) == ["uploading", "planned", "planned"]
    assert len(control.uploads()) == 1
    async with job:
        results = await _finish(job)
    assert len(results) == 10
    assert len(control.uploads()) == 3  # the first file was found by its name, not sent again


async def test_crash_between_create_and_results(
    make_client: MakeClient,
    provider: str,
    server: FakeLLMServer,
    control: BatchControl,
    tmp_path: Path,
) -> None:
    record = tmp_path / "job.json"
    control.duration = None  # the batches run only when told
    async with make_client(max_requests=4) as batch:
        job = await batch.submit(REQUESTS, record=record)
        assert _steps(record) == ["created"] * 3
        await job.refresh()
    # ...the process dies here; another one picks the job up from its record.
    control.finish()
    async with CurlTransport() as inner:
        reading = "/results" if provider == "anthropic" else "/content"
        crashing = CrashingTransport(inner, "GET", reading, when="after")
        async with make_client(transport=crashing) as batch:
            job = batch.load(record)
            await wait(job)
            with pytest.raises(Crash):  # ...and dies while reading the results
                async for _ in job.results():
                    pass
    async with make_client() as batch:
        results = await _finish(batch.load(record))
    assert results == {k: f"re: {v}" for k, v in REQUESTS.items()}
    assert len(control.batch_ids()) == 3 and _creates(server, provider) == 3
    assert server.counts[MODELS[provider][1]] == 10


async def test_a_create_whose_answer_was_lost_is_found_not_repeated(
    make_client: MakeClient,
    provider: str,
    server: FakeLLMServer,
    control: BatchControl,
    tmp_path: Path,
) -> None:
    # The server makes the batch, then answers 500: the client retries, but asks the provider
    # first, finds the batch and takes it.
    async with CurlTransport() as inner:
        faulty = FaultyTransport(inner, server, "POST", create_path(provider), "status=500")
        async with make_client(transport=faulty) as batch:
            job = await batch.submit({"a": "x"}, record=tmp_path / "job.json")
            results = await _finish(job)
    assert results == {"a": "re: x"}
    assert len(control.batch_ids()) == 1 and _creates(server, provider) == 1


async def test_a_create_that_cannot_be_checked_is_left_to_resume(
    make_client: MakeClient,
    provider: str,
    server: FakeLLMServer,
    control: BatchControl,
    tmp_path: Path,
) -> None:
    record = tmp_path / "job.json"
    list_path = create_path(provider)  # GET on the same path lists the batches
    async with CurlTransport() as inner:
        lost = FaultyTransport(inner, server, "POST", create_path(provider), "status=503")
        unlisted = FaultyTransport(lost, server, "GET", list_path, "status=503", times=99)
        async with make_client(transport=unlisted) as batch:
            with pytest.raises(ServerError) as caught:
                await batch.submit({"a": "x"}, record=record)
    notes = getattr(caught.value, "__notes__", [])
    assert any(f"BatchJob.load({str(record)!r})" in note for note in notes)
    assert _steps(record) == ["creating"]  # made, perhaps: it is not sent again blindly
    assert len(control.batch_ids()) == 1
    server.clear()
    async with make_client() as batch:
        results = await _finish(batch.load(record))
    assert results == {"a": "re: x"}
    assert len(control.batch_ids()) == 1 and _creates(server, provider) == 0


async def test_the_same_record_is_never_submitted_twice(
    make_client: MakeClient, server: FakeLLMServer, control: BatchControl, tmp_path: Path
) -> None:
    record = tmp_path / "job.json"
    async with make_client() as batch:
        first = await batch.submit({"a": "x"}, record=record)
        before = len(server.requests)
        with pytest.raises(BatchRecordError, match="exists here already") as caught:
            await batch.submit({"a": "x"}, record=record)
        assert caught.value.path == str(record)
        assert len(server.requests) == before  # nothing was sent
        assert BatchJob.load(record, batch).id == first.id
    assert len(control.batch_ids()) == 1


async def test_one_process_drives_a_job_at_a_time(make_client: MakeClient, tmp_path: Path) -> None:
    record = tmp_path / "job.json"
    async with make_client() as batch:
        job = await batch.submit({"a": "x"}, record=record)
        other = RecordLock(record, job.id)  # what another process would hold
        other.acquire()
        try:
            with pytest.raises(BatchRecordError, match="in use by another process"):
                await wait(job)
        finally:
            other.release()
        assert (await wait(job)).state == "completed"


async def test_load_checks_the_record(
    make_client: MakeClient, tmp_path: Path, provider: str, server: FakeLLMServer
) -> None:
    with pytest.raises(BatchRecordError, match="no batch job record"):
        BatchJob.load(tmp_path / "missing.json")
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}')
    with pytest.raises(BatchRecordError, match="not an atoll batch job record"):
        BatchJob.load(junk)
    record = tmp_path / "job.json"
    async with make_client() as batch:
        job = await batch.submit({"a": "x"}, record=record)
    other = "anthropic" if provider == "openai" else "openai"
    async with BatchClient(
        MODELS[other][0], base_url=base_url(server, other), api_key=KEY
    ) as wrong:
        with pytest.raises(BatchRecordError, match="was submitted to"):
            BatchJob.load(record, wrong)
    data = json.loads(record.read_text())
    data["version"] = 99
    record.write_text(json.dumps(data))
    with pytest.raises(BatchRecordError, match="format version 99"):
        BatchJob.load(record)
    assert job.id == data["job_id"]


async def test_changed_request_files_are_refused(
    make_client: MakeClient, provider: str, tmp_path: Path
) -> None:
    record = tmp_path / "job.json"
    first_send = "/files" if provider == "openai" else "/messages/batches"
    async with CurlTransport() as inner:
        crashing = CrashingTransport(inner, "POST", first_send, when="before")
        async with make_client(transport=crashing) as batch:
            with pytest.raises(Crash):
                await batch.submit({"a": "x"}, record=record)
    data = json.loads(record.read_text())
    part_file = tmp_path / data["parts"][0]["file"]
    part_file.write_bytes(part_file.read_bytes().replace(b"x", b"y"))
    async with make_client() as batch:
        job = batch.load(record)
        with pytest.raises(BatchRecordError, match="changed since it was planned"):
            await wait(job)
