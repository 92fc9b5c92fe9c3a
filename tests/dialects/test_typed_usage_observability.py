"""Typed usage of the observability API, as a user writes it (checked by pyright, run by pytest)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import anyio
from atoll_dialects import (
    AnyEvent,
    Callback,
    Callbacks,
    Client,
    FallbackUsed,
    FirstToken,
    JsonlSink,
    Redactor,
    RequestFailed,
    RequestFinished,
    RequestStarted,
    RetryScheduled,
    SyncClient,
    TelemetryEvent,
    decode_event,
)


class Spend:
    """A callback that adds up what calls cost and how many tokens they used."""

    def __init__(self) -> None:
        self.total = Decimal(0)
        self.unpriced = 0
        self.tokens = 0
        self.log: list[str] = []

    def __call__(self, event: TelemetryEvent) -> None:
        match event:
            case RequestFinished(cost=cost, usage=usage):
                if cost is None:
                    self.unpriced += 1
                else:
                    self.total += cost
                self.tokens += usage.total_tokens or 0
            case RetryScheduled(attempt=attempt, wait=wait):
                self.log.append(f"retry {attempt} in {wait:.2f}s")
            case FallbackUsed(from_model=old, to_model=new):
                self.log.append(f"{old} -> {new}")
            case RequestFailed(error=error) | RequestStarted(operation=error):
                self.log.append(error)
            case FirstToken(elapsed=elapsed):
                self.log.append(f"ttft {elapsed:.3f}")
            case _:
                pass


def make(path: Path) -> tuple[Client, SyncClient, JsonlSink]:
    spend = Spend()
    sink = JsonlSink(path)
    callbacks: list[Callback] = [spend, sink]
    redactor = Redactor(emails=True, rules=[r"ACCT-\d+"], secrets=["a-long-secret-value"])
    client = Client(
        "echo", base_url="http://127.0.0.1:9/v1", callbacks=callbacks, redactor=redactor
    )
    shared = Callbacks([spend], max_queue=10)
    sync = SyncClient("echo", base_url="http://127.0.0.1:9/v1", callbacks=shared)
    return client, sync, sink


def replay(path: Path) -> list[AnyEvent]:
    return [decode_event(line) for line in path.read_bytes().splitlines()]


def test_typed_usage(tmp_path: Path) -> None:
    spend = Spend()
    spend(
        RequestFinished(
            call_id="c",
            model="m",
            provider="p",
            time=0.0,
            operation="chat",
            duration=1.0,
            served_by="p/m",
            cost=Decimal("0.5"),
        )
    )
    assert spend.total == Decimal("0.5")
    client, sync, sink = make(tmp_path / "events.jsonl")
    sink(RetryScheduled(call_id="c", model="m", provider="p", time=0.0, attempt=1, error="E"))
    sink.close()
    (event,) = replay(tmp_path / "events.jsonl")
    assert isinstance(event, RetryScheduled)
    assert client.redactor.emails and sync.callbacks is not None
    sync.close()
    anyio.run(client.aclose)
