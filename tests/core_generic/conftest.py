"""Fixtures of the core_generic tests: a real redis-server for the shared limiters."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.core_generic._redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the session, on a free port of 127.0.0.1."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own, which the test may stop and restart."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses, so tests sharing the session server never collide."""
    return f"t-{uuid.uuid4().hex[:10]}"
