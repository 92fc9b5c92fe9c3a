"""OpenAI Batch API wire structs: files, batches, and the JSONL lines going in and coming out.

The flow (https://platform.openai.com/docs/api-reference/batch): upload a JSONL file with
``POST /v1/files`` (multipart, ``purpose=batch``), each line a ``BatchRequestLine``; create the
batch with ``POST /v1/batches`` (``BatchCreateRequest``); poll ``GET /v1/batches/{id}`` until its
``status`` ends (``completed``, ``failed``, ``expired``, ``cancelled``); read the output and
error files with ``GET /v1/files/{id}/content``, one ``BatchOutputLine`` a line, in no promised
order. ``POST /v1/batches/{id}/cancel`` cancels; ``GET /v1/batches`` and ``GET /v1/files``
list, newest first, paged with ``after``. Field names follow the openai SDK's
``types/batch.py``, ``types/file_object.py`` and the API reference's request input and output
objects.

A request line's ``body`` and an output line's ``response.body`` are ``msgspec.Raw``: the JSON
of a chat request or response, carried verbatim (never decoded and encoded again here).
Decoding is lenient: unknown fields are ignored and every field the API may leave out has a
default; statuses are plain strings, so a status added later still decodes.

Example:
    >>> line = decode_output_line(
    ...     b'{"id":"batch_req_1","custom_id":"q1","response":{"status_code":200,'
    ...     b'"request_id":"r","body":{"id":"c"}},"error":null}'
    ... )
    >>> line.custom_id, line.response.status_code, bytes(line.response.body)
    ('q1', 200, b'{"id":"c"}')
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ._codec import encode_body

__all__ = (
    "ENDED_STATUSES",
    "STATUSES",
    "Batch",
    "BatchCreateRequest",
    "BatchError",
    "BatchErrors",
    "BatchList",
    "BatchOutputError",
    "BatchOutputLine",
    "BatchRequestCounts",
    "BatchRequestLine",
    "BatchResponseBody",
    "BatchUsage",
    "FileList",
    "FileObject",
    "InputTokensDetails",
    "OutputExpiresAfter",
    "OutputTokensDetails",
    "decode_batch",
    "decode_batch_list",
    "decode_file",
    "decode_file_list",
    "decode_output_line",
    "decode_request_line",
    "encode",
)

STATUSES: Final = (
    "validating",
    "failed",
    "in_progress",
    "finalizing",
    "completed",
    "expired",
    "cancelling",
    "cancelled",
)
"""Every ``Batch.status`` the API documents."""

ENDED_STATUSES: Final = frozenset({"completed", "failed", "expired", "cancelled"})
"""The statuses a batch never leaves."""


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Request-side structs: fields left at their defaults are not encoded."""


class _Full(msgspec.Struct, kw_only=True, gc=False):
    """Response-side structs: every field encoded (None as null), as the API sends them."""


# ---------------------------------------------------------------- files


class FileObject(_Full, kw_only=True):
    """An uploaded file (``POST /v1/files``, ``GET /v1/files/{id}``).

    Attributes:
        id: The file id (``file-...``), used as a batch's ``input_file_id``.
        bytes: Its size.
        created_at: Unix seconds.
        filename: The name given at upload.
        purpose: ``batch`` for batch input, ``batch_output`` for output and error files.
        object: Always ``file``.
        status: Deprecated by the API (``uploaded``, ``processed``, ``error``).
        expires_at: Unix seconds when the file expires (batch files: 30 days by default).
        status_details: Deprecated by the API.
    """

    id: str
    bytes: int = 0
    created_at: int = 0
    filename: str = ""
    purpose: str = ""
    object: str = "file"
    status: str = "processed"
    expires_at: int | None = None
    status_details: str | None = None


class FileList(_Full, kw_only=True):
    """``GET /v1/files``: newest first by default; the next page is ``after=<last id>``."""

    data: list[FileObject] = msgspec.field(default_factory=list[FileObject])
    object: str = "list"
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


# ---------------------------------------------------------------- batches


class BatchRequestCounts(_Full, kw_only=True):
    """How many requests of a batch completed, failed, and there are in all."""

    total: int = 0
    completed: int = 0
    failed: int = 0


class BatchError(_Full, kw_only=True):
    """One reason a batch failed validation (``Batch.errors.data``).

    Attributes:
        code: A machine-readable code.
        message: What is wrong.
        param: The parameter at fault, when one is.
        line: The input file line at fault, when one is.
    """

    code: str | None = None
    message: str | None = None
    param: str | None = None
    line: int | None = None


class BatchErrors(_Full, kw_only=True):
    """``Batch.errors``: ``{"object": "list", "data": [...]}``."""

    data: list[BatchError] = msgspec.field(default_factory=list[BatchError])
    object: str = "list"


class InputTokensDetails(_Full, kw_only=True):
    """Cached input tokens (a subset of ``BatchUsage.input_tokens``)."""

    cached_tokens: int = 0


class OutputTokensDetails(_Full, kw_only=True):
    """Reasoning tokens (a subset of ``BatchUsage.output_tokens``)."""

    reasoning_tokens: int = 0


class BatchUsage(_Full, kw_only=True):
    """Token usage of a whole batch (sent for batches created after 2025-09-07)."""

    input_tokens: int = 0
    input_tokens_details: InputTokensDetails = msgspec.field(default_factory=InputTokensDetails)
    output_tokens: int = 0
    output_tokens_details: OutputTokensDetails = msgspec.field(default_factory=OutputTokensDetails)
    total_tokens: int = 0


