"""The scripted model behind ``atoll demo``.

It answers like a small assistant, calls a tool (first with bad arguments, to show validation
at work), and streams in visible pieces. In the batch (prompts ``Fact #N ...``) the first
attempt of every 25th call is answered 503 and of every 50th (offset) 429: each faulted call
succeeds on its retry, so faults never come back to back for one call, however large the batch.
"""

from __future__ import annotations

import re

from atoll_testing import ChatInput, ToolCall, Turn

_FACT = re.compile(r"^Fact #(\d+) ")
OVERLOAD_EVERY = 25
RATE_LIMIT_EVERY = 50
_RATE_LIMIT_OFFSET = 13


def faults_for(calls: int) -> tuple[int, int]:
    """How many 503s and 429s a batch of ``calls`` meets."""
    overloads = sum(1 for n in range(calls) if n % OVERLOAD_EVERY == 0)
    limits = sum(1 for n in range(calls) if n % RATE_LIMIT_EVERY == _RATE_LIMIT_OFFSET)
    return overloads, limits


class DemoModel:
    """The demo's model; remembers which batch calls it already failed once."""

    def __init__(self) -> None:
        self._failed: set[int] = set()

    def __call__(self, request: ChatInput) -> Turn:
        turn = demo_model(request)
        match = _FACT.match(request.last_user_text)
        if match is None:
            return turn
        number = int(match.group(1))
        if number in self._failed:
            return turn
        if number % OVERLOAD_EVERY == 0:
            self._failed.add(number)
            return Turn(text=turn.text, fault="status=503")
        if number % RATE_LIMIT_EVERY == _RATE_LIMIT_OFFSET:
            self._failed.add(number)
            return Turn(text=turn.text, fault="status=429; retry-after-ms=50")
        return turn


ATOLLS = "Tarawa (Kiribati), Aldabra (Seychelles) and Fakaofo (Tokelau)."
STREAM_TEXT = (
    "Atolls form when a coral reef grows around a volcanic island that slowly sinks, "
    "leaving a ring of reef and islets around a lagoon."
)


def demo_model(request: ChatInput) -> Turn:
    """Answer one request of the demo, deterministically."""
    text = request.last_user_text
    if request.tool_results:
        last = request.tool_results[-1]
        if last.is_error or last.content.lower().startswith(("error", "invalid")):
            # The tool rejected the arguments: repair the call, as a real model would.
            return Turn(
                tool_calls=[ToolCall(name="get_tide", arguments={"atoll": "Tarawa", "hours": 6})],
                input_tokens=request.input_tokens,
                output_tokens=12,
            )
        return Turn(
            text=f"The tide table says: {last.content}",
            input_tokens=request.input_tokens,
            output_tokens=18,
        )
    if "tide" in text.lower() and "get_tide" in request.tool_names:
        # First try with a wrong type for `hours`, so the validator has something to catch.
        return Turn(
            tool_calls=[ToolCall(name="get_tide", arguments={"atoll": "Tarawa", "hours": "six"})],
            input_tokens=request.input_tokens,
            output_tokens=12,
        )
    if "atoll" in text.lower() and "three" in text.lower():
        return Turn(text=ATOLLS, input_tokens=request.input_tokens, output_tokens=16)
    if "form" in text.lower():
        words = STREAM_TEXT.split(" ")
        chunks = [w + " " for w in words[:-1]] + [words[-1]]
        return Turn(
            text=STREAM_TEXT,
            chunks=chunks,
            input_tokens=request.input_tokens,
            output_tokens=len(words),
        )
    return Turn(
        text=f"echo: {text}", input_tokens=request.input_tokens, output_tokens=len(text.split()) + 1
    )
