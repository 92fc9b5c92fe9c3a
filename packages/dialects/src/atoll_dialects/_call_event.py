"""``CallEvent``: a chat call as an atoll_generic Event, so many can run on an Executor.

The Executor's limiters see each call's cost before and after it runs: ``TokenLimiter``
reserves prompt tokens plus the output ceiling and settles with the provider's usage;
``BudgetLimiter`` reserves the worst-case price and settles with the real cost. Limiters passed
as ``feedback`` also hear the provider's rate-limit headers and 429s, so one limited call slows
every worker down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self, Unpack

import msgspec
from atoll_generic import Event, Limiter
from atoll_wire import ChatRequest, Usage
from pydantic import model_validator

from ._client import Client, OutputMode
from ._exceptions import RateLimitError, UnsupportedRequestError
from ._feedback import LimiterFeedback, tell_limiters
from ._options import ChatOptions
from ._parsed import ParsedResponse
from ._request import MessagesOrPrompt, build_request
from ._result import ClientResponse

# Without max_tokens or a registry ceiling we still need a finite reservation for the token
# limiter; 4,096 is a common default output cap across providers.
_FALLBACK_OUTPUT_CEILING = 4096
_CHARS_PER_TOKEN = 4  # a deliberately rough estimate; the settle step corrects it


class CallEvent(Event):
    """One chat call, run by ``Executor`` with the event lifecycle and limiters.

    Build it with ``CallEvent.of(client, "prompt", max_tokens=100)``. The request serializes
    with the event (``to_dict``); the client does not, so a restored event needs
    ``bind(client)`` before it runs. With ``output=`` the response is a ``ParsedResponse``;
    the output type does not serialize either (give it to ``bind`` again), and a restored
    response keeps ``parsed`` as plain JSON data.

    Attributes:
        request: The neutral request as JSON-safe data.
    """

    __element_kind__ = "atoll_dialects.CallEvent"

    request: dict[str, Any]
    """The ``ChatRequest`` in JSON-safe form."""
    headers: dict[str, str] = {}  # noqa: RUF012 (pydantic copies mutable defaults per instance)
    """The call's own headers (``extra_headers``)."""
    # Underscored attributes are pydantic private attributes: never validated or serialized.
    _client: Client | None = None
    _feedback: tuple[Limiter, ...] = ()
    _output: Any = None
    output_retries: int | None = None
    """Repair turns for a structured reply (``output=``)."""
    output_mode: OutputMode | None = None
    """How the structured output is asked for (``output=``)."""
    feedback_names: list[str] = []  # noqa: RUF012 (pydantic copies mutable defaults per instance)
    """Names of the limiters that received provider feedback (for the record)."""

    @classmethod
    def of(
        cls,
        client: Client,
        messages_or_prompt: MessagesOrPrompt,
        *,
        feedback: Sequence[Limiter] = (),
        output: object = None,
        output_retries: int | None = None,
        output_mode: OutputMode | None = None,
        **options: Unpack[ChatOptions],
    ) -> CallEvent:
        """Make a call event for ``client``.

        Args:
            client: The client that will run the call.
            messages_or_prompt: As for ``Client.chat``.
            feedback: Limiters to tell about the provider's rate-limit headers and 429s.
            output: Structured output, as for ``Client.chat``.
            output_retries: As for ``Client.chat``.
            output_mode: As for ``Client.chat``.
            **options: As for ``Client.chat``.
        """
        request, headers = build_request(messages_or_prompt, options, stream=False)
        event = cls(
            request=msgspec.to_builtins(request),
            headers=headers or {},
            output_retries=output_retries,
            output_mode=output_mode,
        )
        return event.bind(client, feedback=feedback, output=output)

    def bind(
        self, client: Client, *, feedback: Sequence[Limiter] = (), output: object = None
    ) -> CallEvent:
        """Attach the client (feedback limiters, output type) that will run this event.

        Returns:
            The event itself.
        """
        self._client = client
        self._feedback = tuple(feedback)
        self._output = output
        return self

    def response_to_json(self, response: Any) -> Any:
        """The response (a msgspec struct) as plain data, for ``to_dict``."""
        return msgspec.to_builtins(response, enc_hook=_plain)

    @model_validator(mode="after")
    def _typed_response(self) -> Self:
        # ``from_dict`` gives back the JSON form of the response: restore the typed one.
        execution = vars(self.execution)
        raw = execution.get("response")
        if isinstance(raw, dict):
            kind = ParsedResponse[Any] if "parsed" in raw else ClientResponse
            execution["response"] = msgspec.convert(raw, kind, strict=False)
        return self

    def chat_request(self) -> ChatRequest:
        """The request as the neutral type."""
        return msgspec.convert(self.request, ChatRequest)

    async def invoke(self) -> ClientResponse:
        """Run the call; tells feedback limiters what the provider said about its limits."""
        client = self._client
        if client is None:
            raise UnsupportedRequestError("this CallEvent has no client: call bind(client) first")
        headers = self.headers or None
        try:
            if self._output is not None:
                response: ClientResponse = await client.chat(
                    self.chat_request(),
                    output=self._output,
                    output_retries=self.output_retries,
                    output_mode=self.output_mode,
                    extra_headers=headers,
                )
            else:
                response = await client.chat(self.chat_request(), extra_headers=headers)
        except RateLimitError as error:
            LimiterFeedback(self._feedback).error(error)
            raise
        self._observe(response)
        return response

    def _observe(self, response: ClientResponse) -> None:
        limits = response.rate_limits
        if limits is not None and self._feedback:
            self.feedback_names.extend(tell_limiters(self._feedback, limits))

    # ------------------------------------------------------------------ limiter integration

    def estimated_usage(self, resource: str) -> float:
        """Worst case before the call: prompt tokens plus the output ceiling, or its price.

        Raises:
            UnsupportedRequestError: A cost estimate was asked for a model whose price is
                unknown (a budget cannot be kept on an unknown price).
        """
        if resource not in ("tokens", "cost"):
            return 0.0
        usage = self._estimate()
        if resource == "tokens":
            return float((usage.input_tokens or 0) + (usage.output_tokens or 0))
        return self._estimated_cost(usage)

    def actual_usage(self, resource: str) -> float | None:
        """What the call really used, once it completed (None: keep the estimate)."""
        response = self.response
        if not isinstance(response, ClientResponse):
            return None
        if resource == "tokens":
            total = response.usage.total_tokens
            return None if total is None else float(total)
        if resource == "cost":
            return None if response.cost is None else float(response.cost.total)
        return None

    def _estimate(self) -> Usage:
        request = self.chat_request()
        chars = sum(len(m.text) for m in request.messages)
        ceiling = request.max_tokens
        target = self._client.targets[0] if self._client is not None else None
        if ceiling is None and target is not None and target.model is not None:
            ceiling = target.model.max_output_tokens
        return Usage(
            input_tokens=chars // _CHARS_PER_TOKEN + 1,
            output_tokens=ceiling or _FALLBACK_OUTPUT_CEILING,
        )

    def _estimated_cost(self, usage: Usage) -> float:
        client = self._client
        if client is None:
            raise UnsupportedRequestError("this CallEvent has no client: call bind(client) first")
        worst = 0.0
        for target in client.targets:
            cost = None if target.model is None else client.registry.cost(target.model, usage)
            if cost is None:
                raise UnsupportedRequestError(
                    f"cannot keep a cost budget: the price of {target.label} is unknown",
                    provider=target.provider.name,
                    model=target.request_model,
                )
            worst = max(worst, float(cost.total))
        return worst


def _plain(value: Any) -> Any:
    """A parsed output that msgspec cannot encode itself (a pydantic model) as plain data."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"cannot store a {type(value).__name__} in the event's record")
