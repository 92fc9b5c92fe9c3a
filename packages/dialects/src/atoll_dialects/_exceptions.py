"""Typed errors raised by dialects and the Client.

Every error carries structured fields, never only a string, and never a secret: headers, body
excerpts and messages pass through atoll_wire's one redaction rule. Every error is an
``atoll_wire.AtollError`` and pickles with its fields. The hierarchy::

    AtollError (atoll_wire)                 root of every error the stack raises
    ├── MissingAPIKeyError                  no key given and the provider's variable is unset
    ├── AuthError                           credentials could not be obtained (a token source)
    ├── UnsupportedRequestError             the request cannot be served (raised before sending)
    │   ├── CapabilityError                 a capability the registry says the model lacks
    │   ├── InvalidOptionError              a call option has a wrong type or value
    │   ├── UnknownDialectError             no dialect or auth scheme registered under that id
    │   └── BatchRequestError               one request of a batch refused before upload, by id
    ├── StructuredOutputError               ``output=`` replies still invalid after the repairs
    ├── BatchError                          a provider batch job cannot go on
    │   ├── BatchRecordError                the job record exists, is unreadable, locked, ...
    │   ├── BatchNotEndedError              results asked for before the job's batches ended
    │   └── BatchOutcomeError               the job ended short (``BatchStatus.raise_for_state``)
    │       ├── BatchFailedError            a batch failed as a whole (validation)
    │       ├── BatchExpiredError           a batch hit the 24 h window
    │       └── BatchCancelledError         a batch was cancelled
    └── APIError                            the provider answered with an error (HTTP or mid-stream)
        ├── ClientError                     a 4xx the provider blames on the request
        │   ├── BadRequestError             400, 413, 422, invalid_request_error
        │   │   └── ContentFilterError      a safety filter refused the prompt (Gemini's
        │   │                               promptFeedback.blockReason, Azure's content_filter)
        │   ├── AuthenticationError         401
        │   ├── PermissionDeniedError       403
        │   ├── NotFoundError               404
        │   └── ConflictError               409 (retryable)
        ├── RateLimitError                  429, carries ``retry_after`` seconds
        ├── OverloadedError                 529 or an ``overloaded_error`` body
        ├── ServerError                     other 5xx
        ├── TimeoutError (builtins.TimeoutError)  408, read timeouts, the overall deadline
        ├── InvalidResponseError            a success status with a body that is not the API's
        ├── StreamInterrupted               a stream broke off; ``partial`` is what arrived
        └── BatchItemError                  one request of a batch did not succeed (yielded)

An error raised in the middle of a stream exposes what arrived before it as ``exc.partial``
(a ChatResponse marked incomplete); before the first byte ``partial`` is ``None``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING

from atoll_wire import AtollError, redact_headers, redact_text

if TYPE_CHECKING:
    from atoll_wire import ChatResponse

__all__ = [
    "APIError",
    "AuthError",
    "AuthenticationError",
    "BadRequestError",
    "BatchCancelledError",
    "BatchError",
    "BatchExpiredError",
    "BatchFailedError",
    "BatchItemError",
    "BatchNotEndedError",
    "BatchOutcomeError",
    "BatchRecordError",
    "BatchRequestError",
    "CapabilityError",
    "ClientError",
    "ConflictError",
    "ContentFilterError",
    "InvalidOptionError",
    "InvalidResponseError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "StreamInterrupted",
    "StructuredOutputError",
    "TimeoutError",
    "UnknownDialectError",
    "UnsupportedRequestError",
]

HeadersLike = Mapping[str, str]


class MissingAPIKeyError(AtollError):
    """No API key was given and the provider's environment variable is not set.

    Attributes:
        provider: The provider that needs a key.
        env_var: The environment variable that was read, or ``None`` if the provider has none.
    """

    def __init__(self, provider: str, env_var: str | None) -> None:
        self.provider = provider
        self.env_var = env_var
        where = f"set the environment variable {env_var} or " if env_var else ""
        super().__init__(f"no API key for provider {provider!r}: {where}pass api_key=...")


class UnsupportedRequestError(AtollError, ValueError):
    """The request cannot be sent as asked; raised before anything goes on the wire.

    Attributes:
        provider: The provider the request was meant for.
        model: The model the request was meant for.
        reason: What is wrong, in words.
    """

    def __init__(
        self, reason: str, *, provider: str | None = None, model: str | None = None
    ) -> None:
        self.reason = reason
        self.provider = provider
        self.model = model
        target = f" (provider {provider!r}, model {model!r})" if provider or model else ""
        super().__init__(f"{reason}{target}")


class AuthError(AtollError):
    """The credentials for a request could not be obtained (a token source failed).

    Attributes:
        reason: What went wrong, in words (never the credential itself).
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class CapabilityError(UnsupportedRequestError):
    """The registry says the model lacks a capability the request needs.

    Attributes:
        capability: The missing capability, for example ``"tools"`` or ``"vision"``.
    """

    def __init__(
        self, capability: str, reason: str, *, provider: str | None = None, model: str | None = None
    ) -> None:
        self.capability = capability
        super().__init__(reason, provider=provider, model=model)


