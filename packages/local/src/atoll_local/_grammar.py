"""JSON Schemas → llama.cpp grammars, so local output is constrained, not merely requested.

llama-cpp-python ignores OpenAI's ``response_format: {"type": "json_schema"}``. Here a request's
schema becomes a GBNF grammar (llama.cpp's own schema converter) that the sampler enforces token
by token; a forced tool call (``tool_choice`` ``required`` or a named function) becomes a grammar
for the parser's call format around the tools' argument schemas.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any, cast

from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar, SchemaConverter

from ._jobs import RequestRejected
from ._tool_parsers import ToolCallParser


class GrammarError(ValueError):
    """A schema could not be turned into a grammar (answered as a 400 by the transport)."""


def json_object_grammar() -> LlamaGrammar:
    """Any JSON value (``response_format: {"type": "json_object"}``)."""
    return _compiled(JSON_GBNF)


def schema_grammar(schema: dict[str, Any]) -> LlamaGrammar:
    """A grammar for JSON documents valid against ``schema``.

    Raises:
        GrammarError: The schema uses something the converter cannot express.
    """
    return _schema_grammar(json.dumps(schema, sort_keys=True, separators=(",", ":")))


@functools.lru_cache(maxsize=64)
def _schema_grammar(schema_text: str) -> LlamaGrammar:
    # Converting a schema costs a millisecond or more; agents send the same one every turn.
    return _compiled(_rules(json.loads(schema_text), ""))


def forced_call_grammar(
    parser: ToolCallParser, tools: Sequence[tuple[str, dict[str, Any]]]
) -> LlamaGrammar:
    """A grammar for exactly one call, in the parser's format, to one of ``tools``.

    Args:
        parser: The model's tool-call parser (it knows the call format).
        tools: ``(name, parameter schema)`` of the functions the call may name.

    Raises:
        GrammarError: The format cannot be forced, or a schema cannot be converted.
    """
    schemas = [parser.call_schema(name, parameters) for name, parameters in tools]
    payload = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    wrapper = parser.forced_call("call")
    if wrapper is None:
        raise GrammarError(
            f"{type(parser).__name__} cannot force a tool call; "
            "use tool_choice 'auto' or a parser that implements forced_call"
        )
    return _compiled(_rules(payload, "call") + f"\nroot ::= {wrapper}\n")


def build_grammar(factory: Callable[[], LlamaGrammar]) -> LlamaGrammar:
    """Run a deferred grammar (on the worker).

    Raises:
        RequestRejected: The schema cannot be expressed as a grammar (a 400).
    """
    try:
        return factory()
    except GrammarError as exc:
        raise RequestRejected(400, "invalid_schema", str(exc), "response_format") from exc


def _rules(schema: dict[str, Any], name: str) -> str:
    # llama-cpp-python's converter is untyped; it is the one llama.cpp's server uses too.
    converter: Any = SchemaConverter(
        prop_order=cast("dict[str, int]", {}), allow_fetch=False, dotall=False, raw_pattern=False
    )
    try:
        resolved: Any = converter.resolve_refs(schema, "request")
        converter.visit(resolved, name)
        return str(converter.format_grammar())
    except Exception as exc:  # the converter raises bare ValueError/KeyError/...
        raise GrammarError(f"cannot turn the JSON schema into a grammar: {exc}") from exc


def _compiled(text: str) -> LlamaGrammar:
    # A LlamaGrammar holds only the text: llama.cpp parses it when a generation builds its
    # sampler, so the worker checks it once per model first (``Generator.check_grammar``).
    return LlamaGrammar.from_string(text, verbose=False)
