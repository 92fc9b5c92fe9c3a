"""Split reasoning sent inline as ``<think>...</think>`` out of streamed text, incrementally.

Some servers (DeepSeek-R1 and Qwen behind Together, Ollama, vLLM without a reasoning parser) put
the model's reasoning in the content itself. The registry's ``think_tags`` quirk turns this on.
Only a ``<think>`` at the very start of the reply opens a reasoning block, so a reply that merely
mentions the tag later is left alone. Tags split across chunks are held back until they resolve.
"""

from __future__ import annotations

from typing import Literal

Piece = tuple[bool, str]
"""``(is_reasoning, text)``."""


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkTagSplitter:
    """Feeds text fragments, yields ``(is_reasoning, text)`` pieces in order."""

    __slots__ = ("_buffer", "_close", "_open", "_state")

    def __init__(self, tag: str = "think") -> None:
        self._open = f"<{tag}>"
        self._close = f"</{tag}>"
        self._state: Literal["start", "thinking", "after", "text"] = "start"
        self._buffer = ""

    def feed(self, text: str) -> list[Piece]:
        """Take the next fragment of content; return what can be emitted now."""
        if self._state == "text":
            return [(False, text)] if text else []
        self._buffer += text
        out: list[Piece] = []
        while self._buffer:
            if self._state == "start":
                stripped = self._buffer.lstrip()
                if not stripped or (
                    len(stripped) < len(self._open) and self._open.startswith(stripped)
                ):
                    return out  # only whitespace or a partial "<think" so far
                if stripped.startswith(self._open):
                    self._state = "thinking"
                    self._buffer = stripped[len(self._open) :]
                else:
                    self._state = "text"
            elif self._state == "thinking":
                end = self._buffer.find(self._close)
                if end >= 0:
                    if end:
                        out.append((True, self._buffer[:end]))
                    self._buffer = self._buffer[end + len(self._close) :]
                    self._state = "after"
                    continue
                keep = _partial_suffix(self._buffer, self._close)
                ready = self._buffer[: len(self._buffer) - keep]
                if ready:
                    out.append((True, ready))
                self._buffer = self._buffer[len(self._buffer) - keep :]
                return out
            elif self._state == "after":
                # The blank lines between the reasoning and the answer are layout, not answer.
                self._buffer = self._buffer.lstrip("\r\n")
                if self._buffer:
                    self._state = "text"
            else:
                out.append((False, self._buffer))
                self._buffer = ""
        return out

    def finish(self) -> list[Piece]:
        """Flush held-back text at the end of the reply (an unclosed block stays reasoning)."""
        rest, self._buffer = self._buffer, ""
        if not rest:
            return []
        if self._state == "thinking":
            return [(True, rest)]
        if self._state == "after":
            rest = rest.lstrip("\r\n")
            return [(False, rest)] if rest else []
        return [(False, rest)]


def split_think_tags(text: str, tag: str = "think") -> tuple[str, str]:
    """Split a whole reply into ``(reasoning, answer)``.

    Args:
        text: The full content.
        tag: The tag name.

    Returns:
        The reasoning inside a leading ``<think>`` block (``""`` if none) and the rest.
    """
    splitter = ThinkTagSplitter(tag)
    pieces = splitter.feed(text) + splitter.finish()
    reasoning = "".join(t for is_reasoning, t in pieces if is_reasoning)
    answer = "".join(t for is_reasoning, t in pieces if not is_reasoning)
    return reasoning, answer
