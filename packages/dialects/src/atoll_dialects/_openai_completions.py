"""Legacy text completions on OpenAI-compatible servers: ``POST {base_url}/completions``.

Where a provider serves them, and whether it takes ``suffix`` (fill-in-the-middle), is registry
data (``completions_path``, ``completions_suffix``): DeepSeek serves them under ``/beta``,
Mistral's Codestral under ``/fim/completions`` with chat-shaped replies, Groq and Gemini not at
all. Replies are read leniently: ``choices[].text`` (OpenAI's shape) or a chat-shaped
``message``/``delta`` (Mistral's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from atoll_wire import (
    ChatResponse,
    HttpRequest,
    Message,
    MessageEnd,
    MessageStart,
    ServerSentEvent,
    StreamEvent,
    TextDelta,
    TextPart,
    Usage,
    UsageUpdate,
)
from atoll_wire.openai import CompletionUsage, ContentPart, ErrorObject

from ._dialect import StreamDecoder
from ._encode import dumps, finish_reason
from ._error_bodies import error_from_stream_error
from ._exceptions import InvalidResponseError, UnsupportedRequestError
from ._openai_quirks import OpenAIChatQuirks
from ._openai_stream import normalise_usage, stream_error
from ._openai_urls import endpoint_url

if TYPE_CHECKING:
    from ._completions import CompletionRequest
    from ._target import Target

__all__ = ["CompletionStreamDecoder", "build_completion", "parse_completion"]


# atoll_wire.openai models chat; a text completion's envelope is small enough to read here.
class _Content(msgspec.Struct):
    """A chat-shaped ``message``/``delta`` (Mistral's FIM replies)."""

    content: str | list[ContentPart] | None = None


class _Choice(msgspec.Struct):
    index: int = 0
    text: str | None = None
    delta: _Content | None = None
    message: _Content | None = None
    finish_reason: str | None = None


class _Completion(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    choices: list[_Choice] | None = None
    usage: CompletionUsage | None = None
    error: ErrorObject | None = None


_decoder = msgspec.json.Decoder(_Completion)


def _text(choice: _Choice) -> str:
    if choice.text is not None:
        return choice.text
    shaped = choice.message or choice.delta
    content = shaped.content if shaped is not None else None
    if isinstance(content, str):
        return content
    return "".join(p.text or "" for p in content or ())


def _first(completion: _Completion) -> _Choice | None:
    return next((c for c in completion.choices or () if c.index == 0), None)


def build_completion(
    request: CompletionRequest, target: Target, quirks: OpenAIChatQuirks
) -> HttpRequest:
    """Build ``POST {base_url}{completions_path}`` for ``request``.

    Raises:
        UnsupportedRequestError: The provider serves no completions, or no ``suffix``.
    """
    where = {"provider": target.provider.name, "model": target.request_model}
    path = quirks.completions_path
    if path is None:
        raise UnsupportedRequestError(
            "this provider has no text completions endpoint (registry quirk completions_path "
            "is null); use chat instead",
            **where,
        )
    if request.suffix is not None and not quirks.completions_suffix:
        raise UnsupportedRequestError(
            "this provider's completions take no suffix (registry quirk completions_suffix)",
            **where,
        )
    body: dict[str, Any] = {"model": request.model, "prompt": request.prompt}
    for key, value in (
        ("suffix", request.suffix),
        ("max_tokens", request.max_tokens),
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("stop", request.stop),
        ("seed", request.seed),
    ):
        if value is not None:
            body[key] = value
    if request.stream:
        body["stream"] = True
        if quirks.stream_include_usage:
            body["stream_options"] = {"include_usage": True}
    body.update(request.extra)
    headers = dict(target.provider.headers)
    headers["Content-Type"] = "application/json"
    headers["Accept"] = "text/event-stream" if request.stream else "application/json"
    return HttpRequest(
        method="POST",
        url=endpoint_url(target, quirks, path, request.model),
        headers=headers,
        body=dumps(body),
    )


def parse_completion(body: bytes, target: Target, quirks: OpenAIChatQuirks) -> ChatResponse:
    """A completion body → a response whose message holds the completed text.

    Raises:
        APIError: The body is an error object sent with a success status.
        InvalidResponseError: The body is not a completion.
    """
    provider = target.provider.name
    try:
        completion = _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidResponseError(
            f"the response is not a text completion: {exc}",
            status=200,
            provider=provider,
            model=target.request_model,
            body=body.decode("utf-8", "replace"),
        ) from exc
    if completion.error is not None and not completion.choices:
        error = completion.error
        raise error_from_stream_error(
            error_type=error.type or "",
            message=error.message or "",
            status=error.status_code or (error.code if isinstance(error.code, int) else None),
            code=error.code,
            body=body.decode("utf-8", "replace"),
            provider=provider,
            model=target.request_model,
        )
    choice = _first(completion)
    text = _text(choice) if choice is not None else ""
    raw_finish = choice.finish_reason if choice is not None else None
    return ChatResponse(
        id=completion.id or None,
        model=completion.model or None,
        message=Message(role="assistant", parts=[TextPart(text=text)] if text else []),
        finish_reason=finish_reason(raw_finish),
        raw_finish_reason=raw_finish,
        usage=normalise_usage(completion.usage, quirks) if completion.usage else Usage(),
        provider=provider,
    )


class CompletionStreamDecoder(StreamDecoder):
    """One streamed completion: text deltas, usage, and the end at ``[DONE]``."""

    def __init__(self, quirks: OpenAIChatQuirks) -> None:
        self._quirks = quirks
        self._started = False
        self._done = False
        self._finished = False
        self._raw_finish: str | None = None

    @property
    def done(self) -> bool:
        """Whether ``data: [DONE]`` has arrived."""
        return self._done

    def feed(self, event: ServerSentEvent) -> list[StreamEvent]:
        """Translate one server-sent event."""
        if self._done:
            return []
        data = event.data.strip()
        if data == "[DONE]":
            return self._close(complete=True)
        if not data:
            return []
        try:
            chunk = _decoder.decode(data)
        except msgspec.DecodeError as exc:
            return [stream_error(ErrorObject(message=f"undecodable chunk: {exc}"), data)]
        out: list[StreamEvent] = []
        if not self._started and (chunk.id or chunk.model or chunk.choices):
            self._started = True
            out.append(MessageStart(id=chunk.id or None, model=chunk.model or None))
        for choice in chunk.choices or ():
            if choice.index != 0:
                continue
            text = _text(choice)
            if text:
                out.append(TextDelta(index=0, text=text))
            if choice.finish_reason:
                self._raw_finish = choice.finish_reason
        if chunk.usage is not None:
            out.append(UsageUpdate(usage=normalise_usage(chunk.usage, self._quirks)))
        if chunk.error is not None or event.event == "error":
            out.append(stream_error(chunk.error, data))
        return out

    def finish(self) -> list[StreamEvent]:
        """End of body: without ``[DONE]`` the response stays incomplete."""
        if self._done or self._finished:
            return []
        return self._close(complete=False)

    def _close(self, *, complete: bool) -> list[StreamEvent]:
        self._finished = True
        if not complete:
            return []
        self._done = True
        raw = self._raw_finish
        return [MessageEnd(finish_reason=finish_reason(raw), raw_finish_reason=raw)]
