"""Tool calls written as text by local models, turned back into real tool calls.

llama-cpp-python returns ``tool_calls`` only when a request names the function or the model uses
one of its function-calling chat formats; with ``tool_choice="auto"`` on a plain chat template
the model's call comes back as text. A ``ToolCallParser`` reads that text as it streams and
splits it into plain text and ``ParsedToolCall`` values; the transport turns those into
OpenAI ``tool_calls``, so the Client sees real tool-call parts and stream events.

``HermesToolParser`` reads the Hermes format (Qwen 2.5/3, Hermes 2/3, many fine-tunes)::

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    </tool_call>

Write another format by subclassing ``ToolCallParser`` and passing the class (or any callable
returning a fresh parser) as ``LocalModel(tool_parser=...)``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ParsedToolCall:
    """One tool call found in a model's text.

    Attributes:
        name: The function name.
        arguments: The arguments as JSON text (an object), as OpenAI's ``arguments`` field.
    """

    name: str
    arguments: str


ParsedItem = str | ParsedToolCall
"""What a parser yields: plain text to pass on, or a complete tool call."""


class ToolCallParser(ABC):
    """Splits streamed model text into plain text and tool calls; one instance per generation.

    ``feed`` is called with each new piece of text and returns what can be passed on now (text
    that may still turn out to start a call is held back); ``finish`` returns the rest once the
    model stopped. Feeding a text in any split must give the same items as feeding it whole.
    """

    @abstractmethod
    def feed(self, text: str) -> list[ParsedItem]:
        """Take the next piece of model text; return the text and calls now complete."""

    @abstractmethod
    def finish(self) -> list[ParsedItem]:
        """The model stopped: return what was held back (an unclosed call as plain text)."""

    def call_schema(self, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
        """The JSON Schema of one call's payload, used to force a call with a grammar.

        Args:
            name: The function name.
            parameters: The function's parameter schema.
        """
        return {
            "type": "object",
            "properties": {"name": {"const": name}, "arguments": parameters},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }

    def forced_call(self, call_rule: str) -> str | None:
        """A GBNF expression for a whole forced call around ``call_rule`` (one payload).

        Returns None when this format cannot be forced; ``tool_choice`` ``required`` or a named
        function then gets an error response instead of a silent plain answer.
        """
        return None


OPEN = "<tool_call>"
CLOSE = "</tool_call>"


class HermesToolParser(ToolCallParser):
    """``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks, any number of them.

    A block whose body is not a JSON object with a string ``name`` (``arguments`` or
    ``parameters`` an object or JSON text) is passed on unchanged as text, as is a block the
    model never closed.
    """

    def __init__(self) -> None:
        self._buffer = ""
        self._inside = False

    def feed(self, text: str) -> list[ParsedItem]:
        """See ``ToolCallParser.feed``."""
        self._buffer += text
        out: list[ParsedItem] = []
        while True:
            if self._inside:
                end = self._buffer.find(CLOSE)
                if end < 0:
                    return out
                body = self._buffer[:end]
                self._buffer = self._buffer[end + len(CLOSE) :]
                self._inside = False
                call = parse_call(body)
                _append(out, call if call is not None else OPEN + body + CLOSE)
                continue
            start = self._buffer.find(OPEN)
            if start >= 0:
                _append(out, self._buffer[:start])
                self._buffer = self._buffer[start + len(OPEN) :]
                self._inside = True
                continue
            keep = _partial_suffix(self._buffer, OPEN)
            _append(out, self._buffer[: len(self._buffer) - keep])
            self._buffer = self._buffer[len(self._buffer) - keep :]
            return out

    def finish(self) -> list[ParsedItem]:
        """See ``ToolCallParser.finish``."""
        rest = (OPEN if self._inside else "") + self._buffer
        self._buffer, self._inside = "", False
        return [rest] if rest else []

    def forced_call(self, call_rule: str) -> str:
        """``<tool_call>`` + one payload + ``</tool_call>``, newlines optional."""
        return f'"{OPEN}" "\\n"? {call_rule} "\\n"? "{CLOSE}"'


def parse_call(body: str) -> ParsedToolCall | None:
    """A call payload ``{"name": ..., "arguments": ...}`` → ``ParsedToolCall``, or None."""
    try:
        payload: object = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    fields: dict[str, Any] = payload  # pyright: ignore[reportUnknownVariableType]
    name = fields.get("name")
    arguments = fields.get("arguments", fields.get("parameters", {}))
    if not isinstance(name, str) or not name:
        return None
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    if not isinstance(arguments, dict):
        return None
    return ParsedToolCall(name=name, arguments=json.dumps(arguments, ensure_ascii=False))


def _append(out: list[ParsedItem], text: str | ParsedToolCall) -> None:
    if isinstance(text, ParsedToolCall):
        out.append(text)
    elif text:
        if out and isinstance(out[-1], str):
            out[-1] += text
        else:
            out.append(text)


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a proper start of ``tag``."""
    if text.find(tag[0], max(0, len(text) - len(tag) + 1)) < 0:
        return 0  # the common case: no "<" near the end
    for size in range(min(len(text), len(tag) - 1), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0
