"""``run_batch``: a large batch of chat calls or agent runs on a Ray actor pool, resumable by id.

The driver reads the results file, leaves out the ids it already holds, cuts the rest into
chunks and keeps every actor busy with a few chunks at a time. Each actor holds one Client and
one Executor and shares the limiters (through their Redis backend) with every other actor and
process. Records are written as each chunk comes back, so an interrupted job -- a crashed
driver, a preempted node -- is finished by running it again, and only the items that were in
flight are sent twice. An actor that dies mid-job is replaced and its unfinished chunks go to
the queue again, up to ``max_actor_failures`` times.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from atoll_generic import Limiter

from ._exceptions import BatchAbortedError
from ._records import BatchSummary, ResultsStore, iter_items, load_module, read_inputs
from ._worker import RunnerFactory, WorkerCore, per_actor, share_limiters

__all__ = ["ProgressCallback", "run_batch"]

ProgressCallback = Callable[[BatchSummary], None]
"""Called on the driver after each chunk with the run's summary so far."""


def _actor_class() -> Any:
    ray = load_module("ray")

    class BatchActor:
        """A Ray actor around one :class:`WorkerCore`."""

        def __init__(self, *args: Any) -> None:
            self.core = WorkerCore(*args)

        async def serve(self) -> None:
            await self.core.serve()

        async def run_chunk(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return await self.core.run_chunk(items)

        async def ready(self) -> bool:
            await self.core.ready()
            return True

        async def stop(self) -> None:
            self.core.stop()

    return ray.remote(BatchActor)


class _Tally:
    def __init__(self, store: ResultsStore, already: int) -> None:
        self.store = store
        self.already = already
        self.done = self.failed = self.skipped = self.unpriced = 0
        self.cost = 0.0
        self.errors: Counter[str] = Counter()
        self.started = time.monotonic()

    def add(self, records: list[dict[str, Any]]) -> None:
        results = [r for r in records if r.get("status") != "skipped"]
        self.skipped += len(records) - len(results)
        self.store.append(results)
        for record in results:
            self.done += 1
            if record["status"] == "failed":
                self.failed += 1
                self.errors[str(record.get("error_type"))] += 1
            elif record.get("cost") is None:
                self.unpriced += 1
            else:
                self.cost += float(record["cost"])

    def summary(self) -> BatchSummary:
        return BatchSummary(
            done=self.done,
            failed=self.failed,
            skipped=self.skipped,
            cost=round(self.cost, 10),
            seconds=time.monotonic() - self.started,
            already_done=self.already,
            unpriced=self.unpriced,
            results_path=str(self.store.path),
            errors=dict(self.errors),
        )


def run_batch(
    inputs: Iterable[Mapping[str, Any]] | str | os.PathLike[str],
    *,
    model: str | Sequence[str],
    results_path: str | os.PathLike[str],
    concurrency: int = 32,
    limiters: Sequence[Limiter] = (),
    actors: int | None = None,
    chunk_size: int = 32,
    runner: RunnerFactory | None = None,
    client_options: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    retry_failed: bool = False,
    max_actor_failures: int = 3,
    actor_options: Mapping[str, Any] | None = None,
    name: str | None = None,
    startup_timeout: float = 180.0,
) -> BatchSummary:
    """Run every item that has no result yet on a pool of Ray actors; write each result.

    Connects to the Ray cluster of ``RAY_ADDRESS`` (or starts a local one) unless Ray is
    already initialized.

    Args:
        inputs: Items (mappings with an ``id`` and a ``prompt`` or ``messages``, optional
            ``options``), or the path of a JSONL or Parquet file of them.
        model: The model (or fallback list) every actor's Client calls.
        results_path: ``*.jsonl`` or ``*.parquet`` (a folder of parts). Ids already in it are
            skipped: re-running a job finishes it.
        concurrency: Calls in flight across the whole pool.
        limiters: Limiters every call reserves from. With a ``RedisBackend`` they are shared
            by every actor (and any other process); in-process ones are split into one share
            per actor.
        actors: Actors in the pool (default: the cluster's CPUs, at most one per chunk).
        chunk_size: Items per task sent to an actor; smaller chunks mean results come back
            sooner and fewer calls repeat when an actor dies.
        runner: A picklable factory, called once per actor, whose result runs each item as
            ``await runner_instance(item, client)`` (an agent run, say); None runs
            ``client.chat``. Items for a runner may carry any ``payload``.
        client_options: Keyword arguments for each actor's ``Client`` (``base_url``,
            ``api_key``, ``retry``, ``timeout``, ``dialect``). Prefer the provider's key in the
            cluster's environment to ``api_key``.
        progress: Called after each chunk with the summary so far.
        retry_failed: Run again the items whose recorded result is a failure.
        max_actor_failures: Actor deaths tolerated (each is replaced); one more aborts.
        actor_options: Extra ``.options(...)`` for each actor (``num_cpus``, resources, ...).
        name: A name for the job; actors are named ``atoll-batch-{name}-{n}``.
        startup_timeout: Seconds the actors have to start (and open their Client and
            backends) before the job is aborted.

    Returns:
        What this run did.

    Raises:
        InvalidInputError: an item without an id, with a duplicate id or nothing to send.
        BatchAbortedError: actors kept dying or could not start; the results so far are
            written and a re-run finishes the rest.
    """
    ray = load_module("ray")

    if not ray.is_initialized():
        ray.init()
    store = ResultsStore(results_path)
    finished = store.done_ids(retry_failed=retry_failed)
    source = read_inputs(inputs) if isinstance(inputs, str | os.PathLike) else inputs
    pending: list[dict[str, Any]] = []
    already = 0
    for item in iter_items(source):
        if item["id"] in finished:
            already += 1
        else:
            pending.append(item)
    tally = _Tally(store, already)
    if not pending:
        return tally.summary()
    chunks = deque(pending[i : i + chunk_size] for i in range(0, len(pending), chunk_size))
    cpus = int(ray.cluster_resources().get("CPU", 1))
    size = max(1, min(actors or cpus, len(chunks)))
    pool = _Pool(
        size=size,
        job=name or uuid.uuid4().hex[:8],
        args=(
            model,
            dict(client_options or {}),
            share_limiters(limiters, size),
            per_actor(concurrency, size),
            runner,
        ),
        options=dict(actor_options or {}),
        depth=max(2, math.ceil(per_actor(concurrency, size) / chunk_size) + 1),
    )
    try:
        pool.wait_ready(startup_timeout, tally, chunks)
        pool.run(chunks, tally, progress, max_actor_failures)
    finally:
        pool.close()
    return tally.summary()


class _Pool:
    """The actors, the chunks each holds, and their replacement when one dies."""

    def __init__(
        self, *, size: int, job: str, args: tuple[Any, ...], options: dict[str, Any], depth: int
    ) -> None:
        self.cls = _actor_class()
        self.job = job
        self.args = args
        self.options = options
        self.depth = depth
        self.actors: list[Any] = []
        self.serving: list[Any] = []
        self.generation = [0] * size
        for index in range(size):
            self._start(index)

    def _start(self, index: int) -> None:
        suffix = f"-r{self.generation[index]}" if self.generation[index] else ""
        handle = self.cls.options(
            name=f"atoll-batch-{self.job}-{index}{suffix}", **self.options
        ).remote(*self.args)
        serving = handle.serve.remote()
        if index < len(self.actors):
            self.actors[index], self.serving[index] = handle, serving
        else:
            self.actors.append(handle)
            self.serving.append(serving)

    def run(
        self,
        chunks: deque[list[dict[str, Any]]],
        tally: _Tally,
        progress: ProgressCallback | None,
        max_failures: int,
    ) -> None:
        ray = load_module("ray")
        RayActorError = load_module("ray.exceptions").RayActorError

        inflight: dict[Any, tuple[int, list[dict[str, Any]]]] = {}
        load = [0] * len(self.actors)
        failures = 0
        while chunks or inflight:
            for index in range(len(self.actors)):
                while chunks and load[index] < self.depth:
                    chunk = chunks.popleft()
                    inflight[self.actors[index].run_chunk.remote(chunk)] = (index, chunk)
                    load[index] += 1
            # A bounded wait: Ctrl-C (and any signal handler) runs between two waits.
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=1.0)
            for ref in ready:
                index, chunk = inflight.pop(ref)
                load[index] -= 1
                try:
                    records = ray.get(ref)
                except RayActorError as exc:
                    failures += 1
                    chunks.appendleft(chunk)
                    if failures > max_failures:
                        raise self._abort(tally, chunks, inflight, f"actor died: {exc}") from exc
                    self._replace(index, inflight, chunks, load)
                    continue
                except ray.exceptions.RayTaskError as exc:
                    chunks.appendleft(chunk)
                    raise self._abort(tally, chunks, inflight, str(exc)) from exc
                tally.add(records)
                if progress is not None:
                    progress(tally.summary())

    def wait_ready(
        self, timeout: float, tally: _Tally, chunks: deque[list[dict[str, Any]]]
    ) -> None:
        """Wait until every actor has opened its Client, Executor and backends."""
        ray = load_module("ray")
        pending = [actor.ready.remote() for actor in self.actors]
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=1.0)
            for ref in done:
                try:
                    ray.get(ref)
                except Exception as exc:  # the actor could not open (Redis down, bad model, ...)
                    raise self._abort(
                        tally, chunks, {}, f"an actor could not start: {exc}"
                    ) from exc
        if pending:
            raise self._abort(
                tally,
                chunks,
                {},
                f"{len(pending)} of {len(self.actors)} actors did not start within {timeout:g}s "
                "(can the cluster's workers import ray and atoll_ray?)",
            )

    def _replace(
        self,
        index: int,
        inflight: dict[Any, tuple[int, list[dict[str, Any]]]],
        chunks: deque[list[dict[str, Any]]],
        load: list[int],
    ) -> None:
        # The dead actor's other chunks fail too; take them back now rather than one by one.
        for ref, (owner, chunk) in list(inflight.items()):
            if owner == index:
                del inflight[ref]
                chunks.appendleft(chunk)
        load[index] = 0
        self.generation[index] += 1
        self._start(index)

    def _abort(
        self,
        tally: _Tally,
        chunks: deque[list[dict[str, Any]]],
        inflight: dict[Any, tuple[int, list[dict[str, Any]]]],
        reason: str,
    ) -> BatchAbortedError:
        remaining = sum(len(c) for c in chunks) + sum(len(c) for _, c in inflight.values())
        return BatchAbortedError(
            tally.done + tally.already, remaining, reason, str(tally.store.path)
        )

    def close(self) -> None:
        """Let each actor finish and close its Client, then free it."""
        ray = load_module("ray")

        stops = [actor.stop.remote() for actor in self.actors]
        try:
            ray.wait(stops + self.serving, num_returns=len(stops) + len(self.serving), timeout=30)
        finally:
            for actor in self.actors:
                ray.kill(actor)
