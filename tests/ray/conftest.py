"""Fixtures of the atoll_ray tests: one local Ray cluster, one LLM server, one redis-server.

Ray starts once per session (no dashboard, a small object store, 2 CPUs) against
``atoll_testing.FakeLLMServer`` on 127.0.0.1, and is shut down at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from atoll_testing import FakeLLMServer

from tests.core_generic._redis_server import RedisServer

# `make test` runs pytest under `uv run`; Ray (>= 2.43) would then start its workers with
# `uv run` too, from their own folder, where they find no environment holding Ray. The
# workers use this interpreter instead. Read by Ray when it is imported: set before that.
os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    import ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 * 1024 * 1024,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(log_limit=100_000).run_in_thread() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.close()
