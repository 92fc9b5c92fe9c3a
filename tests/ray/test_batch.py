"""run_batch on a local Ray cluster (2 CPUs) against the local LLM server (issue 19)."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import ray
from atoll_dialects import Client
from atoll_generic import RedisBackend, RequestLimiter
from atoll_ray import BatchAbortedError, BatchSummary, ResultsStore, run_batch, run_dataset
from atoll_testing import FakeLLMServer

# Runners defined here travel to the actors by value (this module is not importable there).
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # type: ignore[attr-defined]

pytestmark = pytest.mark.usefixtures("ray_cluster")


def items(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "prompt": f"item q{i}"} for i in range(start, start + n)]


def options(llm: FakeLLMServer) -> dict[str, Any]:
    return {"base_url": llm.base_url, "api_key": "sk-test"}


def requested_ids(llm: FakeLLMServer) -> Counter[str]:
    return Counter(r.json()["messages"][-1]["content"].split()[-1] for r in llm.requests)


@pytest.mark.slow
def test_ten_thousand_calls_give_exactly_one_result_per_id(
    llm: FakeLLMServer, redis_url: str, tmp_path: Path
) -> None:
    llm.clear()
    backend = RedisBackend(redis_url, prefix=uuid.uuid4().hex)
    limiter = RequestLimiter(1_000_000, 60, name="rpm", backend=backend)
    seen: list[BatchSummary] = []
    summary = run_batch(
        items(10_000),
        model="echo",
        results_path=tmp_path / "results.jsonl",
        concurrency=64,
        limiters=[limiter],
        chunk_size=100,
        client_options=options(llm),
        progress=seen.append,
    )
    records = ResultsStore(tmp_path / "results.jsonl").records()
    assert summary.done == 10_000 and summary.failed == 0 and summary.calls_per_second > 0
    assert len(records) == 10_000 and len({r["id"] for r in records}) == 10_000
    assert all(r["output"] == f"item {r['id']}" for r in records)
    assert (
        seen and seen[-1].done == 10_000 and [s.done for s in seen] == sorted(s.done for s in seen)
    )
    assert sum(requested_ids(llm).values()) == 10_000  # no call was sent twice


def test_a_rerun_skips_every_id_that_has_a_result(llm: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    first = run_batch(items(50), model="echo", results_path=path, concurrency=8,
                      client_options=options(llm))  # fmt: skip
    llm.clear()
    again = run_batch(items(80), model="echo", results_path=path, concurrency=8,
                      client_options=options(llm))  # fmt: skip
    assert first.done == 50 and again.done == 30 and again.already_done == 50
    assert set(requested_ids(llm)) == {f"q{i}" for i in range(50, 80)}
    assert len(ResultsStore(path).records()) == 80


def test_an_actor_killed_mid_job_then_a_rerun_finishes_without_repeating(
    llm: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "results.jsonl"
    job = f"kill-{uuid.uuid4().hex[:6]}"
    killed: list[bool] = []

    def kill_one(summary: BatchSummary) -> None:
        if summary.done >= 300 and not killed:
            killed.append(True)
            ray.kill(ray.get_actor(f"atoll-batch-{job}-0"))

    with pytest.raises(BatchAbortedError) as info:
        run_batch(
            items(2000),
            model="echo",
            results_path=path,
            concurrency=16,
            chunk_size=20,
            client_options=options(llm),
            progress=kill_one,
            max_actor_failures=0,
            name=job,
        )
    assert info.value.remaining > 0 and "actor died" in info.value.reason
    first = {r["id"] for r in ResultsStore(path).records()}
    assert 300 <= len(first) < 2000
    llm.clear()
    summary = run_batch(items(2000), model="echo", results_path=path, concurrency=16,
                        client_options=options(llm))  # fmt: skip
    assert summary.already_done == len(first) and summary.done == 2000 - len(first)
    assert not first & set(requested_ids(llm)), "a finished id was paid for twice"
    records = ResultsStore(path).records()
    assert sorted(r["id"] for r in records) == sorted(i["id"] for i in items(2000))


def test_a_dead_actor_is_replaced_and_the_job_completes(llm: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    job = f"replace-{uuid.uuid4().hex[:6]}"
    killed: list[bool] = []

    def kill_one(summary: BatchSummary) -> None:
        if summary.done >= 200 and not killed:
            killed.append(True)
            ray.kill(ray.get_actor(f"atoll-batch-{job}-1"))

    summary = run_batch(
        items(1000),
        model="echo",
        results_path=path,
        concurrency=16,
        chunk_size=20,
        client_options=options(llm),
        progress=kill_one,
        name=job,
    )
    assert killed and summary.done == 1000
    records = ResultsStore(path).records()
    assert len(records) == 1000 and len({r["id"] for r in records}) == 1000


def test_limits_shared_through_redis_hold_across_actors(
    llm: FakeLLMServer, redis_url: str, tmp_path: Path
) -> None:
    backend = RedisBackend(redis_url, prefix=uuid.uuid4().hex)
    limiter = RequestLimiter(20, 1.0, name="rpm", backend=backend)
    llm.clear()
    started = time.monotonic()
    summary = run_batch(items(60), model="echo", results_path=tmp_path / "r.jsonl",
                        concurrency=16, chunk_size=10, actors=2, limiters=[limiter],
                        client_options=options(llm))  # fmt: skip
    elapsed = time.monotonic() - started
    assert summary.done == 60
    # 60 calls at 20 per second shared by both actors: the third window opens 2 s in. Two
    # unshared limiters would have let everything through within the first second.
    assert summary.seconds >= 2.0 and elapsed >= 2.0


class Twice:
    """An agent-shaped runner: built once per actor, called per item with the actor's client."""

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self, item: Mapping[str, Any], client: Client) -> dict[str, Any]:
        self.runs += 1
        first = await client.chat(item["payload"])
        second = await client.chat(first.text + " again")
        return {"answer": second.text, "calls": 2}


