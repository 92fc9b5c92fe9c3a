"""Turning a job's requests into batch input: checked, built, split to fit, written to disk.

Each request is built exactly as the Client would send it (``Dialect.build``: options checked,
capabilities checked, the dialect's quirks), so a request the model cannot serve is refused
here with its id, before anything is uploaded. Its body becomes one line of the provider's
batch input (``BatchAPI.line``), and lines fill parts up to the provider's request and byte
limits (or smaller ones given to the BatchClient). Parts are written to files next to the job
record, with their digests, because a resumed job must send exactly the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import msgspec
from atoll_wire import ChatRequest, HttpRequest, is_secret_header

from ._batch_api import BatchAPI
from ._batch_record import PartRecord
from ._exceptions import BatchRecordError, BatchRequestError, UnsupportedRequestError
from ._request import MessagesOrPrompt, build_request
from ._target import Target

if TYPE_CHECKING:
    from ._batch_api import JobContext

__all__ = ["Plan", "plan_parts", "read_part_file", "shape_request"]

# Headers a built chat request carries that are about its own body, not about the batch.
_BODY_HEADERS = frozenset({"content-type", "accept", "content-length"})

_shape_encoder = msgspec.json.Encoder()
_shape_decoder = msgspec.json.Decoder(ChatRequest)


class _Id(msgspec.Struct):
    custom_id: str


_id_decoder = msgspec.json.Decoder(_Id)


def custom_id_of(line: bytes) -> str:
    """The ``custom_id`` of one line of batch input (either provider's)."""
    return _id_decoder.decode(line).custom_id


def shape_request(shape: str) -> ChatRequest:
    """A recorded request shape back as a ``ChatRequest`` (settings, no messages)."""
    return _shape_decoder.decode(shape)


class Plan:
    """The parts of a job as they are written, and what every part shares."""

    def __init__(self) -> None:
        self.parts: list[PartRecord] = []
        self.shapes: list[str] = []
        self.headers: dict[str, str] | None = None
        self.endpoint = ""


class _Writer:
    """The part being filled: its file, digest, count and size."""

    def __init__(self, folder: Path, index: int) -> None:
        self.name = f"part-{index:04d}.jsonl"
        self.path = folder / self.name
        self.index = index
        self.handle: IO[bytes] = self.path.open("wb")
        self.digest = hashlib.sha256()
        self.count = 0
        self.size = 0
        self.shapes: dict[str, int] = {}

    def add(self, custom_id: str, line: bytes, shape: int) -> None:
        self.handle.write(line)
        self.digest.update(line)
        self.count += 1
        self.size += len(line)
        if shape:
            self.shapes[custom_id] = shape

    def close(self) -> PartRecord:
        self.handle.flush()
        self.handle.close()
        return PartRecord(
            index=self.index,
            file=f"{self.path.parent.name}/{self.name}",
            count=self.count,
            size=self.size,
            sha256=self.digest.hexdigest(),
            shapes=self.shapes,
        )


def _items(requests: object) -> Iterable[tuple[object, object]]:
    if isinstance(requests, Mapping):
        return requests.items()  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType]
    return requests  # pyright: ignore[reportReturnType]


