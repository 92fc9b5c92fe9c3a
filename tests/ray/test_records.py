"""Inputs, result records and the results file, without Ray."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from atoll_ray import BatchAbortedError, BatchSummary, InvalidInputError, ResultsStore, read_inputs
from atoll_ray._records import iter_items  # pyright: ignore[reportPrivateUsage]


def record(item_id: str, status: str = "completed") -> dict[str, object]:
    return {"id": item_id, "status": status, "output": "x", "model": "m", "input_tokens": 1,
            "output_tokens": 2, "cost": 0.5, "error_type": None, "error_message": None,
            "seconds": 0.1}  # fmt: skip


def test_items_need_unique_ids_and_something_to_send() -> None:
    assert [
        i["id"] for i in iter_items([{"id": 1, "prompt": "a"}, {"id": "b", "prompt": "c"}])
    ] == ["1", "b"]
    with pytest.raises(InvalidInputError, match="appears twice"):
        list(iter_items([{"id": 1, "prompt": "a"}, {"id": "1", "prompt": "b"}]))
    with pytest.raises(InvalidInputError, match="needs an `id`"):
        list(iter_items([{"prompt": "a"}]))
    with pytest.raises(InvalidInputError, match="needs a `prompt`"):
        list(iter_items([{"id": 3}]))


def test_jsonl_results_survive_a_torn_last_line(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.jsonl")
    store.append([record("a"), record("b", "failed")])
    with store.path.open("a") as handle:
        handle.write('{"id": "c", "sta')  # a crash in the middle of a line
    assert store.done_ids() == {"a", "b"}
    assert store.done_ids(retry_failed=True) == {"a"}
    store.append([record("c")])
    assert [r["id"] for r in store.records()] == ["a", "b", "c"]


def test_parquet_results_are_a_folder_of_whole_parts(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.parquet")
    store.append([record("a")])
    store.append([record("b"), record("c", "failed")])
    assert len(list(store.path.glob("part-*.parquet"))) == 2
    assert not list(store.path.glob(".*.tmp"))
    assert store.done_ids() == {"a", "b", "c"} and store.records()[0]["cost"] == 0.5
    with pytest.raises(ValueError):
        ResultsStore(tmp_path / "r.csv")


def test_inputs_read_from_jsonl_and_parquet(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "prompt": "a"}\n\n{"id": 2, "prompt": "b"}\n')
    assert [i["id"] for i in read_inputs(source)] == [1, 2]
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"id": "x", "prompt": "p"}]), tmp_path / "in.parquet")
    assert read_inputs(tmp_path / "in.parquet") == [{"id": "x", "prompt": "p"}]


def test_summary_and_errors() -> None:
    summary = BatchSummary(done=10, failed=1, skipped=0, cost=0.25, seconds=2.0)
    assert summary.calls_per_second == 5.0
    assert BatchSummary(done=0, failed=0, skipped=0, cost=0.0, seconds=0.0).calls_per_second == 0
    error = BatchAbortedError(5, 7, "actor died", "/tmp/r.jsonl")
    copy = pickle.loads(pickle.dumps(error))
    assert (
        copy.remaining == 7 and "run it again" in str(copy) and type(copy).__module__ == "atoll_ray"
    )
