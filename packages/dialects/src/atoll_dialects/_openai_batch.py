"""OpenAI's Batch API for ``openai-chat`` targets: a JSONL file upload, then a batch.

A part goes ``planned`` -> ``uploading`` (``POST /files``, multipart, ``purpose=batch``, the
file named after the job and part) -> ``uploaded`` (its file id recorded) -> ``creating``
(``POST /batches``, ``completion_window=24h``, metadata naming the job and part) ->
``created``. After a crash, an ``uploading`` part is looked for among the batch files
(``GET /files?purpose=batch``) by name and size before uploading again, and a ``creating``
part among the batches (``GET /batches``) by its input file, so neither step is done twice.
Status comes from ``GET /batches/{id}``; results from the output and error files
(``GET /files/{id}/content``), streamed. Limits: 50,000 requests and 200 MB a batch (the
stricter reading of "MB", 200,000,000 bytes).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncGenerator
from typing import ClassVar
from urllib.parse import urlencode, urlsplit

import msgspec
from atoll_wire import HttpRequest
from atoll_wire import openai_batch as wire

from ._batch_api import (
    DISCOVERY_SKEW,
    BatchAPI,
    JobContext,
    RawItem,
    create_once,
    decode_answer,
)
from ._batch_record import PartRecord
from ._batch_types import BatchCounts, BatchState
from ._exceptions import ClientError

__all__ = ["OpenAIBatchAPI"]

_STATES: dict[str, BatchState] = {
    "validating": "validating",
    "in_progress": "in_progress",
    "finalizing": "finalizing",
    "cancelling": "cancelling",
    "completed": "completed",
    "failed": "failed",
    "expired": "expired",
    "cancelled": "cancelled",
}
_UNRUN = {"batch_expired": "expired", "batch_cancelled": "cancelled"}
_JSON = {"content-type": "application/json", "accept": "application/json"}
_PAGE = 100


def _compact(body: bytes) -> bytes:
    # A line of JSONL cannot hold a raw newline; the dialects' bodies are compact already.
    if b"\n" not in body and b"\r" not in body:
        return body
    return msgspec.json.encode(msgspec.json.decode(body))


def multipart(filename: str, data: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with ``purpose=batch`` and the file, and its type."""
    boundary = "atoll-" + secrets.token_hex(16)
    while boundary.encode() in data:  # practically never; but a boundary must not occur
        boundary = "atoll-" + secrets.token_hex(16)
    mark = b"--" + boundary.encode()
    body = b"".join(
        (
            mark + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n',
            mark + b'\r\nContent-Disposition: form-data; name="file"; filename="',
            filename.encode(),
            b'"\r\nContent-Type: application/jsonl\r\n\r\n',
            data,
            b"\r\n" + mark + b"--\r\n",
        )
    )
    return body, f"multipart/form-data; boundary={boundary}"