class Batch(_Full, kw_only=True):
    """A batch (``POST /v1/batches``, ``GET /v1/batches/{id}``, ``.../cancel``).

    Attributes:
        id: The batch id (``batch_...``).
        status: One of ``STATUSES``.
        endpoint: The endpoint every line goes to (``/v1/chat/completions``).
        input_file_id: The uploaded input file.
        completion_window: ``24h``.
        output_file_id: The successful lines' file, once the batch ended.
        error_file_id: The failed lines' file, once the batch ended (when any failed).
        errors: Why the batch failed validation.
        request_counts: Completed, failed and total requests.
        metadata: Up to 16 string pairs given at creation.
        model: The model the batch ran.
        usage: Token usage of the whole batch.
        created_at: Unix seconds; the other ``*_at`` fields mark each status change.
    """

    id: str
    status: str
    object: str = "batch"
    endpoint: str = ""
    input_file_id: str = ""
    completion_window: str = "24h"
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: BatchErrors | None = None
    request_counts: BatchRequestCounts | None = None
    metadata: dict[str, str] | None = None
    model: str | None = None
    usage: BatchUsage | None = None
    created_at: int = 0
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None


class BatchList(_Full, kw_only=True):
    """``GET /v1/batches``: newest first; the next page is ``after=<last id>``."""

    data: list[Batch] = msgspec.field(default_factory=list[Batch])
    object: str = "list"
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class OutputExpiresAfter(_Wire, kw_only=True):
    """When the output and error files expire: ``seconds`` (3,600 to 2,592,000) after creation."""

    seconds: int
    anchor: str = "created_at"


class BatchCreateRequest(_Wire, kw_only=True):
    """The body of ``POST /v1/batches``.

    Attributes:
        input_file_id: The uploaded JSONL file (``purpose=batch``): at most 50,000 requests and
            200 MB.
        endpoint: Where every line goes (``/v1/chat/completions``, ``/v1/embeddings``, ...).
        completion_window: Only ``24h`` exists.
        metadata: Up to 16 pairs; keys up to 64 characters, values up to 512.
        output_expires_after: When the output and error files expire.
    """

    input_file_id: str
    endpoint: str
    completion_window: str = "24h"
    metadata: dict[str, str] | None = None
    output_expires_after: OutputExpiresAfter | None = None


# ---------------------------------------------------------------- JSONL lines


class BatchRequestLine(msgspec.Struct, kw_only=True, gc=False):
    """One line of the input file.

    Attributes:
        custom_id: The caller's id, unique in the batch; results are matched by it.
        url: The endpoint path, the batch's ``endpoint`` (``/v1/chat/completions``).
        body: The request body as JSON, verbatim.
        method: Always ``POST``.
    """

    custom_id: str
    method: str = "POST"
    url: str
    body: msgspec.Raw


class BatchResponseBody(msgspec.Struct, kw_only=True, gc=False):
    """The HTTP answer to one line: status, request id and the body, verbatim."""

    status_code: int
    body: msgspec.Raw = msgspec.Raw(b"null")
    request_id: str | None = None


class BatchOutputError(msgspec.Struct, kw_only=True, gc=False):
    """Why a line got no answer (``batch_expired``, ``batch_cancelled``, ``request_timeout``)."""

    code: str | None = None
    message: str | None = None


class BatchOutputLine(msgspec.Struct, kw_only=True, gc=False):
    """One line of the output or error file.

    A line with an HTTP answer has ``response`` (a status of 400 and more is a failed request,
    its body the API's error envelope); a line the batch never ran has ``error`` instead.

    Attributes:
        custom_id: The request's id.
        id: The line's own id (``batch_req_...``).
        response: The HTTP answer, or None.
        error: Why there is no answer, or None.
    """

    custom_id: str
    id: str | None = None
    response: BatchResponseBody | None = None
    error: BatchOutputError | None = None


_batch_decoder = msgspec.json.Decoder(Batch)
_batch_list_decoder = msgspec.json.Decoder(BatchList)
_file_decoder = msgspec.json.Decoder(FileObject)
_file_list_decoder = msgspec.json.Decoder(FileList)
_output_decoder = msgspec.json.Decoder(BatchOutputLine)
_request_decoder = msgspec.json.Decoder(BatchRequestLine)


def decode_batch(data: bytes | str) -> Batch:
    """Decode a batch object."""
    return _batch_decoder.decode(data)


def decode_batch_list(data: bytes | str) -> BatchList:
    """Decode a ``GET /v1/batches`` page."""
    return _batch_list_decoder.decode(data)


def decode_file(data: bytes | str) -> FileObject:
    """Decode a file object."""
    return _file_decoder.decode(data)


def decode_file_list(data: bytes | str) -> FileList:
    """Decode a ``GET /v1/files`` page."""
    return _file_list_decoder.decode(data)


def decode_output_line(data: bytes | str) -> BatchOutputLine:
    """Decode one line of an output or error file."""
    return _output_decoder.decode(data)


def decode_request_line(data: bytes | str) -> BatchRequestLine:
    """Decode one line of an input file."""
    return _request_decoder.decode(data)


def encode(body: msgspec.Struct, extra: dict[str, Any] | None = None) -> bytes:
    """Encode any struct of this module as compact JSON (a ``Raw`` field goes out as given).

    Args:
        body: A struct of this module.
        extra: Top-level fields to add or override.
    """
    return encode_body(body, extra)
