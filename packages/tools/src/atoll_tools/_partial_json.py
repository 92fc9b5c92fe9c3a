"""Parse the beginning of a JSON document, as it streams, into the value seen so far.

Open strings are closed with what has arrived, open arrays and objects are closed, a key whose
value has not started is left out, an unfinished number keeps its digits so far and an
unfinished ``true``/``false``/``null`` is completed. Complete JSON gives exactly what
``json.loads`` gives. Text that cannot be the start of any JSON document raises
``PartialJSONError``.

Each call parses from the start, but every container or string that is already closed is read
by the standard library's C scanner in one step; only the still-open path to the end of the
text goes through the Python code below, so a call costs little more than ``json.loads``.
"""

from __future__ import annotations

import json
import re
from typing import TypeAlias

from pydantic import JsonValue

from ._exceptions import PartialJSONError

# pydantic's recursive JSON type: understood by type checkers and usable at runtime in models.
JSONValue: TypeAlias = JsonValue
"""Any JSON value (pydantic's recursive ``JsonValue``), as ``parse_partial_json`` returns."""

_WS = re.compile(r"[ \t\n\r]*")
_STRING_CHUNK = re.compile(r'[^"\\\x00-\x1f]*')
_NUMBER_CHARS = re.compile(r"[-+0-9.eE]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS: dict[str, JSONValue] = {"true": True, "false": False, "null": None}
_HEX = re.compile(r"[0-9a-fA-F]{4}")
_HEX_PREFIX = re.compile(r"[0-9a-fA-F]{0,3}")
_ESCAPE_PREFIX = re.compile(r"(?:\\(?:u[0-9a-fA-F]{0,3})?)?")
_NUMBER_PREFIX = re.compile(
    r"-|-?(?:0|[1-9][0-9]*)\.|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]*)?"
)


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


# Reads one complete value exactly as json.loads would (NaN and Infinity refused).
_COMPLETE = json.JSONDecoder(parse_constant=_no_constants).raw_decode


class _Missing:
    """No value has started yet at the end of the text."""


_MISSING = _Missing()


class _Parser:
    __slots__ = ("depth", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def fail(self, reason: str) -> PartialJSONError:
        return PartialJSONError(self.pos, reason)

    def skip_ws(self) -> bool:
        """Skip whitespace; True when text remains."""
        match = _WS.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos
        return self.pos < len(self.text)

    def value(self) -> JSONValue | _Missing:
        if not self.skip_ws():
            return _MISSING
        char = self.text[self.pos]
        if char in '{["':
            try:
                value, self.pos = _COMPLETE(self.text, self.pos)
            except (ValueError, RecursionError):
                pass  # still open at the end of the text, or invalid: parse it piece by piece
            else:
                return value
        if char == "{":
            return self.obj()
        if char == "[":
            return self.array()
        if char == '"':
            return self.string()[0]
        if char == "-" or char.isdigit():
            return self.number()
        return self.literal()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > 500:
            raise self.fail("nesting deeper than 500 levels")
        self.pos += 1

    def obj(self) -> JSONValue:
        self.enter()
        out: dict[str, JSONValue] = {}
        while True:
            if not self.skip_ws():
                return out
            if self.text[self.pos] == "}" and not out:
                break
            if self.text[self.pos] != '"':
                raise self.fail("expected a property name in double quotes")
            key, closed = self.string()
            if not closed or not self.skip_ws():
                return out
            if self.text[self.pos] != ":":
                raise self.fail("expected ':' after a property name")
            self.pos += 1
            item = self.value()
            if isinstance(item, _Missing):
                return out
            out[key] = item
            if not self.skip_ws():
                return out
            char = self.text[self.pos]
            self.pos += 1
            if char == "}":
                self.depth -= 1
                return out
            if char != ",":
                raise self.fail("expected ',' or '}' after a property value")
        self.pos += 1
        self.depth -= 1
        return out

    def array(self) -> JSONValue:
        self.enter()
        out: list[JSONValue] = []
        if self.skip_ws() and self.text[self.pos] == "]":
            self.pos += 1
            self.depth -= 1
            return out
        while True:
            item = self.value()
            if isinstance(item, _Missing):
                return out
            out.append(item)
            if not self.skip_ws():
                return out
            char = self.text[self.pos]
            self.pos += 1
            if char == "]":
                self.depth -= 1
                return out
            if char != ",":
                raise self.fail("expected ',' or ']' after an array item")

    def string(self) -> tuple[str, bool]:
        """Parse a string; returns its text and whether the closing quote arrived."""
        text = self.text
        parts: list[str] = []
        self.pos += 1
        while True:
            match = _STRING_CHUNK.match(text, self.pos)
            end = match.end() if match else self.pos
            parts.append(text[self.pos : end])
            self.pos = end
            if end >= len(text):
                return "".join(parts), False
            char = text[end]
            if char == '"':
                self.pos += 1
                return "".join(parts), True
            if char != "\\":
                raise self.fail("control character inside a string")
            decoded = self.escape()
            if decoded is None:  # the escape sequence is cut off: keep what came before it
                self.pos = len(text)
                return "".join(parts), False
            parts.append(decoded)

    def escape(self) -> str | None:
        text, start = self.text, self.pos
        if start + 1 >= len(text):
            return None
        kind = text[start + 1]
        if kind in _ESCAPES:
            self.pos += 2
            return _ESCAPES[kind]
        if kind != "u":
            raise self.fail(f"invalid escape \\{kind}")
        digits = text[start + 2 : start + 6]
        if (
            len(digits) < 4
            and start + 2 + len(digits) == len(text)
            and _HEX_PREFIX.fullmatch(digits)
        ):
            return None
        if not _HEX.fullmatch(digits):
            raise self.fail("invalid \\u escape")
        code = int(digits, 16)
        self.pos += 6
        if 0xD800 <= code < 0xDC00:
            # A high surrogate pairs with a following \uDC00-\uDFFF escape, as in json.loads;
            # when the text stops before that escape is complete, wait for more.
            tail = text[self.pos : self.pos + 6]
            if self.pos + len(tail) == len(text) and _ESCAPE_PREFIX.fullmatch(tail):
                return None
            if tail[:2] == "\\u" and _HEX.fullmatch(tail[2:]):
                low = int(tail[2:], 16)
                if 0xDC00 <= low < 0xE000:
                    self.pos += 6
                    return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
        return chr(code)

    def number(self) -> JSONValue | _Missing:
        match = _NUMBER_CHARS.match(self.text, self.pos)
        end = match.end() if match else self.pos
        token = self.text[self.pos : end]
        if _NUMBER.fullmatch(token):
            self.pos = end
            return _to_number(token)
        if end < len(self.text) or not _NUMBER_PREFIX.fullmatch(token):
            raise self.fail(f"invalid number {token[:20]!r}")
        # Cut off mid-number ("1.", "2e", "-"): keep the longest complete prefix, if any.
        self.pos = end
        head = _NUMBER.match(token)
        return _to_number(head.group()) if head else _MISSING

    def literal(self) -> JSONValue:
        for word, result in _LITERALS.items():
            chunk = self.text[self.pos : self.pos + len(word)]
            at_end = self.pos + len(chunk) == len(self.text)
            if chunk == word or (at_end and word.startswith(chunk)):
                self.pos += len(chunk)
                return result
        raise self.fail(f"unexpected character {self.text[self.pos]!r}")


def _to_number(token: str) -> int | float:
    if any(c in token for c in ".eE"):
        return float(token)
    return int(token)


def parse_partial_json(text: str) -> JSONValue:
    """The value a JSON document holds so far, from any prefix of it.

    Args:
        text: The beginning of a JSON document (for example streamed tool arguments).

    Returns:
        The partially filled value; None when no value has started (blank text).

    Raises:
        PartialJSONError: When ``text`` cannot be the beginning of any JSON document.

    Example:
        >>> parse_partial_json('{"city": "Par')
        {'city': 'Par'}
    """
    parser = _Parser(text)
    value = parser.value()
    if parser.skip_ws():
        raise parser.fail("extra data after the JSON value")
    return None if isinstance(value, _Missing) else value