class OpenAIBatchAPI(BatchAPI):
    """OpenAI Batch (``/v1/files`` and ``/v1/batches``), for every ``openai-chat`` target."""

    name: ClassVar[str] = "openai"
    max_requests: ClassVar[int] = 50_000
    max_bytes: ClassVar[int] = 200_000_000

    def endpoint(self, http: HttpRequest) -> str:
        """The chat request's path (``/v1/chat/completions``)."""
        return urlsplit(http.url).path

    def line(self, custom_id: str, http: HttpRequest) -> bytes:
        """``{"custom_id", "method": "POST", "url", "body"}`` and a newline."""
        line = wire.BatchRequestLine(
            custom_id=custom_id,
            method=http.method,
            url=urlsplit(http.url).path,
            body=msgspec.Raw(_compact(http.body)),
        )
        return wire.encode(line) + b"\n"

    # ---- submitting --------------------------------------------------------------------------

    async def submit(self, job: JobContext, part: PartRecord) -> None:
        """Upload (unless done) and create (unless done), each step recorded."""
        if part.step in ("planned", "uploading"):
            await self._upload(job, part)
        if part.step in ("uploaded", "creating"):
            await create_once(
                job,
                part,
                send=lambda: self._create(job, part),
                discover=lambda: self._find_batch(job, part),
                adopt=lambda batch: self._apply(part, batch),
            )

    def _filename(self, job: JobContext, part: PartRecord) -> str:
        return f"{job.record.job_id}-part{part.index:04d}.jsonl"

    async def _upload(self, job: JobContext, part: PartRecord) -> None:
        if part.step == "uploading":  # a previous run may have uploaded it: look first
            found = await self._find_upload(job, part)
            if found is not None:
                part.file_id, part.step = found, "uploaded"
                await job.save()
                return
        part.step = "uploading"
        part.upload_started_at = time.time()
        await job.save()
        data = await job.read_part(part)
        body, content_type = multipart(self._filename(job, part), data)
        headers = {**job.record.headers, "content-type": content_type, "accept": "application/json"}
        # A repeated upload leaves at worst an unused file (it expires), never a second batch.
        raw = await job.http.call(
            "batch.upload", "POST", f"{job.base_url}/files", body=body, headers=headers
        )
        part.file_id = decode_answer(job, wire.decode_file, raw).id
        part.step = "uploaded"
        await job.save()

    async def _find_upload(self, job: JobContext, part: PartRecord) -> str | None:
        name = self._filename(job, part)
        since = (part.upload_started_at or 0.0) - DISCOVERY_SKEW
        after: str | None = None
        while True:
            query = {"purpose": "batch", "order": "desc", "limit": str(_PAGE)}
            if after is not None:
                query["after"] = after
            try:
                raw = await self._get(job, f"/files?{urlencode(query)}", "batch.list_files")
            except ClientError:  # a compatible server without a file list: upload again
                return None
            page = decode_answer(job, wire.decode_file_list, raw)
            for file in page.data:
                if file.filename == name and file.bytes == part.size:
                    return file.id
            if not page.has_more or not page.data or page.data[-1].created_at < since:
                return None
            after = page.data[-1].id

    async def _create(self, job: JobContext, part: PartRecord) -> wire.Batch:
        assert part.file_id is not None
        metadata = {
            **job.record.metadata,
            "atoll_job": job.record.job_id,
            "atoll_part": str(part.index),
        }
        body = wire.encode(
            wire.BatchCreateRequest(
                input_file_id=part.file_id, endpoint=job.record.endpoint, metadata=metadata
            )
        )
        raw = await job.http.call(
            "batch.create",
            "POST",
            f"{job.base_url}/batches",
            body=body,
            headers={**job.record.headers, **_JSON},
            retry=False,
        )
        return decode_answer(job, wire.decode_batch, raw)

    async def _find_batch(self, job: JobContext, part: PartRecord) -> wire.Batch | None:
        since = (part.create_started_at or 0.0) - DISCOVERY_SKEW
        after: str | None = None
        while True:
            query = {"limit": str(_PAGE)} | ({"after": after} if after is not None else {})
            raw = await self._get(job, f"/batches?{urlencode(query)}", "batch.list")
            page = decode_answer(job, wire.decode_batch_list, raw)
            for batch in page.data:
                if batch.input_file_id == part.file_id:
                    return batch
            if not page.has_more or not page.data or page.data[-1].created_at < since:
                return None
            after = page.data[-1].id

    async def recover(self, job: JobContext, part: PartRecord) -> None:
        """Adopt the file or batch a lost upload or create made, if there (nothing is sent)."""
        if part.step == "uploading":
            found = await self._find_upload(job, part)
            if found is not None:
                part.file_id, part.step = found, "uploaded"
                await job.save()
        elif part.step == "creating":
            batch = await self._find_batch(job, part)
            if batch is not None:
                self._apply(part, batch)
                part.step = "created"
                await job.save()

    # ---- watching ------------------------------------------------------------------------------

    async def refresh(self, job: JobContext, part: PartRecord) -> None:
        """``GET /batches/{id}``."""
        raw = await self._get(job, f"/batches/{part.batch_id}", "batch.retrieve")
        self._apply(part, decode_answer(job, wire.decode_batch, raw))

    async def cancel(self, job: JobContext, part: PartRecord) -> None:
        """``POST /batches/{id}/cancel``; a batch that ended meanwhile is left as it is."""
        try:
            raw = await job.http.call(
                "batch.cancel",
                "POST",
                f"{job.base_url}/batches/{part.batch_id}/cancel",
                headers={**job.record.headers, **_JSON},
            )
        except ClientError:
            await self.refresh(job, part)  # it ended before the cancel arrived
            if part.state in ("completed", "failed", "expired", "cancelled"):
                return
            raise
        self._apply(part, decode_answer(job, wire.decode_batch, raw))

    def _apply(self, part: PartRecord, batch: wire.Batch) -> None:
        part.batch_id = batch.id
        part.status = batch.status
        part.state = _STATES.get(batch.status, "in_progress")
        part.created_at = float(batch.created_at) if batch.created_at else part.created_at
        part.expires_at = float(batch.expires_at) if batch.expires_at else part.expires_at
        part.output_file_id = batch.output_file_id
        part.error_file_id = batch.error_file_id
        if batch.errors is not None:
            part.errors = [_error_text(e) for e in batch.errors.data]
        part.counts = _counts(part, batch)

    async def _get(self, job: JobContext, path: str, operation: str) -> bytes:
        headers = {**job.record.headers, "accept": "application/json"}
        return await job.http.call(operation, "GET", f"{job.base_url}{path}", headers=headers)

    # ---- results -------------------------------------------------------------------------------

    async def results(self, job: JobContext, part: PartRecord) -> AsyncGenerator[RawItem]:
        """The output file's lines, then the error file's (each in the provider's order)."""
        headers = {**job.record.headers, "accept": "application/binary"}
        for file_id in (part.output_file_id, part.error_file_id):
            if not file_id:
                continue
            url = f"{job.base_url}/files/{file_id}/content"
            async with job.http.lines("batch.results", url, headers) as lines:
                async for line in lines:
                    yield self._item(job, line)

    def _item(self, job: JobContext, line: bytes) -> RawItem:
        decoded = decode_answer(job, wire.decode_output_line, line)
        response = decoded.response
        if response is not None and response.status_code < 400:
            return RawItem(
                decoded.custom_id,
                "succeeded",
                body=bytes(response.body),
                request_id=response.request_id,
            )
        if response is not None:
            target = job.http.target
            error = target.dialect.parse_error(
                response.status_code, {}, bytes(response.body), target
            )
            if response.request_id and error.request_id is None:
                error.request_id = response.request_id
            return RawItem(
                decoded.custom_id, "errored", error=error, request_id=response.request_id
            )
        problem = decoded.error or wire.BatchOutputError()
        outcome = _UNRUN.get(problem.code or "", "errored")
        message = problem.message or problem.code or "the request got no answer"
        code = f" ({problem.code})" if problem.code and outcome == "errored" else ""
        return RawItem(decoded.custom_id, outcome, message=message + code)


def _error_text(error: wire.BatchError) -> str:
    where = f" (line {error.line})" if error.line is not None else ""
    return f"{error.code or 'error'}: {error.message or ''}{where}".strip()


def _counts(part: PartRecord, batch: wire.Batch) -> BatchCounts:
    if part.state == "failed":  # refused as a whole: none of its requests ran
        return BatchCounts(total=part.count, failed=part.count)
    counts = batch.request_counts or wire.BatchRequestCounts()
    total = counts.total or part.count
    left = max(total - counts.completed - counts.failed, 0)
    state = part.state
    return BatchCounts(
        total=total,
        succeeded=counts.completed,
        errored=counts.failed,
        processing=0 if state in ("completed", "failed", "expired", "cancelled") else left,
        expired=left if state == "expired" else 0,
        cancelled=left if state == "cancelled" else 0,
    )
