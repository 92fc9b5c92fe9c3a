"""Replay of every corpus case byte-exact, and the recorder against a local upstream."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from atoll_testing import Case, CaseFormatError, FakeLLMServer, Recorder, Replay, Script, Turn

PATHS = {"openai-chat": "/v1/chat/completions", "anthropic-messages": "/v1/messages"}


def _case_files(corpus: Path) -> list[Path]:
    return sorted(corpus.rglob("*.json"))


@pytest.fixture
def corpus_server(corpus_dir: Path) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(cases=corpus_dir).run_in_thread() as srv:
        yield srv


def test_every_corpus_case_replays_byte_exact(
    corpus_dir: Path, corpus_server: FakeLLMServer
) -> None:
    files = _case_files(corpus_dir)
    assert len(files) >= 60
    with httpx.Client(base_url=corpus_server.url) as client:
        for path in files:
            case = json.loads(path.read_text())
            url = PATHS.get(case["dialect"], "/v1beta/models/any:generateContent")
            resp = client.post(
                url, json=case["request"] or {}, headers={"x-atoll-replay": path.stem}
            )
            assert resp.status_code == case["response"]["status"], path.name
            assert resp.headers["content-type"] == case["response"]["content_type"], path.name
            assert resp.content == case["response"]["body"].encode(), path.name


def test_case_served_by_model_name(corpus_dir: Path, corpus_server: FakeLLMServer) -> None:
    path = corpus_dir / "openai-chat" / "openai-stream-parallel-tool-calls.json"
    case = json.loads(path.read_text())
    body = {**case["request"], "model": path.stem}
    resp = httpx.post(corpus_server.base_url + "/chat/completions", json=body)
    assert resp.content == case["response"]["body"].encode()
    assert resp.headers["transfer-encoding"] == "chunked"


def test_replay_faults_apply_to_recorded_streams(
    corpus_dir: Path, corpus_server: FakeLLMServer
) -> None:
    path = corpus_dir / "anthropic-messages" / "anthropic-stream-text-ping.json"
    body = json.loads(path.read_text())["response"]["body"]
    headers = {"x-atoll-replay": path.stem, "x-atoll-fault": "no-done"}
    resp = httpx.post(corpus_server.url + "/v1/messages", json={}, headers=headers)
    assert "message_stop" in body and "message_stop" not in resp.text
    assert body.startswith(resp.text)


def test_replay_request_body_selects_case(tmp_path: Path) -> None:
    def write(name: str, request: object, body: str) -> Path:
        path = tmp_path / f"{name}.json"
        path.write_text(
            json.dumps(
                {
                    "source": "t",
                    "dialect": "openai-chat",
                    "provider": "p",
                    "stream": False,
                    "endpoint": None,
                    "exercises": name,
                    "request": request,
                    "response": {"status": 200, "content_type": "application/json", "body": body},
                    "expect": {},
                }
            )
        )
        return path

    asked = {"model": "r", "messages": [{"role": "user", "content": "which?"}]}
    replay = Replay(
        [write("a", {"model": "r", "messages": []}, '{"a": 1}'), write("b", asked, '{"b": 2}')]
    )
    with FakeLLMServer(models={"r": replay}).run_in_thread() as srv:
        url = srv.base_url + "/chat/completions"
        picked = [httpx.post(url, json=asked).text for _ in range(2)]
        other = {"model": "r", "messages": [{"role": "user", "content": "no recording has this"}]}
        cycled = [httpx.post(url, json=other).text for _ in range(3)]
    assert picked == ['{"b": 2}', '{"b": 2}']
    assert cycled == ['{"a": 1}', '{"b": 2}', '{"a": 1}']


def test_bad_case_files(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"source": "x"}')
    with pytest.raises(CaseFormatError) as info:
        FakeLLMServer(cases=tmp_path)
    assert info.value.path.endswith("bad.json")
    with pytest.raises(CaseFormatError, match="cannot read"):
        Case.load(tmp_path / "missing.json")
    with pytest.raises(CaseFormatError, match="no such file"):
        Replay(tmp_path / "empty-dir-that-does-not-exist")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CaseFormatError, match="no case"):
        Replay(tmp_path / "empty")


def test_recorder_writes_valid_cases_and_replays_them(tmp_path: Path) -> None:
    script = Script(
        [Turn(text="recorded answer", input_tokens=9, output_tokens=2)], repeat_last=True
    )
    with FakeLLMServer(
        models={"up": script}, api_key="sk-upstream-key-000000000000"
    ).run_in_thread() as upstream:
        recorder = Recorder(upstream.url, tmp_path, provider="fake")
        with FakeLLMServer(recorder=recorder).run_in_thread() as proxy:
            headers = {"authorization": "Bearer sk-upstream-key-000000000000"}
            body = {"model": "up", "messages": [{"role": "user", "content": "hi"}]}
            plain = httpx.post(proxy.base_url + "/chat/completions", json=body, headers=headers)
            streamed = httpx.post(
                proxy.base_url + "/chat/completions",
                json={**body, "stream": True, "stream_options": {"include_usage": True}},
                headers=headers,
            )
            denied = httpx.post(proxy.base_url + "/chat/completions", json=body)
        # the upstream saw the key, the recorder's log did not keep it
        assert upstream.requests[0].headers["authorization"] == "[redacted]"
    assert plain.json()["choices"][0]["message"]["content"] == "recorded answer"
    assert streamed.text.endswith("data: [DONE]\n\n")
    assert denied.status_code == 401
    assert len(recorder.recorded) == 3
    for path in recorder.recorded:
        text = path.read_text()
        assert "sk-upstream" not in text
        assert path.parent.name == "openai-chat" and path.name.startswith("fake-")
    cases = [Case.load(p) for p in recorder.recorded]
    assert cases[0].expect == {
        "text": "recorded answer",
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": {"input_tokens": 9, "output_tokens": 2},
    }
    assert cases[1].stream and cases[1].expect["text"] == "recorded answer"
    assert cases[2].response.status == 401 and cases[2].expect["error"]["code"] == "invalid_api_key"
    assert cases[0].endpoint == f"POST {recorder.upstream}/v1/chat/completions"
    # what the client received is exactly what the case replays
    with FakeLLMServer(cases=tmp_path).run_in_thread() as replayer:
        again = httpx.post(
            replayer.base_url + "/chat/completions",
            json={},
            headers={"x-atoll-replay": recorder.recorded[1].stem},
        )
    assert again.content == streamed.content


def test_recorded_cases_pass_the_corpus_checker(
    corpus_dir: Path, corpus_server: FakeLLMServer, tmp_path: Path
) -> None:
    """Re-record every corpus case through the recorder: expect blocks must come out the same."""
    recorder = Recorder(corpus_server.url, tmp_path, provider="rec")
    originals: list[dict[str, Any]] = []
    with (
        FakeLLMServer(recorder=recorder).run_in_thread() as proxy,
        httpx.Client(base_url=proxy.url) as client,
    ):
        for path in _case_files(corpus_dir):
            case = json.loads(path.read_text())
            if case["dialect"] not in PATHS:
                continue
            originals.append(case)
            client.post(
                PATHS[case["dialect"]],
                json=case["request"] or {},
                headers={"x-atoll-replay": path.stem},
            )
    assert len(recorder.recorded) == len(originals)
    mismatched = []
    for original, path in zip(originals, recorder.recorded, strict=True):
        recorded = json.loads(path.read_text())
        assert recorded["response"]["body"] == original["response"]["body"]
        if recorded["expect"] != original["expect"]:
            mismatched.append((original["exercises"], recorded["expect"], original["expect"]))
    assert mismatched == []
    checker = corpus_dir / "check_corpus.py"
    done = subprocess.run(
        [sys.executable, str(checker), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_recorder_passes_streams_through_as_they_come(tmp_path: Path) -> None:
    slow = Script([Turn(text="a b c d e f", fault="chunk-delay=0.05")])
    with FakeLLMServer(models={"slow": slow}).run_in_thread() as upstream:
        recorder = Recorder(upstream.url, tmp_path, provider="fake")
        with FakeLLMServer(recorder=recorder).run_in_thread() as proxy, httpx.Client() as client:
            body = {"model": "slow", "messages": [], "stream": True}
            arrivals: list[float] = []
            got = b""
            start = time.perf_counter()
            with client.stream("POST", proxy.base_url + "/chat/completions", json=body) as resp:
                for part in resp.iter_raw():
                    arrivals.append(time.perf_counter() - start)
                    got += part
    assert len(arrivals) >= 3
    assert arrivals[-1] - arrivals[0] >= 0.2  # spread out, not delivered at once at the end
    (path,) = recorder.recorded
    case = Case.load(path)
    assert case.response.body.encode() == got
    assert case.expect["text"] == "a b c d e f"


def test_recorder_unreachable_upstream_is_502(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]  # bound, never listening: connections are refused
        recorder = Recorder(f"http://127.0.0.1:{dead}", tmp_path)
        with FakeLLMServer(recorder=recorder).run_in_thread() as proxy:
            resp = httpx.post(proxy.base_url + "/chat/completions", json={})
    assert resp.status_code == 502
    assert "unreachable" in resp.json()["error"]["message"]
    assert recorder.recorded == []


def test_recorder_keeps_upstream_credentials_out_of_messages(tmp_path: Path) -> None:
    recorder = Recorder("http://user:sk-secret-123@127.0.0.1:9", tmp_path)
    assert "sk-secret-123" not in repr(recorder)
    with FakeLLMServer(recorder=recorder).run_in_thread() as proxy:
        resp = httpx.post(proxy.base_url + "/chat/completions", json={})
    assert resp.status_code == 502
    assert "unreachable" in resp.text and "sk-secret-123" not in resp.text
