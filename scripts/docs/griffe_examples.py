"""A griffe extension for the API reference: a Google-style ``Example:`` section is read as code.

The packages' docstrings follow Google style, where ``Example:`` and ``Examples:`` are the same
section. griffe reads only the plural as an examples section (``>>>`` lines become code); the
singular would be rendered as an admonition of Markdown text, where ``['a']`` is a link. This
extension renames the singular heading before griffe parses the docstring.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Read ``Example:`` sections as ``Examples:`` so their doctest lines render as code."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rename the section heading in the object's docstring, if it has one."""
        docstring = obj.docstring
        if docstring is not None and "Example:" in docstring.value:
            docstring.value = _SINGULAR.sub(r"\1Examples:", docstring.value)
