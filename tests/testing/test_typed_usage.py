"""Typed usage of the public API: pyright checks this file; pytest runs it."""

from __future__ import annotations

from pathlib import Path

import httpx
from atoll_testing import (
    ChatInput,
    FakeLLMServer,
    Fault,
    RecordedRequest,
    Rule,
    Script,
    ToolCall,
    ToolResult,
    Turn,
)


def answer(request: ChatInput) -> Turn:
    results: tuple[ToolResult, ...] = request.tool_results
    if results:
        return Turn(text=f"got {results[0].content}")
    return Turn(tool_calls=[ToolCall(name="lookup", arguments={"q": request.last_user_text})])


def test_typed_usage(tmp_path: Path) -> None:
    script = Script(["hi"], rules=[Rule(Turn(text="ok"), user_contains="ok")])
    fault: Fault = Fault.parse("status=503")
    server = FakeLLMServer(models={"fn": answer, "script": script}, embedding_dimensions=4)
    with server.run_in_thread() as srv:
        srv.inject(fault)
        failed = httpx.post(
            srv.base_url + "/chat/completions", json={"model": "fn", "messages": []}
        )
        body = {"model": "fn", "messages": [{"role": "user", "content": "x"}]}
        ok = httpx.post(srv.base_url + "/chat/completions", json=body)
        log: list[RecordedRequest] = srv.requests
        counts: dict[str, int] = srv.counts
    assert failed.status_code == 503
    assert (
        ok.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == '{"q":"x"}'
    )
    assert [r.path for r in log] == ["/v1/chat/completions"] * 2
    assert counts == {"fn": 2}
