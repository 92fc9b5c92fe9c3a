"""MkDocs hooks: pages that show the tests a documentation page links to as its proof.

The comparison page links each feature Atoll has to the test that proves it, as
``proofs/tests/<folder>/<file>.md#<test name>``. For every test file linked that way, this hook
generates a page (not in the navigation) holding each test of the file under a heading whose
anchor is the test's name. MkDocs then checks those links like any other: a link to a test
that does not exist (renamed, removed) breaks the strict build.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel

ROOT = Path(__file__).resolve().parents[2]
_PROOF_LINK = re.compile(r"\]\((?:\.\./)*proofs/(tests/[\w/]+)\.md#[\w-]+\)")


def _is_test(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
        "test_"
    )


def _tests(tree: ast.Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Test functions at module level and in test classes, as (anchor, node)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_test(node):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _is_test(item):
                    found.append((f"{node.name}-{item.name}", item))
    return found


def proof_page(test_file: str) -> str:
    """The Markdown of the proof page of one test file (``tests/dialects/test_client.py``)."""
    source = (ROOT / test_file).read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    parts = [
        f"# `{test_file}`\n",
        "The tests of this file that documentation pages link to, as they are in the repository "
        "(run by `make test`, on asyncio and trio where they are async).\n",
    ]
    for anchor, node in _tests(tree):
        start = min([d.lineno for d in node.decorator_list] + [node.lineno])
        end = node.end_lineno or node.lineno
        body = "\n".join(lines[start - 1 : end])
        name = anchor.replace("-", ".")
        parts.append(f"## `{name}` {{#{anchor}}}\n\nLine {start}.\n\n```python\n{body}\n```\n")
    return "\n".join(parts)


def on_files(files: Files, config: Any) -> Files:
    """Add a proof page for every test file a documentation page links to."""
    docs = Path(config["docs_dir"])
    linked: set[str] = set()
    for page in docs.rglob("*.md"):
        linked.update(_PROOF_LINK.findall(page.read_text(encoding="utf-8")))
    for test_path in sorted(linked):
        test_file = f"{test_path}.py"
        if not (ROOT / test_file).is_file():
            continue  # the link stays broken, and the strict build reports it
        page = File.generated(config, f"proofs/{test_path}.md", content=proof_page(test_file))
        page.inclusion = InclusionLevel.NOT_IN_NAV
        files.append(page)
    return files
