"""Shared helpers for the realtime tests: a tone generator and a session factory."""

from __future__ import annotations

import math
import struct
from typing import Any

from atoll_realtime import RealtimeSession
from atoll_testing import FakeRealtimeServer

KEY = "sk-test-realtime-0123456789abcdef"


def tone(ms: int, frequency: float = 330.0, volume: float = 0.4) -> bytes:
    count = 24_000 * ms // 1000
    peak = int(32767 * volume)
    return struct.pack(
        f"<{count}h",
        *(int(peak * math.sin(2 * math.pi * frequency * i / 24_000)) for i in range(count)),
    )


def session(srv: FakeRealtimeServer, **kwargs: Any) -> RealtimeSession:
    kwargs.setdefault("api_key", KEY)
    return RealtimeSession("openai/gpt-realtime", base_url=srv.base_url, **kwargs)
