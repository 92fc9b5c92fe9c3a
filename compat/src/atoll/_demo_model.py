"""The scripted model behind ``atoll demo``.

It answers like a small assistant, calls a tool (first with bad arguments, to show validation
at work), and streams in visible pieces.
"""

from __future__ import annotations

from atoll_testing import ChatInput, ToolCall, Turn

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
