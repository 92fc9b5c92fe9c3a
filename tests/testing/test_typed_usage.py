"""Typed usage of the public API: pyright checks this file; pytest runs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
import msgspec
from atoll_testing import (
    ChatInput,
    Exchange,
    FakeLLMServer,
    Fault,
    OpenAIChatServer,
    RecordedRequest,
    Reply,
    RequestError,
    Route,
    Rule,
    Script,
    ServerDialect,
    ToolCall,
    ToolResult,
    Turn,
    registered_server_dialects,
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


class AzureLike(OpenAIChatServer):
    """A built-in dialect reused for another deployment shape: new route, key header, model."""

    name = "azure-like"

    def routes(self) -> Sequence[Route]:
        pattern = "/openai/deployments/{deployment}/chat/completions"
        return (Route("POST", pattern, self.serve_chat, chat=True),)

    def credential(self, headers: Mapping[str, str]) -> str | None:
        return headers.get("api-key")

    def parse_chat(self, exchange: Exchange) -> ChatInput:
        if "api-version" not in exchange.query_params:
            raise RequestError(404, "Resource not found")
        chat = super().parse_chat(exchange)
        return msgspec.structs.replace(chat, dialect=self.name, model=exchange.params["deployment"])


def test_typed_dialect_usage() -> None:
    dialects: list[ServerDialect] = [*registered_server_dialects(), AzureLike()]
    with FakeLLMServer(dialects=dialects, api_key="az").run_in_thread() as srv:
        url = srv.url + "/openai/deployments/echo/chat/completions"
        body = {"messages": [{"role": "user", "content": "hi azure"}], "model": "ignored"}
        ok = httpx.post(url + "?api-version=2024-10-21", json=body, headers={"api-key": "az"})
        versionless = httpx.post(url, json=body, headers={"api-key": "az"})
        bearer = httpx.post(
            url + "?api-version=1", json=body, headers={"authorization": "Bearer az"}
        )
        plain = httpx.post(
            srv.base_url + "/chat/completions", json=body, headers={"authorization": "Bearer az"}
        )
        reply: Reply = AzureLike().error(400, "x")
    assert ok.json()["choices"][0]["message"]["content"] == "hi azure"
    assert ok.json()["model"] == "echo"
    assert versionless.status_code == 404 and bearer.status_code == 401
    assert plain.status_code == 404  # plain OpenAI asked for model "ignored": not a model here
    assert reply.status == 400
