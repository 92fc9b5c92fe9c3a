"""Run one documentation program in this (child) process: ``python _runner.py PAGE SOURCE BACKEND``.

The source is compiled under the page's name, its lines at the page's line numbers, so a
traceback points at the documentation. Top-level ``await`` (``async with`` at the top of a
block) is allowed: such a program runs inside ``anyio.run`` on BACKEND. A program that calls
``anyio.run`` itself runs on BACKEND too (``anyio.run`` defaults to it here), so async blocks
are run on asyncio and on trio.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from typing import Any


def main(page: str, source_path: str, backend: str) -> None:
    with open(source_path, encoding="utf-8") as f:
        source = f.read()
    code = compile(source, page, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": page}
    if backend != "none":
        import anyio

        anyio.run = functools.partial(anyio.run, backend=backend)  # type: ignore[assignment]
    if code.co_flags & inspect.CO_COROUTINE:
        import anyio

        async def top_level() -> None:
            await eval(code, namespace)

        anyio.run(top_level)
    else:
        exec(code, namespace)


if __name__ == "__main__":
    main(*sys.argv[1:4])
