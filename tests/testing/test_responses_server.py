"""The local server's OpenAI Responses API: what the openai SDK reads, what it checks, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from atoll_testing import (
    Case,
    ChatInput,
    FakeLLMServer,
    OpenAIResponsesServer,
    Recorder,
    ToolCall,
    Turn,
)
from atoll_wire import SSEDecoder
from openai.types import responses as sdk
from pydantic import TypeAdapter

_EVENT = TypeAdapter(sdk.ResponseStreamEvent)
_RESPONSE = TypeAdapter(sdk.Response)
SEEN: list[ChatInput] = []


def thinker(request: ChatInput) -> Turn:
    SEEN.append(request)
    if request.tool_results:
        return Turn(text="done: " + ",".join(f"{r.name}={r.content}" for r in request.tool_results))
    return Turn(
        thinking="Call both tools.",
        text="On it.",
        tool_calls=[ToolCall(name="f", arguments={"x": 1}), ToolCall(name="g", arguments="{}")],
        cache_read_tokens=2,
        cache_write_tokens=1,
    )


@pytest.fixture(scope="module")
def srv() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(models={"thinker": thinker}, api_key="sk-test").run_in_thread() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(srv: FakeLLMServer) -> None:
    srv.clear()
    SEEN.clear()


KEY = {"authorization": "Bearer sk-test"}
ASK: dict[str, Any] = {
    "model": "thinker",
    "input": "go",
    "store": False,
    "include": ["reasoning.encrypted_content"],
    "reasoning": {"effort": "low", "summary": "auto"},
}


def _post(srv: FakeLLMServer, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(srv.base_url + "/responses", json=body, headers={**KEY, **headers})


def _events(body: bytes) -> list[Any]:
    return [_EVENT.validate_json(e.data) for e in SSEDecoder().feed(body)]


def test_a_whole_response_is_an_sdk_response(srv: FakeLLMServer) -> None:
    reply = _post(srv, ASK)
    assert reply.status_code == 200 and reply.headers["x-request-id"].startswith("req_atoll")
    response = _RESPONSE.validate_json(reply.content)
    assert reply.json()["store"] is False
    reasoning, message, first, second = response.output
    assert isinstance(reasoning, sdk.ResponseReasoningItem)
    assert reasoning.summary[0].text == "Call both tools." and reasoning.encrypted_content
    assert isinstance(message, sdk.ResponseOutputMessage) and response.output_text == "On it."
    assert isinstance(first, sdk.ResponseFunctionToolCall)
    assert isinstance(second, sdk.ResponseFunctionToolCall)
    assert first.id != first.call_id and first.id and first.id.startswith("fc_")
    assert (first.arguments, second.arguments) == ('{"x":1}', "{}")
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens_details.cached_tokens == 2
    assert usage.input_tokens_details.cache_write_tokens == 1
    assert usage.output_tokens_details.reasoning_tokens == 3
    assert response.status == "completed"


def test_summaries_and_encrypted_content_only_when_asked(srv: FakeLLMServer) -> None:
    answer = _post(srv, {"model": "thinker", "input": "go"})
    plain = _RESPONSE.validate_json(answer.content)
    reasoning = plain.output[0]
    assert isinstance(reasoning, sdk.ResponseReasoningItem)
    assert reasoning.summary == [] and reasoning.encrypted_content is None
    assert answer.json()["store"] is True  # the API's default


def test_a_stream_is_every_event_in_sequence(srv: FakeLLMServer) -> None:
    events = _events(_post(srv, {**ASK, "stream": True}).content)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    kinds = [e.type for e in events]
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert kinds[-1] == "response.completed"
    for kind in (
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ):
        assert kind in kinds, kind
    added = events[2].item
    done = next(e.item for e in events if e.type == "response.output_item.done")
    assert isinstance(added, sdk.ResponseReasoningItem)
    assert isinstance(done, sdk.ResponseReasoningItem)
    assert added.encrypted_content and done.encrypted_content
    assert done.encrypted_content.startswith(added.encrypted_content)
    assert len(added.encrypted_content) < len(done.encrypted_content), "added holds a prefix"
    final = events[-1].response
    assert final.output_text == "On it." and final.usage is not None


def test_the_openai_sdk_streams_and_continues_a_conversation(srv: FakeLLMServer) -> None:
    client = openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)
    with client.responses.stream(**ASK) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "On it."
    calls = [o for o in final.output if o.type == "function_call"]
    following = [o.model_dump(exclude_none=True) for o in final.output]
    outputs = [
        {"type": "function_call_output", "call_id": c.call_id, "output": "ok"} for c in calls
    ]
    again = client.responses.create(
        model="thinker",
        input=[{"role": "user", "content": "go"}, *following, *outputs],  # type: ignore[list-item]
        store=False,
    )
    assert again.output_text == "done: f=ok,g=ok"


def test_tool_results_in_the_chat_input(srv: FakeLLMServer) -> None:
    body = {
        "model": "thinker",
        "instructions": "be brief",
        "input": [
            {"role": "user", "content": "first"},
            {"type": "function_call", "call_id": "c0", "name": "old", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c0", "output": "stale"},
            {"role": "user", "content": [{"type": "input_text", "text": "second"}]},
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "f",
                "arguments": "{}",
                "id": "fc_9",
            },
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [{"type": "input_text", "text": "fresh"}],
            },
        ],
        "tools": [{"type": "function", "name": "f", "parameters": {}, "strict": False}],
        "store": False,
    }
    assert _post(srv, body).status_code == 200
    (seen,) = SEEN
    assert seen.dialect == "openai-responses"
    assert [(r.call_id, r.name, r.content) for r in seen.tool_results] == [("c1", "f", "fresh")]
    assert seen.last_user_text == "second" and seen.tool_names == ("f",)
    assert seen.message_count == 7  # six items and the instructions
    assert seen.include_usage and not seen.stream


def test_what_the_api_refuses_is_refused(srv: FakeLLMServer) -> None:
    first = _post(srv, ASK).json()
    reasoning = first["output"][0]
    orphan = _post(
        srv, {**ASK, "input": [{"type": "function_call_output", "call_id": "nope", "output": "x"}]}
    )
    assert orphan.status_code == 400
    assert orphan.json()["error"]["message"] == (
        "No tool call found for function call output with call_id nope."
    )
    message = first["output"][1]  # what the model said after its reasoning

    def sent(*items: dict[str, Any]) -> httpx.Response:
        return _post(srv, {**ASK, "input": list(items)})

    forged = {**reasoning, "encrypted_content": reasoning["encrypted_content"][:-4] + "AAAA"}
    assert sent(forged, message).status_code == 400
    other_id = {**reasoning, "id": "rs_other"}
    assert sent(other_id, message).status_code == 400
    unstored = {k: v for k, v in reasoning.items() if k != "encrypted_content"}
    gone = sent(unstored, message)
    assert gone.status_code == 404 and "not persisted" in gone.json()["error"]["message"]
    alone = sent(reasoning)
    assert alone.status_code == 400
    assert alone.json()["error"]["message"] == (
        f"Item '{reasoning['id']}' of type 'reasoning' was provided without its required "
        "following item."
    )
    assert sent(reasoning, {"role": "user", "content": "hm"}).status_code == 400
    assert sent(reasoning, message).status_code == 200
    lost = _post(srv, {**ASK, "previous_response_id": "resp_missing"})
    assert lost.status_code == 400
    assert lost.json()["error"]["message"] == "Previous response with id 'resp_missing' not found."


def test_stored_responses_chain_and_come_back(srv: FakeLLMServer) -> None:
    stored = _post(srv, {"model": "thinker", "input": "go"}).json()
    calls = [o for o in stored["output"] if o["type"] == "function_call"]
    outputs = [
        {"type": "function_call_output", "call_id": c["call_id"], "output": "1"} for c in calls
    ]
    second = _post(
        srv, {"model": "thinker", "input": outputs, "previous_response_id": stored["id"]}
    )
    assert second.json()["output"][0]["content"][0]["text"] == "done: f=1,g=1"
    assert second.json()["previous_response_id"] == stored["id"]
    got = httpx.get(f"{srv.base_url}/responses/{stored['id']}", headers=KEY)
    assert got.status_code == 200 and got.json() == stored
    # A stored response's reasoning item may go back by id alone.
    by_id = {"type": "reasoning", "id": stored["output"][0]["id"], "summary": []}
    following = stored["output"][1]
    assert _post(srv, {"model": "thinker", "input": [by_id, following]}).status_code == 200
    unstored = _post(srv, {**ASK}).json()
    assert httpx.get(f"{srv.base_url}/responses/{unstored['id']}", headers=KEY).status_code == 404


def test_auth_is_the_bearer_header(srv: FakeLLMServer) -> None:
    wrong = httpx.post(srv.base_url + "/responses", json=ASK, headers={"x-api-key": "sk-test"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-test" not in wrong.text


def test_finish_reasons_become_statuses() -> None:
    turns = {
        "cut": Turn(text="par", finish_reason="length"),
        "filtered": Turn(text="", finish_reason="content_filter"),
        "failing": Turn(text="x", finish_reason="failed"),
    }
    models = {name: (lambda t: lambda request: t)(turn) for name, turn in turns.items()}
    with FakeLLMServer(models=models).run_in_thread() as server:
        bodies = {
            n: httpx.post(server.base_url + "/responses", json={"model": n, "input": "q"}).json()
            for n in turns
        }
        streamed = httpx.post(
            server.base_url + "/responses", json={"model": "failing", "input": "q", "stream": True}
        )
    assert bodies["cut"]["status"] == "incomplete"
    assert bodies["cut"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert bodies["filtered"]["incomplete_details"] == {"reason": "content_filter"}
    assert (
        bodies["failing"]["status"] == "failed"
        and bodies["failing"]["error"]["code"] == "server_error"
    )
    events = _events(streamed.content)
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]


def test_phases_when_the_server_labels_them() -> None:
    def model(request: ChatInput) -> Turn:
        if request.tool_results:
            return Turn(text="final")
        return Turn(text="working", tool_calls=[ToolCall(name="f")])

    dialect = OpenAIResponsesServer(phases=True)
    assert repr(dialect) == "OpenAIResponsesServer(phases=True)"
    with FakeLLMServer(models={"m": model}, dialects=[dialect]).run_in_thread() as server:
        first = httpx.post(server.base_url + "/responses", json={"model": "m", "input": "q"}).json()
        call = first["output"][1]
        body = {
            "model": "m",
            "input": [
                *first["output"],
                {"type": "function_call_output", "call_id": call["call_id"], "output": "ok"},
            ],
        }
        final = httpx.post(server.base_url + "/responses", json=body).json()
    assert first["output"][0]["phase"] == "commentary"
    assert final["output"][0]["phase"] == "final_answer"


@pytest.mark.parametrize("fault", ["status=429", "status=503"])
def test_status_faults_in_openai_shape(srv: FakeLLMServer, fault: str) -> None:
    reply = _post(srv, ASK, **{"x-atoll-fault": fault})
    status = int(fault.split("=")[1])
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["type"] == ("requests" if status == 429 else "server_error")


def test_stream_faults(srv: FakeLLMServer) -> None:
    ask = {"model": "stream-10", "input": "go", "stream": True}
    errored = _post(srv, ask, **{"x-atoll-fault": "error-event=4; error-type=rate_limit_exceeded"})
    events = list(SSEDecoder().feed(errored.content))
    assert len(events) == 5 and events[-1].event == "error"
    error = json.loads(events[-1].data)
    assert (error["type"], error["code"]) == ("error", "rate_limit_exceeded")
    cut = _post(srv, ask, **{"x-atoll-fault": "no-done"})
    kinds = [e.event for e in SSEDecoder().feed(cut.content)]
    assert "response.completed" not in kinds and kinds[-1] == "response.output_item.done"
    broken = _post(srv, ask, **{"x-atoll-fault": "malformed=3"})
    datas = [e.data for e in SSEDecoder().feed(broken.content)]
    with pytest.raises(json.JSONDecodeError):
        json.loads(datas[3])
    assert json.loads(datas[-1])["type"] == "response.completed"


def test_long_streams_for_benchmarks(srv: FakeLLMServer) -> None:
    reply = _post(srv, {"model": "stream-5000", "input": "go", "stream": True})
    events = list(SSEDecoder().feed(reply.content))
    deltas = [json.loads(e.data) for e in events if e.event == "response.output_text.delta"]
    assert len(deltas) == 5000 and deltas[-1]["delta"] == "tok4999 "
    assert [d["sequence_number"] for d in deltas] == list(range(4, 5004))


def test_recorded_responses_have_their_expect_and_replay_byte_exact(tmp_path: Path) -> None:
    with FakeLLMServer(models={"thinker": thinker}).run_in_thread() as upstream:
        recorder = Recorder(upstream.url, tmp_path, provider="fake")
        with FakeLLMServer(recorder=recorder).run_in_thread() as proxy:
            plain = _post(proxy, ASK)
            streamed = _post(proxy, {**ASK, "stream": True})
            cut = _post(proxy, {**ASK, "stream": True}, **{"x-atoll-fault": "error-event=5"})
            refused = _post(proxy, {**ASK, "previous_response_id": "resp_nope"})
    cases = [Case.load(p) for p in recorder.recorded]
    assert all(p.parent.name == "openai-responses" for p in recorder.recorded)
    expected = {
        "text": "On it.",
        "tool_calls": [
            {"id": "call_atoll0000000001_0", "name": "f", "arguments": {"x": 1}},
            {"id": "call_atoll0000000001_1", "name": "g", "arguments": {}},
        ],
        "finish_reason": "completed",
        "usage": {"input_tokens": 1, "output_tokens": 9},
        "reasoning": "Call both tools.",
    }
    assert cases[0].expect == expected
    streamed_ids = {
        **expected,
        "tool_calls": [
            {**c, "id": c["id"].replace("0001", "0002")} for c in expected["tool_calls"]
        ],
    }
    assert cases[1].stream and cases[1].expect == streamed_ids
    assert cases[2].expect["error"] == {
        "type": "error",
        "code": "server_error",
        "message": "The server had an error while processing your request.",
        "in_stream": True,
    }
    assert refused.status_code == 400 and cases[3].expect["error"]["message"] == (
        "Previous response with id 'resp_nope' not found."
    )
    with FakeLLMServer(cases=tmp_path).run_in_thread() as replayer:
        for case, original in zip(recorder.recorded, (plain, streamed, cut, refused), strict=True):
            again = httpx.post(
                replayer.base_url + "/responses", json={}, headers={"x-atoll-replay": case.stem}
            )
            assert again.content == original.content
