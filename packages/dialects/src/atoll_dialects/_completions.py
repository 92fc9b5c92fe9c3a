"""Legacy text completions: a prompt (and, for fill-in-the-middle, a suffix) in, text out.

``Client.complete`` takes ``CompletionOptions``, checked like chat options before anything is
sent, and builds one neutral ``CompletionRequest``; each dialect that has a completions endpoint
turns it into its wire request (``Dialect.build_completion``). The reply comes back as a
``ClientResponse`` whose message holds the completed text, with usage, cost and the attempt
record as for a chat call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import msgspec

from ._exceptions import InvalidOptionError
from ._options import check_options

__all__ = ["CompletionOptions", "CompletionRequest", "completion_request"]


class CompletionRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A neutral text-completion request.

    Attributes:
        model: The model name on the wire (filled in per target).
        prompt: The text to continue.
        suffix: The text that follows the insertion (fill-in-the-middle).
        max_tokens: The most tokens to generate.
        temperature: Sampling temperature.
        top_p: Nucleus sampling.
        stop: Stop sequences.
        seed: A sampling seed.
        stream: Whether the reply streams.
        extra: Provider-specific body fields, merged last.
    """

    model: str
    prompt: str
    suffix: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None
    stream: bool = False
    extra: dict[str, Any] = {}


class CompletionOptions(TypedDict, total=False):
    """The keyword options of ``Client.complete`` (checked before anything is sent)."""

    suffix: str | None
    """The text after the gap, for fill-in-the-middle (where the provider supports it)."""
    max_tokens: int | None
    """The most tokens to generate (at least 1)."""
    temperature: float | None
    """Sampling temperature, from 0 to 2."""
    top_p: float | None
    """Nucleus sampling, from 0 to 1."""
    stop: str | list[str] | None
    """A stop sequence or several."""
    seed: int | None
    """A sampling seed, where the provider supports one."""
    extra: Mapping[str, Any] | None
    """Provider-specific body fields, merged into the request body last."""
    extra_headers: Mapping[str, str] | None
    """Headers for this call only (over the Client's ``default_headers``)."""


_SHARED = frozenset(
    {"max_tokens", "temperature", "top_p", "stop", "seed", "extra", "extra_headers"}
)


def completion_request(
    prompt: object, options: Mapping[str, object], *, stream: bool
) -> tuple[CompletionRequest, dict[str, str] | None]:
    """Check a ``complete`` call's prompt and options and build its neutral request.

    Returns:
        The request (``model`` filled in per target later) and the call's own headers.

    Raises:
        InvalidOptionError: A prompt that is not a string, an unknown option, or a value of
            the wrong type or range.
    """
    if not isinstance(prompt, str):
        raise InvalidOptionError("prompt", prompt, "a string")
    shared: dict[str, object] = {}
    suffix: object = None
    for name, value in options.items():
        if name == "suffix":
            suffix = value
        elif name in _SHARED:
            shared[name] = value
        else:
            allowed = ", ".join(sorted(_SHARED | {"suffix", "timeout"}))
            raise InvalidOptionError(name, value, f"a known option ({allowed})")
    if suffix is not None and not isinstance(suffix, str):
        raise InvalidOptionError("suffix", suffix, "a string")
    checked: dict[str, Any] = check_options(shared) if shared else {}
    headers: dict[str, str] | None = checked.pop("extra_headers", None)
    request = CompletionRequest(model="", prompt=prompt, suffix=suffix, stream=stream, **checked)
    return request, headers
