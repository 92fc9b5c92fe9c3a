"""``atoll batch --provider-batch`` and ``atoll batch --resume RECORD``: the providers' batch APIs.

``--provider-batch`` sends a prompts file (the ``atoll batch`` format) through the model's
provider batch API (OpenAI Batch, Anthropic Message Batches: half price, results within 24
hours) with ``atoll_dialects.BatchClient``, prints the job id and exits; the job is recorded in a
JSON file. ``--resume RECORD`` reattaches to that job (in any later process), waits for it with a
line of progress per change, and writes each result as a JSON line, in the order the provider
returns them (each carries its input ``line``), priced at the batch rate.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import msgspec
from atoll_dialects import BatchClient, BatchItemError, BatchJob, BatchResponse, BatchStatus

from . import _cli_errors as errors
from ._cli_batch import read_prompts
from ._stats import format_cost
from ._target import resolve_call

__all__ = ["run_provider_batch"]

_PREFIX = "line-"


def _usage(message: str) -> int:
    print(f"atoll batch: error: {message}", file=sys.stderr)
    return errors.USAGE


def run_provider_batch(args: argparse.Namespace) -> int:
    """``--provider-batch`` (submit) or ``--resume RECORD`` (wait and write the results)."""
    if args.resume is not None:
        if args.provider_batch or args.file is not None or args.model is not None:
            return _usage("--resume RECORD takes no FILE, -m or --provider-batch")
        return _resume(args)
    if args.file is None or args.model is None:
        return _usage("--provider-batch needs FILE and -m MODEL")
    return _submit(args)


def _sidecar(record: Path) -> Path:
    # Where the CLI keeps the prompts file's path: local only (a batch's metadata would send
    # the path to the provider).
    return record.with_name(record.name + ".source")


def _submit(args: argparse.Namespace) -> int:
    source = Path(args.file)
    prompts = read_prompts(source)
    record = Path(args.record) if args.record else source.with_name(source.stem + ".batch.json")
    options: dict[str, Any] = {}
    if args.max_tokens is not None:
        options["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        options["temperature"] = args.temperature
    if args.system is not None:
        options["system"] = args.system
    target = resolve_call(None, args.model, url=args.base_url)
    requests = {f"{_PREFIX}{p.number}": p.prompt for p in prompts}

    async def submit() -> BatchJob:
        arguments = target.client_args()
        async with BatchClient(arguments.pop("model"), **arguments) as client:
            return await client.submit(requests, record=record, **options)

    job = anyio.run(submit)
    _sidecar(record).write_text(str(source.resolve()), encoding="utf-8")
    parts = len(job.status.parts)
    print(job.id)
    print(
        f"atoll batch: job {job.id}: {len(prompts)} prompts in {parts} "
        f"{'batch' if parts == 1 else 'batches'} to {job.model}; recorded in {record}\n"
        f"atoll batch: for the results: atoll batch --resume {record}",
        file=sys.stderr,
    )
    return errors.OK


def _ids(record: Path) -> dict[int, Any]:
    """The prompts' own ids by input line, when the prompts file is still there."""
    try:
        source = Path(_sidecar(record).read_text(encoding="utf-8"))
        return {p.number: p.id for p in read_prompts(source)}
    except (OSError, ValueError):
        return {}


def _line(custom_id: str) -> int | None:
    number = custom_id.removeprefix(_PREFIX)
    return int(number) if custom_id.startswith(_PREFIX) and number.isdigit() else None


def _result(item: BatchResponse | BatchItemError, ids: dict[int, Any]) -> dict[str, Any]:
    line = _line(item.custom_id)
    out: dict[str, Any] = {"line": line, "id": ids.get(line) if line is not None else None}
    out["custom_id"] = item.custom_id
    out["batch_id"] = item.batch_id
    if isinstance(item, BatchItemError):
        kind = type(item.error).__name__ if item.error is not None else "BatchItemError"
        out["error"] = {"type": kind, "outcome": item.outcome, "message": item.message}
        return out
    return out | {
        "text": item.text,
        "finish_reason": item.finish_reason,
        "usage": msgspec.to_builtins(item.usage),
        "cost": None if item.cost is None else str(item.cost.total),
        "cost_note": item.cost_note,
        "served_by": item.served_by,
        "error": None,
    }


class _Progress:
    """One stderr line each time the job's state or counts change."""

    def __init__(self) -> None:
        self.last: tuple[object, ...] | None = None

    def __call__(self, status: BatchStatus) -> None:
        counts = status.counts
        key = (status.state, counts.done, counts.errored)
        if key == self.last:
            return
        self.last = key
        print(
            f"atoll batch: {status.state} · {counts.done}/{counts.total} done · "
            f"{counts.errored + counts.expired + counts.cancelled + counts.failed} not answered",
            file=sys.stderr,
            flush=True,
        )


def _resume(args: argparse.Namespace) -> int:
    record = Path(args.resume)
    try:
        facts = json.loads(record.read_text(encoding="utf-8"))
        model, custom = str(facts["model"]), bool(facts["custom_base_url"])
        base_url = str(facts["base_url"]) if custom else None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{record}: not an atoll batch job record") from exc
    output = Path(args.output) if args.output else record.with_name(record.stem + ".out.jsonl")
    target = resolve_call(None, model, url=base_url)
    ids = _ids(record)
    poll = args.poll

    async def wait_and_write() -> tuple[BatchStatus, int, int, Decimal | None]:
        arguments = target.client_args()
        async with BatchClient(arguments.pop("model"), **arguments) as client:
            job = client.load(record)
            status = await job.wait(
                progress=_Progress(), poll_interval=poll, max_interval=max(poll, 60.0)
            )
            with output.open("w", encoding="utf-8") as out:
                async with job.results() as results:
                    async for item in results:
                        out.write(json.dumps(_result(item, ids)) + "\n")
            return status, results.succeeded, results.failed, results.cost

    try:
        status, answered, failed, cost = anyio.run(wait_and_write)
    except KeyboardInterrupt:
        print(
            "atoll batch: interrupted; the job goes on at the provider: run "
            f"atoll batch --resume {record} again",
            file=sys.stderr,
        )
        return errors.INTERRUPTED
    print(
        f"atoll batch: job {status.job_id} {status.state}: {answered} of "
        f"{status.counts.total} answered, {failed} not; cost {format_cost(cost)} at the batch "
        f"price; results in {output}",
        file=sys.stderr,
    )
    return errors.OK if failed == 0 else errors.FAILED
