"""atoll_tools benchmark: validation plus call overhead for a small tool (schema cached).

The tool is ``add(a: int, b: int = 0) -> int`` called with the model's raw JSON text
``{"a": 2, "b": 3}``. Per call, in microseconds (best of several rounds):

- baseline ``bare``: ``add(**json.loads(raw))`` — parsing and the call, no validation;
- baseline ``pydantic_validate_call``: ``json.loads`` then a ``pydantic.validate_call`` wrapper;
- ``atoll_validate_bind_call``: ``Tool.validate(raw)`` (JSON parse + jsonschema Draft 2020-12)
  + ``Tool.bind`` (pydantic conversion) + the call — the validation-plus-call path;
- for context, ``jsonschema_is_valid``: ``json.loads`` + a prebuilt jsonschema Draft 2020-12
  validator's ``is_valid`` — what validation alone costs without atoll's compiled fast check;
- ``atoll_tool_call_async``: ``await Tool.call(raw)`` on the async twin of the tool;
- ``atoll_toolset_execute_*``: ``await ToolSet.execute(call)`` end to end (lookup, validation,
  call, result conversion into a ToolResultPart) for an async tool, a sync tool run inline
  (``run_in_thread=False``) and a sync tool in a worker thread (the default; dominated by the
  thread hop, reported for information).

Target: ``atoll_validate_bind_call`` under 30 µs per call.

For information, partial JSON on a 17 KB structured reply (250 items): one ``parse_partial_json``
of a half-way prefix vs ``json.loads`` of the whole document, and the total for re-parsing after
every 10-character delta of the stream.

Run: uv run --no-sync python benchmarks/tools.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import jsonschema
import pydantic
from _common import ratio, write_result
from atoll_tools import Tool, ToolSet, parse_partial_json
from atoll_wire import ToolCallPart

RAW = '{"a": 2, "b": 3}'
ROUNDS = 7
TARGET_US = 30.0


def add(a: int, b: int = 0) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


async def add_async(a: int, b: int = 0) -> int:
    """Add two numbers (async)."""
    return a + b


def per_call_us(fn: Callable[[], object], n: int) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter_ns() - start) / n / 1000)
    return best


async def per_call_us_async(fn: Callable[[], Awaitable[object]], n: int) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(n):
            await fn()
        best = min(best, (time.perf_counter_ns() - start) / n / 1000)
    return best


def measure_partial_json() -> dict[str, float]:
    items = [
        {"name": f"item {i}", "price": i * 1.5, "tags": ["a", "b"], "ok": True} for i in range(250)
    ]
    doc = json.dumps({"items": items})
    half = doc[: len(doc) // 2]
    prefix_ms = per_call_us(lambda: parse_partial_json(half), 50) / 1000
    loads_ms = per_call_us(lambda: json.loads(doc), 200) / 1000
    start = time.perf_counter()
    for end in range(0, len(doc) + 1, 10):
        parse_partial_json(doc[:end])
    return {
        "document_chars": len(doc),
        "prefix_parse_ms": round(prefix_ms, 3),
        "json_loads_whole_ms": round(loads_ms, 3),
        "prefix_vs_json_loads": ratio(prefix_ms, loads_ms) or 0.0,
        "stream_of_10_char_deltas_total_s": round(time.perf_counter() - start, 3),
    }


def main() -> None:
    tool = Tool(add)
    async_tool = Tool(add_async, name="add_async")
    inline_tool = Tool(add, name="add_inline", run_in_thread=False)
    thread_tool = Tool(add, name="add_thread")
    tools = ToolSet([async_tool, inline_tool, thread_tool])
    validated = pydantic.validate_call(add)
    reference = jsonschema.Draft202012Validator(tool.parameters)

    def bare() -> object:
        return add(**json.loads(RAW))

    def with_validate_call() -> object:
        return validated(**json.loads(RAW))

    def atoll_sync() -> object:
        args, kwargs = tool.bind(tool.validate(RAW))
        return tool.function(*args, **kwargs)

    assert bare() == with_validate_call() == atoll_sync() == 5

    figures: dict[str, float] = {
        "bare": per_call_us(bare, 50_000),
        "pydantic_validate_call": per_call_us(with_validate_call, 30_000),
        "atoll_validate_bind_call": per_call_us(atoll_sync, 20_000),
        "jsonschema_is_valid": per_call_us(lambda: reference.is_valid(json.loads(RAW)), 5_000),
    }

    def call_of(name: str) -> ToolCallPart:
        return ToolCallPart(id="call_1", name=name, raw_arguments=RAW)

    async def measure_async() -> None:
        figures["atoll_tool_call_async"] = await per_call_us_async(
            lambda: async_tool.call(RAW), 10_000
        )
        for label, name, n in [
            ("atoll_toolset_execute_async_tool", "add_async", 10_000),
            ("atoll_toolset_execute_sync_inline", "add_inline", 10_000),
            ("atoll_toolset_execute_sync_thread", "add_thread", 2_000),
        ]:
            part = call_of(name)
            result = await tools.execute(part)
            assert not result.is_error and result.content[0] == result.content[0]
            figures[label] = await per_call_us_async(lambda p=part: tools.execute(p), n)

    anyio.run(measure_async)
    rounded = {k: round(v, 2) for k, v in figures.items()}
    partial = measure_partial_json()
    core = figures["atoll_validate_bind_call"]
    result: dict[str, Any] = {
        "tool": "add(a: int, b: int = 0) -> int",
        "arguments": RAW,
        "us_per_call": rounded,
        "ratios": {
            "atoll_vs_bare": ratio(core, figures["bare"]),
            "atoll_vs_pydantic_validate_call": ratio(core, figures["pydantic_validate_call"]),
            "execute_async_vs_pydantic_validate_call": ratio(
                figures["atoll_toolset_execute_async_tool"], figures["pydantic_validate_call"]
            ),
        },
        "partial_json": partial,
        "target_us": TARGET_US,
        "meets_target": core < TARGET_US,
    }
    write_result("tools", result)


if __name__ == "__main__":
    main()
