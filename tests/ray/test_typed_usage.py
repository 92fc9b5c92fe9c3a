"""Typed usage of the public API: pyright checks these `assert_type`s; pytest runs them."""

from __future__ import annotations

from pathlib import Path
from typing import assert_type

import atoll_ray
from atoll_ray import BatchSummary, ResultsStore


def test_public_api_is_typed(tmp_path: Path) -> None:
    summary = BatchSummary(done=2, failed=0, skipped=0, cost=0.0, seconds=1.0)
    assert_type(summary.calls_per_second, float)
    store = ResultsStore(tmp_path / "r.jsonl")
    assert_type(store.done_ids(), set[str])
    assert callable(atoll_ray.run_batch) and callable(atoll_ray.run_dataset)
    assert summary.calls_per_second == 2.0 and store.records() == []
