"""Anthropic Message Batches wire structs: the create body, the batch, and result lines.

The flow (https://docs.anthropic.com/en/api/creating-message-batches): ``POST
/v1/messages/batches`` with ``{"requests": [{"custom_id", "params"}, ...]}`` (at most 100,000
requests or 256 MB); poll ``GET /v1/messages/batches/{id}`` until ``processing_status`` is
``ended``; stream ``GET /v1/messages/batches/{id}/results`` (the batch's ``results_url``), one
``MessageBatchIndividualResponse`` a line, in no promised order, each ``succeeded`` (with the
message), ``errored`` (with the error body), ``canceled`` or ``expired``.
``POST /v1/messages/batches/{id}/cancel`` cancels; ``GET /v1/messages/batches`` lists, newest
first, paged with ``after_id``. Field names follow the anthropic SDK's
``types/messages/message_batch*.py``.

A request's ``params`` and a result's ``message`` are ``msgspec.Raw``: a Messages request or
response as JSON, verbatim. Decoding is lenient: unknown fields are ignored, and a result whose
``type`` we do not know still decodes (its ``type`` is kept as sent).

Example:
    >>> line = decode_result_line(b'{"custom_id":"q1","result":{"type":"expired"}}')
    >>> line.custom_id, line.result.type
    ('q1', 'expired')
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ._codec import encode_body
from .anthropic import ErrorResponse

__all__ = (
    "PROCESSING_STATUSES",
    "RESULT_TYPES",
    "BatchRequest",
    "MessageBatch",
    "MessageBatchCreateRequest",
    "MessageBatchIndividualResponse",
    "MessageBatchList",
    "MessageBatchRequestCounts",
    "MessageBatchResult",
    "decode_batch",
    "decode_batch_list",
    "decode_create_request",
    "decode_result_line",
    "encode",
)

PROCESSING_STATUSES: Final = ("in_progress", "canceling", "ended")
"""Every ``MessageBatch.processing_status`` the API documents."""

RESULT_TYPES: Final = ("succeeded", "errored", "canceled", "expired")
"""Every result ``type`` the API documents."""


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Request-side structs: fields left at their defaults are not encoded."""


class _Full(msgspec.Struct, kw_only=True, gc=False):
    """Response-side structs: every field encoded (None as null), as the API sends them."""


class BatchRequest(msgspec.Struct, kw_only=True, gc=False):
    """One request of a batch.

    Attributes:
        custom_id: The caller's id, unique in the batch, 1 to 64 of ``[a-zA-Z0-9_-]``.
        params: A Messages request body (not streaming), verbatim.
    """

    custom_id: str
    params: msgspec.Raw


class MessageBatchCreateRequest(msgspec.Struct, kw_only=True, gc=False):
    """The body of ``POST /v1/messages/batches``."""

    requests: list[BatchRequest]


class MessageBatchRequestCounts(_Full, kw_only=True):
    """Requests by state; every count but ``processing`` stays 0 until the batch ends."""

    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0


class MessageBatch(_Full, kw_only=True):
    """A message batch (create, retrieve, cancel).

    Attributes:
        id: The batch id (``msgbatch_...``).
        processing_status: One of ``PROCESSING_STATUSES``.
        request_counts: Requests by state.
        created_at: RFC 3339; ``expires_at`` is 24 hours later.
        ended_at: When processing ended (every request succeeded, errored, was canceled or
            expired).
        cancel_initiated_at: When a cancel was asked for.
        archived_at: When the results stopped being available.
        results_url: Where the results stream is, once the batch ended.
        type: Always ``message_batch``.
    """

    id: str
    processing_status: str
    request_counts: MessageBatchRequestCounts = msgspec.field(
        default_factory=MessageBatchRequestCounts
    )
    type: str = "message_batch"
    created_at: str = ""
    expires_at: str = ""
    ended_at: str | None = None
    cancel_initiated_at: str | None = None
    archived_at: str | None = None
    results_url: str | None = None


class MessageBatchList(_Full, kw_only=True):
    """``GET /v1/messages/batches``: newest first; the next page is ``after_id=<last_id>``."""

    data: list[MessageBatch] = msgspec.field(default_factory=list[MessageBatch])
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class MessageBatchResult(_Wire, kw_only=True):
    """What happened to one request.

    Attributes:
        type: ``succeeded``, ``errored``, ``canceled`` or ``expired``.
        message: The Messages response, verbatim, when it succeeded (``null`` otherwise).
        error: The error body (``{"type": "error", "error": {type, message}}``) when it errored.
    """

    type: str
    message: msgspec.Raw = msgspec.Raw(b"null")
    error: ErrorResponse | None = None


class MessageBatchIndividualResponse(msgspec.Struct, kw_only=True, gc=False):
    """One line of the results stream."""

    custom_id: str
    result: MessageBatchResult


_batch_decoder = msgspec.json.Decoder(MessageBatch)
_list_decoder = msgspec.json.Decoder(MessageBatchList)
_create_decoder = msgspec.json.Decoder(MessageBatchCreateRequest)
_result_decoder = msgspec.json.Decoder(MessageBatchIndividualResponse)


def decode_batch(data: bytes | str) -> MessageBatch:
    """Decode a message batch."""
    return _batch_decoder.decode(data)


def decode_batch_list(data: bytes | str) -> MessageBatchList:
    """Decode a ``GET /v1/messages/batches`` page."""
    return _list_decoder.decode(data)


def decode_create_request(data: bytes | str) -> MessageBatchCreateRequest:
    """Decode a ``POST /v1/messages/batches`` body."""
    return _create_decoder.decode(data)


def decode_result_line(data: bytes | str) -> MessageBatchIndividualResponse:
    """Decode one line of the results stream."""
    return _result_decoder.decode(data)


def encode(body: msgspec.Struct, extra: dict[str, Any] | None = None) -> bytes:
    """Encode any struct of this module as compact JSON (a ``Raw`` field goes out as given).

    Args:
        body: A struct of this module.
        extra: Top-level fields to add or override.
    """
    return encode_body(body, extra)
