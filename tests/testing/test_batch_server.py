"""The local server's batch APIs over HTTP: files, batches, the clock, fates, limits, SDKs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from atoll_testing import (
    AnthropicBatchServer,
    BatchControl,
    ChatInput,
    FakeLLMServer,
    OpenAIBatchServer,
    RequestError,
    Turn,
    registered_server_dialects,
)

KEY = "sk-batch"
OPENAI = {"Authorization": f"Bearer {KEY}"}
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}


def picky(chat: ChatInput) -> Turn:
    """Answers like echo, but refuses prompts starting with 'bad' (a per-request failure)."""
    if chat.last_user_text.startswith("bad"):
        raise RequestError(400, "bad prompt", "invalid_request_error")
    return Turn(text=chat.last_user_text, input_tokens=10, output_tokens=5)


@pytest.fixture
def control() -> BatchControl:
    return BatchControl()


@pytest.fixture
def srv(control: BatchControl) -> Iterator[FakeLLMServer]:
    dialects = [*registered_server_dialects(), *control.dialects(bearer=True)]
    server = FakeLLMServer(models={"picky": picky}, api_key=KEY, dialects=dialects)
    with server.run_in_thread() as running:
        yield running


def _line(custom_id: str, text: str, model: str = "picky", **extra: Any) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def _upload(client: httpx.Client, data: bytes, name: str = "in.jsonl") -> dict[str, Any]:
    reply = client.post("/files", files={"file": (name, data)}, data={"purpose": "batch"})
    assert reply.status_code == 200, reply.text
    return reply.json()


def _create(client: httpx.Client, file_id: str, **extra: Any) -> dict[str, Any]:
    body = {
        "input_file_id": file_id,
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
    }
    reply = client.post("/batches", json=body | extra)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _lines(client: httpx.Client, file_id: str | None) -> dict[str, dict[str, Any]]:
    if file_id is None:
        return {}
    text = client.get(f"/files/{file_id}/content").text
    return {item["custom_id"]: item for item in map(json.loads, text.splitlines())}


@pytest.fixture
def oa(srv: FakeLLMServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.base_url, headers=OPENAI) as client:
        yield client


@pytest.fixture
def an(srv: FakeLLMServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.url + "/v1", headers=ANTHROPIC) as client:
        yield client


def test_openai_batch_runs_its_lines_through_the_models(
    oa: httpx.Client, srv: FakeLLMServer, control: BatchControl
) -> None:
    lines = [_line(f"r{i}", f"hello {i}") for i in range(6)] + [_line("x", "bad one")]
    upload = _upload(oa, _jsonl(lines))
    assert upload["purpose"] == "batch" and upload["bytes"] == len(_jsonl(lines))
    batch = _create(oa, upload["id"], metadata={"job": "j1"})
    assert batch["status"] == "validating" and batch["metadata"] == {"job": "j1"}
    assert batch["expires_at"] - batch["created_at"] == 86_400
    seen = [oa.get(f"/batches/{batch['id']}").json() for _ in range(2)]
    assert [s["status"] for s in seen] == ["finalizing", "completed"]
    done = seen[-1]
    assert done["request_counts"] == {"total": 7, "completed": 6, "failed": 1}
    assert done["model"] == "picky" and done["completed_at"] is not None
    output, errors = _lines(oa, done["output_file_id"]), _lines(oa, done["error_file_id"])
    assert set(output) == {f"r{i}" for i in range(6)}
    answer = output["r3"]["response"]
    assert answer["status_code"] == 200 and answer["body"]["choices"][0]["message"]["content"] == (
        "hello 3"
    )
    assert len({o["response"]["body"]["id"] for o in output.values()}) == 6  # ids of their own
    failure = errors["x"]["response"]
    assert failure["status_code"] == 400 and failure["body"]["error"]["message"] == "bad prompt"
    assert srv.counts["picky"] == 7
    assert control.uploads() == [upload["id"]] and control.status(batch["id"]) == "completed"
    # The output is in no promised order: here it is shuffled.
    text = oa.get(f"/files/{done['output_file_id']}/content").text
    assert [json.loads(t)["custom_id"] for t in text.splitlines()] != [f"r{i}" for i in range(6)]


def test_openai_validation_fails_a_batch(oa: httpx.Client) -> None:
    cases = {
        "duplicate_custom_id": [_line("a", "x"), _line("a", "y")],
        "invalid_request": [_line("a", "x") | {"url": "/v1/embeddings"}],
        "mismatched_model": [_line("a", "x"), _line("b", "y", model="echo")],
    }
    for code, lines in cases.items():
        batch = _create(oa, _upload(oa, _jsonl(lines))["id"])
        failed = oa.get(f"/batches/{batch['id']}").json()
        assert failed["status"] == "failed" and failed["failed_at"] is not None
        assert code in [e["code"] for e in failed["errors"]["data"]], code
        assert failed["output_file_id"] is None and failed["error_file_id"] is None
    broken = _create(oa, _upload(oa, b'{"custom_id": "a"\nnot json\n')["id"])
    errors = oa.get(f"/batches/{broken['id']}").json()["errors"]["data"]
    assert [(e["code"], e["line"]) for e in errors] == [
        ("invalid_json_line", 1),
        ("invalid_json_line", 2),
    ]


def test_openai_requests_and_bytes_limits(srv: FakeLLMServer) -> None:
    control = BatchControl(max_requests=2, max_bytes=1_000)
    dialects = [*registered_server_dialects(), *control.dialects()]
    with FakeLLMServer(dialects=dialects, models={"picky": picky}).run_in_thread() as small:
        with httpx.Client(base_url=small.base_url) as client:
            big = client.post(
                "/files", files={"file": ("b.jsonl", b"x" * 1_001)}, data={"purpose": "batch"}
            )
            assert big.status_code == 400 and "too large" in big.json()["error"]["message"]
            three = _jsonl([_line(f"r{i}", "a") for i in range(3)])
            batch = _create(client, _upload(client, three)["id"])
            failed = client.get(f"/batches/{batch['id']}").json()
            assert failed["status"] == "failed"
            assert failed["errors"]["data"][0]["code"] == "too_many_requests"


def test_openai_bad_requests(oa: httpx.Client) -> None:
    file_id = _upload(oa, _jsonl([_line("a", "x")]))["id"]
    body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions"}
    assert oa.post("/batches", json=body | {"completion_window": "1h"}).status_code == 400
    assert oa.post("/batches", json=body | {"endpoint": "/v1/embeddings"}).status_code == 400
    assert oa.post("/batches", json=body | {"input_file_id": "file-x"}).status_code == 400
    many = {str(i): "v" for i in range(17)}
    assert oa.post("/batches", json=body | {"metadata": many}).status_code == 400
    assert oa.get("/batches/batch_nope").status_code == 404
    assert oa.get("/files/file-nope/content").status_code == 404
    no_file = oa.post("/files", files={"x": ("a", b"1")}, data={"purpose": "batch"})
    assert no_file.status_code == 400
    raw = oa.post("/files", content=b"{}", headers={"content-type": "application/json"})
    assert raw.status_code == 400 and "multipart" in raw.json()["error"]["message"]
    assert oa.delete(f"/files/{file_id}").json()["deleted"] is True
    assert oa.get(f"/files/{file_id}").status_code == 404
    with httpx.Client(base_url=oa.base_url) as anonymous:
        assert anonymous.get("/batches").status_code == 401


def test_openai_clock_progress_expiry_and_cancel(oa: httpx.Client, srv: FakeLLMServer) -> None:
    control = BatchControl(duration=100.0)
    dialects = [*registered_server_dialects(), *control.dialects()]
    with FakeLLMServer(dialects=dialects, models={"picky": picky}).run_in_thread() as slow:
        with httpx.Client(base_url=slow.base_url) as client:
            lines = _jsonl([_line(f"r{i}", f"p{i}") for i in range(10)])
            batch = _create(client, _upload(client, lines)["id"])
            first = client.get(f"/batches/{batch['id']}").json()
            assert first["status"] == "in_progress"
            assert first["request_counts"]["completed"] <= 1
            control.advance(50)
            half = client.get(f"/batches/{batch['id']}").json()
            assert half["status"] == "in_progress"
            assert 5 <= half["request_counts"]["completed"] <= 6
            control.advance(86_400)  # past the 24 h window: what ran is kept
            expired = client.get(f"/batches/{batch['id']}").json()
            assert expired["status"] == "expired" and expired["expired_at"] is not None
            assert expired["request_counts"]["completed"] == 10  # it ran out its duration first
            second = _create(client, _upload(client, lines)["id"])
            client.get(f"/batches/{second['id']}")
            control.advance(30)
            cancelling = client.post(f"/batches/{second['id']}/cancel").json()
            assert cancelling["status"] == "cancelling"
            cancelled = client.get(f"/batches/{second['id']}").json()
            assert cancelled["status"] == "cancelled"
            errors = _lines(client, cancelled["error_file_id"])
            output = _lines(client, cancelled["output_file_id"])
            assert len(output) == 3 and len(errors) == 7
            assert {e["error"]["code"] for e in errors.values()} == {"batch_cancelled"}
            again = client.post(f"/batches/{second['id']}/cancel")
            assert again.status_code == 400


def test_fates_on_request(oa: httpx.Client, control: BatchControl) -> None:
    control.duration = None  # nothing runs by itself
    lines = _jsonl([_line(f"r{i}", f"p{i}") for i in range(4)])
    held, doomed, failing = (_create(oa, _upload(oa, lines)["id"]) for _ in range(3))
    for batch in (held, doomed, failing):
        assert oa.get(f"/batches/{batch['id']}").json()["status"] == "in_progress"
    control.expire(doomed["id"])
    control.fail(failing["id"], message="capacity")
    expired = oa.get(f"/batches/{doomed['id']}").json()
    assert expired["status"] == "expired" and expired["output_file_id"] is None
    codes = {e["error"]["code"] for e in _lines(oa, expired["error_file_id"]).values()}
    assert codes == {"batch_expired"}
    failed = oa.get(f"/batches/{failing['id']}").json()
    assert failed["status"] == "failed" and failed["errors"]["data"][0]["message"] == "capacity"
    assert oa.get(f"/batches/{held['id']}").json()["status"] == "in_progress"
    control.finish()
    assert oa.get(f"/batches/{held['id']}").json()["status"] == "finalizing"
    assert oa.get(f"/batches/{held['id']}").json()["status"] == "completed"
    assert control.batch_ids("openai") == [held["id"], doomed["id"], failing["id"]]


def test_a_look_carrying_an_error_fault_runs_nothing(oa: httpx.Client, srv: FakeLLMServer) -> None:
    batch = _create(oa, _upload(oa, _jsonl([_line("a", "x")]))["id"])
    refused = oa.get(f"/batches/{batch['id']}", headers={"x-atoll-fault": "503"})
    assert refused.status_code == 503 and srv.counts.get("picky", 0) == 0
    assert oa.get(f"/batches/{batch['id']}").json()["request_counts"]["completed"] == 1


def test_listing_is_newest_first_and_paged(oa: httpx.Client) -> None:
    file_id = _upload(oa, _jsonl([_line("a", "x")]), name="atoll-part-0.jsonl")["id"]
    ids = [_create(oa, file_id)["id"] for _ in range(3)]
    first = oa.get("/batches", params={"limit": 2}).json()
    assert [b["id"] for b in first["data"]] == ids[::-1][:2] and first["has_more"]
    rest = oa.get("/batches", params={"limit": 2, "after": first["last_id"]}).json()
    assert [b["id"] for b in rest["data"]] == [ids[0]] and not rest["has_more"]
    files = oa.get("/files", params={"purpose": "batch"}).json()["data"]
    assert files[0]["filename"] == "atoll-part-0.jsonl"
    assert oa.get("/batches", params={"limit": 101}).status_code == 400


def _anthropic_requests(n: int, **params: Any) -> list[dict[str, Any]]:
    return [
        {
            "custom_id": f"q{i}",
            "params": {
                "model": "picky",
                "max_tokens": 16,
                "messages": [{"role": "user", "content": f"hello {i}"}],
            }
            | params,
        }
        for i in range(n)
    ]


def test_anthropic_batch_and_its_results(an: httpx.Client, srv: FakeLLMServer) -> None:
    requests = _anthropic_requests(3)
    requests.append({"custom_id": "no-max", "params": {"model": "picky", "messages": []}})
    requests.append(_anthropic_requests(1)[0] | {"custom_id": "bad"})
    requests[-1]["params"]["messages"][0]["content"] = "bad idea"
    batch = an.post("/messages/batches", json={"requests": requests}).json()
    assert batch["type"] == "message_batch" and batch["processing_status"] == "in_progress"
    assert batch["request_counts"]["processing"] == 5 and batch["results_url"] is None
    assert an.get(f"/messages/batches/{batch['id']}/results").status_code == 400
    an.get(f"/messages/batches/{batch['id']}")
    ended = an.get(f"/messages/batches/{batch['id']}").json()
    assert ended["processing_status"] == "ended" and ended["ended_at"] is not None
    assert ended["request_counts"] == {
        "processing": 0,
        "succeeded": 3,
        "errored": 2,
        "canceled": 0,
        "expired": 0,
    }
    url = ended["results_url"]
    assert url == f"{srv.url}/v1/messages/batches/{batch['id']}/results"
    results = {
        item["custom_id"]: item["result"] for item in map(json.loads, an.get(url).text.splitlines())
    }
    assert results["q1"]["type"] == "succeeded"
    assert results["q1"]["message"]["content"][0]["text"] == "hello 1"
    assert results["no-max"]["error"]["error"]["message"] == "params.max_tokens: Field required"
    assert results["bad"]["error"]["error"] == {
        "type": "invalid_request_error",
        "message": "bad prompt",
    }
    assert srv.counts["picky"] == 4  # the request without max_tokens never reached a model
    anonymous = httpx.get(f"{srv.url}/v1/messages/batches", headers={"anthropic-version": "1"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_error"


def test_anthropic_create_is_checked_at_once() -> None:
    control = BatchControl(max_requests=3, max_bytes=2_000)
    dialects = [*registered_server_dialects(), *control.dialects()]
    with FakeLLMServer(dialects=dialects, models={"picky": picky}).run_in_thread() as small:
        with httpx.Client(base_url=small.url + "/v1", headers=ANTHROPIC) as client:
            four = client.post("/messages/batches", json={"requests": _anthropic_requests(4)})
            assert four.status_code == 400 and "1 to 3" in four.json()["error"]["message"]
            huge = _anthropic_requests(1, system="x" * 3_000)
            too_big = client.post("/messages/batches", json={"requests": huge})
            assert too_big.status_code == 413
            assert too_big.json()["error"]["type"] == "request_too_large"
            bad_id = _anthropic_requests(1)
            bad_id[0]["custom_id"] = "has space"
            assert client.post("/messages/batches", json={"requests": bad_id}).status_code == 400
            twice = _anthropic_requests(1) * 2
            assert client.post("/messages/batches", json={"requests": twice}).status_code == 400
            assert client.get("/messages/batches/msgbatch_nope").status_code == 404


def test_anthropic_expiry_cancel_and_failure(an: httpx.Client, control: BatchControl) -> None:
    control.duration = None
    ids = [
        an.post("/messages/batches", json={"requests": _anthropic_requests(3)}).json()["id"]
        for _ in range(3)
    ]
    for batch_id in ids:
        an.get(f"/messages/batches/{batch_id}")
    control.expire(ids[0])
    control.fail(ids[1], message="overloaded for now")
    canceling = an.post(f"/messages/batches/{ids[2]}/cancel").json()
    assert canceling["processing_status"] == "canceling"
    assert canceling["cancel_initiated_at"] is not None
    outcomes = []
    for batch_id in ids:
        ended = an.get(f"/messages/batches/{batch_id}").json()
        assert ended["processing_status"] == "ended"
        results = [json.loads(t)["result"] for t in an.get(ended["results_url"]).text.splitlines()]
        outcomes.append((ended["request_counts"], {r["type"] for r in results}))
        if batch_id == ids[1]:
            assert results[0]["error"]["error"] == {
                "type": "api_error",
                "message": "overloaded for now",
            }
    zero = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    assert outcomes == [
        (zero | {"expired": 3}, {"expired"}),
        (zero | {"errored": 3}, {"errored"}),
        (zero | {"canceled": 3}, {"canceled"}),
    ]
    page = an.get("/messages/batches", params={"limit": 2}).json()
    assert [b["id"] for b in page["data"]] == ids[::-1][:2] and page["has_more"]
    rest = an.get("/messages/batches", params={"after_id": page["last_id"]}).json()
    assert [b["id"] for b in rest["data"]] == [ids[0]]
    assert an.delete(f"/messages/batches/{ids[0]}").json()["type"] == "message_batch_deleted"


def test_the_official_sdks_read_these_shapes(srv: FakeLLMServer, control: BatchControl) -> None:
    with openai.OpenAI(base_url=srv.base_url, api_key=KEY, max_retries=0) as client:
        upload = client.files.create(
            file=("in.jsonl", _jsonl([_line("r1", "hi"), _line("r2", "bad")])), purpose="batch"
        )
        assert upload.purpose == "batch"
        batch = client.batches.create(
            input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        assert batch.status == "validating"
        while batch.status not in ("completed", "failed", "expired", "cancelled"):
            batch = client.batches.retrieve(batch.id)
        assert batch.request_counts is not None and batch.request_counts.completed == 1
        assert batch.output_file_id is not None
        out = client.files.content(batch.output_file_id).text
        assert json.loads(out)["custom_id"] == "r1"
        assert [b.id for b in client.batches.list(limit=5)] == [batch.id]
    with anthropic.Anthropic(base_url=srv.url, api_key=KEY, max_retries=0) as claude:
        created = claude.messages.batches.create(requests=_anthropic_requests(2))  # type: ignore[arg-type]
        while created.processing_status != "ended":
            created = claude.messages.batches.retrieve(created.id)
        assert created.request_counts.succeeded == 2
        results = {r.custom_id: r.result.type for r in claude.messages.batches.results(created.id)}
        assert results == {"q0": "succeeded", "q1": "succeeded"}
    assert isinstance(control.dialects()[0], OpenAIBatchServer)
    assert isinstance(control.dialects()[1], AnthropicBatchServer)
