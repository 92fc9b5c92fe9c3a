"""OpenAI chat-completions stream → neutral stream events, surviving providers' variations.

What this decoder copes with, all seen in recorded traffic or reported by peers' users:
a tool-call id only on the first fragment; every call streamed with ``index`` 0 (told apart by
id); two fragments with the same index in one chunk; argument fragments after the finish reason;
usage in the finish chunk, in a trailing chunk with empty ``choices`` or twice (Groq's
``x_groq.usage`` is ignored); keep-alive comments (the SSE decoder drops them); reasoning as
``reasoning_content``, ``reasoning``, ``reasoning_details``, Mistral's thinking parts or inline
``<think>`` tags; an error object in a chunk (OpenRouter) or an ``event: error`` (Groq).

Tool calls stay open until ``[DONE]`` because arguments may still arrive after the finish reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from atoll_wire import (
    MessageEnd,
    MessageStart,
    RedactedThinkingDelta,
    ServerSentEvent,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageUpdate,
    parse_tool_arguments,
)
from atoll_wire.openai import (
    ChatCompletionChunk,
    ChatMessage,
    ChoiceDelta,
    CompletionUsage,
    ErrorObject,
    ToolCallChunk,
)

from ._dialect import StreamDecoder
from ._encode import finish_reason
from ._openai_quirks import OpenAIChatQuirks
from ._think_tags import ThinkTagSplitter

# Built once: decoding a chunk is the hot path of every stream.
chunk_decoder = msgspec.json.Decoder(ChatCompletionChunk)
raw_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def normalise_usage(usage: CompletionUsage, quirks: OpenAIChatQuirks) -> Usage:
    """OpenAI usage → neutral usage (input includes cached tokens unless a quirk says not)."""
    prompt = usage.prompt_tokens_details
    cache_read = prompt.cached_tokens if prompt else None
    cache_write = prompt.cache_write_tokens if prompt else None
    details = usage.completion_tokens_details
    input_tokens = usage.prompt_tokens
    if input_tokens is not None and not quirks.cache_tokens_in_input:
        input_tokens += (cache_read or 0) + (cache_write or 0)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=details.reasoning_tokens if details else None,
    )


def stream_error(error: ErrorObject | None, raw_text: str) -> StreamError:
    """An error object from a chunk or an ``event: error`` → a StreamError event."""
    try:
        raw: object = raw_decoder.decode(raw_text)
    except msgspec.DecodeError:
        raw = raw_text
    if error is None:
        return StreamError(type="error", message=raw_text[:500], raw=raw)
    code = error.code
    status = error.status_code
    if status is None and isinstance(code, int):
        status = code  # OpenRouter puts the HTTP-like status in `code`
    return StreamError(
        type=error.type or "",
        message=error.message or "the provider reported an error in the stream",
        status=status,
        code=None if code is None else str(code),
        raw=raw,
    )


def reasoning_texts(delta: ChoiceDelta | ChatMessage) -> list[str]:
    """Reasoning text in a delta or message; the plain fields win over ``reasoning_details``.

    OpenRouter sends the same text in ``reasoning`` and ``reasoning_details``: taking both
    would double it.
    """
    plain = delta.reasoning_content or delta.reasoning
    if plain:
        return [plain]
    return [d.text or d.summary or "" for d in delta.reasoning_details or () if d.text or d.summary]


def content_pieces(delta: ChoiceDelta | ChatMessage) -> list[tuple[bool, str]]:
    """``(is_reasoning, text)`` pieces of ``content``: a string, or a list of parts (Mistral)."""
    content = delta.content
    if not content:  # None, "" or UNSET (absent)
        return []
    if isinstance(content, str):
        return [(False, content)]
    pieces: list[tuple[bool, str]] = []
    for part in content:
        if part.type == "thinking":
            inner = part.thinking
            if isinstance(inner, str):
                pieces.append((True, inner))
            elif inner:
                pieces.extend((True, p.text) for p in inner if p.text)
        elif part.text:
            pieces.append((False, part.text))
    return pieces


def synthetic_call_id() -> str:
    """A unique id for a provider that sent ``""`` (results must be matched to calls)."""
    return f"call_{uuid.uuid4().hex[:24]}"


@dataclass(slots=True)
class _Call:
    index: int
    id: str
    name: str
    arguments: str = ""
    started: bool = False
    output: bool = False
    """The forced tool carrying structured output: its arguments are the reply's text."""


