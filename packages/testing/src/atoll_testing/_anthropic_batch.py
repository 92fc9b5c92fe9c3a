"""``AnthropicBatchServer``: Anthropic's Message Batches API on the local server.

``POST /v1/messages/batches``, ``GET /v1/messages/batches``,
``GET /v1/messages/batches/{id}``, ``POST /v1/messages/batches/{id}/cancel``,
``GET /v1/messages/batches/{id}/results`` and ``DELETE /v1/messages/batches/{id}``, in the
shapes of ``atoll_wire.anthropic_batch``. The create body is checked at once (the request and
byte limits, custom ids of 1 to 64 of ``[a-zA-Z0-9_-]``, each unique); each request's
``params`` only when it runs, as the API does (a bad one comes back ``errored``). Batches run on
their :class:`BatchControl`'s clock; results stream as JSONL in shuffled order.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from atoll_wire import anthropic as messages
from atoll_wire import anthropic_batch as wire

from ._anthropic import AnthropicMessagesServer, parse_anthropic
from ._anthropic_render import error_body
from ._batch_control import ANTHROPIC_LIMITS, Answer, BatchControl, FakeBatch
from ._exceptions import RequestError
from ._exchange import Exchange
from ._reply import JSON, Reply
from ._routes import Route

_ENC = msgspec.json.Encoder()
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_INVALID = "invalid_request_error"
_error_decoder = msgspec.json.Decoder(messages.ErrorResponse)


class AnthropicBatchServer(AnthropicMessagesServer):
    """Anthropic's Message Batches API, with the Messages dialect's auth and error shapes.

    Args:
        control: The store and clock shared with the OpenAI side (``BatchControl``).
        bearer: Also accept the key as ``Authorization: Bearer`` (see ``AnthropicMessagesServer``).
    """

    name = "anthropic-batch"
    corpus_dialect = ""

    def __init__(self, control: BatchControl, *, bearer: bool = False) -> None:
        super().__init__(bearer=bearer)
        self.control = control

    def __repr__(self) -> str:
        return f"AnthropicBatchServer({self.control!r}, bearer={self.bearer})"

    def routes(self) -> Sequence[Route]:
        """Message batches (the Messages routes belong to ``AnthropicMessagesServer``)."""
        return (
            Route("POST", "/messages/batches", self.create_batch),
            Route("GET", "/messages/batches", self.list_batches),
            Route("GET", "/messages/batches/{batch_id}", self.get_batch),
            Route("DELETE", "/messages/batches/{batch_id}", self.delete_batch),
            Route("POST", "/messages/batches/{batch_id}/cancel", self.cancel_batch),
            Route("GET", "/messages/batches/{batch_id}/results", self.results),
        )

    def create_batch(self, exchange: Exchange) -> Reply:
        """``POST /v1/messages/batches``: checked at once, then ``in_progress``."""
        max_requests, max_bytes = self.control.limits(ANTHROPIC_LIMITS)
        if len(exchange.body) > max_bytes:
            raise RequestError(
                413, f"Request exceeds the maximum size of {max_bytes} bytes", "request_too_large"
            )
        request = wire.decode_create_request(exchange.body)
        count = len(request.requests)
        if not 1 <= count <= max_requests:
            raise RequestError(
                400, f"requests: a batch holds 1 to {max_requests} requests, got {count}", _INVALID
            )
        seen: set[str] = set()
        for index, item in enumerate(request.requests):
            if not _CUSTOM_ID.match(item.custom_id):
                raise RequestError(
                    400,
                    f"requests.{index}.custom_id: must be 1 to 64 of [a-zA-Z0-9_-]",
                    _INVALID,
                )
            if item.custom_id in seen:
                raise RequestError(
                    400, f"requests.{index}.custom_id: {item.custom_id!r} is used twice", _INVALID
                )
            seen.add(item.custom_id)
        control = self.control
        now = control.now()
        batch = FakeBatch(
            id=f"msgbatch_atoll{control.next_id():08d}",
            api="anthropic",
            requests=[(item.custom_id, bytes(item.params)) for item in request.requests],
            created_at=now,
            expires_at=now + control.window,
            stage="validating",
        )
        return _json(self._render(control.add(batch), exchange))

    def get_batch(self, exchange: Exchange) -> Reply:
        """``GET /v1/messages/batches/{batch_id}``: the batch, caught up with the clock."""
        batch = self._batch(exchange)
        self._touch(batch, exchange)
        return _json(self._render(batch, exchange))

    def list_batches(self, exchange: Exchange) -> Reply:
        """``GET /v1/messages/batches``: newest first, ``limit`` (20, 1 to 1000), ``after_id``."""
        query = exchange.query_params
        try:
            limit = int(query.get("limit", 20))
        except ValueError:
            raise RequestError(400, "limit: must be a whole number", _INVALID) from None
        if not 1 <= limit <= 1000:
            raise RequestError(400, "limit: must be from 1 to 1000", _INVALID)
        with self.control.lock:
            batches = [b for b in self.control.batches.values() if b.api == "anthropic"]
        batches.reverse()
        start = 0
        after = query.get("after_id")
        if after is not None:
            start = next((i + 1 for i, b in enumerate(batches) if b.id == after), len(batches))
        page = batches[start : start + limit]
        for batch in page:
            self._touch(batch, exchange)
        body = wire.MessageBatchList(
            data=[self._render(b, exchange) for b in page],
            has_more=start + limit < len(batches),
            first_id=page[0].id if page else None,
            last_id=page[-1].id if page else None,
        )
        return _json(body)

    def cancel_batch(self, exchange: Exchange) -> Reply:
        """``POST /v1/messages/batches/{batch_id}/cancel``: ``canceling``, then ``ended``."""
        batch = self._batch(exchange)
        self._touch(batch, exchange)
        self.control.cancel(batch)
        return _json(self._render(batch, exchange))

    def delete_batch(self, exchange: Exchange) -> Reply:
        """``DELETE /v1/messages/batches/{batch_id}``: only once it ended."""
        batch = self._batch(exchange)
        self._touch(batch, exchange)
        if not batch.ended:
            raise RequestError(400, "a batch must end before it can be deleted", _INVALID)
        with self.control.lock:
            del self.control.batches[batch.id]
        return _json({"id": batch.id, "type": "message_batch_deleted"})

    def results(self, exchange: Exchange) -> Reply:
        """``GET /v1/messages/batches/{batch_id}/results``: JSONL, once the batch ended."""
        batch = self._batch(exchange)
        self._touch(batch, exchange)
        if not batch.ended:
            raise RequestError(
                400, f"Message Batch {batch.id} has not finished processing", _INVALID
            )
        lines = [_result_line(custom_id, status, body) for custom_id, status, body in batch.answers]
        left = {"expired": "expired", "cancelled": "canceled"}.get(batch.outcome or "")
        for custom_id, _ in batch.unanswered:
            if left is not None:
                result = wire.MessageBatchResult(type=left)
            else:  # failed on request: every request not run errored
                detail = messages.ErrorDetail(type="api_error", message=batch.fail_message)
                result = wire.MessageBatchResult(
                    type="errored", error=messages.ErrorResponse(error=detail)
                )
            line = wire.MessageBatchIndividualResponse(custom_id=custom_id, result=result)
            lines.append(wire.encode(line) + b"\n")
        random.Random(batch.id).shuffle(lines)
        return Reply(200, b"application/x-jsonl", b"".join(lines))

    def _batch(self, exchange: Exchange) -> FakeBatch:
        batch_id = exchange.params["batch_id"]
        found = self.control.batches.get(batch_id)
        if found is None or found.api != "anthropic":
            raise RequestError(404, f"Message Batch {batch_id} not found", "not_found_error")
        return found

    def _touch(self, batch: FakeBatch, exchange: Exchange) -> None:
        fault = exchange.fault
        answer = None if fault is not None and fault.is_error else _answerer(exchange)
        self.control.catch_up(batch, answer)

    def _render(self, batch: FakeBatch, exchange: Exchange) -> wire.MessageBatch:
        with self.control.lock:
            total = len(batch.requests)
            counts = wire.MessageBatchRequestCounts(processing=total)
            if batch.ended:
                succeeded = sum(1 for _, status, _ in batch.answers if status < 400)
                left = len(batch.unanswered)
                outcome = batch.outcome
                counts = wire.MessageBatchRequestCounts(
                    succeeded=succeeded,
                    errored=len(batch.answers) - succeeded + (left if outcome == "failed" else 0),
                    canceled=left if outcome == "cancelled" else 0,
                    expired=left if outcome == "expired" else 0,
                )
            status = {"ended": "ended", "cancelling": "canceling"}.get(batch.stage, "in_progress")
            url = exchange.server.url
            return wire.MessageBatch(
                id=batch.id,
                processing_status=status,
                request_counts=counts,
                created_at=_rfc3339(batch.created_at),
                expires_at=_rfc3339(batch.expires_at),
                ended_at=_rfc3339(batch.ended_at) if batch.ended_at is not None else None,
                cancel_initiated_at=_rfc3339(batch.cancelling_at)
                if batch.cancelling_at is not None
                else None,
                results_url=f"{url}/v1/messages/batches/{batch.id}/results"
                if batch.ended
                else None,
            )


def _answerer(exchange: Exchange) -> Answer:
    def answer(custom_id: str, body: bytes) -> tuple[int, bytes]:
        try:
            request = messages.decode_request(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return 400, error_body(400, f"params: {exc}")
        if request.max_tokens is None:
            return 400, error_body(400, "params.max_tokens: Field required")
        if request.stream:
            return 400, error_body(400, "params.stream: streaming is not supported in a batch")
        reply = exchange.answer(parse_anthropic(request, body))
        if reply.events is not None or reply.source is not None:
            return 500, error_body(500, "the model answered with a stream, not a message")
        if reply.status >= 400:
            return reply.status, reply.body
        return reply.status, _with_id(reply.body)

    return answer


def _with_id(body: bytes) -> bytes:
    # One look renders many requests through one exchange, whose number is fixed: give each
    # message an id of its own, as the API does.
    try:
        data: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body
    if isinstance(data, dict) and "id" in data:
        data["id"] = f"msg_atollbatch{random.getrandbits(48):012x}"
        return _ENC.encode(data)
    return body


def _result_line(custom_id: str, status: int, body: bytes) -> bytes:
    if status < 400:
        result = wire.MessageBatchResult(type="succeeded", message=msgspec.Raw(body))
    else:
        try:
            error = _error_decoder.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            detail = messages.ErrorDetail(type="api_error", message=body.decode("utf-8", "replace"))
            error = messages.ErrorResponse(error=detail)
        result = wire.MessageBatchResult(type="errored", error=error)
    line = wire.MessageBatchIndividualResponse(custom_id=custom_id, result=result)
    return wire.encode(line) + b"\n"


def _rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _json(body: msgspec.Struct | dict[str, Any]) -> Reply:
    return Reply(200, JSON, _ENC.encode(body))
