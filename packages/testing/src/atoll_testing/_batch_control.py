"""``BatchControl``: the local server's batch store and the clock that moves batches along.

Both batch dialects (``OpenAIBatchServer``, ``AnthropicBatchServer``) keep their files and
batches here, and a test drives them: by the clock (a batch takes ``duration`` seconds to run
all its requests and expires ``window`` seconds after creation; ``advance`` moves the clock) or
by asking (``finish``, ``expire``, ``fail``). Nothing runs in the background: a batch catches up
with the clock whenever a request looks at it (retrieve, list, cancel, results), which is all a
client can observe anyway. Each request of a batch is answered by the server's models (scripts,
callables, ``echo``, cases), exactly as a direct chat request would be, and counted in
``srv.counts``.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._dialect import ServerDialect

__all__ = ["ANTHROPIC_LIMITS", "OPENAI_LIMITS", "BatchControl", "FakeBatch", "StoredFile"]

#: (requests, bytes) a batch may hold: OpenAI's 50,000 requests and 200 MB input file.
OPENAI_LIMITS = (50_000, 200_000_000)
#: Anthropic's 100,000 requests and 256 MB request body.
ANTHROPIC_LIMITS = (100_000, 256_000_000)

Answer = Callable[[str, bytes], tuple[int, bytes]]
"""Answers one request of a batch: ``(custom_id, body) -> (status, response body)``."""


@dataclass
class StoredFile:
    """A file uploaded to (or written by) the OpenAI side."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int


