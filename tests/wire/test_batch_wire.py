"""The batch wire structs: documented shapes decode, lines round-trip, raw bodies stay verbatim."""

from __future__ import annotations

import json

import msgspec
from atoll_wire import anthropic_batch, openai_batch
from hypothesis import given
from hypothesis import strategies as st

# The API reference's batch object example (platform.openai.com/docs/api-reference/batch).
OPENAI_BATCH = b"""{
  "id": "batch_abc123", "object": "batch", "endpoint": "/v1/completions", "errors": null,
  "input_file_id": "file-abc123", "completion_window": "24h", "status": "completed",
  "output_file_id": "file-cvaTdG", "error_file_id": "file-HOWS94",
  "created_at": 1711471533, "in_progress_at": 1711471538, "expires_at": 1711557933,
  "finalizing_at": 1711493133, "completed_at": 1711493163, "failed_at": null,
  "expired_at": null, "cancelling_at": null, "cancelled_at": null,
  "request_counts": {"total": 100, "completed": 95, "failed": 5},
  "metadata": {"customer_id": "user_123456789", "batch_description": "Nightly eval job"}
}"""

# The API reference's message batch example (docs.anthropic.com/en/api/retrieving-message-batches).
ANTHROPIC_BATCH = b"""{
  "archived_at": null, "cancel_initiated_at": null,
  "created_at": "2024-08-20T18:37:24.100435Z", "ended_at": "2024-08-20T18:37:24.100435Z",
  "expires_at": "2024-08-21T18:37:24.100435Z", "id": "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF",
  "processing_status": "ended",
  "request_counts": {"canceled": 10, "errored": 30, "expired": 10, "processing": 0,
                     "succeeded": 50},
  "results_url": "https://api.anthropic.com/v1/messages/batches/msgbatch_013Zva2CMHLNnXjNJJKqJ2EF/results",
  "type": "message_batch"
}"""


def test_openai_batch_and_file_objects_decode() -> None:
    batch = openai_batch.decode_batch(OPENAI_BATCH)
    assert batch.status == "completed" and batch.status in openai_batch.ENDED_STATUSES
    assert batch.request_counts == openai_batch.BatchRequestCounts(
        total=100, completed=95, failed=5
    )
    assert batch.metadata == {
        "customer_id": "user_123456789",
        "batch_description": "Nightly eval job",
    }
    assert set(openai_batch.STATUSES) >= openai_batch.ENDED_STATUSES
    failed = openai_batch.decode_batch(
        b'{"id": "b", "status": "failed", "errors": {"object": "list", "data": '
        b'[{"code": "invalid_json_line", "message": "bad", "line": 3, "param": null}]},'
        b'"some_future_field": 1}'
    )
    assert failed.errors is not None and failed.errors.data[0].line == 3
    listed = openai_batch.decode_batch_list(
        b'{"object": "list", "data": [' + OPENAI_BATCH + b'], "has_more": true, '
        b'"first_id": "batch_abc123", "last_id": "batch_abc123"}'
    )
    assert listed.has_more and listed.data[0].id == "batch_abc123"
    file = openai_batch.decode_file(
        b'{"id": "file-abc123", "object": "file", "bytes": 120000, "created_at": 1677610602,'
        b'"expires_at": 1680202602, "filename": "batch.jsonl", "purpose": "batch"}'
    )
    assert (file.bytes, file.purpose, file.status) == (120000, "batch", "processed")
    assert openai_batch.decode_file_list(b'{"data": [], "object": "list"}').data == []


def test_openai_lines_carry_bodies_verbatim() -> None:
    body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"2+2?"}]}'
    line = openai_batch.BatchRequestLine(
        custom_id="request-1", url="/v1/chat/completions", body=msgspec.Raw(body)
    )
    encoded = openai_batch.encode(line)
    assert encoded == (
        b'{"custom_id":"request-1","method":"POST","url":"/v1/chat/completions","body":'
        + body
        + b"}"
    )
    assert bytes(openai_batch.decode_request_line(encoded).body) == body
    ok = openai_batch.decode_output_line(
        b'{"id": "batch_req_wnaDys", "custom_id": "request-2", "response": {"status_code": 200,'
        b' "request_id": "req_c187b3", "body": {"id": "chatcmpl-9758Iw", "object": '
        b'"chat.completion"}}, "error": null}'
    )
    assert ok.response is not None and ok.response.status_code == 200
    assert json.loads(bytes(ok.response.body))["id"] == "chatcmpl-9758Iw"
    expired = openai_batch.decode_output_line(
        b'{"id": "batch_req_1", "custom_id": "request-3", "response": null, "error": '
        b'{"code": "batch_expired", "message": "This request could not be executed"}}'
    )
    assert expired.response is None and expired.error is not None
    assert expired.error.code == "batch_expired"


def test_anthropic_batch_create_and_results() -> None:
    batch = anthropic_batch.decode_batch(ANTHROPIC_BATCH)
    assert batch.processing_status == "ended" and batch.results_url is not None
    assert batch.request_counts.errored == 30
    params = b'{"model":"claude-haiku-4-5","max_tokens":64,"messages":[]}'
    create = anthropic_batch.MessageBatchCreateRequest(
        requests=[anthropic_batch.BatchRequest(custom_id="a-1", params=msgspec.Raw(params))]
    )
    encoded = anthropic_batch.encode(create)
    assert encoded == b'{"requests":[{"custom_id":"a-1","params":' + params + b"}]}"
    assert bytes(anthropic_batch.decode_create_request(encoded).requests[0].params) == params
    for kind in anthropic_batch.RESULT_TYPES:
        line = {"custom_id": "a-1", "result": {"type": kind}}
        if kind == "succeeded":
            line["result"]["message"] = {"id": "msg_1", "type": "message"}
        if kind == "errored":
            line["result"]["error"] = {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "max_tokens: too big"},
            }
        decoded = anthropic_batch.decode_result_line(json.dumps(line))
        assert decoded.result.type == kind
        if kind == "errored":
            assert decoded.result.error is not None
            assert decoded.result.error.error.type == "invalid_request_error"
    unknown = anthropic_batch.decode_result_line(b'{"custom_id":"x","result":{"type":"later"}}')
    assert unknown.result.type == "later" and bytes(unknown.result.message) == b"null"
    page = anthropic_batch.decode_batch_list(
        b'{"data": [' + ANTHROPIC_BATCH + b'], "has_more": false, "first_id": "a", "last_id": "a"}'
    )
    assert page.data[0].id.startswith("msgbatch_")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(custom_id=st.text(min_size=1), body=_json, status=st.integers(100, 599))
def test_output_lines_round_trip(custom_id: str, body: object, status: int) -> None:
    raw = msgspec.json.encode(body)
    line = openai_batch.BatchOutputLine(
        custom_id=custom_id,
        id="batch_req_1",
        response=openai_batch.BatchResponseBody(status_code=status, body=msgspec.Raw(raw)),
    )
    encoded = openai_batch.encode(line)
    assert b"\n" not in encoded
    decoded = openai_batch.decode_output_line(encoded)
    assert decoded.custom_id == custom_id
    assert decoded.response is not None and bytes(decoded.response.body) == raw
    result = anthropic_batch.MessageBatchIndividualResponse(
        custom_id=custom_id,
        result=anthropic_batch.MessageBatchResult(type="succeeded", message=msgspec.Raw(raw)),
    )
    again = anthropic_batch.decode_result_line(anthropic_batch.encode(result))
    assert again.custom_id == custom_id and bytes(again.result.message) == raw
