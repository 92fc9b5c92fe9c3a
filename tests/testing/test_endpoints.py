"""Embeddings, model lists, auth, and the command line."""

from __future__ import annotations

import base64
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from atoll_testing import AnthropicMessagesServer, FakeLLMServer, OpenAIChatServer


def test_embeddings_are_deterministic_unit_vectors(server: FakeLLMServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        one = client.post("/embeddings", json={"model": "emb", "input": ["a cat", "a dog"]}).json()
        two = client.post(
            "/embeddings", json={"model": "emb", "input": "a cat", "dimensions": 5}
        ).json()
        again = client.post("/embeddings", json={"model": "emb", "input": ["a cat"]}).json()
    assert one["object"] == "list" and one["model"] == "emb"
    vectors = [d["embedding"] for d in one["data"]]
    assert [d["index"] for d in one["data"]] == [0, 1]
    assert len(vectors[0]) == 8 and vectors[0] != vectors[1]
    assert math.isclose(sum(v * v for v in vectors[0]), 1.0, rel_tol=1e-5)
    assert again["data"][0]["embedding"] == vectors[0]
    assert len(two["data"][0]["embedding"]) == 5
    assert one["usage"] == {"prompt_tokens": 4, "total_tokens": 4}


def test_embeddings_base64(server: FakeLLMServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        floats = client.post("/embeddings", json={"model": "e", "input": "x"}).json()
        b64 = client.post(
            "/embeddings", json={"model": "e", "input": "x", "encoding_format": "base64"}
        ).json()
        bad = client.post(
            "/embeddings", json={"model": "e", "input": "x", "encoding_format": "hex"}
        )
    raw = base64.b64decode(b64["data"][0]["embedding"])
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert [round(v, 5) for v in decoded] == [round(v, 5) for v in floats["data"][0]["embedding"]]
    assert bad.status_code == 400


def test_models_in_both_shapes() -> None:
    with FakeLLMServer(models={"mine": lambda r: None}).run_in_thread() as srv:  # type: ignore[arg-type,return-value]
        with httpx.Client(base_url=srv.base_url) as client:
            oa = client.get("/models").json()
            an = client.get("/models", headers={"anthropic-version": "2023-06-01"}).json()
            one = client.get("/models/mine").json()
            missing = client.get("/models/nope")
    assert oa["object"] == "list"
    assert {m["id"] for m in oa["data"]} >= {"echo", "mine"}
    assert all(m["object"] == "model" for m in oa["data"])
    assert an["has_more"] is False and all(m["type"] == "model" for m in an["data"])
    assert one["id"] == "mine"
    assert missing.status_code == 404


def test_unknown_route_is_404(server: FakeLLMServer) -> None:
    resp = httpx.get(server.url + "/v2/whatever")
    assert resp.status_code == 404
    assert "no route" in resp.json()["error"]["message"]


@pytest.fixture(scope="module")
def locked() -> Iterator[FakeLLMServer]:
    srv = FakeLLMServer(api_key="sk-right")
    srv.start()
    yield srv
    srv.stop()


CHAT = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}
MSG = {**CHAT, "max_tokens": 5}


@pytest.mark.parametrize(
    ("headers", "openai", "anthropic"),
    [
        ({"authorization": "Bearer sk-right"}, 200, 401),
        ({"x-api-key": "sk-right"}, 401, 200),
        ({"authorization": "Bearer sk-right", "x-api-key": "sk-right"}, 200, 200),
        ({"authorization": "Bearer sk-wrong"}, 401, 401),
        ({"x-api-key": "sk-wrong"}, 401, 401),
        ({"authorization": "sk-right"}, 401, 401),
        ({}, 401, 401),
    ],
)
def test_each_dialect_reads_only_its_own_auth_header(
    locked: FakeLLMServer, headers: dict[str, str], openai: int, anthropic: int
) -> None:
    oa = httpx.post(locked.base_url + "/chat/completions", json=CHAT, headers=headers)
    an = httpx.post(locked.url + "/v1/messages", json=MSG, headers=headers)
    assert (oa.status_code, an.status_code) == (openai, anthropic)
    if openai == 401:
        assert oa.json()["error"]["code"] == "invalid_api_key"
    if anthropic == 401:
        assert an.json()["error"]["type"] == "authentication_error"
    assert "sk-wrong" not in oa.text + an.text
    assert "sk-right" not in repr(locked)


def test_anthropic_401_names_the_header_it_wants(locked: FakeLLMServer) -> None:
    bearer = {"authorization": "Bearer sk-right"}
    missing = httpx.post(locked.url + "/v1/messages", json=MSG, headers=bearer).json()
    wrong = httpx.post(locked.url + "/v1/messages", json=MSG, headers={"x-api-key": "x"}).json()
    assert missing["error"]["message"] == "x-api-key header is required"
    assert wrong["error"]["message"] == "invalid x-api-key"


def test_models_endpoints_follow_their_dialect_auth(locked: FakeLLMServer) -> None:
    anthropic = {"anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=locked.base_url) as client:
        oa_ok = client.get("/models", headers={"authorization": "Bearer sk-right"})
        oa_bad = client.get("/models", headers={"x-api-key": "sk-right"})
        an_ok = client.get("/models", headers={**anthropic, "x-api-key": "sk-right"})
        an_bad = client.get("/models", headers={**anthropic, "authorization": "Bearer sk-right"})
    assert (oa_ok.status_code, oa_bad.status_code) == (200, 401)
    assert (an_ok.status_code, an_bad.status_code) == (200, 401)
    assert an_ok.json()["has_more"] is False
    assert an_bad.json()["type"] == "error"


def test_anthropic_can_accept_a_bearer_key_when_asked() -> None:
    dialects = [OpenAIChatServer(), AnthropicMessagesServer(bearer=True)]
    with FakeLLMServer(api_key="k", dialects=dialects).run_in_thread() as srv:
        bearer = httpx.post(
            srv.url + "/v1/messages", json=MSG, headers={"authorization": "Bearer k"}
        )
        x_key = httpx.post(srv.url + "/v1/messages", json=MSG, headers={"x-api-key": "k"})
        # OpenAI's side is unchanged: x-api-key still does not count there.
        oa = httpx.post(srv.base_url + "/chat/completions", json=CHAT, headers={"x-api-key": "k"})
    assert (bearer.status_code, x_key.status_code, oa.status_code) == (200, 200, 401)


def test_unrouted_requests_accept_any_dialects_key(locked: FakeLLMServer) -> None:
    # No route, so no dialect to ask: the 404 comes after either dialect's key.
    for headers in ({"authorization": "Bearer sk-right"}, {"x-api-key": "sk-right"}):
        assert httpx.get(locked.url + "/v2/whatever", headers=headers).status_code == 404
    assert httpx.get(locked.url + "/v2/whatever").status_code == 401


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "atoll_testing", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stop(proc: subprocess.Popen[str], how: signal.Signals) -> tuple[int, str]:
    """Send ``how``, wait, and return the exit status and stderr."""
    proc.send_signal(how)
    try:
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    return proc.returncode, err


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_serve_on_the_given_port(tmp_path: Path, how: signal.Signals) -> None:
    script = tmp_path / "s.json"
    script.write_text('{"turns": [{"text": "from the file"}]}')
    port = _free_port()
    proc = _serve("--port", str(port), "--api-key", "k", "--script", f"scripted={script}")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base = f"http://127.0.0.1:{port}/v1"
        assert line == f"atoll_testing serving on {base} (Ctrl+C to stop)\n"
        auth = {"authorization": "Bearer k"}
        resp = httpx.post(base + "/chat/completions", json=CHAT, headers=auth)
        assert resp.json()["choices"][0]["message"]["content"] == "hi"
        scripted = httpx.post(
            base + "/chat/completions", json={**CHAT, "model": "scripted"}, headers=auth
        )
        assert scripted.json()["choices"][0]["message"]["content"] == "from the file"
        assert httpx.post(base + "/chat/completions", json=CHAT).status_code == 401
    finally:
        status, err = _stop(proc, how)
    assert status == 0, err  # a clean stop, not death by signal
    assert "Traceback" not in err
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models")


def test_cli_serves_cases_and_records(corpus_dir: Path, tmp_path: Path) -> None:
    case = corpus_dir / "openai-chat" / "openai-stream-parallel-tool-calls.json"
    recorded = tmp_path / "recorded"
    upstream = _serve("--port", "0", "--cases", str(case))
    try:
        assert upstream.stdout is not None
        upstream_url = upstream.stdout.readline().split("serving on ")[1].split()[0]
        recorder = _serve(
            "--port",
            "0",
            "--record-upstream",
            upstream_url.removesuffix("/v1"),
            "--record-dir",
            str(recorded),
            "--provider",
            "cli",
        )
        try:
            assert recorder.stdout is not None
            proxy_url = recorder.stdout.readline().split("serving on ")[1].split()[0]
            body = {"model": case.stem, "messages": [{"role": "user", "content": "hi"}]}
            resp = httpx.post(proxy_url + "/chat/completions", json=body)
        finally:
            assert _stop(recorder, signal.SIGTERM)[0] == 0
    finally:
        assert _stop(upstream, signal.SIGTERM)[0] == 0
    original = json.loads(case.read_text())["response"]["body"]
    assert resp.text == original
    (written,) = (recorded / "openai-chat").iterdir()
    assert written.name.startswith("cli-")
    assert json.loads(written.read_text())["response"]["body"] == original


def test_cli_port_in_use_is_an_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "atoll_testing", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and f"port={port}" in done.stderr


def test_cli_rejects_bad_script_arg() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "atoll_testing", "serve", "--port", "0", "--script", "nofile"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "MODEL=FILE" in done.stderr
