"""Event lifecycle: enforced transitions, captured errors, cancellation, streams, serialization."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from atoll_generic import (
    Element,
    ErrorInfo,
    Event,
    EventStatus,
    Execution,
    IllegalTransitionError,
    MalformedDataError,
)
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

pytestmark = pytest.mark.anyio


class Add(Event):
    a: int = 1
    b: int = 2
    calls: int = 0

    async def invoke(self) -> int:
        self.calls += 1
        return self.a + self.b


class Boom(Event):
    async def invoke(self) -> None:
        raise LookupError("no such thing")


class Slow(Event):
    async def invoke(self) -> None:
        await anyio.sleep(10)


class Chunks(Event):
    n: int = 3

    async def stream(self) -> AsyncIterator[Any]:
        for i in range(self.n):
            yield f"c{i}"


async def test_run_completes_and_records_the_response() -> None:
    ev = Add(a=2, b=3)
    assert ev.status is EventStatus.PENDING
    record = await ev.run()
    assert record is ev.execution
    assert ev.status is EventStatus.COMPLETED and ev.response == 5
    assert record.attempts == 1 and record.error is None
    assert record.started_at is not None and record.ended_at is not None
    assert record.ended_at >= record.started_at and record.duration is not None


async def test_failure_is_captured_not_raised() -> None:
    ev = Boom()
    await ev.run()
    assert ev.status is EventStatus.FAILED
    assert ev.execution.error == ErrorInfo(type="LookupError", message="no such thing")
    assert isinstance(ev.execution.exception, LookupError)


async def test_error_details_keep_scalar_attributes() -> None:
    class Rich(Exception):
        def __init__(self) -> None:
            super().__init__("rate limited")
            self.status = 429
            self.retry_after = 1.5
            self.body = {"not": "scalar"}
            self._private = "hidden"

    class Raises(Event):
        async def invoke(self) -> None:
            raise Rich()

    ev = Raises()
    await ev.run()
    assert ev.execution.error is not None
    assert ev.execution.error.details == {"status": 429, "retry_after": 1.5}


async def test_regression_1_a_finished_event_cannot_run_again() -> None:
    """Ancestor defect 1 (event level): re-running a finished event invoked it again."""
    ev = Add()
    await ev.run()
    with pytest.raises(IllegalTransitionError) as info:
        await ev.run()
    assert info.value.current == "completed" and info.value.target == "processing"
    assert info.value.event_id == ev.id
    assert ev.calls == 1 and ev.execution.attempts == 1


async def test_regression_12_cancelled_event_is_cancelled_not_failed() -> None:
    """Ancestor defect 12: a cancelled event was recorded as FAILED."""
    ev = Slow()
    with anyio.move_on_after(0.05):
        await ev.run()
    assert ev.status is EventStatus.CANCELLED
    assert ev.execution.ended_at is not None


async def test_cancellation_is_reraised() -> None:
    ev = Slow()
    async with anyio.create_task_group() as tg:
        tg.start_soon(ev.run)
        await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    assert ev.status is EventStatus.CANCELLED


def test_transitions_are_enforced() -> None:
    ex = Execution()
    with pytest.raises(IllegalTransitionError):
        ex.transition(EventStatus.COMPLETED)
    ex.transition("processing")
    ex.status = EventStatus.FAILED  # assignment goes through the same check
    for target in EventStatus:
        with pytest.raises(IllegalTransitionError):
            ex.transition(target)
    with pytest.raises(ValueError, match="not-a-status"):
        Execution().transition("not-a-status")


def test_every_terminal_status_is_final() -> None:
    terminal = [s for s in EventStatus if s.is_terminal]
    assert set(terminal) == {"completed", "failed", "cancelled", "skipped"}
    ev = Add()
    ev.skip("not allowed")
    assert ev.status is EventStatus.SKIPPED and ev.execution.reason == "not allowed"
    with pytest.raises(IllegalTransitionError):
        ev.cancel("late")


async def test_default_invoke_fails_clearly() -> None:
    ev = Event()
    await ev.run()
    assert ev.status is EventStatus.FAILED
    assert ev.execution.error is not None and ev.execution.error.type == "NotImplementedError"


async def test_run_stream_yields_chunks_and_collects() -> None:
    ev = Chunks(n=3)
    got = [c async for c in ev.run_stream()]
    assert got == ["c0", "c1", "c2"]
    assert ev.status is EventStatus.COMPLETED and ev.response == got


async def test_run_stream_closed_early_is_cancelled() -> None:
    ev = Chunks(n=5)
    gen = ev.run_stream()
    assert await gen.__anext__() == "c0"
    await gen.aclose()  # type: ignore[attr-defined]
    assert ev.status is EventStatus.CANCELLED
    assert ev.execution.reason == "stream closed by consumer"


async def test_run_stream_without_stream_fails() -> None:
    ev = Add()
    assert [c async for c in ev.run_stream()] == []
    assert ev.status is EventStatus.FAILED


async def test_events_serialize_with_their_execution() -> None:
    ev = Add(a=4, b=5)
    await ev.run()
    data = json.loads(json.dumps(ev.to_dict()))
    assert data["kind"] == Add.kind() and data["execution"]["status"] == "completed"
    back = Element.from_dict(data)
    assert isinstance(back, Add)
    assert back.status is EventStatus.COMPLETED and back.response == 9
    assert back.execution.duration == ev.execution.duration
    failed = Boom()
    await failed.run()
    again = Event.from_dict(failed.to_dict())
    assert again.execution.error == failed.execution.error


def test_usage_hooks_default_to_nothing() -> None:
    ev = Event()
    assert ev.estimated_usage("tokens") == 0.0 and ev.actual_usage("cost") is None


def test_execution_rejects_bad_status_on_load() -> None:
    with pytest.raises(ValidationError):
        Execution.model_validate({"status": "exploded"})


@given(a=st.integers(), b=st.integers(), status=st.sampled_from(list(EventStatus)))
def test_roundtrip_property_event(a: int, b: int, status: EventStatus) -> None:
    ev = Add(a=a, b=b, execution=Execution.model_validate({"status": status, "attempts": 1}))
    back = Element.from_dict(json.loads(json.dumps(ev.to_dict())))
    assert type(back) is Add and back.model_dump() == ev.model_dump()


async def test_non_json_response_needs_a_hook() -> None:
    class Opaque:
        pass

    class Returns(Event):
        async def invoke(self) -> Opaque:
            return Opaque()

    ev = Returns()
    await ev.run()
    with pytest.raises(MalformedDataError, match="response_to_json"):
        ev.to_dict()

    class Described(Returns):
        def response_to_json(self, response: Any) -> Any:
            return {"type": type(response).__name__}

    ok = Described()
    await ok.run()
    assert ok.to_dict()["execution"]["response"] == {"type": "Opaque"}


@given(
    status=st.sampled_from(list(EventStatus)),
    attempts=st.integers(0, 5),
    duration=st.none() | st.floats(0, 1e6),
    message=st.text(max_size=20),
    details=st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
    reason=st.none() | st.text(max_size=10),
)
def test_roundtrip_property_execution_and_error_info(
    status: EventStatus,
    attempts: int,
    duration: float | None,
    message: str,
    details: dict[str, Any],
    reason: str | None,
) -> None:
    record = Execution.model_validate(
        {
            "status": status,
            "attempts": attempts,
            "duration": duration,
            "reason": reason,
            "error": {"type": "ValueError", "message": message, "details": details},
        }
    )
    data = json.loads(json.dumps(record.model_dump(mode="json")))
    assert Execution.model_validate(data) == record
    info = ErrorInfo.from_exception(ValueError(message))
    assert ErrorInfo.model_validate_json(info.model_dump_json()) == info
