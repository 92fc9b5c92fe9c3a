"""The server's own routes: health and fault injection over HTTP, for servers in other processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from atoll_testing import FakeLLMServer, Recorder, registered_server_dialects

CHAT = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}
KEY = {"authorization": "Bearer k"}


@pytest.fixture(scope="module")
def locked() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(api_key="k").run_in_thread() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(locked: FakeLLMServer) -> None:
    locked.clear()


def test_health_needs_no_key_and_is_not_logged(locked: FakeLLMServer) -> None:
    resp = httpx.get(locked.url + "/_atoll/health", headers={"x-atoll-fault": "503"})
    assert resp.status_code == 200  # no key, and no fault applies to it
    spoken = [d.name for d in registered_server_dialects()]
    assert spoken[:2] == ["openai", "anthropic"]
    assert resp.json() == {"status": "ok", "dialects": spoken}
    assert locked.requests == [] and locked.counts == {}


def test_faults_injected_over_http(locked: FakeLLMServer) -> None:
    with httpx.Client(base_url=locked.url) as client:
        injected = client.post("/_atoll/faults", json={"fault": "status=503", "times": 2})
        statuses = [
            client.post("/v1/chat/completions", json=CHAT, headers=KEY).status_code
            for _ in range(3)
        ]
    assert injected.json() == {"injected": 2}
    assert statuses == [503, 503, 200]
    assert [r.path for r in locked.requests] == ["/v1/chat/completions"] * 3


def test_injected_faults_can_be_cleared(locked: FakeLLMServer) -> None:
    with httpx.Client(base_url=locked.url) as client:
        client.post("/_atoll/faults", json={"fault": "429", "times": 5})
        cleared = client.delete("/_atoll/faults")
        again = client.delete("/_atoll/faults")
        chat = client.post("/v1/chat/completions", json=CHAT, headers=KEY)
    assert (cleared.json(), again.json()) == ({"cleared": 5}, {"cleared": 0})
    assert chat.status_code == 200


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"fault": "status=42"}, "between 100 and 599"),
        ({"fault": "bogus=1"}, "unknown fault"),
        ({"fault": "503", "times": 0}, "at least 1"),
        ({"fault": "503", "tmes": 2}, "tmes"),
        ({"times": 2}, "fault"),
    ],
)
def test_bad_injections_are_400(locked: FakeLLMServer, body: dict[str, object], says: str) -> None:
    resp = httpx.post(locked.url + "/_atoll/faults", json=body)
    assert resp.status_code == 400
    assert says in resp.json()["error"]["message"]
    assert httpx.post(locked.base_url + "/chat/completions", json=CHAT, headers=KEY).is_success


def test_a_recording_server_answers_health_itself(tmp_path: Path) -> None:
    recorder = Recorder("http://127.0.0.1:9", tmp_path)  # nothing listens there
    with FakeLLMServer(recorder=recorder).run_in_thread() as proxy:
        resp = httpx.get(proxy.url + "/_atoll/health")
    assert resp.json()["status"] == "ok"
    assert recorder.recorded == []


def test_inject_into_a_served_process() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "atoll_testing", "serve", "--port", "0", "--api-key", "k"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().split("serving on ")[1].split()[0]
        url = base.removesuffix("/v1")
        assert httpx.get(url + "/_atoll/health").json()["status"] == "ok"
        httpx.post(url + "/_atoll/faults", json={"fault": "status=429; retry-after=3"})
        limited = httpx.post(base + "/chat/completions", json=CHAT, headers=KEY)
        fine = httpx.post(base + "/chat/completions", json=CHAT, headers=KEY)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    assert fine.json()["choices"][0]["message"]["content"] == "hi"
    assert proc.returncode == 0