def test_a_runner_factory_runs_each_item(llm: FakeLLMServer, tmp_path: Path) -> None:
    inputs = [{"id": i, "payload": f"hello {i}"} for i in range(20)]
    summary = run_batch(inputs, model="echo", results_path=tmp_path / "r.jsonl", concurrency=4,
                        runner=Twice, client_options=options(llm))  # fmt: skip
    records = {r["id"]: r for r in ResultsStore(tmp_path / "r.jsonl").records()}
    assert summary.done == 20 and summary.failed == 0
    assert json.loads(records["7"]["output"]) == {"answer": "hello 7 again", "calls": 2}


def test_a_failed_call_is_a_typed_result_and_retry_failed_runs_it_again(
    llm: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "r.jsonl"
    bad = [{"id": "bad", "messages": [{"role": "robot", "content": "x"}]}, *items(5)]
    summary = run_batch(bad, model="echo", results_path=path, concurrency=4,
                        client_options=options(llm))  # fmt: skip
    failed = [r for r in ResultsStore(path).records() if r["status"] == "failed"]
    assert summary.failed == len(failed) == 1 and failed[0]["id"] == "bad"
    assert failed[0]["error_type"] == "ValueError" and "robot" in failed[0]["error_message"]
    again = run_batch(bad, model="echo", results_path=path, concurrency=4,
                      client_options=options(llm), retry_failed=True)  # fmt: skip
    assert again.done == 1 and again.already_done == 5


# Ray 2.60's own DataContext.get_current() reads its own deprecated settings on first use.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")
@pytest.mark.timeout(300)  # Ray Data starts its own actors for each run: slow on 2 cores
def test_ray_data_map_batches_writes_parquet_and_resumes(
    llm: FakeLLMServer, tmp_path: Path
) -> None:
    source = tmp_path / "inputs.jsonl"
    source.write_text("".join(json.dumps(i) + "\n" for i in items(200)))
    results = tmp_path / "results.parquet"
    summary = run_dataset(str(source), model="echo", results_path=results, concurrency=16,
                          actors=2, batch_size=50, client_options=options(llm))  # fmt: skip
    records = ResultsStore(results).records()
    assert summary.done == 200 and len({r["id"] for r in records}) == 200
    assert all(r["output"] == f"item {r['id']}" for r in records)
    again = run_dataset(str(source), model="echo", results_path=results, concurrency=16,
                        actors=2, batch_size=50, client_options=options(llm))  # fmt: skip
    assert again.done == 0 and again.already_done == 200


def test_actors_that_cannot_open_their_backend_abort_the_job_clearly(
    llm: FakeLLMServer, tmp_path: Path
) -> None:
    from tests.core_generic._redis_server import free_port

    dead = RedisBackend(f"redis://:hidden-pw@127.0.0.1:{free_port()}/0", timeout=1.0)
    with pytest.raises(BatchAbortedError) as info:
        run_batch(
            items(10),
            model="echo",
            results_path=tmp_path / "r.jsonl",
            concurrency=4,
            limiters=[RequestLimiter(10, 1, backend=dead)],
            client_options=options(llm),
        )
    assert "could not start" in info.value.reason and info.value.remaining == 10
    assert "hidden-pw" not in str(info.value)
    assert not (tmp_path / "r.jsonl").exists()
