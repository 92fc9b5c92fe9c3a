"""Anthropic's Message Batches API for ``anthropic-messages`` targets.

A part goes ``planned`` -> ``creating`` (``POST /messages/batches`` with every request of the
part) -> ``created``. Message batches carry no metadata, so after a crash a ``creating`` part
is looked for among the newest batches (``GET /messages/batches``): one created since the
create started (within ``DISCOVERY_SKEW``), holding as many requests, and not already another
part of the job. Two such batches cannot be told apart; that is refused with their ids rather
than guessed (cancelling the extra ones at the provider settles it: a batch whose cancel was
asked for is never taken). Status comes from ``GET /messages/batches/{id}``; results stream from the
batch's ``results_url`` (when it is on the API's own host: the key is never sent elsewhere).
Limits: 100,000 requests and 256 MB a batch (256,000,000 bytes of create body).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlencode

import msgspec
from atoll_wire import HttpRequest
from atoll_wire import anthropic_batch as wire

from ._anthropic import DEFAULT_VERSION
from ._batch_api import (
    DISCOVERY_SKEW,
    BatchAPI,
    JobContext,
    RawItem,
    create_once,
    decode_answer,
    same_origin,
)
from ._batch_record import PartRecord
from ._batch_types import BatchCounts
from ._error_bodies import error_class
from ._exceptions import BatchRecordError, ClientError

__all__ = ["AnthropicBatchAPI"]

_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ENVELOPE = len(b'{"requests":[]}')
_OUTCOMES = {"canceled": "cancelled", "expired": "expired"}
_PAGE = 100


def _when(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class AnthropicBatchAPI(BatchAPI):
    """Anthropic Message Batches (``/v1/messages/batches``), for ``anthropic-messages`` targets."""

    name: ClassVar[str] = "anthropic"
    max_requests: ClassVar[int] = 100_000
    max_bytes: ClassVar[int] = 256_000_000

    def check_custom_id(self, custom_id: str) -> str | None:
        """Anthropic's rule: 1 to 64 characters of ``[a-zA-Z0-9_-]``."""
        if _CUSTOM_ID.match(custom_id):
            return None
        return "a Message Batches custom id is 1 to 64 characters of a-z, A-Z, 0-9, _ and -"

    def size_of(self, content: int, count: int) -> int:
        """The create body: the lines joined by commas inside ``{"requests":[...]}``."""
        return content - count + max(count - 1, 0) + _ENVELOPE

    def line(self, custom_id: str, http: HttpRequest) -> bytes:
        """``{"custom_id", "params"}`` and a newline."""
        body = http.body
        if b"\n" in body or b"\r" in body:
            body = msgspec.json.encode(msgspec.json.decode(body))
        line = wire.BatchRequest(custom_id=custom_id, params=msgspec.Raw(body))
        return wire.encode(line) + b"\n"

    # ---- submitting --------------------------------------------------------------------------

    async def submit(self, job: JobContext, part: PartRecord) -> None:
        """Create the part's batch (unless done), the step recorded first."""
        if part.step in ("planned", "creating"):
            await create_once(
                job,
                part,
                send=lambda: self._create(job, part),
                discover=lambda: self._find_batch(job, part),
                adopt=lambda batch: self._apply(job, part, batch),
            )

    def _headers(self, job: JobContext) -> dict[str, str]:
        headers = dict(job.record.headers)
        headers.setdefault("anthropic-version", DEFAULT_VERSION)
        headers["accept"] = "application/json"
        return headers

    async def _create(self, job: JobContext, part: PartRecord) -> wire.MessageBatch:
        data = await job.read_part(part)
        body = b'{"requests":[' + data.rstrip(b"\n").replace(b"\n", b",") + b"]}"
        raw = await job.http.call(
            "batch.create",
            "POST",
            f"{job.base_url}/messages/batches",
            body=body,
            headers={**self._headers(job), "content-type": "application/json"},
            retry=False,
        )
        return decode_answer(job, wire.decode_batch, raw)

    async def _find_batch(self, job: JobContext, part: PartRecord) -> wire.MessageBatch | None:
        since = (part.create_started_at or time.time()) - DISCOVERY_SKEW
        known = {p.batch_id for p in job.record.parts if p.batch_id is not None}
        found: list[wire.MessageBatch] = []
        after: str | None = None
        while True:
            query = {"limit": str(_PAGE)} | ({"after_id": after} if after is not None else {})
            raw = await job.http.call(
                "batch.list",
                "GET",
                f"{job.base_url}/messages/batches?{urlencode(query)}",
                headers=self._headers(job),
            )
            page = decode_answer(job, wire.decode_batch_list, raw)
            older = False
            for batch in page.data:
                created = _when(batch.created_at)
                if created is not None and created < since:
                    older = True
                    break
                counts = batch.request_counts
                total = (
                    counts.processing
                    + counts.succeeded
                    + counts.errored
                    + counts.canceled
                    + counts.expired
                )
                taken = batch.id in known or batch.cancel_initiated_at is not None
                if not taken and total == part.count:
                    found.append(batch)
            if older or not page.has_more or not page.last_id:
                break
            after = page.last_id
        if len(found) > 1:
            raise BatchRecordError(
                f"part {part.index} may have been created, and {len(found)} batches could be it "
                f"({', '.join(b.id for b in found)}); cancel all but one at the provider and run "
                "again (a cancelled batch is never taken for it)",
                path=str(job.path),
                job_id=job.record.job_id,
            )
        return found[0] if found else None

    async def recover(self, job: JobContext, part: PartRecord) -> None:
        """Adopt the batch a lost create made, if it is there (nothing is sent)."""
        if part.step == "creating":
            found = await self._find_batch(job, part)
            if found is not None:
                self._apply(job, part, found)
                part.step = "created"
                await job.save()

    # ---- watching ------------------------------------------------------------------------------

    async def refresh(self, job: JobContext, part: PartRecord) -> None:
        """``GET /messages/batches/{id}``."""
        raw = await job.http.call(
            "batch.retrieve",
            "GET",
            f"{job.base_url}/messages/batches/{part.batch_id}",
            headers=self._headers(job),
        )
        self._apply(job, part, decode_answer(job, wire.decode_batch, raw))

    async def cancel(self, job: JobContext, part: PartRecord) -> None:
        """``POST /messages/batches/{id}/cancel``; a batch that ended meanwhile is left so."""
        try:
            raw = await job.http.call(
                "batch.cancel",
                "POST",
                f"{job.base_url}/messages/batches/{part.batch_id}/cancel",
                headers=self._headers(job),
            )
        except ClientError:
            await self.refresh(job, part)
            if part.state in ("completed", "expired", "cancelled", "failed"):
                return
            raise
        self._apply(job, part, decode_answer(job, wire.decode_batch, raw))

    def _apply(self, job: JobContext, part: PartRecord, batch: wire.MessageBatch) -> None:
        counts = batch.request_counts
        part.batch_id = batch.id
        part.status = batch.processing_status
        if batch.processing_status == "ended":
            if counts.canceled:
                part.state = "cancelled"
            elif counts.expired:
                part.state = "expired"
            else:
                part.state = "completed"
        else:
            part.state = "cancelling" if batch.processing_status == "canceling" else "in_progress"
        part.created_at = _when(batch.created_at) or part.created_at
        part.expires_at = _when(batch.expires_at) or part.expires_at
        part.results_url = batch.results_url
        part.counts = BatchCounts(
            total=part.count,
            processing=counts.processing,
            succeeded=counts.succeeded,
            errored=counts.errored,
            cancelled=counts.canceled,
            expired=counts.expired,
        )

    # ---- results -------------------------------------------------------------------------------

    async def results(self, job: JobContext, part: PartRecord) -> AsyncGenerator[RawItem]:
        """The results stream's lines, in the provider's order."""
        url = part.results_url
        if not url or not same_origin(url, job.base_url):
            url = f"{job.base_url}/messages/batches/{part.batch_id}/results"
        headers = {**self._headers(job), "accept": "application/binary"}
        async with job.http.lines("batch.results", url, headers) as lines:
            async for line in lines:
                yield self._item(job, line)

    def _item(self, job: JobContext, line: bytes) -> RawItem:
        decoded = decode_answer(job, wire.decode_result_line, line)
        result = decoded.result
        if result.type == "succeeded":
            return RawItem(decoded.custom_id, "succeeded", body=bytes(result.message))
        if result.type in _OUTCOMES:
            outcome = _OUTCOMES[result.type]
            return RawItem(decoded.custom_id, outcome, message=f"the request {result.type}")
        envelope = result.error
        detail = envelope.error if envelope is not None else None
        error_type = detail.type if detail is not None and detail.type else None
        target = job.http.target
        error = error_class(None, error_type)(
            (detail.message if detail is not None else "") or f"the request {result.type}",
            provider=target.provider.name,
            model=target.request_model,
            error_type=error_type,
            request_id=envelope.request_id if envelope is not None else None,
            body=line.decode("utf-8", "replace"),
        )
        return RawItem(decoded.custom_id, "errored", error=error, request_id=error.request_id)