@dataclass
class FakeBatch:
    """One batch and how far it got; the dialect modules render it in their API's shape.

    ``stage`` is ``validating``, ``in_progress``, ``finalizing``, ``cancelling`` or ``ended``;
    once ended, ``outcome`` is ``completed``, ``failed``, ``expired`` or ``cancelled``.
    ``answers`` holds ``(custom_id, status, body)`` for each request run so far, in run order;
    ``errors`` says why a batch failed (validation, or ``fail``), as ``{code, message, line}``.
    """

    id: str
    api: str
    requests: list[tuple[str, bytes]]
    created_at: float
    expires_at: float
    stage: str = "in_progress"
    outcome: str | None = None
    answers: list[tuple[str, int, bytes]] = field(default_factory=list[tuple[str, int, bytes]])
    errors: list[dict[str, object]] = field(default_factory=list[dict[str, object]])
    started_at: float | None = None
    finalizing_at: float | None = None
    cancelling_at: float | None = None
    ended_at: float | None = None
    fate: str | None = None
    fail_message: str = ""
    endpoint: str = ""
    input_file_id: str = ""
    metadata: dict[str, str] | None = None
    model: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the batch reached an outcome."""
        return self.stage == "ended"

    @property
    def unanswered(self) -> list[tuple[str, bytes]]:
        """Requests not run (yet, or ever once the batch ended)."""
        return self.requests[len(self.answers) :]


class BatchControl:
    """Files, batches and the clock of the local server's batch APIs.

    Give one to both batch dialects and the server
    (``FakeLLMServer(dialects=[*registered_server_dialects(), *control.dialects()])``), then
    drive batches from the test.

    Args:
        duration: Seconds a batch takes to run all its requests, counted from the first look
            after creation; requests run in order, in proportion to the time passed (0: all at
            once; None: never by itself, only on ``finish`` or when the clock passes its expiry).
        window: Seconds from creation until a batch expires (the APIs' 24 hours).
        max_requests: Requests a batch may hold (default: each API's own limit).
        max_bytes: Bytes an input file (OpenAI) or a create body (Anthropic) may have (default:
            each API's own limit).

    Example:
        >>> control = BatchControl(duration=None)
        >>> control.now() > 0
        True
    """

    def __init__(
        self,
        *,
        duration: float | None = 0.0,
        window: float = 86_400.0,
        max_requests: int | None = None,
        max_bytes: int | None = None,
    ) -> None:
        if duration is not None and not duration >= 0:
            raise ValueError(f"duration must be 0 or more seconds, or None; got {duration!r}")
        if not window > 0:
            raise ValueError(f"window must be a positive number of seconds; got {window!r}")
        self.duration = duration
        self.window = window
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, FakeBatch] = {}
        self.lock = threading.RLock()
        self._offset = 0.0
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return (
            f"BatchControl(duration={self.duration!r}, window={self.window!r}, "
            f"batches={len(self.batches)})"
        )

    # ---- the clock and fates (called from tests) -------------------------------------------

    def now(self) -> float:
        """The batch clock: the wall clock plus every ``advance`` so far (Unix seconds)."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the batch clock forward (batches catch up when next looked at)."""
        if not seconds >= 0:
            raise ValueError(f"the clock only moves forward; got {seconds!r}")
        with self.lock:
            self._offset += seconds

    def finish(self, batch_id: str | None = None) -> None:
        """Run every remaining request of a batch (None: of every running batch) when next seen."""
        self._set_fate(batch_id, "finish")

    def expire(self, batch_id: str | None = None) -> None:
        """Expire a batch (None: every running batch) when next seen; what ran is kept."""
        self._set_fate(batch_id, "expire")

    def fail(self, batch_id: str | None = None, message: str = "the batch failed") -> None:
        """Fail a batch (None: every running batch) when next seen.

        OpenAI: the batch ends ``failed`` with ``message`` in its ``errors`` and no output.
        Anthropic (which has no failed state): it ends with every request not yet run
        ``errored`` with an ``api_error`` carrying ``message``.
        """
        self._set_fate(batch_id, "fail", message)

    def batch_ids(self, api: str | None = None) -> list[str]:
        """Batch ids in creation order (``api``: ``openai`` or ``anthropic`` only)."""
        with self.lock:
            return [b.id for b in self.batches.values() if api is None or b.api == api]

    def status(self, batch_id: str) -> str:
        """A batch's stage, or its outcome once it ended (``completed``, ``expired``, ...)."""
        with self.lock:
            batch = self.batches[batch_id]
            return batch.outcome or batch.stage

    def uploads(self) -> list[str]:
        """Ids of the files uploaded with ``purpose=batch``, in upload order."""
        with self.lock:
            return [f.id for f in self.files.values() if f.purpose == "batch"]

    def dialects(self, *, bearer: bool = False) -> tuple[ServerDialect, ServerDialect]:
        """The two batch dialects on this control: OpenAI's and Anthropic's.

        Args:
            bearer: Let the Anthropic side also take its key as ``Authorization: Bearer``.
        """
        from ._anthropic_batch import AnthropicBatchServer
        from ._openai_batch import OpenAIBatchServer

        return OpenAIBatchServer(self), AnthropicBatchServer(self, bearer=bearer)

    def _set_fate(self, batch_id: str | None, fate: str, message: str = "") -> None:
        with self.lock:
            chosen: Iterable[FakeBatch] = (
                self.batches.values() if batch_id is None else [self.batches[batch_id]]
            )
            for batch in chosen:
                if not batch.ended:
                    batch.fate, batch.fail_message = fate, message

    # ---- for the dialects (on the server thread) ----------------------------------------------

    def next_id(self) -> int:
        """A number unique on this control, for ids."""
        return next(self._ids)

    def limits(self, default: tuple[int, int]) -> tuple[int, int]:
        """The (requests, bytes) limits in force for an API whose own are ``default``."""
        requests, size = default
        return (self.max_requests or requests, self.max_bytes or size)

    def add(self, batch: FakeBatch) -> FakeBatch:
        """Store a new batch."""
        with self.lock:
            self.batches[batch.id] = batch
        return batch

    def catch_up(
        self,
        batch: FakeBatch,
        answer: Answer | None,
        validate: Callable[[FakeBatch], list[dict[str, object]]] | None = None,
    ) -> None:
        """Bring a batch up to the clock: validate, run what is due, apply its fate, end it.

        Args:
            batch: The batch.
            answer: Runs one request; None when this look may not run any (the request that
                looks carries an error fault, so the server's answers are not available).
            validate: Checks a ``validating`` batch; a non-empty list fails it with those errors.
        """
        with self.lock:
            if batch.ended:
                return
            now = self.now()
            if batch.stage == "validating":
                errors = validate(batch) if validate is not None else []
                if errors:
                    batch.errors = errors
                    self._end(batch, "failed", now)
                    return
                batch.stage, batch.started_at = "in_progress", now
            if batch.stage == "cancelling":
                self._end(batch, "cancelled", now)
                return
            if batch.fate == "fail":
                batch.errors = [{"code": "batch_failed", "message": batch.fail_message}]
                self._end(batch, "failed", now)
                return
            expired = batch.fate == "expire" or now >= batch.expires_at
            if answer is not None:
                self._run(batch, self._due(batch, min(now, batch.expires_at)), answer)
            if expired:
                self._end(batch, "expired", now)
            elif len(batch.answers) == len(batch.requests):
                if batch.stage == "finalizing":
                    self._end(batch, "completed", now)
                else:
                    batch.stage, batch.finalizing_at = "finalizing", now

    def cancel(self, batch: FakeBatch) -> None:
        """Ask a running batch to stop: it ends ``cancelled`` when next looked at."""
        with self.lock:
            if not batch.ended and batch.stage != "cancelling":
                batch.stage, batch.cancelling_at = "cancelling", self.now()

    def _due(self, batch: FakeBatch, now: float) -> int:
        total = len(batch.requests)
        if batch.fate == "finish":
            return total
        if self.duration is None or batch.started_at is None:
            return len(batch.answers)
        if self.duration == 0:
            return total
        share = (now - batch.started_at) / self.duration
        return min(total, max(len(batch.answers), math.floor(total * share)))

    def _run(self, batch: FakeBatch, due: int, answer: Answer) -> None:
        for custom_id, body in batch.requests[len(batch.answers) : due]:
            status, reply = answer(custom_id, body)
            batch.answers.append((custom_id, status, reply))

    def _end(self, batch: FakeBatch, outcome: str, now: float) -> None:
        batch.stage, batch.outcome, batch.ended_at = "ended", outcome, now
