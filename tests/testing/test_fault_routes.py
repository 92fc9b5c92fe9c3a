"""Every fault kind reaches the client the same way by header, by script turn and by ``inject``.

``test_faults.py`` checks each fault's exact shape through the header; here one table of
faults runs through all three routes in both dialects, so a fault that only works by header
(or only from a script) fails here.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from atoll_testing import FakeLLMServer, Script, Turn

CHUNKS = [f"tok{i} " for i in range(5)]
ROUTES = ["header", "script", "inject"]
DIALECTS = ["openai", "anthropic"]


@dataclass
class Outcome:
    """What the client saw: status and headers (None when no response came), body, error."""

    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    error: Exception | None = None
    reads: int = 0
    elapsed: float = 0.0

    @property
    def events(self) -> list[tuple[str, str]]:
        text = self.body.decode()
        if not text.endswith("\n\n"):  # a cut stream: keep the complete events
            text = text[: text.rfind("\n\n") + 2]
        events: list[tuple[str, str]] = []
        for block in text.split("\n\n")[:-1]:
            name, data = "message", []
            for line in block.split("\n"):
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
            if data:
                events.append((name, "\n".join(data)))
        return events

    def json(self) -> dict[str, object]:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def srv() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().run_in_thread() as server:
        yield server


def _request(srv: FakeLLMServer, dialect: str, route: str, fault: str, stream: bool) -> Outcome:
    model = "stream-5"
    headers: dict[str, str] = {}
    if route == "header":
        headers["x-atoll-fault"] = fault
    elif route == "inject":
        srv.inject(fault)
    else:
        model = f"scripted-{time.monotonic_ns()}"
        turn = Turn(text="".join(CHUNKS), chunks=CHUNKS, output_tokens=5, fault=fault)
        srv.models[model] = Script([turn])
    body: dict[str, object] = {
        "model": model,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": stream,
    }
    path = "/v1/chat/completions"
    if dialect == "anthropic":
        path, body["max_tokens"] = "/v1/messages", 10
    out = Outcome()
    start = time.perf_counter()
    with httpx.Client() as client:
        try:
            with client.stream("POST", srv.url + path, json=body, headers=headers) as resp:
                out.status, out.headers = resp.status_code, resp.headers
                for part in resp.iter_raw():
                    out.body += part
                    out.reads += 1
        except httpx.HTTPError as exc:
            out.error = exc
    out.elapsed = time.perf_counter() - start
    srv.clear()  # an unused injected fault must not leak into the next test
    return out


def _error_type(out: Outcome, dialect: str) -> str:
    error = out.json()["error"]
    assert isinstance(error, dict)
    return str(error["type"])  # pyright: ignore[reportUnknownArgumentType]


def _check_retry_after(out: Outcome, dialect: str) -> None:
    assert out.status == 429 and out.headers["retry-after"] == "2"
    assert _error_type(out, dialect) in ("rate_limit_error", "requests")


def _check_retry_after_date(out: Outcome, dialect: str) -> None:
    assert out.status == 429
    when = email.utils.parsedate_to_datetime(out.headers["retry-after"]).timestamp()
    assert when > time.time() + 10


def _check_retry_after_ms(out: Outcome, dialect: str) -> None:
    assert out.status == 429 and out.headers["retry-after-ms"] == "1500"


def _status_check(status: int, anthropic_type: str) -> Callable[[Outcome, str], None]:
    def check(out: Outcome, dialect: str) -> None:
        assert out.status == status
        expected = anthropic_type if dialect == "anthropic" else "server_error"
        assert _error_type(out, dialect) == expected

    return check


def _check_delay(out: Outcome, dialect: str) -> None:
    assert out.status == 200 and out.error is None
    assert out.elapsed >= 0.05  # a lower bound: sleeping never takes less


def _check_chunk_delay(out: Outcome, dialect: str) -> None:
    assert out.status == 200 and out.error is None
    assert out.reads >= 5  # paced: events arrive in separate reads, not in one write
    assert out.elapsed >= 0.01 * (len(out.events) - 1)


def _check_disconnect_bytes(out: Outcome, dialect: str) -> None:
    assert isinstance(out.error, httpx.RemoteProtocolError)
    assert len(out.body) == 100


def _check_disconnect_events(out: Outcome, dialect: str) -> None:
    assert isinstance(out.error, httpx.RemoteProtocolError)
    assert len(out.events) == 3 and out.body.endswith(b"\n\n")


def _check_malformed(out: Outcome, dialect: str) -> None:
    datas = [d for _, d in out.events if d != "[DONE]"]
    bad = []
    for index, data in enumerate(datas):
        try:
            json.loads(data)
        except json.JSONDecodeError:
            bad.append(index)
    assert bad == [2]


def _terminal(dialect: str) -> bytes:
    return b"data: [DONE]\n\n" if dialect == "openai" else b'data: {"type":"message_stop"}\n\n'


def _check_no_done(out: Outcome, dialect: str) -> None:
    assert out.status == 200 and out.error is None
    assert len(out.events) > 3
    assert _terminal(dialect) not in out.body


def _check_error_event(out: Outcome, dialect: str) -> None:
    events = out.events
    assert len(events) == 3 and out.error is None
    name, data = events[-1]
    if dialect == "anthropic":
        assert name == "error" and json.loads(data)["error"]["type"] == "overloaded_error"
    else:
        assert json.loads(data)["error"]["type"] == "server_error"


def _check_ratelimit(out: Outcome, dialect: str) -> None:
    assert out.status == 200
    if dialect == "anthropic":
        assert out.headers["anthropic-ratelimit-tokens-remaining"] == "7"
    else:
        assert out.headers["x-ratelimit-remaining-tokens"] == "7"
    assert out.headers["x-should-retry"] == "false"
    assert out.headers["x-extra"] == "yes"


def _check_close(out: Outcome, dialect: str) -> None:
    assert out.status == 200 and out.headers["connection"] == "close"
    assert out.body.endswith(_terminal(dialect))


def _check_drop(out: Outcome, dialect: str) -> None:
    assert out.status is None
    assert isinstance(out.error, httpx.RemoteProtocolError)


FAULTS: dict[str, tuple[str, Callable[[Outcome, str], None]]] = {
    "429-retry-after": ("status=429; retry-after=2", _check_retry_after),
    "429-retry-after-date": ("429; retry-after-date=30", _check_retry_after_date),
    "429-retry-after-ms": ("429; retry-after-ms=1500", _check_retry_after_ms),
    "500": ("500", _status_check(500, "api_error")),
    "502": ("502", _status_check(502, "api_error")),
    "503": ("503", _status_check(503, "api_error")),
    "529": ("529", _status_check(529, "overloaded_error")),
    "delay": ("delay=0.05", _check_delay),
    "chunk-delay": ("chunk-delay=0.01", _check_chunk_delay),
    "disconnect-bytes": ("disconnect-bytes=100", _check_disconnect_bytes),
    "disconnect-events": ("disconnect-events=3", _check_disconnect_events),
    "malformed": ("malformed=2", _check_malformed),
    "no-done": ("no-done", _check_no_done),
    "error-event": ("error-event=2", _check_error_event),
    "ratelimit-headers": (
        "rl.tokens.remaining=7; should-retry=false; header.x-extra=yes",
        _check_ratelimit,
    ),
    "close": ("close", _check_close),
    "drop": ("drop", _check_drop),
}


@pytest.mark.parametrize("kind", list(FAULTS))
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_fault_by_every_route(srv: FakeLLMServer, dialect: str, route: str, kind: str) -> None:
    spec, check = FAULTS[kind]
    check(_request(srv, dialect, route, spec, stream=True), dialect)


@pytest.mark.parametrize("route", ROUTES)
def test_server_keeps_serving_after_each_fault(srv: FakeLLMServer, route: str) -> None:
    for spec, _ in FAULTS.values():
        _request(srv, "openai", route, spec, stream=True)
    clean = _request(srv, "openai", "header", "", stream=False)
    assert clean.status == 200
    assert clean.json()["choices"] == [  # the stream-5 answer, untouched by earlier faults
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "".join(CHUNKS),
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]


def test_header_wins_over_script_turn_fault(srv: FakeLLMServer) -> None:
    srv.models["both"] = Script([Turn(text="x", fault="503")])
    resp = httpx.post(
        srv.base_url + "/chat/completions",
        json={"model": "both", "messages": []},
        headers={"x-atoll-fault": "429"},
    )
    assert resp.status_code == 429