def plan_parts(
    requests: Mapping[str, MessagesOrPrompt] | Iterable[tuple[str, MessagesOrPrompt]],
    options: Mapping[str, Any],
    target: Target,
    api: BatchAPI,
    folder: Path,
    *,
    max_requests: int,
    max_bytes: int,
) -> Plan:
    """Check and build every request, and write the parts into ``folder`` (created here).

    Raises:
        BatchRequestError: A request the model cannot serve, a duplicate or unusable id, or a
            request too large for a batch on its own (nothing is uploaded).
        InvalidOptionError: An option of the wrong name, type or value, or no requests.
    """
    folder.mkdir(parents=True, exist_ok=False)
    plan = Plan()
    shapes: dict[bytes, int] = {}
    seen: set[str] = set()
    writer: _Writer | None = None
    try:
        for key, item in _items(requests):
            custom_id, line, shape, http = _line(key, item, options, target, api, seen)
            _same_headers(plan, http, custom_id, target)
            if not plan.endpoint:
                plan.endpoint = api.endpoint(http)
            index = shapes.setdefault(shape, len(shapes))
            if index == len(plan.shapes):
                plan.shapes.append(shape.decode())
            if api.size_of(len(line), 1) > max_bytes:
                raise BatchRequestError(
                    f"its batch line alone is {len(line)} bytes, over the {max_bytes}-byte limit "
                    "of a batch",
                    custom_id=custom_id,
                    provider=target.provider.name,
                    model=target.request_model,
                )
            if writer is not None and (
                writer.count >= max_requests
                or api.size_of(writer.size + len(line), writer.count + 1) > max_bytes
            ):
                plan.parts.append(writer.close())
                writer = None
            if writer is None:
                writer = _Writer(folder, len(plan.parts))
            writer.add(custom_id, line, index)
        if writer is not None:
            plan.parts.append(writer.close())
            writer = None
    finally:
        if writer is not None:
            writer.handle.close()
    if not plan.parts:
        from ._exceptions import InvalidOptionError

        raise InvalidOptionError("requests", requests, "at least one request")
    return plan


def _line(
    custom_id: object,
    item: object,
    options: Mapping[str, Any],
    target: Target,
    api: BatchAPI,
    seen: set[str],
) -> tuple[str, bytes, bytes, HttpRequest]:
    where = {"provider": target.provider.name, "model": target.request_model}
    if not isinstance(custom_id, str):
        raise BatchRequestError("a custom id must be a string", custom_id=repr(custom_id), **where)
    problem = api.check_custom_id(custom_id)
    if problem is not None:
        raise BatchRequestError(problem, custom_id=custom_id, **where)
    if custom_id in seen:
        raise BatchRequestError("the id is used twice in this job", custom_id=custom_id, **where)
    seen.add(custom_id)
    request, headers = build_request(item, options, stream=False)  # pyright: ignore[reportArgumentType]
    if headers:
        raise BatchRequestError(
            "extra_headers cannot differ per request in a batch; give the BatchClient "
            "default_headers",
            custom_id=custom_id,
            **where,
        )
    request = msgspec.structs.replace(request, model=target.request_model)
    try:
        http = target.dialect.build(request, target)
    except UnsupportedRequestError as exc:
        raise BatchRequestError(exc.reason, custom_id=custom_id, **where) from exc
    shape = _shape_encoder.encode(msgspec.structs.replace(request, messages=[]))
    return custom_id, api.line(custom_id, http), shape, http


def _same_headers(plan: Plan, http: HttpRequest, custom_id: str, target: Target) -> None:
    """Every request of a job must need the same headers: they go on the batch calls."""
    headers = {
        name.lower(): value
        for name, value in http.headers.items()
        if name.lower() not in _BODY_HEADERS and not is_secret_header(name)
    }
    if plan.headers is None:
        plan.headers = headers
    elif headers != plan.headers:
        raise BatchRequestError(
            "it needs other headers than the job's first request "
            f"({sorted(headers)} vs {sorted(plan.headers)}); send it in another job",
            custom_id=custom_id,
            provider=target.provider.name,
            model=target.request_model,
        )


def read_part_file(path: Path, part: PartRecord, job: JobContext) -> bytes:
    """A part's request lines, checked against the recorded digest.

    Raises:
        BatchRecordError: The file is missing or its bytes changed since they were planned.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BatchRecordError(
            f"the request file of part {part.index} cannot be read ({exc.strerror})",
            path=str(job.path),
            job_id=job.record.job_id,
        ) from exc
    if len(data) != part.size or hashlib.sha256(data).hexdigest() != part.sha256:
        raise BatchRecordError(
            f"the request file of part {part.index} ({path.name}) changed since it was planned",
            path=str(job.path),
            job_id=job.record.job_id,
        )
    return data
