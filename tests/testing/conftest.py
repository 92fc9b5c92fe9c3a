"""Fixtures for the atoll_testing tests: a shared server and a tiny independent SSE parser."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from atoll_testing import FakeLLMServer


def parse_sse(body: str) -> list[tuple[str, str]]:
    """``(event, data)`` pairs; written here from the SSE spec, independent of the package."""
    out: list[tuple[str, str]] = []
    event, data = "message", list[str]()
    for line in body.replace("\r\n", "\n").split("\n"):
        if line == "":
            if data:
                out.append((event, "\n".join(data)))
            event, data = "message", list[str]()
        elif line.startswith(":"):
            continue
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line.startswith("event:"):
            event = line[6:].strip()
    assert not data, "stream did not end with a blank line"
    return out


def sse_json(body: str) -> list[tuple[str, Any]]:
    """SSE events with their data parsed as JSON (``[DONE]`` kept as the string)."""
    return [(e, d if d == "[DONE]" else json.loads(d)) for e, d in parse_sse(body)]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    """One server per test module (started from sync code, in its own thread)."""
    with FakeLLMServer().run_in_thread() as srv:
        yield srv


@pytest.fixture
def sse() -> Callable[[str], list[tuple[str, Any]]]:
    return sse_json
