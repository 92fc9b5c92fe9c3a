"""The non-I/O half of the calls beside ``chat``: ``output=``, completions, models, token counts.

``Client`` and ``SyncClient`` inherit ``ClientCalls``; each of their methods asks it for the
attempt loop(s) of a call, sends with its own driver (``send_async``/``send_sync``), and hands
the body back here to be read. Every call runs through the one ``AttemptLoop`` (retries,
deadline, spans, limiter feedback); only chat and completions fall back across models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec
from atoll_wire import ChatRequest, HttpRequest, Timeout

from ._attempts import AttemptLoop
from ._base import ClientBase
from ._deadline import Deadline
from ._dialect import StreamDecoder
from ._exceptions import InvalidOptionError
from ._request import MessagesOrPrompt, build_request
from ._result import ClientResponse
from ._target import Target

if TYPE_CHECKING:
    from ._model_list import ModelInfo, ModelPage
    from ._options import ToolChoiceOption, ToolSource
    from ._output_call import OutputCall
    from ._token_count import TokenCount, Tokenizer

# The machinery of output=, completions, model lists and token counts is imported by the call
# that needs it: `import atoll_dialects` (and the plain chat path) never pays for it.

__all__ = ["MAX_MODEL_PAGES", "ClientCalls", "TokenPlan"]

#: Pages of a model list followed at most (a server whose cursor never ends must not loop).
MAX_MODEL_PAGES = 100


def completion_decoder(target: Target) -> StreamDecoder:
    """The target's dialect's decoder for a streamed completion."""
    return target.dialect.completion_stream_decoder(target)


class TokenPlan:
    """How one ``count_tokens`` call counts: locally (``result``) or through ``loop``."""

    __slots__ = ("loop", "result")

    def __init__(self, result: TokenCount | None, loop: AttemptLoop | None) -> None:
        self.result = result
        self.loop = loop


def _time_left(deadline: Deadline) -> float | None:
    left = deadline.remaining()
    return None if left is None else max(left, 0.001)


class ClientCalls(ClientBase):
    """Shared, I/O-free parts of the calls beside chat (see the module docstring)."""

    # ------------------------------------------------------------------ output=

    def _output_call(
        self,
        messages_or_prompt: MessagesOrPrompt,
        options: Mapping[str, Any],
        *,
        output: object,
        retries: int | None,
        mode: str | None,
        timeout: object,
        stream: bool,
        callbacks: object = None,
    ) -> OutputCall:
        from ._output_call import OutputCall

        engine = self._engine
        return OutputCall(
            self._chat_loop,
            messages_or_prompt,
            options,
            output=output,
            retries=retries,
            mode=mode,
            facts=engine.targets[0].facts,
            timeout=timeout,
            default_seconds=engine.deadline_seconds,
            stream=stream,
            callbacks=callbacks,
        )

    # ------------------------------------------------------------------ completions

    def _completion_loop(
        self,
        prompt: object,
        options: Mapping[str, object],
        *,
        stream: bool,
        timeout: object,
        transport_timeout: Timeout | None,
        callbacks: object = None,
    ) -> AttemptLoop:
        from ._completions import completion_request

        request, headers = completion_request(prompt, options, stream=stream)

        def build(target: Target) -> HttpRequest:
            sent = msgspec.structs.replace(request, model=target.request_model)
            return target.dialect.build_completion(sent, target)

        return self._loop(
            "text_completion",
            build,
            timeout=timeout,
            transport_timeout=transport_timeout,
            first_only=False,
            callbacks=callbacks,
            headers=headers,
        )

    @staticmethod
    def _completion_result(
        loop: AttemptLoop, body: bytes, headers: Mapping[str, str]
    ) -> ClientResponse:
        target = loop.target
        try:
            response = target.dialect.parse_completion(body, target)
        except BaseException as error:
            loop.abandon(error)
            raise
        return loop.finished(response, headers)

    # ------------------------------------------------------------------ model lists

    def _models_loop(
        self, cursor: str | None, deadline: Deadline, transport_timeout: Timeout | None
    ) -> AttemptLoop:
        return self._loop(
            "models",
            lambda target: target.dialect.build_models(target, cursor),
            timeout=_time_left(deadline),
            transport_timeout=transport_timeout,
        )

    def _models_page(
        self, loop: AttemptLoop, body: bytes, headers: Mapping[str, str], into: list[ModelInfo]
    ) -> str | None:
        """Read one page into ``into``; the next page's cursor, or None."""
        target = loop.target
        try:
            page: ModelPage = target.dialect.parse_models(body, target)
        except BaseException as error:
            loop.abandon(error)
            raise
        loop.succeeded(headers=headers)
        from ._model_list import model_info

        registry = self._engine.registry
        into.extend(model_info(listed, target, registry) for listed in page.models)
        return page.cursor

    def _models_deadline(self, timeout: object) -> Deadline:
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
        ):
            raise InvalidOptionError("timeout", timeout, "a positive number of seconds")
        seconds = float(timeout) if isinstance(timeout, int | float) else None
        return Deadline(seconds if seconds is not None else self._engine.deadline_seconds)

    # ------------------------------------------------------------------ token counts

    def _token_plan(
        self,
        messages_or_prompt: MessagesOrPrompt,
        *,
        tools: ToolSource | Sequence[Any] | None,
        system: str | None,
        tool_choice: ToolChoiceOption | None,
        tokenizer: Tokenizer | None,
        timeout: object,
        transport_timeout: Timeout | None,
    ) -> TokenPlan:
        from ._token_count import Tokenizer, count_locally

        if tokenizer is not None and not isinstance(tokenizer, Tokenizer):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidOptionError("tokenizer", tokenizer, "an object with encode(text)")
        options = {"tools": tools, "system": system, "tool_choice": tool_choice}
        request, headers = build_request(messages_or_prompt, options, stream=False)
        target = self._engine.target_at(0)
        sent: ChatRequest = msgspec.structs.replace(request, model=target.request_model)
        http = None if tokenizer is not None else target.dialect.build_count_tokens(sent, target)
        if http is None:
            return TokenPlan(count_locally(sent, target.label, tokenizer), None)
        built = http
        loop = self._loop(
            "count_tokens",
            lambda _target: built,
            timeout=timeout,
            transport_timeout=transport_timeout,
            headers=headers,
        )
        return TokenPlan(None, loop)

    @staticmethod
    def _token_result(loop: AttemptLoop, body: bytes, headers: Mapping[str, str]) -> TokenCount:
        target = loop.target
        try:
            count = target.dialect.parse_count_tokens(body, target)
        except BaseException as error:
            loop.abandon(error)
            raise
        loop.succeeded(headers=headers)
        from ._token_count import TokenCount

        return TokenCount(count, exact=True, method="provider", model=target.label)
