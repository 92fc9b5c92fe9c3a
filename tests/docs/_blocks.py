"""Find the fenced code blocks of the documentation and what each one asks of the docs test.

A block is a fenced code block (```` ``` ```` or ``~~~``, indented too, as inside a list item).
What the test does with it depends on its language and on an optional marker: an HTML comment
on the line just before the fence (blank lines between them are allowed), invisible on the
rendered page::

    <!-- docs-test: provider -->
    <!-- docs-test: continue -->
    <!-- docs-test: provider, continue -->
    <!-- docs-test: provider, otlp -->
    <!-- docs-test: not-run: the reason, said for the reader of the test report -->

``provider``  the block needs a provider key: it runs with keys set and every provider of the
              registry pointed at the project's local server (see tests/docs/_provider.py).
``continue``  the block goes on from the page's previous Python block: both run as one program.
``otlp``      the block exports OpenTelemetry traces: it runs with ``OTEL_EXPORTER_OTLP_ENDPOINT``
              pointing at a local OTLP/HTTP receiver (tests/docs/_otlp.py), and must deliver
              a GenAI span (one with ``gen_ai.operation.name``) there.
``not-run``   the block is shown, never run (a fragment, a shell session, a long-running
              server); it is still checked as far as it can be without running it.

Languages: ``python`` blocks run; ``json``, ``toml`` and ``yaml`` blocks are parsed; shell
blocks (``bash``, ``sh``, ``shell``, ``console``) must be marked ``not-run`` (they are checked
with ``bash -n``); ``text`` and ``julia`` (output, diagrams, the legacy language's code) are
shown only. A block with no language, or another one, is an error: say what it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

RUN = frozenset({"python", "py"})
PARSE = frozenset({"json", "toml", "yaml"})
SHELL = frozenset({"bash", "sh", "shell", "console"})
SHOWN = frozenset({"text", "julia"})
MARKS = frozenset({"provider", "continue", "otlp", "not-run"})

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")


class MarkerError(ValueError):
    """A docs-test marker that cannot be read (an unknown word, a not-run without a reason)."""


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page.

    Attributes:
        page: The page, relative to the repository root (``docs/client.md``).
        line: The 1-based line of the opening fence.
        lang: The fence's language, lower-cased ("" when none).
        code: The block's text, de-indented, ending with a newline.
        marks: The marker's words (``provider``, ``continue``, ``not-run``).
        reason: Why a ``not-run`` block is not run.
        error: Why the marker could not be read, if it could not.
    """

    page: str
    line: int
    lang: str
    code: str
    marks: frozenset[str] = field(default_factory=frozenset)
    reason: str = ""
    error: str = ""

    @property
    def id(self) -> str:
        """``page:line``, the name of the block's test."""
        return f"{self.page}:{self.line}"

    @property
    def first_code_line(self) -> int:
        """The page line where the block's code starts."""
        return self.line + 1


def parse_marker(text: str) -> tuple[frozenset[str], str]:
    """Read the words of a marker's body (``provider, continue`` or ``not-run: reason``)."""
    head, sep, reason = text.partition(":")
    words = {w.strip() for w in head.split(",") if w.strip()}
    if "not-run" in words:
        if words != {"not-run"}:
            raise MarkerError(f"not-run stands alone; got {sorted(words)}")
        if not sep or not reason.strip():
            raise MarkerError("not-run needs a reason: <!-- docs-test: not-run: why -->")
        return frozenset(words), reason.strip()
    if sep:
        raise MarkerError(f"only not-run takes a reason after ':'; got {text!r}")
    unknown = words - MARKS
    if unknown or not words:
        raise MarkerError(
            f"unknown docs-test marker {sorted(unknown) or text!r}; use {sorted(MARKS)}"
        )
    return frozenset(words), ""


def _dedent(lines: list[str], indent: str) -> str:
    out = [line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines]
    return "".join(out)


def blocks_of(text: str, page: str) -> Iterator[Block]:
    """Every fenced block of one page's text, in order."""
    lines = text.splitlines(keepends=True)
    marker: tuple[int, str] | None = None  # the last marker line seen, and its body
    i = 0
    while i < len(lines):
        line = lines[i]
        found = _MARKER.match(line)
        if found:
            marker = (i, found.group("body"))
            i += 1
            continue
        fence = _FENCE.match(line.rstrip("\n"))
        if not fence:
            if line.strip():
                marker = None  # a marker applies only to the fence right after it
            i += 1
            continue
        indent, opener = fence.group("indent"), fence.group("fence")
        lang = fence.group("info").strip().split(" ")[0].lower() if fence.group("info") else ""
        close = re.compile(rf"^[ \t]*{re.escape(opener[0])}{{{len(opener)},}}\s*$")
        end = i + 1
        while end < len(lines) and not close.match(lines[end]):
            end += 1
        code = _dedent(lines[i + 1 : end], indent)
        marks: frozenset[str] = frozenset()
        reason = error = ""
        if marker is not None:
            try:
                marks, reason = parse_marker(marker[1])
            except MarkerError as exc:
                error = str(exc)
        yield Block(page, i + 1, lang, code, marks, reason, error)
        marker = None
        i = end + 1


def collect(root: Path) -> list[Block]:
    """The blocks of README.md and of every page under docs/, page by page."""
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    found: list[Block] = []
    for page in pages:
        found.extend(blocks_of(page.read_text(encoding="utf-8"), str(page.relative_to(root))))
    return found


def program(block: Block, page_blocks: list[Block]) -> tuple[str, list[Block]]:
    """The source to run for ``block``: its code, after the blocks it continues.

    Each block's code starts on its own line of the page (blank lines fill the gaps), so a
    traceback names the page and the line a reader sees.

    Returns:
        The source, and the blocks it is made of (the first is where the chain starts).
    """
    chain = [block]
    while "continue" in chain[0].marks:
        earlier = [b for b in page_blocks if b.line < chain[0].line and b.lang in RUN]
        if not earlier:
            raise MarkerError(f"{chain[0].id}: 'continue' but no Python block before it")
        chain.insert(0, earlier[-1])
    source = ""
    for part in chain:
        source += "\n" * (part.first_code_line - 1 - source.count("\n")) + part.code
    return source, chain
