"""Items in, result records out, and the results file that makes a job resumable.

An input item is a mapping with an ``id`` and either a ``prompt`` (a string) or ``messages``
(``[{"role": "user", "content": "..."}]``), plus optional ``options`` for the call (``max_tokens``,
``temperature``, ...). Every result is one flat record (the same columns in JSONL and Parquet):
``id``, ``status`` (``"completed"`` or ``"failed"``), ``output``, ``model``, ``input_tokens``,
``output_tokens``, ``cost``, ``error_type``, ``error_message``, ``seconds``.

The results file is the job's memory: a re-run reads the ids it holds and skips them, so a crash
or a preempted node loses nothing and pays nothing twice. JSONL is appended and flushed to disk
(``fsync``) after every chunk; a line torn by a crash is ignored. Parquet cannot be appended to,
so a ``.parquet`` path is a folder of part files, each written whole to a temporary name and
renamed.
"""

from __future__ import annotations

import importlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._exceptions import InvalidInputError


def load_module(name: str) -> Any:
    """Import an untyped optional dependency (pyarrow, ray) as ``Any``."""
    return importlib.import_module(name)


__all__ = [
    "RECORD_FIELDS",
    "BatchSummary",
    "ResultsStore",
    "iter_items",
    "load_module",
    "read_inputs",
]

RECORD_FIELDS = (
    "id",
    "status",
    "output",
    "model",
    "input_tokens",
    "output_tokens",
    "cost",
    "error_type",
    "error_message",
    "seconds",
)
"""The columns of a result record, in order."""


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did.

    Attributes:
        done: Items that got a result in this run (completed or failed).
        failed: Of those, the failed ones (a typed error is in their record).
        skipped: Items a limiter refused (a spent budget); they have no result and run again
            on the next run.
        cost: Total cost of this run's completed calls in USD (calls whose price is unknown
            add nothing; see ``unpriced``).
        seconds: Wall time of the run.
        already_done: Items skipped because the results file already had them.
        unpriced: Completed calls whose cost was unknown.
        results_path: Where the results are.
    """

    done: int
    failed: int
    skipped: int
    cost: float
    seconds: float
    already_done: int = 0
    unpriced: int = 0
    results_path: str = ""
    errors: dict[str, int] = field(default_factory=dict[str, int])
    """Failed items per error type."""

    @property
    def calls_per_second(self) -> float:
        """Items finished per second of wall time."""
        return self.done / self.seconds if self.seconds > 0 else 0.0


def _item_id(item: Mapping[str, Any]) -> str:
    raw = item.get("id")
    if raw is None or isinstance(raw, bool) or not isinstance(raw, str | int):
        raise InvalidInputError(None if raw is None else repr(raw), "needs an `id` (str or int)")
    return str(raw)


def iter_items(inputs: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Check each item and give it a string id.

    Raises:
        InvalidInputError: an item has no id, a duplicate id, or neither prompt nor messages.
    """
    seen: set[str] = set()
    for item in inputs:
        item_id = _item_id(item)
        if item_id in seen:
            raise InvalidInputError(item_id, "this id appears twice; ids key the results")
        seen.add(item_id)
        if not isinstance(item.get("prompt"), str) and not isinstance(item.get("messages"), list):
            if "payload" not in item:
                raise InvalidInputError(item_id, "needs a `prompt`, `messages` or `payload`")
        yield {**item, "id": item_id}


def read_inputs(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read input items from a JSONL file or a Parquet file or folder."""
    source = Path(path)
    if source.suffix == ".parquet" or source.is_dir():
        pq = load_module("pyarrow.parquet")

        return [dict(row) for row in pq.read_table(source).to_pylist()]
    with source.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class ResultsStore:
    """The results file of a job: JSONL (appended) or Parquet (a folder of parts).

    Args:
        path: ``*.jsonl`` for JSON lines; ``*.parquet`` for a folder of Parquet parts.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.suffix not in (".jsonl", ".parquet"):
            raise ValueError(f"results_path must end in .jsonl or .parquet, got {self.path}")
        self.parquet = self.path.suffix == ".parquet"

    def records(self) -> list[dict[str, Any]]:
        """Every record written so far (a torn last JSONL line is left out)."""
        if self.parquet:
            if not self.path.is_dir():
                return []
            pq = load_module("pyarrow.parquet")

            rows: list[dict[str, Any]] = []
            for part in sorted(self.path.glob("part-*.parquet")):
                rows += pq.read_table(part).to_pylist()
            return rows
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line torn by a crash: that item simply runs again
        return out

    def done_ids(self, *, retry_failed: bool = False) -> set[str]:
        """Ids that already have a result (failed ones too, unless ``retry_failed``)."""
        return {
            str(r["id"])
            for r in self.records()
            if not (retry_failed and r.get("status") == "failed")
        }

    def append(self, records: list[dict[str, Any]]) -> None:
        """Write ``records`` durably (flushed and synced before returning)."""
        if not records:
            return
        if self.parquet:
            self._append_parquet(records)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            # A previous crash may have left a torn line without its newline: start clean.
            if handle.tell() > 0 and not self._ends_with_newline():
                handle.write("\n")
            handle.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
            handle.flush()
            os.fsync(handle.fileno())

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as raw:
            raw.seek(-1, os.SEEK_END)
            return raw.read(1) == b"\n"

    def _append_parquet(self, records: list[dict[str, Any]]) -> None:
        pa = load_module("pyarrow")
        pq = load_module("pyarrow.parquet")

        self.path.mkdir(parents=True, exist_ok=True)
        schema = pa.schema(
            [
                ("id", pa.string()),
                ("status", pa.string()),
                ("output", pa.string()),
                ("model", pa.string()),
                ("input_tokens", pa.int64()),
                ("output_tokens", pa.int64()),
                ("cost", pa.float64()),
                ("error_type", pa.string()),
                ("error_message", pa.string()),
                ("seconds", pa.float64()),
            ]
        )
        table = pa.Table.from_pylist(
            [{k: r.get(k) for k in RECORD_FIELDS} for r in records], schema
        )
        name = f"part-{uuid.uuid4().hex}.parquet"
        temporary = self.path / f".{name}.tmp"
        pq.write_table(table, temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        temporary.rename(self.path / name)
