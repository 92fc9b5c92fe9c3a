"""Conformance against recorded provider traffic (../shared/corpus): real schemas, real calls.

- Every tool a recorded request declared (OpenAI-compatible, Anthropic, Cohere) becomes a
  ``Tool.from_schema``; every tool call the model really made validates against it and runs.
- Every streamed argument text, cut at every fragment boundary and at every character, parses
  with ``parse_partial_json``; the whole text gives what ``json.loads`` gives.
- A recorded structured-output request's schema parses its recorded reply through OutputSpec.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from atoll_tools import (
    OutputSpec,
    Tool,
    ToolDefinitionError,
    ToolSet,
    parse_partial_json,
    strict_schema,
)
from atoll_tools._fastcheck import compile_check
from atoll_wire import SSEDecoder, TextPart, ToolCallPart

DIALECTS = ("openai-chat", "anthropic-messages", "cohere-v2")


def cases(corpus: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for dialect in DIALECTS:
        for path in sorted((corpus / dialect).glob("*.json")):
            yield path.stem, json.loads(path.read_text())


def declared_tools(case: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for entry in (case.get("request") or {}).get("tools") or []:
        if "function" in entry:  # OpenAI-compatible and Cohere v2
            function = entry["function"]
            found.append((function["name"], function.get("parameters") or {"type": "object"}))
        elif "input_schema" in entry:  # Anthropic custom tools (server tools have none)
            found.append((entry["name"], entry["input_schema"]))
    return found


def echo(**arguments: Any) -> dict[str, Any]:
    return arguments


def test_recorded_calls_validate_against_recorded_schemas(corpus_dir: Path) -> None:
    checked = 0
    for stem, case in cases(corpus_dir):
        tools = declared_tools(case)
        if not tools:
            continue
        toolset = ToolSet([Tool.from_schema(name, schema, echo) for name, schema in tools])
        for name, schema in tools:
            # the strict form either exists or is refused with the typed error
            try:
                strict_schema(schema, name=name)
            except ToolDefinitionError:
                pass
        for index, expected in enumerate(case["expect"].get("tool_calls") or []):
            arguments = expected["arguments"]
            if not isinstance(arguments, dict) or expected["name"] not in toolset:
                continue
            schema = dict(tools)[expected["name"]]
            check = compile_check(schema)
            assert check is None or check(arguments), (stem, arguments)
            call = ToolCallPart(
                id=f"c{index}", name=expected["name"], raw_arguments=json.dumps(arguments)
            )
            result = anyio.run(toolset.execute, call)
            assert not result.is_error, (stem, result)
            part = result.content[0]
            assert isinstance(part, TextPart) and json.loads(part.text) == arguments
            checked += 1
    assert checked >= 15


def argument_fragments(case: dict[str, Any]) -> dict[int, list[str]]:
    """The argument text fragments of each streamed tool call, as the provider sent them."""
    fragments: dict[int, list[str]] = {}
    decoder = SSEDecoder()
    events = decoder.feed(case["response"]["body"].encode())
    events += decoder.flush()
    for event in events:
        if not event.data.startswith("{"):
            continue
        data = json.loads(event.data)
        if case["dialect"] == "anthropic-messages":
            delta = data.get("delta") or {}
            if (
                data.get("type") == "content_block_delta"
                and delta.get("type") == "input_json_delta"
            ):
                fragments.setdefault(data["index"], []).append(delta["partial_json"])
            continue
        for choice in data.get("choices") or []:
            for call in (choice.get("delta") or {}).get("tool_calls") or []:
                text = (call.get("function") or {}).get("arguments")
                if text:
                    fragments.setdefault(call.get("index", 0), []).append(text)
    return fragments


def test_streamed_arguments_parse_at_every_prefix(corpus_dir: Path) -> None:
    streams = 0
    for stem, case in cases(corpus_dir):
        if not case["stream"] or case["dialect"] == "cohere-v2":
            continue
        for fragments in argument_fragments(case).values():
            text = "".join(fragments)
            if not text:  # Anthropic sends only "" fragments for an empty input
                assert parse_partial_json(text) is None
                continue
            boundaries = [len("".join(fragments[:n])) for n in range(len(fragments) + 1)]
            for end in sorted(set(boundaries) | set(range(len(text)))):
                parse_partial_json(text[:end])  # a prefix of what the model sent: never raises
            try:
                complete = json.loads(text)
            except ValueError:
                assert "truncated" in stem, stem  # the one recorded cut-off stream
                continue
            assert parse_partial_json(text) == complete, stem
            streams += 1
    assert streams >= 5


def test_recorded_structured_output_parses(corpus_dir: Path) -> None:
    case = json.loads(
        (corpus_dir / "openai-chat" / "openai-structured-output-json-schema.json").read_text()
    )
    response_format = case["request"]["response_format"]["json_schema"]
    for strict in (False, True):
        spec = OutputSpec.of(response_format["schema"], name=response_format["name"], strict=strict)
        assert spec.parse(case["expect"]["text"]) == {"city": "Mexico City", "country": "Mexico"}
        assert spec.output_schema().name == "result"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_corpus_dialect_folder_present(corpus_dir: Path, dialect: str) -> None:
    assert any((corpus_dir / dialect).glob("*.json"))
