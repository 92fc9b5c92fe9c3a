"""Counting a request's input tokens: the provider's count, a tokenizer's, or an estimate.

``Client.count_tokens`` asks the provider where its API has a counting endpoint (Anthropic's
``/messages/count_tokens``; a dialect adds its own through ``Dialect.build_count_tokens``):
that count is exact. Otherwise it counts locally. No tokenizer ships with atoll that works
offline (``tiktoken`` downloads its BPE files on first use), so a local count uses the
``tokenizer=`` the caller passes: any object whose ``encode(text)`` returns the tokens
(``tiktoken.encoding_for_model("gpt-4o")`` once its files are cached, ``bpe_openai``, a
Hugging Face tokenizer wrapped to return ids). Without one the count is an estimate, and says
so: ``exact=False``, ``method="estimate"``.

Local counts add the chat framing OpenAI documents for its models (3 tokens per message, 1 per
name, 3 to prime the reply). They are exact only for plain text with that framing; images,
audio, documents and tool definitions are estimated (their tokenisation is provider-internal),
and such a count is marked ``exact=False``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from atoll_wire import (
    AudioPart,
    ChatRequest,
    DocumentPart,
    ImagePart,
    Part,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)

from ._exceptions import InvalidOptionError

__all__ = ["CountMethod", "TokenCount", "Tokenizer", "count_locally"]

CountMethod = Literal["provider", "tokenizer", "estimate"]

# OpenAI's documented chat framing (the cookbook's num_tokens_from_messages).
_PER_MESSAGE = 3
_PER_NAME = 1
_REPLY_PRIMING = 3
# Rough sizes of what no local tokenizer sees; a provider's own count is exact.
_IMAGE_TOKENS = 1_000  # OpenAI: 765 for a 1024x1024 high-detail image; Anthropic ~1,600 at most
_DOCUMENT_TOKENS_PER_KB = 3  # PDFs: text and page images; coarse on purpose
_AUDIO_BYTES_PER_TOKEN = 3_200  # ~10 tokens per second of 16 kHz 16-bit audio
_TOOL_OVERHEAD = 10  # per tool definition, beside its JSON


@runtime_checkable
class Tokenizer(Protocol):
    """Anything that turns text into tokens (``tiktoken.Encoding`` and its look-alikes)."""

    def encode(self, text: str) -> object:
        """The tokens of ``text`` (a sequence; only its length is used)."""
        ...


@dataclass(frozen=True, slots=True)
class TokenCount:
    """The input tokens of a request, and how they were counted.

    Attributes:
        input_tokens: The count.
        exact: True for the provider's own count, or a tokenizer's count of plain text;
            False when any part was estimated.
        method: ``provider`` (the counting endpoint), ``tokenizer`` (the one you passed) or
            ``estimate`` (characters, no tokenizer).
        model: ``provider/model`` the count is for.
        note: What was estimated, when anything was.
    """

    input_tokens: int
    exact: bool
    method: CountMethod
    model: str
    note: str | None = None


def _estimate_text(text: str) -> int:
    # About 4 characters a token for ASCII text; a token a character elsewhere (CJK and the
    # like), which overestimates accented Latin a little: an estimate should not run short.
    if not text:
        return 0
    ascii_chars = sum(1 for c in text if c < "\x80")
    return math.ceil(ascii_chars / 4) + (len(text) - ascii_chars)


class _Counter:
    __slots__ = ("estimated", "tokenizer")

    def __init__(self, tokenizer: Tokenizer | None) -> None:
        self.tokenizer = tokenizer
        self.estimated: set[str] = set()

    def text(self, text: str) -> int:
        if self.tokenizer is None:
            return _estimate_text(text)
        tokens = self.tokenizer.encode(text)
        try:
            return len(tokens)  # type: ignore[arg-type]
        except TypeError:
            raise InvalidOptionError(
                "tokenizer", self.tokenizer, "an object whose encode(text) returns the tokens"
            ) from None

    def part(self, part: Part) -> int:
        if isinstance(part, TextPart):
            return self.text(part.text)
        if isinstance(part, ThinkingPart):
            return self.text(part.text)
        if isinstance(part, ToolCallPart):
            arguments = part.raw_arguments or json.dumps(part.arguments)
            return self.text(part.name) + self.text(arguments)
        if isinstance(part, ToolResultPart):
            return sum(self.part(inner) for inner in part.content)
        if isinstance(part, RedactedThinkingPart):
            self.estimated.add("redacted thinking")
            return _estimate_text(part.data)
        return self._media(part)

    def _media(self, part: ImagePart | AudioPart | DocumentPart) -> int:
        if isinstance(part, ImagePart):
            self.estimated.add("images")
            return _IMAGE_TOKENS
        if isinstance(part, AudioPart):
            self.estimated.add("audio")
            return max(len(part.data) // _AUDIO_BYTES_PER_TOKEN, 1)
        self.estimated.add("documents")
        size = len(part.data) if part.data is not None else 100_000
        return max(size // 1024 * _DOCUMENT_TOKENS_PER_KB, 1)


def count_locally(request: ChatRequest, label: str, tokenizer: Tokenizer | None) -> TokenCount:
    """Count a request's input tokens without the network (see the module docstring).

    Args:
        request: The neutral request (its messages, tools and output schema count).
        label: ``provider/model`` for the result.
        tokenizer: The tokenizer to use, or None to estimate.
    """
    counter = _Counter(tokenizer)
    total = _REPLY_PRIMING
    for message in request.messages:
        total += _PER_MESSAGE + sum(counter.part(part) for part in message.parts)
        if message.name:
            total += _PER_NAME + counter.text(message.name)
    for tool in request.tools:
        counter.estimated.add("tool definitions")
        spec = {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
        total += _TOOL_OVERHEAD + counter.text(json.dumps(spec, separators=(",", ":")))
    if request.output_schema is not None:
        counter.estimated.add("the output schema")
        total += counter.text(json.dumps(request.output_schema.schema, separators=(",", ":")))
    if tokenizer is None:
        return TokenCount(
            total,
            exact=False,
            method="estimate",
            model=label,
            note="estimated from characters (about 4 a token); pass tokenizer= or use a "
            "provider with a counting endpoint for an exact count",
        )
    estimated = sorted(counter.estimated)
    note = f"estimated: {', '.join(estimated)}" if estimated else None
    return TokenCount(total, exact=not estimated, method="tokenizer", model=label, note=note)
