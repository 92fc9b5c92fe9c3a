"""``OpenAIBatchServer``: OpenAI's Files and Batch APIs on the local server.

``POST /v1/files`` (multipart, ``purpose=batch``), ``GET /v1/files``, ``GET /v1/files/{id}``,
``GET /v1/files/{id}/content``, ``DELETE /v1/files/{id}``, ``POST /v1/batches``,
``GET /v1/batches``, ``GET /v1/batches/{id}`` and ``POST /v1/batches/{id}/cancel``, in the
shapes of ``atoll_wire.openai_batch``. A batch is checked on its first look after creation
(JSON lines, ``method``, ``url``, unique ``custom_id``, one model, the request limit) and then
runs on its :class:`BatchControl`'s clock; each line is answered by the server's models as a
chat request would be, and the output and error files are written when it ends (in shuffled
order: the API promises none).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec
from atoll_wire import openai_batch as wire

from ._batch_control import OPENAI_LIMITS, Answer, BatchControl, FakeBatch, StoredFile
from ._exceptions import RequestError
from ._exchange import Exchange
from ._multipart import parse_form
from ._openai import OpenAIChatServer, parse_openai
from ._openai_render import error_body
from ._reply import JSON, Reply
from ._routes import Route

_ENC = msgspec.json.Encoder()
_ENDPOINTS = ("/v1/chat/completions",)
_INVALID = "invalid_request_error"


class _Model(msgspec.Struct):
    model: str = ""


_model_of = msgspec.json.Decoder(_Model)
_create_decoder = msgspec.json.Decoder(wire.BatchCreateRequest)


class OpenAIBatchServer(OpenAIChatServer):
    """OpenAI's Files and Batch APIs, with the chat dialect's auth and error shapes.

    Args:
        control: The store and clock shared with the Anthropic side (``BatchControl``).
    """

    name = "openai-batch"
    corpus_dialect = ""

    def __init__(self, control: BatchControl) -> None:
        self.control = control

    def __repr__(self) -> str:
        return f"OpenAIBatchServer({self.control!r})"

    def routes(self) -> Sequence[Route]:
        """Files and batches (the chat routes belong to ``OpenAIChatServer``)."""
        return (
            Route("POST", "/files", self.upload),
            Route("GET", "/files", self.list_files),
            Route("GET", "/files/{file_id}", self.get_file),
            Route("DELETE", "/files/{file_id}", self.delete_file),
            Route("GET", "/files/{file_id}/content", self.file_content),
            Route("POST", "/batches", self.create_batch),
            Route("GET", "/batches", self.list_batches),
            Route("GET", "/batches/{batch_id}", self.get_batch),
            Route("POST", "/batches/{batch_id}/cancel", self.cancel_batch),
        )

    # ---- files ---------------------------------------------------------------------------------

    def upload(self, exchange: Exchange) -> Reply:
        """``POST /v1/files``: a multipart form with ``purpose`` and ``file``."""
        form = parse_form(exchange.body, exchange.headers.get("content-type", ""))
        purpose = form.get("purpose")
        upload = form.get("file")
        if purpose is None or upload is None or upload.filename is None:
            raise RequestError(400, "a file upload needs the fields 'purpose' and 'file'", _INVALID)
        kind = purpose.data.decode("utf-8", "replace")
        _, max_bytes = self.control.limits(OPENAI_LIMITS)
        if kind == "batch" and len(upload.data) > max_bytes:
            raise RequestError(
                400,
                f"File is too large: batch input files can be up to {max_bytes} bytes",
                _INVALID,
            )
        control = self.control
        stored = StoredFile(
            id=f"file-atoll{control.next_id():08d}",
            filename=upload.filename,
            purpose=kind,
            data=upload.data,
            created_at=int(control.now()),
        )
        with control.lock:
            control.files[stored.id] = stored
        return _json(_file(stored))

    def list_files(self, exchange: Exchange) -> Reply:
        """``GET /v1/files``: ``purpose``, ``order`` (``desc``), ``limit`` and ``after``."""
        query = exchange.query_params
        with self.control.lock:
            files = [
                f
                for f in self.control.files.values()
                if "purpose" not in query or f.purpose == query["purpose"]
            ]
        if query.get("order", "desc") == "desc":
            files.reverse()
        page, more = _page(files, query.get("after"), _limit(query, 10_000, 10_000))
        return _json(
            wire.FileList(
                data=[_file(f) for f in page],
                has_more=more,
                first_id=page[0].id if page else None,
                last_id=page[-1].id if page else None,
            )
        )

    def get_file(self, exchange: Exchange) -> Reply:
        """``GET /v1/files/{file_id}``."""
        return _json(_file(self._file(exchange)))

    def delete_file(self, exchange: Exchange) -> Reply:
        """``DELETE /v1/files/{file_id}``."""
        stored = self._file(exchange)
        with self.control.lock:
            del self.control.files[stored.id]
        return _json({"id": stored.id, "object": "file", "deleted": True})

    def file_content(self, exchange: Exchange) -> Reply:
        """``GET /v1/files/{file_id}/content``: the bytes as uploaded or written."""
        return Reply(200, b"application/octet-stream", self._file(exchange).data)

    def _file(self, exchange: Exchange) -> StoredFile:
        file_id = exchange.params["file_id"]
        found = self.control.files.get(file_id)
        if found is None:
            raise RequestError(404, f"No such File object: {file_id}", _INVALID)
        return found

    # ---- batches -------------------------------------------------------------------------------

    def create_batch(self, exchange: Exchange) -> Reply:
        """``POST /v1/batches``: the batch starts ``validating``."""
        request = _create_decoder.decode(exchange.body)
        if request.completion_window != "24h":
            raise RequestError(400, "completion_window must be '24h'", _INVALID)
        if request.endpoint not in _ENDPOINTS:
            raise RequestError(
                400, f"endpoint {request.endpoint!r} is not served here ({_ENDPOINTS[0]})", _INVALID
            )
        _check_metadata(request.metadata)
        source = self.control.files.get(request.input_file_id)
        if source is None or source.purpose != "batch":
            raise RequestError(
                400, f"input_file_id {request.input_file_id!r} is not a file for batch", _INVALID
            )
        control = self.control
        now = control.now()
        batch = FakeBatch(
            id=f"batch_atoll{control.next_id():08d}",
            api="openai",
            requests=[],
            created_at=now,
            expires_at=now + control.window,
            stage="validating",
            endpoint=request.endpoint,
            input_file_id=source.id,
            metadata=request.metadata,
        )
        batch.requests, batch.errors, batch.model = _read_lines(
            source.data, request.endpoint, control.limits(OPENAI_LIMITS)[0]
        )
        return _json(self._render(control.add(batch)))

    def get_batch(self, exchange: Exchange) -> Reply:
        """``GET /v1/batches/{batch_id}``: the batch, caught up with the clock."""
        batch = self._batch(exchange)
        self._touch(batch, exchange)
        return _json(self._render(batch))

    def list_batches(self, exchange: Exchange) -> Reply:
        """``GET /v1/batches``: newest first, ``limit`` (20, at most 100) and ``after``."""
        query = exchange.query_params
        with self.control.lock:
            batches = [b for b in self.control.batches.values() if b.api == "openai"]
        batches.reverse()
        page, more = _page(batches, query.get("after"), _limit(query, 20, 100))
        for batch in page:
            self._touch(batch, exchange)
        return _json(
            wire.BatchList(
                data=[self._render(b) for b in page],
                has_more=more,
                first_id=page[0].id if page else None,
                last_id=page[-1].id if page else None,
            )
        )

    def cancel_batch(self, exchange: Exchange) -> Reply:
        """``POST /v1/batches/{batch_id}/cancel``: ``cancelling``, then ``cancelled``."""
        batch = self._batch(exchange)
        self._touch(batch, exchange)
        if batch.ended:
            raise RequestError(
                400, f"Cannot cancel a batch with status '{batch.outcome}'.", _INVALID
            )
        self.control.cancel(batch)
        return _json(self._render(batch))

    def _batch(self, exchange: Exchange) -> FakeBatch:
        batch_id = exchange.params["batch_id"]
        found = self.control.batches.get(batch_id)
        if found is None or found.api != "openai":
            raise RequestError(404, f"No batch found with id '{batch_id}'.", _INVALID)
        return found

    def _touch(self, batch: FakeBatch, exchange: Exchange) -> None:
        fault = exchange.fault
        answer = None if fault is not None and fault.is_error else _answerer(exchange)
        self.control.catch_up(batch, answer, validate=lambda b: b.errors)
        with self.control.lock:
            if batch.ended and batch.outcome != "failed" and batch.output_file_id is None:
                self._write_files(batch)

    def _write_files(self, batch: FakeBatch) -> None:
        good: list[bytes] = []
        bad: list[bytes] = []
        for number, (custom_id, status, body) in enumerate(batch.answers):
            line = wire.BatchOutputLine(
                custom_id=custom_id,
                id=f"batch_req_{batch.id[-8:]}{number:06d}",
                response=wire.BatchResponseBody(
                    status_code=status,
                    body=msgspec.Raw(body),
                    request_id=f"req_atoll{batch.id[-8:]}{number:06d}",
                ),
            )
            (good if status < 400 else bad).append(wire.encode(line) + b"\n")
        code = {"expired": "batch_expired", "cancelled": "batch_cancelled"}.get(batch.outcome or "")
        for custom_id, _ in batch.unanswered if code else ():
            message = f"This request was not run: the batch was {batch.outcome}."
            error = wire.BatchOutputError(code=code, message=message)
            bad.append(wire.encode(wire.BatchOutputLine(custom_id=custom_id, error=error)) + b"\n")
        shuffle = random.Random(batch.id).shuffle
        shuffle(good)
        shuffle(bad)
        batch.output_file_id = self._output(batch, "output", good) or ""
        batch.error_file_id = self._output(batch, "error", bad)

    def _output(self, batch: FakeBatch, kind: str, lines: list[bytes]) -> str | None:
        if not lines:
            return None
        control = self.control
        stored = StoredFile(
            id=f"file-atoll{control.next_id():08d}",
            filename=f"{batch.id}_{kind}.jsonl",
            purpose="batch_output",
            data=b"".join(lines),
            created_at=int(control.now()),
        )
        control.files[stored.id] = stored
        return stored.id

    def _render(self, batch: FakeBatch) -> wire.Batch:
        with self.control.lock:
            completed = sum(1 for _, status, _ in batch.answers if status < 400)
            failed = len(batch.answers) - completed
            validating = batch.stage == "validating"
            ended_at = int(batch.ended_at) if batch.ended_at is not None else None
            outcome = batch.outcome
            return wire.Batch(
                id=batch.id,
                status=outcome or batch.stage,
                endpoint=batch.endpoint,
                input_file_id=batch.input_file_id,
                output_file_id=batch.output_file_id or None,
                error_file_id=batch.error_file_id,
                errors=wire.BatchErrors(data=msgspec.convert(batch.errors, list[wire.BatchError]))
                if batch.errors
                else None,
                request_counts=wire.BatchRequestCounts(
                    total=0 if validating else len(batch.requests),
                    completed=completed,
                    failed=failed,
                ),
                metadata=batch.metadata,
                model=batch.model,
                created_at=int(batch.created_at),
                in_progress_at=_int(batch.started_at),
                expires_at=int(batch.expires_at),
                finalizing_at=_int(batch.finalizing_at),
                completed_at=ended_at if outcome == "completed" else None,
                failed_at=ended_at if outcome == "failed" else None,
                expired_at=ended_at if outcome == "expired" else None,
                cancelling_at=_int(batch.cancelling_at),
                cancelled_at=ended_at if outcome == "cancelled" else None,
            )


def _answerer(exchange: Exchange) -> Answer:
    def answer(custom_id: str, body: bytes) -> tuple[int, bytes]:
        try:
            chat = parse_openai(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return 400, error_body(400, f"invalid request body: {exc}")
        if chat.stream:
            return 400, error_body(400, "stream is not supported in a batch")
        reply = exchange.answer(chat)
        if reply.events is not None or reply.source is not None:
            return 500, error_body(500, "the model answered with a stream, not a completion")
        if reply.status >= 400:
            return reply.status, reply.body
        return reply.status, _with_id(reply.body, f"chatcmpl-atollbatch{exchange.number:06d}")

    return answer


def _with_id(body: bytes, prefix: str) -> bytes:
    # Every line of one look is rendered by one exchange, which numbers its ids once: give each
    # answer an id of its own, as the API does.
    try:
        data: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body
    if isinstance(data, dict) and "id" in data:
        data["id"] = f"{prefix}{random.getrandbits(40):010x}"
        return _ENC.encode(data)
    return body


def _read_lines(
    data: bytes, endpoint: str, max_requests: int
) -> tuple[list[tuple[str, bytes]], list[dict[str, object]], str | None]:
    """The requests of an input file, the validation errors, and the model."""
    requests: list[tuple[str, bytes]] = []
    errors: list[dict[str, object]] = []
    seen: set[str] = set()
    models: set[str] = set()
    for number, text in enumerate(data.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = wire.decode_request_line(text)
            body = bytes(line.body)
            model = _model_of.decode(body).model
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            errors.append({"code": "invalid_json_line", "message": str(exc), "line": number})
            continue
        if line.method != "POST" or line.url != endpoint:
            message = f"method must be POST and url {endpoint!r}"
            errors.append({"code": "invalid_request", "message": message, "line": number})
        if line.custom_id in seen:
            message = f"custom_id {line.custom_id!r} is used twice"
            errors.append({"code": "duplicate_custom_id", "message": message, "line": number})
        seen.add(line.custom_id)
        models.add(model)
        requests.append((line.custom_id, body))
    if not requests and not errors:
        errors.append({"code": "empty_file", "message": "the input file has no requests"})
    if len(requests) > max_requests:
        message = f"a batch holds at most {max_requests} requests, this file has {len(requests)}"
        errors.append({"code": "too_many_requests", "message": message})
    if len(models) > 1:
        message = f"every request must use one model, found {sorted(models)}"
        errors.append({"code": "mismatched_model", "message": message})
    return requests, errors, next(iter(models)) if len(models) == 1 else None


def _check_metadata(metadata: dict[str, str] | None) -> None:
    if metadata is None:
        return
    if len(metadata) > 16 or any(len(k) > 64 or len(v) > 512 for k, v in metadata.items()):
        raise RequestError(
            400,
            "metadata: at most 16 pairs, keys up to 64 and values up to 512 characters",
            _INVALID,
        )


def _limit(query: dict[str, str], default: int, most: int) -> int:
    try:
        value = int(query.get("limit", default))
    except ValueError:
        raise RequestError(400, "limit must be a whole number", _INVALID) from None
    if not 1 <= value <= most:
        raise RequestError(400, f"limit must be from 1 to {most}", _INVALID)
    return value


_Item = TypeVar("_Item", StoredFile, FakeBatch)


def _page(items: list[_Item], after: str | None, limit: int) -> tuple[list[_Item], bool]:
    start = 0
    if after is not None:
        start = next((i + 1 for i, item in enumerate(items) if item.id == after), len(items))
    page = items[start : start + limit]
    return page, start + limit < len(items)


def _file(stored: StoredFile) -> wire.FileObject:
    return wire.FileObject(
        id=stored.id,
        bytes=len(stored.data),
        created_at=stored.created_at,
        filename=stored.filename,
        purpose=stored.purpose,
        expires_at=stored.created_at + 30 * 86_400 if stored.purpose.startswith("batch") else None,
    )


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _json(body: msgspec.Struct | dict[str, Any]) -> Reply:
    return Reply(200, JSON, _ENC.encode(body))