class InvalidOptionError(UnsupportedRequestError, TypeError):
    """A call or Client option has the wrong type or value; nothing was sent.

    It is also a ``TypeError`` (and, through UnsupportedRequestError, a ``ValueError``), so
    code written for the builtins catches it.

    Attributes:
        option: The option's name.
        value: A short repr of the value that was refused.
    """

    def __init__(self, option: str, value: object, expected: str) -> None:
        self.option = option
        self.value = _short_repr(value)
        super().__init__(f"{option}={self.value} is not valid: expected {expected}")


class UnknownDialectError(UnsupportedRequestError, LookupError):
    """No dialect (or auth scheme) is registered under the id the registry or caller named.

    Attributes:
        kind: ``"dialect"`` or ``"auth scheme"``.
        name: The id that was asked for.
        known: The registered ids.
    """

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        super().__init__(f"no {kind} named {name!r} is registered (known: {', '.join(known)})")


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class StructuredOutputError(AtollError, ValueError):
    """A structured reply (``output=``) failed validation and no repair turn was left.

    Attributes:
        output: The output's schema name.
        reason: Why the last reply did not match (the validator's message).
        text: An excerpt of the last reply's JSON text (redacted).
        replies: How many replies were tried (the first and every repair).
        provider: The provider that answered last.
        model: The model that answered last.
        response: The last reply, whole (usage and cost included), or None.
    """

    def __init__(
        self,
        output: str,
        reason: str,
        *,
        text: str = "",
        replies: int = 1,
        provider: str | None = None,
        model: str | None = None,
        response: ChatResponse | None = None,
    ) -> None:
        self.output = output
        self.reason = redact_text(reason, 1000)
        self.text = redact_text(text, 500)
        self.replies = replies
        self.provider = provider
        self.model = model
        self.response = response
        tries = "reply" if replies == 1 else f"{replies} replies"
        super().__init__(f"the model's {tries} did not match output {output!r}: {self.reason}")


class APIError(AtollError):
    """The provider answered with an error, over HTTP or inside a stream.

    Attributes:
        message: The provider's message (redacted), or a description of what happened.
        status: The HTTP status, or the status inside a mid-stream error; ``None`` if unknown.
        provider: The provider name, when known.
        model: The model name, when known.
        request_id: The provider's request id (``x-request-id``, ``request-id`` or the body).
        error_type: The provider's error type (``invalid_request_error`` ...), when given.
        code: The provider's error code (a string or a number, as sent), when given.
        retry_after: Seconds the provider asked us to wait, when it said so.
        body: A redacted excerpt of the response body.
        headers: The response headers with lower-case names, credentials removed.
        partial: What a stream delivered before the error, or ``None`` outside streams.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        error_type: str | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
        body: str = "",
        headers: HeadersLike | None = None,
        partial: ChatResponse | None = None,
    ) -> None:
        self.message = redact_text(message, 500)
        self.status = status
        self.provider = provider
        self.model = model
        self.request_id = request_id
        self.error_type = error_type
        self.code = code
        self.retry_after = retry_after
        self.body = redact_text(body)
        self.headers = {k.lower(): v for k, v in redact_headers(headers).items()}
        self.partial = partial
        super().__init__(self.message)

    def __str__(self) -> str:
        details = [
            f"{label}={value!r}"
            for label, value in (
                ("status", self.status),
                ("provider", self.provider),
                ("model", self.model),
                ("type", self.error_type),
                ("code", self.code),
                ("request_id", self.request_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class ClientError(APIError):
    """The provider refused the request as the caller's fault (a 4xx); not retried by default."""


class BadRequestError(ClientError):
    """The provider rejected the request as malformed or invalid (400, 413, 422)."""


class ContentFilterError(BadRequestError):
    """The provider's safety filter refused the prompt; sending it again gives the same answer.

    Gemini answers a blocked prompt with HTTP 200 and ``promptFeedback.blockReason`` (then
    ``status`` is None); Azure OpenAI with a 400 whose code is ``content_filter``. ``code``
    holds the provider's reason as sent (``SAFETY``, ``PROHIBITED_CONTENT``, ``content_filter``).
    """

    @property
    def reason(self) -> str | None:
        """The provider's reason for blocking (Gemini's ``blockReason``), as sent."""
        return None if self.code is None else str(self.code)


class AuthenticationError(ClientError):
    """The API key is missing, wrong or expired (401)."""


class PermissionDeniedError(ClientError):
    """The key is valid but may not use this resource (403)."""


class NotFoundError(ClientError):
    """The model or endpoint does not exist, or the key cannot see it (404)."""


class ConflictError(ClientError):
    """The provider reported a conflicting concurrent request (409); retryable."""


class RateLimitError(APIError):
    """Too many requests or tokens (429); ``retry_after`` says how long to wait when known."""


