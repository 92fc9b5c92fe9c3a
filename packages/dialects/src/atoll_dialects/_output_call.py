"""What ``chat``/``stream`` with ``output=`` share across the async and sync clients.

An ``OutputCall`` holds the ``OutputPlan`` (``_structured.py``), the call's own headers and one
deadline for all its replies (a repair turn spends the same budget as the first reply), and
makes the ``AttemptLoop`` of each reply. The clients drive it in a few lines each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from atoll_wire import ChatRequest, Timeout

from ._attempts import AttemptLoop
from ._deadline import Deadline
from ._exceptions import InvalidOptionError
from ._quirks import ModelFacts
from ._request import MessagesOrPrompt, build_request
from ._structured import OutputPlan, check_retries

__all__ = ["DEFAULT_OUTPUT_RETRIES", "LoopMaker", "OutputCall"]

#: Repair turns ``output=`` allows when ``output_retries`` is not given.
DEFAULT_OUTPUT_RETRIES = 1

LoopMaker = Callable[..., AttemptLoop]
"""``ClientBase._chat_loop``: (request, options, stream=, timeout=, transport_timeout=)."""


class OutputCall:
    """One ``output=`` call's plan, headers and shared deadline.

    Args:
        make: The client's loop maker (its ``_chat_loop``).
        messages_or_prompt: As for ``chat``.
        options: The call's ``ChatOptions``.
        output: What was passed as ``output=``.
        retries: ``output_retries`` (None: the default).
        mode: ``output_mode`` (None: ``auto``).
        facts: The first model's registry facts.
        timeout: The call's deadline across every reply (None: the client's).
        default_seconds: The client's default deadline.
        stream: Whether replies stream.
        callbacks: The call's own callbacks (every reply's events go to them).

    Raises:
        InvalidOptionError: An option, ``output``, ``output_retries`` or ``output_mode`` is
            wrong (nothing was sent).
    """

    __slots__ = ("_callbacks", "_deadline", "_make", "_options", "plan")

    def __init__(
        self,
        make: LoopMaker,
        messages_or_prompt: MessagesOrPrompt,
        options: Mapping[str, Any],
        *,
        output: object,
        retries: int | None,
        mode: str | None,
        facts: ModelFacts,
        timeout: object,
        default_seconds: float | None,
        stream: bool,
        callbacks: object = None,
    ) -> None:
        count, chosen = check_retries(
            DEFAULT_OUTPUT_RETRIES if retries is None else retries, mode or "auto"
        )
        request, headers = build_request(messages_or_prompt, options, stream=stream)
        self.plan = OutputPlan(output, request, facts, retries=count, mode=chosen)
        self._make = make
        self._callbacks = callbacks
        self._options: dict[str, Any] = {"extra_headers": headers} if headers else {}
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
        ):
            raise InvalidOptionError("timeout", timeout, "a positive number of seconds")
        seconds = float(timeout) if isinstance(timeout, int | float) else default_seconds
        self._deadline = Deadline(seconds)

    def loop(self, *, stream: bool, transport_timeout: Timeout | None) -> AttemptLoop:
        """The attempt loop of the next reply (the first, or a repair)."""
        return self._make(
            self.plan.request,
            self._options,
            stream=stream,
            timeout=self._time_left(),
            transport_timeout=transport_timeout,
            callbacks=self._callbacks,
        )

    def _time_left(self) -> float | None:
        left = self._deadline.remaining()
        if left is None:
            return None
        return max(left, 0.001)  # spent: the next reply times out at once, with the record

    @property
    def request(self) -> ChatRequest:
        """The request of the next reply."""
        return self.plan.request
