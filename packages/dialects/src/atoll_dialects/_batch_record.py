"""The job record: a JSON file that lets a batch job survive its process.

It is written before anything is sent and rewritten after every step (file uploaded, batch
creation started, batch created, status seen), each time atomically (a temporary file, fsync,
rename), so a crash at any point leaves the last complete record. Each part records which step
it reached: ``planned`` → ``uploading`` → ``uploaded`` → ``creating`` → ``created``, or
``skipped`` (cancelled before creation). A part left ``uploading`` or ``creating`` may have
reached the provider without the record knowing: the next run looks for it there before
sending again (see the batch API modules). The record holds no secret: no key, no auth header.

Creating a record is exclusive (a hard link that fails when the path exists), so a second
submission to the same path is refused; an advisory lock file keeps two processes from driving
one job at once.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import msgspec

from ._batch_types import BatchCounts, BatchState
from ._exceptions import BatchRecordError

__all__ = ["FORMAT", "JobRecord", "PartRecord", "RecordLock", "create", "load", "save"]

FORMAT = "atoll-batch-job"
VERSION = 1


class PartRecord(msgspec.Struct, kw_only=True):
    """One provider batch of the job, as far as this process (or the last) got."""

    index: int
    file: str
    """The part's request lines, relative to the record's folder."""
    count: int
    size: int
    sha256: str
    step: str = "planned"
    file_id: str | None = None
    """OpenAI: the uploaded input file."""
    batch_id: str | None = None
    upload_started_at: float | None = None
    create_started_at: float | None = None
    status: str | None = None
    """The provider's status, as last seen."""
    state: BatchState = "submitting"
    """The neutral state."""
    counts: BatchCounts = msgspec.field(default_factory=BatchCounts)
    created_at: float | None = None
    expires_at: float | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    results_url: str | None = None
    errors: list[str] = msgspec.field(default_factory=list[str])
    shapes: dict[str, int] = msgspec.field(default_factory=dict[str, int])
    """Requests whose settings differ from the job's first: custom id -> shape index."""


class JobRecord(msgspec.Struct, kw_only=True):
    """A whole job: where it goes, how its results are read, and its parts."""

    job_id: str
    created_at: float
    model: str
    """The model name given to the BatchClient."""
    label: str
    """``provider/model`` as sent."""
    provider: str
    dialect: str
    api: str
    """The batch API: ``openai`` or ``anthropic``."""
    base_url: str
    custom_base_url: bool
    """The base URL was given by the caller (else it is the provider's)."""
    endpoint: str = ""
    """OpenAI: the endpoint every line goes to."""
    headers: dict[str, str] = msgspec.field(default_factory=dict[str, str])
    """Headers the requests need besides auth (``anthropic-version``, beta flags)."""
    shapes: list[str] = msgspec.field(default_factory=list[str])
    """Each distinct request's settings (a ChatRequest without messages, JSON), for parsing."""
    metadata: dict[str, str] = msgspec.field(default_factory=dict[str, str])
    parts: list[PartRecord] = msgspec.field(default_factory=list[PartRecord])
    cancel_requested: bool = False
    format: str = FORMAT
    version: int = VERSION

    def folder(self, path: Path) -> Path:
        """Where the part files are, for a record at ``path``."""
        return path.parent


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(JobRecord)


def _bytes(record: JobRecord) -> bytes:
    return msgspec.json.format(_encoder.encode(record), indent=1) + b"\n"


def _sync_folder(folder: Path) -> None:
    if sys.platform == "win32":  # directories cannot be opened for fsync there
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _temporary(path: Path, data: bytes) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return Path(name)


def create(path: Path, record: JobRecord) -> None:
    """Write a new record; refuse when one exists at ``path`` (even one made a moment ago).

    Raises:
        BatchRecordError: A record (or any file) exists there already.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path, _bytes(record))
    try:
        try:
            os.link(temporary, path)  # atomic, and fails if the path exists
        except FileExistsError:
            raise BatchRecordError(
                "a batch job record exists here already; load it with BatchJob.load "
                "instead of submitting again",
                path=str(path),
            ) from None
        except OSError:  # a file system without hard links: exclusive create instead
            try:
                with open(path, "xb") as out:
                    out.write(temporary.read_bytes())
                    out.flush()
                    os.fsync(out.fileno())
            except FileExistsError:
                raise BatchRecordError(
                    "a batch job record exists here already", path=str(path)
                ) from None
    finally:
        temporary.unlink(missing_ok=True)
    _sync_folder(path.parent)


def save(path: Path, record: JobRecord) -> None:
    """Replace the record atomically: readers see the old one or the new one, never half."""
    temporary = _temporary(path, _bytes(record))
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def load(path: Path) -> JobRecord:
    """Read a record.

    Raises:
        BatchRecordError: It is missing, not a batch job record, or of another format version.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BatchRecordError("no batch job record", path=str(path)) from None
    except OSError as exc:
        raise BatchRecordError(f"cannot read the record ({exc.strerror})", path=str(path)) from exc
    try:
        raw: Any = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise BatchRecordError(f"the record is not JSON ({exc})", path=str(path)) from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:  # pyright: ignore[reportUnknownMemberType]
        raise BatchRecordError("not an atoll batch job record", path=str(path))
    if raw.get("version") != VERSION:  # pyright: ignore[reportUnknownMemberType]
        raise BatchRecordError(
            f"record format version {raw.get('version')!r} is not {VERSION}",  # pyright: ignore[reportUnknownMemberType]
            path=str(path),
        )
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise BatchRecordError(f"the record is damaged ({exc})", path=str(path)) from exc


class RecordLock:
    """An advisory, non-blocking lock on a record (``<record>.lock``) for one process at a time.

    Raises:
        BatchRecordError: Another process (or another job object here) holds it.
    """

    def __init__(self, path: Path, job_id: str) -> None:
        self._path = path.with_name(path.name + ".lock")
        self._record = path
        self._job_id = job_id
        self._handle: IO[bytes] | None = None

    def acquire(self) -> None:
        """Take the lock or fail at once."""
        handle = open(self._path, "a+b")
        try:
            _lock(handle)
        except OSError:
            handle.close()
            raise BatchRecordError(
                "the batch job is in use by another process",
                path=str(self._record),
                job_id=self._job_id,
            ) from None
        self._handle = handle

    def release(self) -> None:
        """Let go of the lock (the lock file stays: removing it would race another taker)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                _unlock(handle)
            handle.close()


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
