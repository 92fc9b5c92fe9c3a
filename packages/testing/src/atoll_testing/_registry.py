"""The dialects a ``FakeLLMServer()`` speaks by default, and how to add one.

OpenAI chat comes first (it answers unrouted requests, so a 404 has OpenAI's shape), then
Anthropic Messages, then whatever :func:`register_server_dialect` added, in order. A dialect
module inside this package registers itself when imported; a test or plugin calls
:func:`register_server_dialect`, or gives ``FakeLLMServer(dialects=[...])`` for one server.
"""

from __future__ import annotations

from ._anthropic import AnthropicMessagesServer
from ._dialect import ServerDialect, check_dialect
from ._exceptions import DialectError
from ._openai import OpenAIChatServer

_registered: list[ServerDialect] = [OpenAIChatServer(), AnthropicMessagesServer()]


def register_server_dialect(dialect: ServerDialect, *, replace: bool = False) -> None:
    """Make every server created afterwards speak ``dialect`` too, after those registered before.

    Servers already running keep their dialects. For one server only, use
    ``FakeLLMServer(dialects=[*registered_server_dialects(), dialect])``.

    Args:
        dialect: The dialect.
        replace: Replace a registered dialect of the same name instead of failing.

    Raises:
        DialectError: The dialect has no name, or the name is taken and ``replace`` is False.
    """
    check_dialect(dialect)
    for index, known in enumerate(_registered):
        if known.name == dialect.name:
            if not replace:
                raise DialectError(dialect.name, "a dialect of this name is already registered")
            _registered[index] = dialect
            return
    _registered.append(dialect)


def unregister_server_dialect(name: str) -> None:
    """Stop speaking a registered dialect in servers created afterwards (no-op if unknown).

    Args:
        name: The dialect's name.
    """
    _registered[:] = [d for d in _registered if d.name != name]


def registered_server_dialects() -> tuple[ServerDialect, ...]:
    """The dialects a ``FakeLLMServer()`` speaks, first one first.

    The first one answers requests that no route matches (404s, unroutable replays).
    """
    return tuple(_registered)


def dialect_for_corpus(corpus_dialect: str) -> ServerDialect | None:
    """The registered dialect whose recordings are filed as ``corpus_dialect``, if any."""
    for dialect in _registered:
        if dialect.corpus_dialect == corpus_dialect:
            return dialect
    return None
