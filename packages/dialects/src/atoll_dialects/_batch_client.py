"""``BatchClient``: send many chat requests through a provider's batch API, at its batch price.

It resolves its model like the Client (registry, base URL, auth, dialect), builds every request
with the dialect as the Client would, writes the job record, then submits: OpenAI Batch for
``openai-chat`` targets, Anthropic Message Batches for ``anthropic-messages`` targets.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any, Self, Unpack

import anyio
from atoll_registry import Registry
from atoll_wire import AsyncTransport, Timeout
from opentelemetry import trace

from ._anthropic_batch import AnthropicBatchAPI
from ._auth import Auth, NoAuth
from ._base import ClientBase
from ._batch_api import register_batch_api
from ._batch_http import BatchHTTP
from ._batch_job import BatchJob
from ._batch_plan import plan_parts
from ._batch_record import JobRecord
from ._batch_record import create as create_record
from ._exceptions import BatchRecordError, InvalidOptionError
from ._openai_batch import OpenAIBatchAPI
from ._options import ChatOptions
from ._request import MessagesOrPrompt
from ._retry import RetryPolicy
from ._target import Target
from ._transports import default_async_transport

__all__ = ["BatchClient", "default_record_dir"]

register_batch_api("openai-chat", OpenAIBatchAPI())
register_batch_api("anthropic-messages", AnthropicBatchAPI())

_METADATA_PAIRS = 14  # OpenAI takes 16 pairs; the job's own id and part number use two


def default_record_dir() -> Path:
    """Where job records go without ``record=``.

    ``$ATOLL_BATCH_DIR`` when set, else ``~/.local/state/atoll/batches``.
    """
    configured = os.environ.get("ATOLL_BATCH_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".local" / "state" / "atoll" / "batches"


def _record_path(record: str | PathLike[str] | None, job_id: str) -> Path:
    if record is None:
        return default_record_dir() / f"{job_id}.json"
    return Path(record).expanduser()


def _limit(name: str, value: int | None, most: int) -> int:
    if value is None:
        return most
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InvalidOptionError(name, value, f"a whole number from 1 to the provider's {most}")
    return value


def _metadata(value: Mapping[str, str] | None) -> dict[str, str]:
    if value is None:
        return {}
    expected = f"at most {_METADATA_PAIRS} str pairs, keys up to 64 and values up to 512 characters"
    if not isinstance(value, Mapping) or len(value) > _METADATA_PAIRS:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InvalidOptionError("job_metadata", value, expected)
    for key, item in value.items():
        if not (isinstance(key, str) and isinstance(item, str)) or len(key) > 64 or len(item) > 512:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidOptionError("job_metadata", value, expected)
        if key.startswith("atoll_"):
            raise InvalidOptionError("job_metadata", value, "keys not starting with 'atoll_'")
    return dict(value)


class BatchClient(ClientBase):
    """Sends jobs of chat requests through a provider's batch API (half price, within 24 h).

    OpenAI (``/v1/files`` and ``/v1/batches``) for models of the ``openai-chat`` dialect,
    Anthropic Message Batches for ``anthropic-messages``. A job larger than one batch allows
    (OpenAI: 50,000 requests or 200 MB; Anthropic: 100,000 requests or 256 MB) is split into
    several batches. Each job has a record on disk, written before anything is sent, from which
    ``BatchJob.load`` resumes it in any process.

    Args:
        model: One registry name or alias (a batch goes to one model; no fallbacks).
        base_url: Send to this API root instead of the provider's.
        api_key: The key; default: the provider's environment variable. Never recorded.
        transport: An ``AsyncTransport``; default: atoll_curl when installed, else atoll_httpx.
        retry: The retry policy of each HTTP call (creating a batch is never retried blindly:
            the provider is asked first whether the lost attempt made it).
        timeout: The overall deadline of each HTTP call, or per-phase ``Timeout`` limits.
        dialect: Speak this dialect instead of the provider's.
        registry: Where model facts and batch prices come from.
        tracer_provider: An OpenTelemetry tracer provider (default: the global one).
        auth: Authenticate this way instead of the provider's scheme.
        settings: Endpoint settings over the registry's.
        default_headers: Headers sent with every call (checked now; never logged).
        max_requests: Split jobs into batches of at most this many requests (default and most:
            the provider's limit).
        max_bytes: Split jobs into batches of at most this many bytes of input (default and
            most: the provider's limit).

    Raises:
        UnsupportedRequestError: The model's dialect has no batch API here.
        InvalidOptionError: A setting of the wrong type or value.

    Example:
        >>> async with BatchClient("openai/gpt-4o-mini") as batch:  # doctest: +SKIP
        ...     job = await batch.submit({"q1": "Name an atoll.", "q2": "And another."})
        ...     await job.wait()
        ...     async for item in job.results():
        ...         print(item.custom_id, item)
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: AsyncTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | Timeout | None = None,
        dialect: str | None = None,
        registry: Registry | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        auth: Auth | None = None,
        settings: Mapping[str, str] | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_requests: int | None = None,
        max_bytes: int | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidOptionError("model", model, "one model name (a batch goes to one model)")
        if transport is not None and not isinstance(transport, AsyncTransport):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidOptionError("transport", transport, "an atoll_wire.AsyncTransport")
        if auth is None and api_key is None and transport is not None and transport.authenticates:
            auth = NoAuth()  # the transport puts its own credentials on every request
        self._setup(
            model,
            tracer_provider,
            False,
            base_url=base_url,
            api_key=api_key,
            retry=retry,
            timeout=timeout,
            dialect=dialect,
            registry=registry,
            auth=auth,
            settings=settings,
            default_headers=default_headers,
        )
        from ._batch_api import batch_api_for

        target = self.target
        self._api = batch_api_for(
            target.dialect.name, provider=target.provider.name, model=target.request_model
        )
        self._model = model
        self._custom_base_url = base_url is not None
        self._max_requests = _limit("max_requests", max_requests, self._api.max_requests)
        self._max_bytes = _limit("max_bytes", max_bytes, self._api.max_bytes)
        self._owns_transport = transport is None
        self._transport = transport if transport is not None else default_async_transport()
        self._http = BatchHTTP(self._engine, self._tracer, self._transport)

    @property
    def target(self) -> Target:
        """The model the batches go to."""
        return self._engine.targets[0]

    @property
    def http(self) -> BatchHTTP:
        """The HTTP calls of this client's jobs (used by ``BatchJob``)."""
        return self._http

    def __repr__(self) -> str:
        return (
            f"BatchClient(model={self.target.label!r}, api={self._api.name!r}, "
            f"transport={type(self._transport).__name__})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transport if this client made it."""
        if self._owns_transport:
            await self._transport.aclose()

    async def submit(
        self,
        requests: Mapping[str, MessagesOrPrompt] | Iterable[tuple[str, MessagesOrPrompt]],
        /,
        *,
        record: str | PathLike[str] | None = None,
        job_metadata: Mapping[str, str] | None = None,
        **options: Unpack[ChatOptions],
    ) -> BatchJob:
        """Check, record and submit a job.

        Every request is built first (a request the model cannot serve is refused with its id,
        before anything is written or sent), then the record is written, then each batch is
        uploaded and created, the record updated after each step. If this fails part-way (a
        network error, a crash), ``BatchJob.load(record)`` carries on without submitting
        anything twice.

        Args:
            requests: ``{custom_id: request}`` or ``(custom_id, request)`` pairs; a request is
                a prompt, messages, or a ``ChatRequest``. Custom ids are unique strings
                (Anthropic: 1 to 64 of ``a-zA-Z0-9_-``).
            record: Where to write the job record (default: ``<job id>.json`` in
                ``$ATOLL_BATCH_DIR``, else ``~/.local/state/atoll/batches``). An existing
                record is never overwritten: submitting to the same record twice is refused.
            job_metadata: Up to 14 string pairs kept in the record (and, for OpenAI, on each
                batch). (``metadata``, a chat option, labels each request instead.)
            **options: ``ChatOptions`` for every request (``max_tokens``, ``temperature``,
                ``system``, ``tools``, ``output_schema``, ...).

        Returns:
            The job, submitted.

        Raises:
            BatchRequestError: A request cannot be sent (names its ``custom_id``).
            InvalidOptionError: An option of the wrong name, type or value.
            BatchRecordError: A record exists at ``record`` already.
            APIError: The provider refused an upload or a create (the record stays; resume).
            TransportError: The provider could not be reached (the record stays; resume).
        """
        extra = _metadata(job_metadata)
        job_id = f"batch-{uuid.uuid4().hex}"
        path = _record_path(record, job_id)
        if await anyio.Path(path).exists():
            raise BatchRecordError(
                "a batch job record exists here already; load it with BatchJob.load instead "
                "of submitting again",
                path=str(path),
            )
        folder = path.parent / f"{path.name}.{job_id}"
        await anyio.to_thread.run_sync(lambda: path.parent.mkdir(parents=True, exist_ok=True))
        target = self.target
        try:
            plan = await anyio.to_thread.run_sync(
                lambda: plan_parts(
                    requests,
                    dict[str, Any](options),
                    target,
                    self._api,
                    folder,
                    max_requests=self._max_requests,
                    max_bytes=self._max_bytes,
                )
            )
            job = JobRecord(
                job_id=job_id,
                created_at=time.time(),
                model=self._model,
                label=target.label,
                provider=target.provider.name,
                dialect=target.dialect.name,
                api=self._api.name,
                base_url=target.base_url,
                custom_base_url=self._custom_base_url,
                endpoint=plan.endpoint,
                headers=plan.headers or {},
                shapes=plan.shapes,
                metadata=extra,
                parts=plan.parts,
            )
            await anyio.to_thread.run_sync(create_record, path, job)
        except BaseException:
            await anyio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))
            raise
        submitted = BatchJob(self, job, path)
        try:
            await submitted._start()  # pyright: ignore[reportPrivateUsage]
        except Exception as error:
            error.add_note(
                f"the job is recorded at {path}: BatchJob.load({str(path)!r}) resumes it"
            )
            raise
        return submitted

    def load(self, record: str | PathLike[str]) -> BatchJob:
        """Reattach to a job this client's model was sent (see ``BatchJob.load``)."""
        return BatchJob.load(record, self)
