"""The work a model's worker thread runs, and what it sends back.

A job is made on the caller's side (request checked, messages converted), queued on the model's
worker, and answered through its ``Outbox``: for a chat, ``Ready`` (the prompt fitted), text
pieces, then ``Finished``; for embeddings, one ``Embedded``. A request the model cannot serve
ends the outbox with ``RequestRejected``, which the transport turns into an HTTP error response.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llama_cpp.llama_grammar import LlamaGrammar

from ._exceptions import LocalError
from ._outbox import Outbox


class RequestRejected(LocalError):
    """A request this model cannot serve; answered as an OpenAI-shaped error response.

    Attributes:
        status: The HTTP status to answer with.
        code: OpenAI's error code (``context_length_exceeded``, ``model_not_found``, ...).
        message: Words for a person.
        param: The request field at fault, when one is.
    """

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param


@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampler settings; the defaults are llama-cpp-python's ``create_chat_completion``'s."""

    temperature: float = 0.2
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    typical_p: float = 1.0
    repeat_penalty: float = 1.0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Ready:
    """The prompt was formatted, counted and fits: generation starts."""

    prompt_tokens: int


@dataclass(frozen=True, slots=True)
class Finished:
    """Generation ended.

    Attributes:
        reason: ``stop`` (end-of-generation token or stop sequence), ``length`` (max_tokens or
            the context), or ``cancelled`` (the caller went away).
        completion_tokens: Tokens sampled, end-of-generation token excluded.
    """

    reason: str
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class Embedded:
    """Embedding vectors, one per input, and the tokens they took."""

    vectors: list[list[float]]
    prompt_tokens: int


ChatItem = Ready | str | Finished


@dataclass(slots=True, eq=False)
class ChatJob:
    """One chat generation, as the worker needs it."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    tool_choice: str | dict[str, Any] | None
    sampling: Sampling
    stop: list[str]
    max_tokens: int | None
    grammar: Callable[[], LlamaGrammar] | None
    """Builds the grammar on the worker (converting a schema takes milliseconds)."""
    outbox: Outbox[ChatItem]
    cancelled: bool = False
    """Set by ``cancel`` (any thread); the worker checks it before every token."""
    generated: int = 0
    """Tokens sampled so far (written by the worker)."""
    generated_at_cancel: int | None = field(default=None, repr=False)
    """``generated`` when the caller cancelled: the worker's overrun is measured from it."""

    def cancel(self) -> None:
        """Stop generating: the worker ends within one token, or skips the job if queued."""
        if not self.cancelled:
            self.generated_at_cancel = self.generated
            self.cancelled = True


@dataclass(slots=True, eq=False)
class EmbedJob:
    """One embeddings request."""

    texts: list[str]
    outbox: Outbox[Embedded]
    cancelled: bool = False

    def cancel(self) -> None:
        """Skip the job if it has not started (an embedding batch is not interrupted)."""
        self.cancelled = True


Job = ChatJob | EmbedJob