class OpenAIStreamDecoder(StreamDecoder):
    """One OpenAI-compatible stream's state: block positions, open tool calls, finish reason."""

    def __init__(self, quirks: OpenAIChatQuirks, output_tool: str | None = None) -> None:
        self._quirks = quirks
        self._output_tool = output_tool
        tag = quirks.inline_think_tag
        self._splitter = ThinkTagSplitter(tag) if tag else None
        self._started = False
        self._done = False
        self._finished = False
        self._next_index = 0
        self._kind: str | None = None
        self._block = 0
        self._calls: dict[int, _Call] = {}
        self._open: list[_Call] = []
        self._raw_finish: str | None = None

    @property
    def done(self) -> bool:
        """Whether ``data: [DONE]`` has arrived."""
        return self._done

    def feed(self, event: ServerSentEvent) -> list[StreamEvent]:
        """Translate one server-sent event (see the module docstring for the variations)."""
        if self._done:
            return []
        data = event.data
        if data.startswith("[DONE]") or data.strip() == "[DONE]":
            return self._close(complete=True)
        if not data.strip():
            return []
        try:
            chunk = chunk_decoder.decode(data)
        except msgspec.DecodeError as exc:
            return [
                StreamError(type="invalid_chunk", message=f"undecodable chunk: {exc}", raw=data)
            ]
        out: list[StreamEvent] = []
        if not self._started and (chunk.id or chunk.model or chunk.choices):
            self._started = True
            out.append(MessageStart(id=chunk.id or None, model=chunk.model or None))
        self._chunk(chunk, out)
        if chunk.error is not None or event.event == "error":
            out.append(stream_error(chunk.error, data))
        return out

    def finish(self) -> list[StreamEvent]:
        """End of body: without ``[DONE]`` no MessageEnd is sent, so the response is incomplete."""
        if self._done or self._finished:
            return []
        return self._close(complete=False)

    # ------------------------------------------------------------------ internals

    def _chunk(self, chunk: ChatCompletionChunk, out: list[StreamEvent]) -> None:
        for choice in chunk.choices or ():
            if choice.index != 0:
                continue  # n > 1 is not supported: the neutral response holds one message
            self._delta(choice.delta, out)
            if choice.finish_reason:
                self._raw_finish = choice.finish_reason  # the last non-null value wins
        if chunk.usage is not None:
            # A cumulative snapshot: UsageUpdate replaces, so a repeat is never added twice.
            out.append(UsageUpdate(usage=normalise_usage(chunk.usage, self._quirks)))

    def _position(self, kind: str) -> int:
        if self._kind != kind:
            self._kind = kind
            self._block = self._next_index
            self._next_index += 1
        return self._block

    def _text(self, text: str, out: list[StreamEvent]) -> None:
        if self._splitter is None:
            out.append(TextDelta(index=self._position("text"), text=text))
            return
        self._pieces(self._splitter.feed(text), out)

    def _pieces(self, pieces: list[tuple[bool, str]], out: list[StreamEvent]) -> None:
        for is_reasoning, text in pieces:
            if is_reasoning:
                out.append(ThinkingDelta(index=self._position("thinking"), text=text))
            else:
                out.append(TextDelta(index=self._position("text"), text=text))

    def _delta(self, delta: ChoiceDelta, out: list[StreamEvent]) -> None:
        for text in reasoning_texts(delta):
            out.append(ThinkingDelta(index=self._position("thinking"), text=text))
        for detail in delta.reasoning_details or ():
            if detail.signature:
                out.append(
                    ThinkingDelta(index=self._position("thinking"), signature=detail.signature)
                )
            if detail.data and detail.type.endswith("encrypted"):
                self._kind = None  # each encrypted entry is a block of its own
                out.append(
                    RedactedThinkingDelta(index=self._position("redacted"), data=detail.data)
                )
        for is_reasoning, text in content_pieces(delta):
            if is_reasoning:
                out.append(ThinkingDelta(index=self._position("thinking"), text=text))
            else:
                self._text(text, out)
        if delta.refusal:
            out.append(TextDelta(index=self._position("text"), text=delta.refusal))
        for position, fragment in enumerate(delta.tool_calls or ()):
            self._tool_fragment(fragment, position, out)

    def _is_new_call(self, call: _Call | None, fragment: ToolCallChunk, name: str | None) -> bool:
        if call is None:
            return True
        if fragment.id and call.id and fragment.id != call.id:
            return True  # every call at index 0: a different id is a different call
        if fragment.id or not name or not call.started or not call.arguments:
            return False
        # No id at all: a name after complete arguments can only start another call.
        return parse_tool_arguments(call.arguments)[1] is None

    def _tool_fragment(
        self, fragment: ToolCallChunk, position: int, out: list[StreamEvent]
    ) -> None:
        key = fragment.index if fragment.index is not None else position
        function = fragment.function
        name = function.name if function is not None else None
        arguments = function.arguments if function is not None else None
        call = self._calls.get(key)
        if self._is_new_call(call, fragment, name):
            if call is not None:
                self._end_call(call, out)
            call_id = fragment.id or ""
            if not call_id and self._quirks.empty_tool_call_ids:
                call_id = synthetic_call_id()
            self._kind = None  # a tool call is a block of its own
            call = _Call(index=self._position("tool"), id=call_id, name=name or "")
            self._calls[key] = call
            self._open.append(call)
        assert call is not None
        if not call.id and fragment.id:
            call.id = fragment.id
            if call.started and not call.output:  # a late id: restate the start to fill it in
                out.append(ToolCallStart(index=call.index, id=call.id, name=call.name))
        if name and not call.name:
            call.name = name
        if not call.started and call.name:
            call.started = True
            call.output = call.name == self._output_tool
            if call.output:
                self._open.remove(call)
                if call.arguments:
                    out.append(TextDelta(index=call.index, text=call.arguments))
            else:
                out.append(ToolCallStart(index=call.index, id=call.id, name=call.name))
                if call.arguments:  # fragments that came before the name
                    out.append(ToolCallDelta(index=call.index, arguments=call.arguments))
        if arguments:
            call.arguments += arguments
            if call.output:
                out.append(TextDelta(index=call.index, text=arguments))
            elif call.started:
                out.append(ToolCallDelta(index=call.index, arguments=arguments))

    def _end_call(self, call: _Call, out: list[StreamEvent]) -> None:
        if call not in self._open:
            return
        self._open.remove(call)
        if not call.started:
            out.append(ToolCallStart(index=call.index, id=call.id, name=call.name))
            if call.arguments:
                out.append(ToolCallDelta(index=call.index, arguments=call.arguments))
        out.append(ToolCallEnd(index=call.index))

    def _close(self, *, complete: bool) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if self._splitter is not None:
            self._pieces(self._splitter.finish(), out)
        for call in list(self._open):
            self._end_call(call, out)
        if complete:
            self._done = True
            out.append(
                MessageEnd(
                    finish_reason=finish_reason(self._raw_finish),
                    raw_finish_reason=self._raw_finish,
                )
            )
        self._finished = True
        return out
