"""Scripted models: queues, rules matching tool results, JSON files, exhaustion, callables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from atoll_testing import ChatInput, FakeLLMServer, Rule, Script, ScriptError, ToolCall, Turn

USER = {"role": "user", "content": "weather in Paris?"}


def _chat(srv: FakeLLMServer, model: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    resp = httpx.post(
        srv.base_url + "/chat/completions", json={"model": model, "messages": messages}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_agent_loop_driven_end_to_end() -> None:
    script = Script(
        [Turn(tool_calls=[ToolCall(name="get_weather", arguments={"city": "Paris"}, id="call_w")])],
        rules=[Rule(Turn(text="It is sunny in Paris."), tool_result_for="get_weather")],
    )
    with FakeLLMServer(models={"agent": script}).run_in_thread() as srv:
        first = _chat(srv, "agent", [USER])
        call = first["choices"][0]["message"]["tool_calls"][0]
        assert first["choices"][0]["finish_reason"] == "tool_calls"
        assert first["choices"][0]["message"]["content"] is None
        assert call == {
            "id": "call_w",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }
        history = [
            USER,
            first["choices"][0]["message"],
            {"role": "tool", "tool_call_id": "call_w", "content": "sunny"},
        ]
        second = _chat(srv, "agent", history)
    assert second["choices"][0]["message"]["content"] == "It is sunny in Paris."
    assert script.remaining == 0 and script.served == 2


def test_rule_matches_by_call_id_user_text_and_predicate() -> None:
    script = Script(
        ["queued"],
        rules=[
            Rule(Turn(text="by id"), tool_result_for="call_9"),
            Rule(Turn(text="by text"), user_contains="magic", times=1),
            Rule(Turn(text="by predicate"), when=lambda r: r.message_count > 3),
        ],
    )
    with FakeLLMServer(models={"m": script}).run_in_thread() as srv:
        tool_history = [
            USER,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_9", "content": "r"},
        ]
        by_id = _chat(srv, "m", tool_history)
        magic = {"role": "user", "content": "say magic"}
        by_text = _chat(srv, "m", [magic])
        by_pred = _chat(srv, "m", [magic, magic, magic, magic])  # text rule used up
        queued = _chat(srv, "m", [USER])
    texts = [r["choices"][0]["message"]["content"] for r in (by_id, by_text, by_pred, queued)]
    assert texts == ["by id", "by text", "by predicate", "queued"]


def test_tool_result_before_a_later_assistant_turn_does_not_match() -> None:
    script = Script(["plain"], rules=[Rule(Turn(text="matched"), tool_result_for="f")])
    history = [
        USER,
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c", "content": "r"},
        {"role": "assistant", "content": "done"},
        USER,
    ]
    with FakeLLMServer(models={"m": script}).run_in_thread() as srv:
        assert _chat(srv, "m", history)["choices"][0]["message"]["content"] == "plain"


def test_exhausted_script_is_a_visible_500() -> None:
    with FakeLLMServer(models={"m": Script(["only"])}).run_in_thread() as srv:
        _chat(srv, "m", [USER])
        resp = httpx.post(
            srv.base_url + "/chat/completions", json={"model": "m", "messages": [USER]}
        )
    assert resp.status_code == 500
    assert "no turn left after 1 served" in resp.json()["error"]["message"]


def test_repeat_last_and_push() -> None:
    script = Script(["a"], repeat_last=True)
    with FakeLLMServer(models={"m": script}).run_in_thread() as srv:
        texts = [_chat(srv, "m", [USER])["choices"][0]["message"]["content"] for _ in range(2)]
        script.push("b")
        texts.append(_chat(srv, "m", [USER])["choices"][0]["message"]["content"])
    assert texts == ["a", "a", "b"]


def test_script_from_json_file_drives_both_dialects(tmp_path: Path) -> None:
    spec = {
        "turns": [
            {
                "thinking": "hmm",
                "text": "Answer",
                "input_tokens": 11,
                "output_tokens": 7,
                "reasoning_tokens": 2,
            },
            {"text": "cut", "finish_reason": "length"},
        ],
        "rules": [{"when": {"user_contains": "ping"}, "then": {"text": "pong"}}],
    }
    path = tmp_path / "script.json"
    path.write_text(json.dumps(spec))
    script = Script.from_file(path)
    with FakeLLMServer(models={"s": script}).run_in_thread() as srv:
        first = _chat(srv, "s", [USER])
        second = httpx.post(
            srv.url + "/v1/messages", json={"model": "s", "max_tokens": 5, "messages": [USER]}
        ).json()
        pong = _chat(srv, "s", [{"role": "user", "content": "ping"}])
    msg = first["choices"][0]["message"]
    assert (msg["content"], msg["reasoning_content"]) == ("Answer", "hmm")
    assert first["usage"]["prompt_tokens"] == 11
    assert first["usage"]["completion_tokens"] == 7
    assert first["usage"]["completion_tokens_details"]["reasoning_tokens"] == 2
    assert second["content"] == [{"type": "text", "text": "cut"}]
    assert second["stop_reason"] == "max_tokens"  # neutral "length" mapped for Anthropic
    assert pong["choices"][0]["message"]["content"] == "pong"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"turns": [{"txt": "typo"}]}',
        '{"turns": [], "extra": 1}',
        '{"turns": [{"text": "x", "fault": "nonsense=1"}]}',
    ],
)
def test_bad_script_json(text: str) -> None:
    with pytest.raises(ScriptError) as info:
        Script.from_json(text, source="s.json")
    assert info.value.source == "s.json"


def test_missing_script_file(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="cannot read"):
        Script.from_file(tmp_path / "absent.json")


def test_turn_chunks_must_match_text() -> None:
    with pytest.raises(ScriptError):
        Turn(text="abc", chunks=["a", "b"])


def test_callable_model_and_exact_chunks(sse: Any) -> None:
    def model(request: ChatInput) -> Turn:
        return Turn(chunks=["Hel", "lo, ", request.last_user_text.upper()])

    with FakeLLMServer(models={"fn": model}).run_in_thread() as srv:
        resp = httpx.post(
            srv.base_url + "/chat/completions",
            json={"model": "fn", "stream": True, "messages": [{"role": "user", "content": "bob"}]},
        )
    deltas = [d["choices"][0]["delta"].get("content") for _, d in sse(resp.text)[1:-2]]
    assert deltas == ["Hel", "lo, ", "BOB"]


def test_invalid_tool_arguments_are_sent_verbatim(sse: Any) -> None:
    turn = Turn(
        tool_calls=[ToolCall(name="f", arguments='{"a": 1', id="c1"), ToolCall(name="g", id="c2")]
    )
    with FakeLLMServer(models={"m": Script([turn, turn])}).run_in_thread() as srv:
        plain = _chat(srv, "m", [USER])
        streamed = httpx.post(
            srv.base_url + "/chat/completions",
            json={"model": "m", "stream": True, "messages": [USER]},
        )
    calls = plain["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["arguments"] for c in calls] == ['{"a": 1', "{}"]
    args: dict[int, str] = {}
    for _, chunk in sse(streamed.text)[:-1]:
        for call in chunk["choices"][0]["delta"].get("tool_calls") or []:
            args[call["index"]] = args.get(call["index"], "") + call["function"]["arguments"]
    assert args == {0: '{"a": 1', 1: "{}"}


def test_bad_turn_fault_fails_at_construction() -> None:
    from atoll_testing import FaultSyntaxError

    with pytest.raises(FaultSyntaxError, match="unknown fault 'bogus'"):
        Turn(text="x", fault="bogus=1")
