"""``Redactor``: one policy for what spans, events, logs and error messages may show.

It is built on atoll_wire's one redaction rule (``redact_text``): key-like text (bearer tokens
and the key formats of every registry provider) is always masked. On top of it a policy says
whether message content is captured at all (off by default), whether email addresses are masked,
which known secret values to mask by value (the Client adds its own keys: some formats, such as
Mistral's, cannot be recognised by their look), and the caller's own rules.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import msgspec
from atoll_wire import redact_headers, redact_text

__all__ = ["Redactor", "Rule"]

Rule = str | re.Pattern[str] | Callable[[str], str]
"""A user rule: a regular expression (text or compiled) whose matches are masked, or a function
from text to masked text."""

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)

_ENCODER = msgspec.json.Encoder()
# The same marker as atoll_wire's rule, so every masked span of text reads alike.
REDACTED = "[redacted]"
# Error attributes that hold free text (the provider's message, a body excerpt, a reason).
_ERROR_TEXT = ("message", "body", "reason")


def _as_function(rule: Rule) -> Callable[[str], str]:
    if isinstance(rule, str):
        rule = re.compile(rule)
    if isinstance(rule, re.Pattern):
        pattern = rule

        def masked(text: str) -> str:
            return pattern.sub(REDACTED, text)

        return masked
    if not callable(rule):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"a redaction rule is a regex or a function, not {type(rule).__name__}")
    return rule


class Redactor:
    r"""What may be shown of a call: used by spans, events, logs and error messages alike.

    Args:
        capture_content: Put message content (prompts, replies, tool arguments and results) on
            spans and events. Off by default: content may be private.
        emails: Mask email addresses too.
        rules: Your own rules: regular expressions whose matches are masked, or functions that
            take text and return it masked. A rule must keep JSON string content valid
            (content is masked through its JSON form); content it breaks is dropped.
        secrets: Secret values to mask wherever they appear, whatever they look like.

    Example:
        >>> redactor = Redactor(emails=True, rules=[r"ACCT-\d{6}"])
        >>> redactor.text("mail bob@example.com about ACCT-123456, key sk-abcdefgh12345")
        'mail [redacted] about [redacted], key [redacted]'
    """

    __slots__ = ("_functions", "_rules", "_secrets", "capture_content", "emails")

    def __init__(
        self,
        *,
        capture_content: bool = False,
        emails: bool = False,
        rules: Iterable[Rule] = (),
        secrets: Iterable[str] = (),
    ) -> None:
        self.capture_content = bool(capture_content)
        self.emails = bool(emails)
        self._rules: tuple[Rule, ...] = tuple(rules)
        self._functions = tuple(_as_function(rule) for rule in self._rules)
        # Longest first: a secret that contains another is masked whole.
        self._secrets: tuple[str, ...] = tuple(
            sorted({s for s in secrets if s}, key=len, reverse=True)
        )

    def __repr__(self) -> str:
        return (
            f"Redactor(capture_content={self.capture_content}, emails={self.emails}, "
            f"rules={len(self._rules)}, secrets={len(self._secrets)})"
        )

    @property
    def strict(self) -> bool:
        """Whether this policy masks more than atoll_wire's rule (emails, rules or secrets)."""
        return bool(self.emails or self._functions or self._secrets)

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        """A copy that also masks these secret values (the Client adds its keys this way)."""
        added = [s for s in secrets if s and s not in self._secrets]
        if not added:
            return self
        return Redactor(
            capture_content=self.capture_content,
            emails=self.emails,
            rules=self._rules,
            secrets=(*self._secrets, *added),
        )

    def join(self, other: Redactor) -> Redactor:
        """A policy that masks whatever this one or ``other`` masks (capture stays this one's).

        An agent joins its Clients' policies, so its own events mask their keys too.
        """
        if other is self or (
            not other.strict
            or (
                (self.emails or not other.emails)
                and set(other._rules) <= set(self._rules)
                and set(other._secrets) <= set(self._secrets)
            )
        ):
            return self
        return Redactor(
            capture_content=self.capture_content,
            emails=self.emails or other.emails,
            rules=(*self._rules, *(r for r in other._rules if r not in self._rules)),
            secrets=(*self._secrets, *other._secrets),
        )

    def with_capture(self, capture_content: bool) -> Redactor:
        """A copy with content capture switched on or off."""
        if bool(capture_content) == self.capture_content:
            return self
        return Redactor(
            capture_content=capture_content,
            emails=self.emails,
            rules=self._rules,
            secrets=self._secrets,
        )

    # ------------------------------------------------------------------ text

    def text(self, text: str, limit: int | None = None) -> str:
        """``text`` with every secret (and, when asked, every email) masked.

        Args:
            text: Any text that may be shown.
            limit: The most characters kept (longer text ends with an ellipsis).
        """
        cleaned = redact_text(text, None, emails=self.emails, known=self._secrets)
        for function in self._functions:
            cleaned = function(cleaned)
        if limit is not None and len(cleaned) > limit:
            cleaned = cleaned[:limit] + "…"
        return cleaned

    def headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        """Headers safe to show: credentials removed by name and look, values masked."""
        safe = redact_headers(headers)
        if not self.strict:
            return safe
        return {name: self.text(value) for name, value in safe.items()}

    def data(self, value: T, type: Any = None) -> T | None:
        """``value`` (any msgspec-encodable data) masked through its JSON form.

        Args:
            value: A message, a list of messages, a mapping...
            type: The type to decode the masked JSON into (default: ``type(value)``).

        Returns:
            The masked value, or None if a user rule broke its JSON.
        """
        text = _ENCODER.encode(value).decode()
        clean = self.text(text)
        if clean == text:
            return value
        try:
            return msgspec.json.decode(clean, type=type if type is not None else value.__class__)
        except msgspec.MsgspecError:
            return None

    def content(self, value: T, type: Any = None) -> T | None:
        """``value`` masked when content is captured, else None."""
        if not self.capture_content:
            return None
        return self.data(value, type)

    def content_text(self, text: str | None) -> str | None:
        """Text content (tool arguments, results) masked when content is captured, else None."""
        if not self.capture_content or text is None:
            return None
        return self.text(text)

    # ------------------------------------------------------------------ errors and logs

    def error(self, error: E) -> E:
        """Mask this policy's extra rules in an error's message, text fields and notes.

        Errors mask key-like text themselves when made; this adds emails, known secrets and
        user rules. The error is changed in place (and returned).
        """
        if not self.strict:
            return error
        fields = vars(error) if hasattr(error, "__dict__") else {}
        for name in _ERROR_TEXT:
            value = fields.get(name)
            if isinstance(value, str):
                setattr(error, name, self.text(value))
        error.args = tuple(self.text(a) if isinstance(a, str) else a for a in error.args)
        notes: object = getattr(error, "__notes__", None)
        if isinstance(notes, list):
            texts: list[object] = notes  # pyright: ignore[reportUnknownVariableType]
            texts[:] = [self.text(n) if isinstance(n, str) else n for n in texts]
        return error

    def error_text(self, error: BaseException, limit: int | None = 500) -> str:
        """The error's message as text that may be shown."""
        try:
            text = str(error)
        except Exception:  # a broken __str__ must not break a call's telemetry
            text = type(error).__name__
        return self.text(text, limit)

    def log_filter(self) -> logging.Filter:
        """A ``logging.Filter`` that masks log records by this policy.

        The Client masks what it logs itself; attach this filter to a handler to mask other
        libraries' records the same way (``handler.addFilter(redactor.log_filter())``).
        """
        return _RedactingFilter(self)


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep it as is
            return True
        record.msg = self._redactor.text(message)
        record.args = None
        return True
