"""``atoll batch -m MODEL FILE.jsonl``: many prompts on the Executor, resumable.

(``--provider-batch`` and ``--resume`` send them through the providers' batch APIs instead:
``_cli_provider_batch``.)

Each input line is a JSON string (the prompt) or an object with ``"prompt"`` and an optional
``"id"``. Results are appended to the output file as each call finishes (so an interruption
loses only the calls in flight), and the file is rewritten in input order at the end, or on
Ctrl-C. Run the same command again and the lines already answered are skipped; failed lines are
tried again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, cast

import anyio
import msgspec
from atoll_dialects import CallEvent, ClientResponse, RetryPolicy
from atoll_generic import EventStatus, Executor

from . import _cli_errors as errors
from ._progress import ProgressBar
from ._stats import format_cost
from ._target import resolve_call


@dataclass
class Line:
    """One prompt of the input file."""

    number: int
    prompt: str
    id: Any = None


def _object(value: Any) -> dict[str, Any] | None:
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def read_prompts(path: Path) -> list[Line]:
    """The prompts of a JSONL file, numbered by input line (blank lines skipped).

    Raises:
        ValueError: A line that is not a JSON string or an object with a string ``prompt``.
    """
    lines: list[Line] = []
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if isinstance(value, str):
                lines.append(Line(number, value))
            elif (item := _object(value)) is not None and isinstance(item.get("prompt"), str):
                lines.append(Line(number, item["prompt"], item.get("id")))
            else:
                raise ValueError(
                    f'{path}:{number}: a prompt is a JSON string or {{"prompt": "...", "id": ...}}'
                )
    return lines


def read_results(path: Path) -> dict[int, dict[str, Any]]:
    """Results already in the output file, by input line (a cut-off last line is ignored)."""
    found: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return found
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(text)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash: that call runs again
        result = _object(item)
        if result is not None and isinstance(result.get("line"), int):
            previous = found.get(result["line"])
            if previous is None or previous.get("error") is not None:
                found[result["line"]] = result
    return found


def write_in_order(path: Path, results: dict[int, dict[str, Any]]) -> None:
    """Rewrite the output file in input order, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for number in sorted(results):
            handle.write(json.dumps(results[number]) + "\n")
    os.replace(tmp, path)


def _result(line: Line, event: CallEvent) -> dict[str, Any]:
    item: dict[str, Any] = {"line": line.number, "id": line.id, "prompt": line.prompt}
    response = event.response
    if event.status is EventStatus.COMPLETED and isinstance(response, ClientResponse):
        item |= {
            "text": response.text,
            "finish_reason": response.finish_reason,
            "usage": msgspec.to_builtins(response.usage),
            "cost": None if response.cost is None else str(response.cost.total),
            "cost_note": response.cost_note,
            "served_by": response.served_by,
            "error": None,
        }
    else:
        error = event.execution.error
        item["error"] = {
            "type": error.type if error else event.status.value,
            "message": error.message if error else "",
        }
    return item


class _Run:
    """The state of one batch run: the output file, the cost so far, the outcome."""

    def __init__(self, output: IO[str]) -> None:
        self.output = output
        self.cost = Decimal(0)
        self.unknown = 0
        self.failed = 0
        self.results: dict[int, dict[str, Any]] = {}

    def record(self, item: dict[str, Any]) -> None:
        self.results[item["line"]] = item
        self.output.write(json.dumps(item) + "\n")
        self.output.flush()
        if item["error"] is not None:
            self.failed += 1
        elif item["cost"] is None:
            self.unknown += 1
        else:
            self.cost += Decimal(item["cost"])

    def cost_text(self) -> str:
        unknown = f" (+{self.unknown} unknown)" if self.unknown else ""
        return f"{format_cost(self.cost)}{unknown}"


async def _execute(args: argparse.Namespace, pending: list[Line], run: _Run) -> None:
    retries = 2 if args.retries is None else args.retries
    target = resolve_call(None, args.model, url=args.base_url)
    options: dict[str, Any] = {}
    if args.max_tokens is not None:
        options["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        options["temperature"] = args.temperature
    if args.system is not None:
        options["system"] = args.system
    bar = ProgressBar(len(pending), extra=run.cost_text)
    async with target.async_client(retry=RetryPolicy(attempts=retries + 1)) as client:
        events: dict[int, tuple[Line, CallEvent]] = {}
        for line in pending:
            event = CallEvent.of(client, line.prompt, **options)
            events[id(event)] = (line, event)
        async with Executor(max_concurrency=args.concurrency, on_progress=bar) as executor:
            finished = executor.as_completed(until_closed=True)

            async def feed() -> None:
                for _, event in events.values():
                    await executor.submit(event)
                await executor.join()
                await executor.aclose()

            async with anyio.create_task_group() as group:
                group.start_soon(feed)
                async for event in finished:
                    line, call = events[id(event)]
                    run.record(_result(line, call))


def run_batch(args: argparse.Namespace) -> int:
    """Run the batch; exit 1 when some lines failed (run again to retry them)."""
    if args.provider_batch or args.resume is not None:
        from ._cli_provider_batch import run_provider_batch

        return run_provider_batch(args)
    if args.file is None or args.model is None:
        print("atoll batch: error: FILE and -m MODEL are required", file=sys.stderr)
        return errors.USAGE
    source = Path(args.file)
    output = Path(args.output) if args.output else source.with_name(source.stem + ".out.jsonl")
    prompts = read_prompts(source)
    previous = read_results(output)
    done = {n for n, r in previous.items() if r.get("error") is None}
    pending = [line for line in prompts if line.number not in done]
    if done:
        print(
            f"atoll batch: resuming: {len(done)} of {len(prompts)} lines already in {output}",
            file=sys.stderr,
        )
    run = _Run(output.open("a", encoding="utf-8"))
    run.results.update(previous)
    interrupted = False
    try:
        if pending:
            anyio.run(_execute, args, pending, run)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        run.output.close()
        write_in_order(output, run.results)
    answered = sum(1 for r in run.results.values() if r.get("error") is None)
    print(
        f"atoll batch: {answered} of {len(prompts)} lines answered, {run.failed} failed this run, "
        f"cost this run {run.cost_text()}; results in {output}",
        file=sys.stderr,
    )
    if interrupted:
        print("atoll batch: interrupted; run the same command again to resume", file=sys.stderr)
        return errors.INTERRUPTED
    return errors.OK if answered == len(prompts) else errors.FAILED
