"""``BatchResults``: every request's result, parsed and priced, streamed part by part.

A part's results come from the provider (result files or stream) line by line and are parsed by
the target's dialect exactly as a direct response would be (``Dialect.parse``, with the request's
own settings, so structured output and tool calls come out the same), priced at the model's
batch rate. Then every request of the part that got no line (its batch failed, expired or was
cancelled first) comes out as a ``BatchItemError`` saying so: each request once, none lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

import anyio
from atoll_registry import Cost, Registry
from atoll_wire import ChatRequest, ChatResponse

from ._batch_api import BatchAPI, JobContext, RawItem
from ._batch_plan import custom_id_of, shape_request
from ._batch_record import JobRecord, PartRecord
from ._batch_types import BatchResponse, BatchStatus
from ._exceptions import APIError, BatchItemError, BatchNotEndedError, BatchRecordError

if TYPE_CHECKING:
    from ._target import Target

__all__ = ["BatchResults"]

BatchItem = BatchResponse | BatchItemError

_UNANSWERED = {
    "failed": ("failed", "its batch failed as a whole, so it never ran"),
    "expired": ("expired", "its batch's 24-hour window closed before it ran"),
    "cancelled": ("cancelled", "its batch was cancelled before it ran"),
    "completed": ("errored", "the provider sent no result for it"),
}


class BatchResults:
    """The results of a job: an async iterator of ``BatchResponse`` | ``BatchItemError``.

    Iterate it once (``async for item in job.results()``); ``async with`` closes the download
    at once if you stop early. After a full pass, ``cost`` is the exact total at the batch
    price (None when any answered request's price is unknown) and ``succeeded`` / ``failed``
    count the items.
    """

    def __init__(
        self,
        context: JobContext,
        api: BatchAPI,
        registry: Registry,
        status_of: Callable[[JobRecord], BatchStatus],
    ) -> None:
        self._context = context
        self._api = api
        self._registry = registry
        self._status_of = status_of
        self._items: AsyncIterator[BatchItem] | None = None
        self._shapes: list[ChatRequest] = [shape_request(s) for s in context.record.shapes]
        self._label = context.http.target.label
        self._days: dict[int, date | None] = {}
        self._total = Decimal(0)
        self._unknown = 0
        self.succeeded = 0
        """Successful results so far."""
        self.failed = 0
        """``BatchItemError`` items so far."""

    @property
    def cost(self) -> Decimal | None:
        """The exact cost of the results read so far, or None if any one's price is unknown."""
        return None if self._unknown else self._total

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> BatchItem:
        if self._items is None:
            self._items = self._generate()
        return await anext(self._items)

    async def aclose(self) -> None:
        """Stop: close the download in progress."""
        items, self._items = self._items, None
        close = getattr(items, "aclose", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _generate(self) -> AsyncIterator[BatchItem]:
        record = self._context.record
        status = self._status_of(record)
        if not status.ended:
            raise BatchNotEndedError(
                f"the job is {status.state}: wait for it to end (await job.wait()) before "
                "reading results",
                state=status.state,
                job_id=record.job_id,
            )
        for part in record.parts:
            seen: set[str] = set()
            if part.step == "created" and part.state != "failed":
                async with aclosing(self._api.results(self._context, part)) as raw_items:
                    async for raw in raw_items:
                        if raw.custom_id in seen:  # a provider repeating a line: once is enough
                            continue
                        seen.add(raw.custom_id)
                        yield self._counted(self._item(part, raw))
            outcome, why = _UNANSWERED.get(part.state, _UNANSWERED["completed"])
            if part.step == "skipped":
                outcome, why = "cancelled", "the job was cancelled before its batch was created"
            elif part.state == "failed" and part.errors:
                why = f"{why}: {'; '.join(part.errors)}"
            ids = await anyio.to_thread.run_sync(_ids, self._context.part_path(part), part, record)
            for custom_id in ids:
                if custom_id not in seen:
                    yield self._counted(self._unanswered(part, custom_id, outcome, why))

    def _counted(self, item: BatchItem) -> BatchItem:
        if isinstance(item, BatchItemError):
            self.failed += 1
        else:
            self.succeeded += 1
            if isinstance(item.cost, Cost):
                self._total += item.cost.total
            else:
                self._unknown += 1
        return item

    def _item(self, part: PartRecord, raw: RawItem) -> BatchItem:
        target = self._context.http.target
        if raw.outcome == "succeeded" and raw.body is not None:
            shape = self._shapes[part.shapes.get(raw.custom_id, 0)]
            try:
                response = target.dialect.parse(raw.body, target, shape)
            except APIError as error:  # an error inside a success, or not the API's shape
                return self._error(part, raw.custom_id, "errored", error.message, error)
            return self._response(part, raw, response, target)
        if raw.error is not None:
            return self._error(part, raw.custom_id, "errored", raw.error.message, raw.error)
        return self._unanswered(part, raw.custom_id, raw.outcome, raw.message)

    def _response(
        self, part: PartRecord, raw: RawItem, response: ChatResponse, target: Target
    ) -> BatchResponse:
        cost: Cost | None = None
        if target.model is None:
            note: str | None = f"model {target.name!r} is not in the registry; its price is unknown"
        else:
            when = self._day(part)
            outcome = self._registry.explain_cost(target.model, response.usage, at=when, batch=True)
            cost = outcome if isinstance(outcome, Cost) else None
            note = None if cost is not None else getattr(outcome, "reason", "price unknown")
        fields = {name: getattr(response, name) for name in ChatResponse.__struct_fields__}
        fields["cost"] = cost
        if fields["provider"] is None:
            fields["provider"] = target.provider.name
        return BatchResponse(
            **fields,
            served_by=self._label,
            cost_note=note,
            custom_id=raw.custom_id,
            batch_id=part.batch_id or "",
        )

    def _day(self, part: PartRecord) -> date | None:
        """The day the part's batch was created: the prices in force then apply."""
        if part.index not in self._days:
            created = part.created_at
            self._days[part.index] = (
                datetime.fromtimestamp(created, UTC).date() if created is not None else None
            )
        return self._days[part.index]

    def _error(
        self, part: PartRecord, custom_id: str, outcome: str, message: str, error: APIError
    ) -> BatchItemError:
        return BatchItemError(
            message,
            custom_id=custom_id,
            outcome=outcome,
            batch_id=part.batch_id,
            error=error,
            status=error.status,
            provider=error.provider,
            model=error.model,
            request_id=error.request_id,
            error_type=error.error_type,
            code=error.code,
            body=error.body,
        )

    def _unanswered(
        self, part: PartRecord, custom_id: str, outcome: str, message: str
    ) -> BatchItemError:
        target = self._context.http.target
        return BatchItemError(
            message,
            custom_id=custom_id,
            outcome=outcome,
            batch_id=part.batch_id,
            provider=target.provider.name,
            model=target.request_model,
        )


def _ids(path: Path, part: PartRecord, record: JobRecord) -> list[str]:
    """The custom ids of a part's request file, in order, checked against its digest."""
    digest = hashlib.sha256()
    ids: list[str] = []
    try:
        with path.open("rb") as lines:
            for line in lines:
                digest.update(line)
                if line.strip():
                    ids.append(custom_id_of(line))
    except OSError as exc:
        raise BatchRecordError(
            f"the request file of part {part.index} cannot be read ({exc.strerror})",
            path=str(path),
            job_id=record.job_id,
        ) from exc
    if digest.hexdigest() != part.sha256:
        raise BatchRecordError(
            f"the request file of part {part.index} changed since it was planned",
            path=str(path),
            job_id=record.job_id,
        )
    return ids
