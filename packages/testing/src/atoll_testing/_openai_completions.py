"""``OpenAICompletionsServer``: OpenAI's legacy text completions, ``POST /v1/completions``.

A model sees the ``prompt`` as ``ChatInput.last_user_text`` (``echo`` echoes it); the raw body,
``suffix`` included (fill-in-the-middle), is ``ChatInput.body``. Replies are ``text_completion``
objects; streams are ``text_completion`` chunks ending in ``data: [DONE]``, with a final
``choices: []`` usage chunk when ``stream_options.include_usage`` asks for it. The key goes in
``Authorization: Bearer``, errors have OpenAI's shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from . import _openai_render as render
from ._dialect import ServerDialect
from ._exchange import Exchange
from ._inputs import ChatInput
from ._registry import register_server_dialect
from ._reply import JSON, SSE, Reply, usage_numbers
from ._routes import Route
from ._script import Turn

__all__ = ["OpenAICompletionsServer"]

_ENC = msgspec.json.Encoder()


class _StreamOptions(msgspec.Struct):
    include_usage: bool = False


class _CompletionRequest(msgspec.Struct):
    model: str
    prompt: str | list[str]
    suffix: str | None = None
    stream: bool = False
    stream_options: _StreamOptions | None = None


_decoder = msgspec.json.Decoder(_CompletionRequest)


def _finish(turn: Turn) -> str:
    return turn.finish_reason if turn.finish_reason is not None else "stop"


def _usage(turn: Turn, chat: ChatInput) -> dict[str, int]:
    inp, out, _, _, _ = usage_numbers(turn, chat)
    return {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out}


class OpenAICompletionsServer(ServerDialect):
    """Legacy ``/v1/completions`` as api.openai.com answers it (see the module docstring)."""

    name = "openai-completions"
    corpus_dialect = "openai-completions"
    malformed_event = b'data: {"id":"cmpl-malformed","object":"text_completion","choices":[{"te\n\n'

    def routes(self) -> Sequence[Route]:
        """``POST /completions`` (``/chat/completions`` is more specific, so chat is unaffected)."""
        return (Route("POST", "/completions", self.serve_chat, chat=True),)

    def credential(self, headers: Mapping[str, str]) -> str | None:
        """The key of ``Authorization: Bearer <key>``."""
        scheme, _, key = headers.get("authorization", "").partition(" ")
        return key.strip() if scheme.lower() == "bearer" else None

    def auth_error(self, headers: Mapping[str, str]) -> Reply:
        """OpenAI's 401 (the presented key is never echoed)."""
        return self.error(
            401, "Incorrect API key provided. You can find your API key in your settings."
        )

    def parse_chat(self, exchange: Exchange) -> ChatInput:
        """Read ``{model, prompt, suffix, stream, stream_options}``."""
        request = _decoder.decode(exchange.body)
        prompt = request.prompt if isinstance(request.prompt, str) else "".join(request.prompt)
        words = len(prompt.split()) + len((request.suffix or "").split())
        options = request.stream_options
        return ChatInput(
            dialect=self.name,
            model=request.model,
            stream=request.stream,
            include_usage=request.stream and options is not None and options.include_usage,
            last_user_text=prompt,
            input_tokens=words,
            message_count=1,
            body=exchange.body,
        )

    def render(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """A ``text_completion`` object."""
        body = {
            "id": _rid(exchange.number),
            "object": "text_completion",
            "created": exchange.created,
            "model": chat.model,
            "choices": [
                {
                    "text": turn.full_text(),
                    "index": 0,
                    "logprobs": None,
                    "finish_reason": _finish(turn),
                }
            ],
            "usage": _usage(turn, chat),
        }
        reply = Reply(200, JSON, _ENC.encode(body))
        reply.headers.append(("x-request-id", f"req_atoll{exchange.number:010d}"))
        return reply

    def render_stream(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """``text_completion`` chunks, then ``data: [DONE]``."""
        head = {
            "id": _rid(exchange.number),
            "object": "text_completion",
            "created": exchange.created,
            "model": chat.model,
        }

        def chunk(text: str, finish: str | None) -> bytes:
            choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}
            return b"data: " + _ENC.encode({**head, "choices": [choice]}) + b"\n\n"

        events = [chunk(piece, None) for piece in turn.text_chunks()]
        events.append(chunk("", _finish(turn)))
        if chat.include_usage:
            tail: dict[str, object] = {**head, "choices": [], "usage": _usage(turn, chat)}
            events.append(b"data: " + _ENC.encode(tail) + b"\n\n")
        reply = Reply(
            200,
            SSE,
            events=events,
            terminal=[render.DONE],
            error_event=render.error_event(
                "The server had an error while processing your request."
            ),
            malformed_event=self.malformed_event,
        )
        reply.headers.append(("x-request-id", f"req_atoll{exchange.number:010d}"))
        return reply

    def error(self, status: int, message: str, error_type: str | None = None) -> Reply:
        """``{"error": {message, type, param, code}}``."""
        return Reply(status, JSON, render.error_body(status, message, error_type))

    def error_event(self, message: str, error_type: str | None = None) -> bytes:
        """``data: {"error": {...}}``."""
        return render.error_event(message, error_type)

    def is_stream_end(self, event: bytes) -> bool:
        """``data: [DONE]``."""
        return b"[DONE]" in event


def _rid(number: int) -> str:
    return f"cmpl-atoll{number:010d}"


register_server_dialect(OpenAICompletionsServer())
