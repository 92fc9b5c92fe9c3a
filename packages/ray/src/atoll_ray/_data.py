"""Ray Data: chat calls (or runner items) as ``Dataset.map_batches`` with an async callable class.

``ChatBatches`` runs each batch on an Executor of its own (with the shared limiters) inside
the Ray Data actor and yields the result records as columns. ``run_dataset`` reads a JSONL or
Parquet dataset, leaves out the ids the results file already holds, and writes each result
batch to it as the streaming executor hands it back.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from typing import Any

import anyio
from atoll_generic import Limiter

from ._batch import ProgressCallback, _Tally  # pyright: ignore[reportPrivateUsage]
from ._records import RECORD_FIELDS, BatchSummary, ResultsStore, iter_items, load_module
from ._worker import RunnerFactory, WorkerCore

__all__ = ["ChatBatches", "run_dataset"]


def _rows(batch: Any) -> list[dict[str, Any]]:
    if hasattr(batch, "to_pylist"):  # a pyarrow Table
        return list(batch.to_pylist())
    if hasattr(batch, "to_dict"):  # a pandas DataFrame
        return list(batch.to_dict("records"))
    columns: dict[str, Any] = dict(batch)
    names = list(columns)
    size = len(columns[names[0]]) if names else 0
    return [{name: _plain(columns[name][i]) for name in names} for i in range(size)]


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    tolist = getattr(value, "tolist", None)  # a numpy array (a list column)
    return tolist() if callable(tolist) else value


class ChatBatches:
    """An async callable class for ``Dataset.map_batches``: one result row per input row.

    Example:
        >>> ds.map_batches(  # doctest: +SKIP
        ...     ChatBatches,
        ...     fn_constructor_kwargs={"model": "openai/gpt-4o-mini", "limiters": [rpm]},
        ...     concurrency=4,
        ...     batch_size=256,
        ... )

    Args:
        model: The model (or fallback list) to call.
        limiters: Limiters every call reserves from (share them with a ``RedisBackend``).
        concurrency: Calls in flight per actor.
        runner: As for :func:`~atoll_ray.run_batch`.
        client_options: Keyword arguments for the ``Client``.
        skip_ids: Ids to leave out (they already have a result); no row comes back for them.
    """

    def __init__(
        self,
        model: str | Sequence[str],
        *,
        limiters: Sequence[Limiter] = (),
        concurrency: int = 16,
        runner: RunnerFactory | None = None,
        client_options: Mapping[str, Any] | None = None,
        skip_ids: Collection[str] = frozenset(),
    ) -> None:
        self.args = (model, dict(client_options or {}), list(limiters), concurrency, runner)
        self.skip_ids = frozenset(skip_ids)

    async def __call__(self, batch: Any) -> AsyncIterator[dict[str, list[Any]]]:
        """Run the batch's rows; yield their records as columns."""
        rows = [row for row in iter_items(_rows(batch)) if row["id"] not in self.skip_ids]
        records: list[dict[str, Any]] = []
        if rows:
            core = WorkerCore(*self.args)
            async with anyio.create_task_group() as tg:
                tg.start_soon(core.serve)
                records = await core.run_chunk(rows)
                core.stop()
        columns: dict[str, list[Any]] = {name: [] for name in (*RECORD_FIELDS, "reason")}
        for record in records:
            for name in columns:
                columns[name].append(record.get(name))
        yield columns


def run_dataset(
    dataset: Any,
    *,
    model: str | Sequence[str],
    results_path: str | os.PathLike[str],
    concurrency: int = 32,
    limiters: Sequence[Limiter] = (),
    actors: int = 2,
    batch_size: int = 256,
    runner: RunnerFactory | None = None,
    client_options: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    retry_failed: bool = False,
    actor_cpus: float = 0.5,
) -> BatchSummary:
    """Run a Ray Dataset (or a JSONL/Parquet path) through :class:`ChatBatches`; resumable.

    Args:
        dataset: A ``ray.data.Dataset`` with an ``id`` column, or the path of a ``.jsonl``
            file or a Parquet file or folder.
        model: The model (or fallback list) to call.
        results_path: ``*.jsonl`` or ``*.parquet``; ids already in it are left out.
        concurrency: Calls in flight across all actors.
        limiters: Limiters every call reserves from; give them a ``RedisBackend`` so the
            actors share them.
        actors: Ray Data actors running ``ChatBatches``.
        batch_size: Rows per batch.
        runner: As for :func:`~atoll_ray.run_batch`.
        client_options: Keyword arguments for each ``Client``.
        progress: Called after each result batch with the summary so far.
        retry_failed: Run again the items whose recorded result is a failure.
        actor_cpus: CPUs each ``ChatBatches`` actor reserves. The work waits on the network,
            and actors holding whole CPUs would leave none for the read tasks that feed them.
    """
    ray = load_module("ray")

    if not ray.is_initialized():
        ray.init()
    if isinstance(dataset, str | os.PathLike):
        path: str = os.fspath(dataset)  # pyright: ignore[reportUnknownArgumentType]
        is_json = path.endswith(".jsonl")
        dataset = ray.data.read_json(path) if is_json else ray.data.read_parquet(path)
    store = ResultsStore(results_path)
    finished = store.done_ids(retry_failed=retry_failed)
    # The finished ids travel to each actor once and are left out there (a filter stage
    # would need a Python function per row); already_done is what the results file held.
    tally = _Tally(store, len(finished))
    per_actor = max(1, -(-concurrency // max(1, actors)))
    mapped = dataset.map_batches(
        ChatBatches,
        fn_constructor_args=(model,),
        fn_constructor_kwargs={
            "limiters": list(limiters),
            "concurrency": per_actor,
            "runner": runner,
            "client_options": dict(client_options or {}),
            "skip_ids": frozenset(finished),
        },
        concurrency=actors,
        batch_size=batch_size,
        num_cpus=actor_cpus,
    )
    for batch in mapped.iter_batches(batch_size=None, batch_format="pyarrow"):
        records = [
            {k: v for k, v in r.items() if k != "reason"} | {"status": r["status"]}
            for r in batch.to_pylist()
        ]
        tally.add(records)
        if progress is not None:
            progress(tally.summary())
    return tally.summary()
