"""What a batch job reports: its state and counts, each provider batch in it, and each result.

A job is one ``BatchClient.submit`` call: one or more provider batches (a large input is split
to fit each provider's limits), each a "part" of the job. States and counts are neutral: OpenAI's
``completed``/``failed`` counts and Anthropic's ``succeeded``/``errored``/``canceled``/``expired``
map onto the same fields.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Literal, Protocol

import msgspec

from ._exceptions import (
    BatchCancelledError,
    BatchExpiredError,
    BatchFailedError,
    BatchOutcomeError,
)
from ._result import ClientResponse

__all__ = [
    "BatchCounts",
    "BatchPart",
    "BatchProgress",
    "BatchResponse",
    "BatchState",
    "BatchStatus",
    "ENDED_STATES",
]

BatchState = Literal[
    "submitting",
    "validating",
    "in_progress",
    "finalizing",
    "cancelling",
    "completed",
    "expired",
    "cancelled",
    "failed",
]
"""Where a provider batch (or a whole job) is.

``submitting``: not yet created at the provider (its requests are being uploaded). Then the
provider's own progress: ``validating`` (OpenAI checks the input), ``in_progress``,
``finalizing`` (OpenAI writes the output files), ``cancelling``. A batch ends ``completed``
(every request ran; some may have errored), ``expired`` (the 24-hour window closed first),
``cancelled`` or ``failed`` (the provider refused the input as a whole; nothing ran).
"""

ENDED_STATES: frozenset[BatchState] = frozenset({"completed", "expired", "cancelled", "failed"})
"""The states a batch never leaves."""


class BatchCounts(msgspec.Struct, frozen=True, kw_only=True):
    """Requests by state.

    Attributes:
        total: Every request.
        processing: Not finished yet.
        succeeded: Answered successfully.
        errored: Answered with an error.
        expired: Never run: the batch's window closed first.
        cancelled: Never run: the batch was cancelled first.
        failed: Never run: their batch failed as a whole.
    """

    total: int = 0
    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    expired: int = 0
    cancelled: int = 0
    failed: int = 0

    def __add__(self, other: BatchCounts) -> BatchCounts:
        fields = self.__struct_fields__
        return BatchCounts(**{name: getattr(self, name) + getattr(other, name) for name in fields})

    @property
    def done(self) -> int:
        """Requests with an outcome (every state but ``processing``)."""
        return self.total - self.processing


class BatchPart(msgspec.Struct, frozen=True, kw_only=True):
    """One provider batch of a job.

    Attributes:
        index: Its place in the job (0 first).
        batch_id: The provider's batch id, once created.
        state: Its neutral state.
        provider_status: The status as the provider last reported it.
        counts: Its requests by state.
        errors: Why it failed, when it did (the provider's messages).
        created_at: When the provider created it (Unix seconds).
        expires_at: When its 24-hour window closes (Unix seconds).
    """

    index: int
    state: BatchState
    counts: BatchCounts
    batch_id: str | None = None
    provider_status: str | None = None
    errors: tuple[str, ...] = ()
    created_at: float | None = None
    expires_at: float | None = None


class BatchStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A job's state: the sum of its provider batches.

    ``state`` is the furthest-behind part's while any runs; once all ended, ``completed`` when
    every part completed, else the worst outcome (``failed``, then ``expired``, then
    ``cancelled``).

    Attributes:
        job_id: The job's id.
        model: ``provider/model``.
        state: The job's state.
        counts: Requests by state, over every part.
        parts: Each provider batch.
    """

    job_id: str
    model: str
    state: BatchState
    counts: BatchCounts
    parts: tuple[BatchPart, ...]

    @property
    def ended(self) -> bool:
        """Whether every part ended (results can be read)."""
        return self.state in ENDED_STATES

    def error(self) -> BatchOutcomeError | None:
        """The typed error for a job that ended short of ``completed``, else None."""
        kinds: dict[str, type[BatchOutcomeError]] = {
            "failed": BatchFailedError,
            "expired": BatchExpiredError,
            "cancelled": BatchCancelledError,
        }
        cls = kinds.get(self.state)
        if cls is None:
            return None
        parts = [p for p in self.parts if p.state == self.state]
        ids = tuple(p.batch_id for p in parts if p.batch_id is not None)
        reasons = "; ".join(e for p in parts for e in p.errors)
        reason = f"{len(parts)} of {len(self.parts)} batches {self.state}" + (
            f": {reasons}" if reasons else ""
        )
        return cls(reason, state=self.state, batch_ids=ids, job_id=self.job_id)

    def raise_for_state(self) -> None:
        """Raise the typed error of a job that ended short of ``completed``.

        ``BatchFailedError``, ``BatchExpiredError`` or ``BatchCancelledError``; nothing while
        the job runs or once it completed.

        Raises:
            BatchOutcomeError: The job ended short of ``completed``.
        """
        error = self.error()
        if error is not None:
            raise error


class BatchResponse(ClientResponse, kw_only=True, omit_defaults=True):
    """A successful result of a batch: the neutral response, its request's id, its batch.

    ``cost`` is priced at the model's batch rate (``cost_note`` says why when it is unknown).

    Attributes:
        custom_id: The request's id.
        batch_id: The provider batch that answered it.
    """

    custom_id: str
    batch_id: str = ""


class BatchProgress(Protocol):
    """Called by ``BatchJob.wait`` after each look at the provider (may be async)."""

    def __call__(self, status: BatchStatus, /) -> Awaitable[object] | object:
        """Report the job's status (counts, state, each part)."""
        ...
