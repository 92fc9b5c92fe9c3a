"""What a provider batch API must do, and the one step they share: creating a batch exactly once.

A ``BatchAPI`` turns a built chat request into one line of its batch input, submits a part of
a job (upload and create, or create), reads a batch's status into the part's record, cancels,
and streams a batch's results as ``RawItem``s. One is registered per chat dialect
(``openai-chat`` -> OpenAI Batch, ``anthropic-messages`` -> Message Batches); the rest of the
job (planning, the record, waiting, parsing, cost) is the same for every provider.

Creating a batch is the one step that must not be repeated blindly: a create whose answer was
lost (a timeout, a 5xx, a crash) may have created the batch. ``create_once`` records that a
create started before sending, and before any second attempt (in this process or after a
crash) asks the API to find the batch it may have made.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar
from urllib.parse import urlsplit

import anyio
import msgspec
from atoll_wire import HttpRequest, TransportError

from ._batch_http import BatchHTTP
from ._batch_record import JobRecord, PartRecord
from ._exceptions import APIError, InvalidResponseError, UnsupportedRequestError

__all__ = [
    "DISCOVERY_SKEW",
    "BatchAPI",
    "JobContext",
    "RawItem",
    "batch_api_for",
    "create_once",
    "decode_answer",
    "register_batch_api",
    "same_origin",
]

_log = logging.getLogger("atoll_dialects")

#: Seconds before a create started that a batch found at the provider may carry as its creation
#: time and still be ours (clocks of two machines differ).
DISCOVERY_SKEW = 600.0

_NOT_SENT_STATUSES = frozenset({429})  # refused before anything was created: safe to resend
_UNKNOWN_STATUSES = frozenset({408, 409})  # the request may have been acted on: look first

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class RawItem:
    """One request's result as a batch API reads it, before parsing and pricing.

    Attributes:
        custom_id: The request's id.
        outcome: ``succeeded``, ``errored``, ``expired``, ``cancelled`` or ``failed``.
        body: A success's response body (the chat API's JSON).
        error: An ``errored`` request's typed provider error.
        message: Why, for an outcome without a typed error.
        request_id: The provider's id for the request, when given.
    """

    custom_id: str
    outcome: str
    body: bytes | None = None
    error: APIError | None = None
    message: str = ""
    request_id: str | None = None


@dataclass
class JobContext:
    """What a batch API works with: the HTTP calls, the job record and where it lives."""

    http: BatchHTTP
    record: JobRecord
    path: Path
    save: Callable[[], Awaitable[None]]

    @property
    def base_url(self) -> str:
        """The API root (``https://api.openai.com/v1``)."""
        return self.http.target.base_url

    def part_path(self, part: PartRecord) -> Path:
        """The file holding a part's request lines."""
        return self.path.parent / part.file

    async def read_part(self, part: PartRecord) -> bytes:
        """A part's request lines, checked against the digest recorded when they were written.

        Raises:
            BatchRecordError: The file is missing or was changed.
        """
        from ._batch_plan import read_part_file

        return await anyio.to_thread.run_sync(read_part_file, self.part_path(part), part, self)


class BatchAPI(ABC):
    """One provider's batch API (see the module docstring)."""

    name: ClassVar[str]
    """``openai``, ``anthropic``, ...: recorded in the job record."""
    max_requests: ClassVar[int]
    """Requests one batch may hold."""
    max_bytes: ClassVar[int]
    """Bytes one batch's input may have (measured as ``size_of`` measures it)."""

    def check_custom_id(self, custom_id: str) -> str | None:
        """Why ``custom_id`` cannot be used, or None when it can."""
        return None if custom_id else "a custom id must not be empty"

    def size_of(self, content: int, count: int) -> int:
        """The input size the limit applies to, for ``count`` lines of ``content`` bytes."""
        return content

    def endpoint(self, http: HttpRequest) -> str:
        """The endpoint every line of a batch goes to, when the API names one (OpenAI)."""
        return ""

    @abstractmethod
    def line(self, custom_id: str, http: HttpRequest) -> bytes:
        """One request as a line of this API's batch input, ending in a newline."""

    @abstractmethod
    async def submit(self, job: JobContext, part: PartRecord) -> None:
        """Take a part from wherever its record says it is to ``created``, saving each step."""

    @abstractmethod
    async def recover(self, job: JobContext, part: PartRecord) -> None:
        """Adopt what a lost upload or create made, if the provider has it; send nothing.

        For a part left ``uploading`` or ``creating`` by a job being cancelled.
        """

    @abstractmethod
    async def refresh(self, job: JobContext, part: PartRecord) -> None:
        """Read a created part's batch status into its record."""

    @abstractmethod
    async def cancel(self, job: JobContext, part: PartRecord) -> None:
        """Ask the provider to cancel a created part's batch; read the answer into its record."""

    @abstractmethod
    def results(self, job: JobContext, part: PartRecord) -> AsyncGenerator[RawItem]:
        """Stream an ended part's results (an async generator: close it with ``aclosing``)."""


_apis: dict[str, BatchAPI] = {}


def register_batch_api(dialect: str, api: BatchAPI) -> None:
    """Serve batches of targets speaking ``dialect`` (a registered chat dialect id) with ``api``."""
    _apis[dialect] = api


def batch_api_for(dialect: str, *, provider: str, model: str) -> BatchAPI:
    """The batch API for a chat dialect.

    Raises:
        UnsupportedRequestError: No batch API is known for that dialect.
    """
    api = _apis.get(dialect)
    if api is None:
        known = ", ".join(sorted(_apis))
        raise UnsupportedRequestError(
            f"the {dialect} dialect has no batch API here (batch APIs exist for: {known})",
            provider=provider,
            model=model,
        )
    return api


def decode_answer(job: JobContext, decode: Callable[[bytes], _T], raw: bytes) -> _T:
    """Decode a batch API's answer; one that is not the API's shape is an InvalidResponseError."""
    try:
        return decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        target = job.http.target
        raise InvalidResponseError(
            f"the batch API answered with something else than it documents: {exc}",
            status=200,
            provider=target.provider.name,
            model=target.request_model,
            body=raw[:2000].decode("utf-8", "replace"),
        ) from exc


def same_origin(url: str, base_url: str) -> bool:
    """Whether ``url`` is on the scheme, host and port of ``base_url`` (keys go nowhere else)."""
    one, two = urlsplit(url), urlsplit(base_url)
    return (one.scheme, one.netloc) == (two.scheme, two.netloc)


async def create_once(
    job: JobContext,
    part: PartRecord,
    *,
    send: Callable[[], Awaitable[_T]],
    discover: Callable[[], Awaitable[_T | None]],
    adopt: Callable[[_T], None],
) -> None:
    """Create a part's batch, never twice.

    Before sending, the part is recorded ``creating``. A part found ``creating`` (a create in
    this loop, or one a crashed process started, whose answer never came) is looked for at the
    provider with ``discover`` first; only when it is not there is the create sent again. A
    refusal the provider made before acting (a 4xx other than 408 and 409) puts the part back
    where it was: a 429 is retried by the client's policy, others raise.

    Args:
        job: The job.
        part: The part (``uploaded``, ``planned`` or ``creating``).
        send: Sends the create once and returns the provider's batch.
        discover: Finds the batch a lost create made, or None.
        adopt: Reads a provider batch into the part's record.

    Raises:
        APIError: The provider refused the create (or kept failing it past the retries).
        TransportError: The provider could not be reached past the retries.
        BatchRecordError: The part's batch cannot be told apart from another at the provider.
    """
    retry = job.http.retry
    before = "uploaded" if part.file_id is not None else "planned"
    attempt = 0
    while True:
        if part.step == "creating":
            found = await discover()
            if found is not None:
                adopt(found)
                part.step = "created"
                await job.save()
                _log.info(
                    "batch job %s part %d: found %s", job.record.job_id, part.index, part.batch_id
                )
                return
        attempt += 1
        part.step = "creating"
        if part.create_started_at is None:
            part.create_started_at = time.time()
        await job.save()
        try:
            created = await send()
        except APIError as error:
            status = error.status
            if status is not None and 400 <= status < 500 and status not in _UNKNOWN_STATUSES:
                part.step = before  # refused before anything was made
                await job.save()
                if status not in _NOT_SENT_STATUSES:
                    raise
            decision = retry.decide_status(attempt, status or 500, error.headers)
            if not decision.retry:
                raise
            await anyio.sleep(decision.delay)
            continue
        except TransportError as error:
            decision = retry.decide_connection_error(attempt, error)
            if not decision.retry:
                raise
            await anyio.sleep(decision.delay)
            continue
        adopt(created)
        part.step = "created"
        await job.save()
        _log.info("batch job %s part %d: created %s", job.record.job_id, part.index, part.batch_id)
        return
