"""Read a tool's description and per-argument descriptions from its docstring.

Three common styles are understood, detected per docstring:

- Google: an ``Args:`` (or ``Arguments:``, ``Parameters:``, ``Keyword Args:``) section of
  ``name (type): text`` entries, continuation lines indented deeper.
- NumPy: a ``Parameters`` heading underlined with dashes, ``name : type`` lines, the text
  indented below.
- reST / Sphinx: ``:param name: text`` or ``:param type name: text`` fields.

The description is the text before the first section or field. Nothing here raises: a docstring
in an unknown style simply yields its whole text as the description and no argument texts.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

_GOOGLE_ARGS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments"}
_GOOGLE_SECTIONS = _GOOGLE_ARGS | {
    "returns",
    "return",
    "yields",
    "yield",
    "raises",
    "raise",
    "examples",
    "example",
    "note",
    "notes",
    "warning",
    "warnings",
    "see also",
    "attributes",
    "references",
    "todo",
    "other parameters",
}
_NUMPY_ARGS = {"parameters", "other parameters", "keyword arguments"}
_GOOGLE_HEADER = re.compile(r"^([A-Za-z][A-Za-z ]*):\s*$")
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}([A-Za-z_][A-Za-z0-9_]*)\s*(?:\([^)]*\))?\s*:(.*)$")
_NUMPY_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_NUMPY_ENTRY = re.compile(
    r"^\*{0,2}([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*(?::.*)?$"
)
_REST_FIELD = re.compile(r"^:([a-zA-Z]+)([^:]*):(.*)$")
_REST_PARAM_KINDS = {"param", "parameter", "arg", "argument", "key", "keyword"}


@dataclass(slots=True)
class Docstring:
    """What a docstring says about a callable.

    Attributes:
        description: The text before any section, or None when there is none.
        params: Argument name to its description.
    """

    description: str | None = None
    params: dict[str, str] = field(default_factory=lambda: {})


def _join(lines: list[str]) -> str:
    """Join wrapped lines into one paragraph-preserving text."""
    text = inspect.cleandoc("\n".join(lines))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _style(lines: list[str]) -> str:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if _REST_FIELD.match(stripped):
            return "rest"
        if i + 1 < len(lines) and stripped and _NUMPY_UNDERLINE.match(lines[i + 1]):
            return "numpy"
        header = _GOOGLE_HEADER.match(stripped)
        if header and header.group(1).strip().lower() in _GOOGLE_SECTIONS:
            return "google"
    return "plain"


def _google(lines: list[str]) -> Docstring:
    doc = Docstring()
    intro: list[str] = []
    section: str | None = None
    current: str | None = None
    entry_indent = 0
    buffers: dict[str, list[str]] = {}
    for line in lines:
        stripped = line.strip()
        header = _GOOGLE_HEADER.match(stripped)
        if header and _indent(line) == 0 and header.group(1).strip().lower() in _GOOGLE_SECTIONS:
            section, current = header.group(1).strip().lower(), None
            continue
        if section is None:
            intro.append(line)
            continue
        if section not in _GOOGLE_ARGS or not stripped:
            continue
        entry = _GOOGLE_ENTRY.match(stripped)
        if entry and (current is None or _indent(line) <= entry_indent):
            name, entry_indent = entry.group(1), _indent(line)
            buffers[name] = [entry.group(2).strip()]
            current = name
        elif current is not None:
            buffers[current].append(stripped)
    doc.description = _join(intro) or None
    doc.params = {name: text for name, parts in buffers.items() if (text := _join(parts))}
    return doc


def _numpy(lines: list[str]) -> Docstring:
    doc = Docstring()
    intro: list[str] = []
    section: str | None = None
    current: list[str] = []
    buffers: dict[str, list[str]] = {}
    skip = False
    for i, line in enumerate(lines):
        if skip:
            skip = False
            continue
        stripped = line.strip()
        if i + 1 < len(lines) and stripped and _NUMPY_UNDERLINE.match(lines[i + 1]):
            section, current, skip = stripped.lower(), [], True
            continue
        if section is None:
            intro.append(line)
            continue
        if section not in _NUMPY_ARGS or not stripped:
            continue
        entry = _NUMPY_ENTRY.match(stripped) if _indent(line) == 0 else None
        if entry:
            # "x, y : float" documents several names at once.
            current = [name.strip() for name in entry.group(1).split(",")]
            for name in current:
                buffers[name] = []
        else:
            for name in current:
                buffers[name].append(stripped)
    doc.description = _join(intro) or None
    doc.params = {name: text for name, parts in buffers.items() if (text := _join(parts))}
    return doc


def _rest(lines: list[str]) -> Docstring:
    doc = Docstring()
    intro: list[str] = []
    in_fields = False
    current: list[str] | None = None
    buffers: dict[str, list[str]] = {}
    for line in lines:
        stripped = line.strip()
        match = _REST_FIELD.match(stripped)
        if match:
            in_fields = True
            kind, target, text = match.group(1).lower(), match.group(2).split(), match.group(3)
            current = None
            if kind in _REST_PARAM_KINDS and target:
                current = buffers.setdefault(target[-1].lstrip("*"), [])
                current.append(text.strip())
            continue
        if not in_fields:
            intro.append(line)
        elif current is not None and stripped:
            current.append(stripped)
    doc.description = _join(intro) or None
    doc.params = {name: text for name, parts in buffers.items() if (text := _join(parts))}
    return doc


def parse_docstring(text: str | None) -> Docstring:
    """Split a docstring into its description and per-argument descriptions.

    Args:
        text: The raw docstring (``inspect.getdoc`` output or ``__doc__``), or None.
    """
    if not text or not text.strip():
        return Docstring()
    lines = inspect.cleandoc(text).splitlines()
    style = _style(lines)
    if style == "google":
        return _google(lines)
    if style == "numpy":
        return _numpy(lines)
    if style == "rest":
        return _rest(lines)
    return Docstring(description=_join(lines) or None)


def type_description(target: object) -> str | None:
    """The description part of a class's docstring, ignoring the one dataclasses invent.

    Args:
        target: A class (pydantic model, dataclass, TypedDict...).
    """
    doc = inspect.getdoc(target)
    name = getattr(target, "__name__", "")
    if not doc or doc.startswith(f"{name}("):  # dataclasses set __doc__ to their signature
        return None
    return parse_docstring(doc).description
