"""Typed usage of the public API: pyright checks these annotations, pytest runs them."""

from __future__ import annotations

from decimal import Decimal
from typing import assert_type

import pytest
from atoll_realtime import (
    RealtimeEvent,
    RealtimeSession,
    RealtimeSessionError,
    RealtimeUsage,
    ResponseDone,
    TextDelta,
    ToolCall,
)
from atoll_testing import FakeRealtimeServer
from atoll_wire import AtollError, ToolCallPart

pytestmark = pytest.mark.anyio


async def test_typed_session() -> None:
    async with FakeRealtimeServer(["typed"]) as srv:
        async with RealtimeSession(
            "openai/gpt-realtime-mini", base_url=srv.base_url, api_key="k"
        ) as s:
            await s.send_text("hi")
            await s.create_response(instructions="Shout.")
            async for event in s.events():
                assert_type(event, RealtimeEvent)
                match event:
                    case TextDelta(text=text):
                        assert_type(text, str)
                    case ToolCall():
                        assert_type(event.to_part(), ToolCallPart)
                    case ResponseDone(usage=usage):
                        assert_type(usage, RealtimeUsage | None)
                        assert_type(event.total_cost, Decimal | None)
                        assert (
                            event.cost is not None
                            and event.cost.model == "openai/gpt-realtime-mini"
                        )
                        break
                    case _:
                        pass
    assert issubclass(RealtimeSessionError, AtollError)
