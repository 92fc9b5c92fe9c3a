"""Typed usage of the Gemini, Vertex and Azure surface, as a user writes it (pyright and pytest)."""

from __future__ import annotations

from atoll_dialects import (
    AzureEntraAuth,
    ContentFilterError,
    GeminiDialect,
    GeminiQuirks,
    SyncClient,
    Target,
    Token,
)
from atoll_testing import (
    AzureOpenAIServer,
    FakeLLMServer,
    GeminiServer,
    GoogleTokenServer,
    Script,
    ServerDialect,
    Turn,
    VertexServer,
    registered_server_dialects,
)
from atoll_wire import ChatRequest, Message, ToolCallPart
from atoll_wire import gemini as wire


def signed_calls(reply_parts: list[ToolCallPart]) -> list[str]:
    return [p.signature for p in reply_parts if p.signature is not None]


def request_body(prompt: str) -> wire.GenerateContentRequest:
    dialect = GeminiDialect()
    target = Target.of(dialect="gemini", name="gemini-2.5-flash")
    http = dialect.build(
        ChatRequest(model="gemini-2.5-flash", messages=[Message.user(prompt)]), target
    )
    return wire.decode_request(http.body)


def test_typed_gemini_usage() -> None:
    body = request_body("hi")
    assert body.contents[0].parts[0].text == "hi"
    assert GeminiQuirks().vertex is False and GeminiQuirks().unsigned_call_signature is None
    token_server = GoogleTokenServer()
    dialects: list[ServerDialect] = [
        *registered_server_dialects(),
        GeminiServer(),
        VertexServer(tokens=token_server),
        token_server,
        AzureOpenAIServer(),
    ]
    with FakeLLMServer(
        dialects=dialects, models={"m": Script([Turn(text="ok")])}
    ).run_in_thread() as srv:
        with SyncClient("gemini/m", base_url=srv.url + "/v1beta", api_key="k") as client:
            with client.stream("hi") as stream:
                texts = [getattr(e, "text", "") for e in stream]
            assert "".join(texts) == "ok" and stream.response.text == "ok"
    entra = AzureEntraAuth(lambda: Token("t", expires_at=None))
    assert dict(entra.headers()) == {"Authorization": "Bearer t"}
    error = ContentFilterError("blocked", code="SAFETY")
    assert error.reason == "SAFETY" and signed_calls(
        [ToolCallPart(id="a", name="f", signature="s")]
    ) == ["s"]
