"""Large batches of chat calls or agent runs on a Ray cluster, resumable by item id.

``run_batch`` spreads items over a pool of Ray actors, each holding one ``atoll_dialects.Client``
and one ``atoll_generic.Executor``, with limits shared through a ``RedisBackend``; every result
is written to a JSONL or Parquet results file as it comes back, and a re-run skips the ids that
already have one. ``ChatBatches`` plugs the same calls into Ray Data (``Dataset.map_batches``).
Ray is imported only when a batch runs.
"""

from __future__ import annotations

from ._batch import ProgressCallback, run_batch
from ._data import ChatBatches, run_dataset
from ._exceptions import AtollRayError, BatchAbortedError, InvalidInputError
from ._records import RECORD_FIELDS, BatchSummary, ResultsStore, read_inputs
from ._worker import ItemRunner, RunnerFactory

__version__ = "0.1.0"

for _cls in (AtollRayError, BatchAbortedError, InvalidInputError):
    _cls.__module__ = __name__

__all__: tuple[str, ...] = (
    "AtollRayError",
    "BatchAbortedError",
    "BatchSummary",
    "ChatBatches",
    "InvalidInputError",
    "ItemRunner",
    "ProgressCallback",
    "RECORD_FIELDS",
    "ResultsStore",
    "RunnerFactory",
    "read_inputs",
    "run_batch",
    "run_dataset",
)
