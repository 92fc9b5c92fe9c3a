"""Typed usage of the public API: pyright checks this file; pytest runs it."""

from __future__ import annotations

from pathlib import Path

from atoll_local import (
    HermesToolParser,
    LoadReport,
    LocalError,
    LocalModel,
    LocalTransport,
    ModelClosedError,
    ModelLoadError,
    ModelStats,
    ParsedToolCall,
    SyncLocalTransport,
    ToolCallParser,
)


class BracketParser(ToolCallParser):
    """A made-up format: ``[[name {json}]]``."""

    def __init__(self) -> None:
        self._text = ""

    def feed(self, text: str) -> list[str | ParsedToolCall]:
        self._text += text
        return []

    def finish(self) -> list[str | ParsedToolCall]:
        name, _, arguments = self._text.strip("[]").partition(" ")
        return [ParsedToolCall(name=name, arguments=arguments)]


def test_typed_usage(chat_gguf: Path) -> None:
    model = LocalModel(chat_gguf, 256, tool_parser=BracketParser, options={"n_batch": 64})
    report: LoadReport = model.load()
    stats: ModelStats = model.stats
    transport = LocalTransport({"tiny": model})
    sync = SyncLocalTransport({"tiny": model}, own_models=False)
    parser: ToolCallParser = HermesToolParser()
    items = parser.feed('<tool_call>{"name": "f", "arguments": {}}</tool_call>')
    errors: tuple[type[LocalError], ...] = (ModelLoadError, ModelClosedError)
    assert report.n_ctx == 256 and stats.requests == 0 and items == [ParsedToolCall("f", "{}")]
    assert BracketParser().finish() == [ParsedToolCall("", "")]
    assert dict(transport.models) == {"tiny": model} == dict(sync.models)
    assert all(issubclass(e, LocalError) for e in errors)
    model.close()
