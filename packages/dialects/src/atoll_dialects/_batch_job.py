"""``BatchJob``: one submitted job, resumable from its record by any later process.

Every method that talks to the provider first finishes submitting what the record says is not
yet created (so a job whose process died mid-submission carries on where it stopped, and never
submits a part twice), then does its own work, saving the record after each step. Only one
process (and, here, one task) drives a job at a time: a lock file next to the record.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

import anyio

from ._batch_api import BatchAPI, JobContext, batch_api_for
from ._batch_record import JobRecord, PartRecord, RecordLock
from ._batch_record import load as load_record
from ._batch_record import save as save_record
from ._batch_results import BatchResults
from ._batch_types import (
    ENDED_STATES,
    BatchCounts,
    BatchPart,
    BatchProgress,
    BatchState,
    BatchStatus,
)
from ._exceptions import BatchRecordError, InvalidOptionError

if TYPE_CHECKING:
    from atoll_registry import Registry
    from atoll_wire import AsyncTransport

    from ._batch_client import BatchClient

__all__ = ["BatchJob"]

# While parts run, the job shows the one furthest behind.
_RUNNING_ORDER: tuple[BatchState, ...] = ("submitting", "validating", "in_progress", "finalizing")
# Once all ended, the worst outcome wins.
_OUTCOME_ORDER: tuple[BatchState, ...] = ("failed", "expired", "cancelled")


class BatchJob:
    """A job sent through a provider's batch API: one or more provider batches.

    Made by ``BatchClient.submit``, or reattached from its record with ``BatchJob.load(path)``
    (in this process or any later one). Use it as an async context manager when it was loaded
    without a client (it then owns one and closes it).

    Attributes:
        path: The job record.
    """

    def __init__(
        self, client: BatchClient, record: JobRecord, path: Path, *, owns_client: bool = False
    ) -> None:
        self._client = client
        self._record = record
        self.path = path
        self._owns_client = owns_client
        self._api: BatchAPI = batch_api_for(
            record.dialect, provider=record.provider, model=record.label
        )
        self._context = JobContext(client.http, record, path, self._save)
        self._lock = anyio.Lock()

    @classmethod
    def load(
        cls,
        path: str | PathLike[str],
        client: BatchClient | None = None,
        *,
        api_key: str | None = None,
        transport: AsyncTransport | None = None,
        registry: Registry | None = None,
    ) -> BatchJob:
        """Reattach to a job from its record, without submitting anything again.

        Args:
            path: The record ``BatchClient.submit`` wrote.
            client: The BatchClient to use (it must be for the record's model); default: a new
                one for the record's model and base URL, owned (closed) by the job.
            api_key: For the new client: the key (default: the provider's variable).
            transport: For the new client: the transport.
            registry: For the new client: where model facts and prices come from.

        Raises:
            BatchRecordError: No record there, not a record, or made for another model.
        """
        where = Path(path)
        record = load_record(where)
        owns = client is None
        if client is None:
            from ._batch_client import BatchClient

            client = BatchClient(
                record.model,
                base_url=record.base_url if record.custom_base_url else None,
                dialect=record.dialect,
                api_key=api_key,
                transport=transport,
                registry=registry,
            )
        target = client.target
        if (target.provider.name, target.request_model, target.dialect.name) != (
            record.provider,
            record.label.split("/", 1)[1],
            record.dialect,
        ):
            raise BatchRecordError(
                f"the job was submitted to {record.label} ({record.dialect}), not to "
                f"{target.label} ({target.dialect.name})",
                path=str(where),
                job_id=record.job_id,
            )
        return cls(client, record, where, owns_client=owns)

    # ---- what is known without asking ------------------------------------------------------------

    @property
    def id(self) -> str:
        """The job's id (also in each OpenAI batch's metadata as ``atoll_job``)."""
        return self._record.job_id

    @property
    def model(self) -> str:
        """``provider/model`` the job was sent to."""
        return self._record.label

    @property
    def batch_ids(self) -> tuple[str, ...]:
        """The provider batches created so far, in part order."""
        return tuple(p.batch_id for p in self._record.parts if p.batch_id is not None)

    @property
    def status(self) -> BatchStatus:
        """The job as last seen (``refresh`` or ``wait`` look again)."""
        return status_of(self._record)

    def __repr__(self) -> str:
        return f"BatchJob(id={self.id!r}, model={self.model!r}, state={self.status.state!r})"

    # ---- talking to the provider ----------------------------------------------------------------

    async def refresh(self) -> BatchStatus:
        """Submit what is not yet submitted, then look at every running batch once."""
        async with self._exclusive():
            await self._submit()
            for part in self._record.parts:
                if part.step == "created" and part.state not in ENDED_STATES:
                    await self._api.refresh(self._context, part)
            await self._save()
        return self.status

    async def wait(
        self,
        *,
        progress: BatchProgress | None = None,
        poll_interval: float = 5.0,
        max_interval: float = 60.0,
    ) -> BatchStatus:
        """Wait until every batch of the job ended, polling with backoff.

        The first look comes at once; the wait between looks starts at ``poll_interval`` and
        grows by half each time up to ``max_interval``. Cancelling the waiting task leaves the
        job as it is (its record up to date): wait again later, here or in another process.
        An expired, cancelled or failed job is returned, not raised: its results say which
        requests ran (``status.raise_for_state()`` raises the typed error).

        Args:
            progress: Called with the status after each look (a function or a coroutine
                function): counts, state and each batch.
            poll_interval: Seconds before the second look.
            max_interval: The longest wait between looks.

        Returns:
            The final status.

        Raises:
            APIError: The provider refused a call (after the client's retries).
            TransportError: The provider could not be reached (after the client's retries).
            BatchRecordError: Another process drives this job, or its request files changed.
        """
        for name, value in (("poll_interval", poll_interval), ("max_interval", max_interval)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:  # pyright: ignore[reportUnnecessaryIsInstance]
                raise InvalidOptionError(name, value, "a positive number of seconds")
        interval = float(poll_interval)
        while True:
            status = await self.refresh()
            if progress is not None:
                reported = progress(status)
                if inspect.isawaitable(reported):
                    await reported
            if status.ended:
                return status
            await anyio.sleep(interval)
            interval = min(interval * 1.5, max_interval)

    async def cancel(self) -> BatchStatus:
        """Cancel the job: running batches are cancelled, batches not yet created never will be.

        Requests that already ran keep their results; the others come out of ``results()`` as
        ``BatchItemError`` items with ``outcome="cancelled"`` once the job ended (``wait``).
        """
        async with self._exclusive():
            self._record.cancel_requested = True
            await self._save()
            for part in self._record.parts:
                if part.step in ("uploading", "creating"):
                    await self._api.recover(self._context, part)
                if part.step == "created":
                    if part.state not in ENDED_STATES:
                        await self._api.cancel(self._context, part)
                elif part.step != "skipped":
                    _skip(part)
            await self._save()
        return self.status

    def results(self) -> BatchResults:
        """The result of every request, streamed from the provider's result files.

        Each request comes out once, in no promised order: a ``BatchResponse`` (with
        ``custom_id`` and ``cost`` at the batch price) or a ``BatchItemError`` (with
        ``custom_id`` and ``outcome``), yielded, not raised. Use
        ``async with job.results() as results: async for item in results: ...`` to close the
        download at once when leaving early; ``results.cost`` is the total once read through.

        Raises:
            BatchNotEndedError: (when iterated) A batch of the job has not ended yet.
        """
        return BatchResults(self._context, self._api, self._client.registry, status_of)

    # ---- lifecycle -------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the client the job made for itself (``load`` without one)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ---- inside --------------------------------------------------------------------------------

    async def _start(self) -> None:
        """Submit every part (``BatchClient.submit`` calls this once the record exists)."""
        async with self._exclusive():
            await self._submit()

    async def _submit(self) -> None:
        for part in self._record.parts:
            if part.step in ("created", "skipped"):
                continue
            if self._record.cancel_requested:
                await self._api.recover(self._context, part)
                if part.step != "created":
                    _skip(part)
                    await self._save()
                continue
            await self._api.submit(self._context, part)

    async def _save(self) -> None:
        await anyio.to_thread.run_sync(save_record, self.path, self._record)

    @asynccontextmanager
    async def _exclusive(self) -> AsyncGenerator[None]:
        async with self._lock:
            lock = RecordLock(self.path, self.id)
            lock.acquire()
            try:
                yield
            finally:
                lock.release()


def _behind(state: BatchState) -> int:
    return _RUNNING_ORDER.index(state) if state in _RUNNING_ORDER else len(_RUNNING_ORDER)


def _skip(part: PartRecord) -> None:
    part.step = "skipped"
    part.state = "cancelled"
    part.counts = BatchCounts(total=part.count, cancelled=part.count)


def _part_counts(part: PartRecord) -> BatchCounts:
    if part.step not in ("created", "skipped"):
        return BatchCounts(total=part.count, processing=part.count)
    return part.counts


def status_of(record: JobRecord) -> BatchStatus:
    """A job's status from its record."""
    parts = tuple(
        BatchPart(
            index=p.index,
            state=p.state,
            counts=_part_counts(p),
            batch_id=p.batch_id,
            provider_status=p.status,
            errors=tuple(p.errors),
            created_at=p.created_at,
            expires_at=p.expires_at,
        )
        for p in record.parts
    )
    counts = sum((p.counts for p in parts), BatchCounts())
    states: list[BatchState] = [p.state for p in parts]
    running: list[BatchState] = [s for s in states if s not in ENDED_STATES]
    state: BatchState = "completed"
    if running:
        if record.cancel_requested or "cancelling" in running:
            state = "cancelling"
        else:
            state = min(running, key=_behind)
    else:
        for outcome in _OUTCOME_ORDER:
            if outcome in states:
                state = outcome
                break
    return BatchStatus(
        job_id=record.job_id, model=record.label, state=state, counts=counts, parts=parts
    )