class OverloadedError(APIError):
    """The provider is overloaded (Anthropic 529 or an ``overloaded_error`` body); retryable."""


class ServerError(APIError):
    """The provider failed (5xx other than overload); usually retryable."""


class TimeoutError(APIError, builtins.TimeoutError):
    """A request timed out (HTTP 408, a transport timeout or the Client's deadline).

    It is also a ``builtins.TimeoutError``, so ``except TimeoutError`` written for the builtin
    catches it too.
    """


class InvalidResponseError(APIError):
    """The provider answered with a success status but the body is not what the API defines."""


class StreamInterrupted(APIError):
    """A stream ended early: the connection broke, or the provider sent an error event.

    ``partial`` always holds what arrived before the interruption (marked incomplete).
    """


# ---------------------------------------------------------------- provider batch APIs


class BatchRequestError(UnsupportedRequestError):
    """One request of a batch cannot be sent; the whole batch is refused before any upload.

    Attributes:
        custom_id: The request's id.
    """

    def __init__(
        self,
        reason: str,
        *,
        custom_id: str,
        provider: str | None = None,
        model: str | None = None,
    ) -> None:
        self.custom_id = custom_id
        super().__init__(f"request {custom_id!r}: {reason}", provider=provider, model=model)


class BatchError(AtollError):
    """A provider batch job cannot go on (see the subclasses).

    Attributes:
        reason: What is wrong, in words.
        job_id: The job's id, when known.
    """

    def __init__(self, reason: str, *, job_id: str | None = None) -> None:
        self.reason = reason
        self.job_id = job_id
        super().__init__(reason if job_id is None else f"{reason} (batch job {job_id})")


class BatchRecordError(BatchError):
    """A job record cannot be used.

    It exists already (submitting to it again is refused), cannot be read, was written for
    another model or provider, is in use by another process, or the request files it names are
    missing or changed.

    Attributes:
        path: The record's path.
    """

    def __init__(self, reason: str, *, path: str, job_id: str | None = None) -> None:
        self.path = path
        super().__init__(f"{reason}: {path}", job_id=job_id)


class BatchNotEndedError(BatchError):
    """Results were asked for before every batch of the job ended (``await job.wait()`` first).

    Attributes:
        state: The job's state when asked.
    """

    def __init__(self, reason: str, *, state: str, job_id: str | None = None) -> None:
        self.state = state
        super().__init__(reason, job_id=job_id)


class BatchOutcomeError(BatchError):
    """A job ended without every batch completing (``BatchStatus.raise_for_state``).

    Its requests that ran are still in ``job.results()``; the others come out as
    ``BatchItemError`` items whose ``outcome`` says why.

    Attributes:
        state: The job's state: ``failed``, ``expired`` or ``cancelled``.
        batch_ids: The provider batches that ended that way.
    """

    def __init__(
        self, reason: str, *, state: str, batch_ids: tuple[str, ...], job_id: str | None = None
    ) -> None:
        self.state = state
        self.batch_ids = batch_ids
        super().__init__(reason, job_id=job_id)


class BatchFailedError(BatchOutcomeError):
    """A batch failed as a whole (the provider refused its input): none of its requests ran."""


class BatchExpiredError(BatchOutcomeError):
    """A batch did not finish within its 24-hour window; its unfinished requests expired."""


class BatchCancelledError(BatchOutcomeError):
    """A batch was cancelled; its requests that had not run were cancelled."""


class BatchItemError(APIError):
    """One request of a batch that did not succeed: yielded by ``job.results()``, not raised.

    Attributes:
        custom_id: The request's id.
        outcome: ``errored`` (the provider answered with an error), ``expired`` (the batch's
            window closed first), ``cancelled`` (the batch was cancelled first) or ``failed``
            (its batch failed as a whole and nothing ran).
        batch_id: The provider batch it was in, when one was created.
        error: The provider's typed error for an ``errored`` request (``BadRequestError``,
            ``RateLimitError``, ...), or None.
    """

    def __init__(
        self,
        message: str,
        *,
        custom_id: str,
        outcome: str,
        batch_id: str | None = None,
        error: APIError | None = None,
        status: int | None = None,
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        error_type: str | None = None,
        code: str | int | None = None,
        body: str = "",
    ) -> None:
        self.custom_id = custom_id
        self.outcome = outcome
        self.batch_id = batch_id
        self.error = error
        super().__init__(
            message,
            status=status,
            provider=provider,
            model=model,
            request_id=request_id,
            error_type=error_type,
            code=code,
            body=body,
        )

    @property
    def cost(self) -> None:
        """Always None: a request that did not succeed reports no usage to price."""
        return None

    def __str__(self) -> str:
        return f"{self.custom_id}: {self.outcome}: {super().__str__()}"

    def __repr__(self) -> str:
        return (
            f"BatchItemError({self.message!r}, custom_id={self.custom_id!r}, "
            f"outcome={self.outcome!r})"
        )
