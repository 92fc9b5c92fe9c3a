"""Errors raised by atoll_testing, all with structured fields.

Hierarchy::

    AtollTestingError
    ├── ServerStartError      the server thread could not bind or start
    ├── FaultSyntaxError      an ``x-atoll-fault`` value or script fault did not parse
    ├── ScriptError           a script (code or JSON file) is malformed
    ├── CaseFormatError       a recorded case file is not in the corpus format
    ├── DialectError          a server dialect or its routes cannot be used
    └── RequestError          raised by a route handler: answer with a provider-shaped error

Errors met while *serving* a request never raise in the caller: they become provider-shaped
HTTP error responses, so the client under test sees what a real provider would send.
``RequestError`` is how a handler asks for one.
"""

from __future__ import annotations

from atoll_wire import AtollError


class AtollTestingError(AtollError):
    """Base class of every error raised by atoll_testing."""


class ServerStartError(AtollTestingError):
    """The server thread failed to start.

    Attributes:
        host: The address the server tried to bind.
        port: The port it tried to bind (0 means ephemeral).
    """

    def __init__(self, message: str, *, host: str, port: int) -> None:
        super().__init__(f"{message} (host={host!r}, port={port})")
        self.host = host
        self.port = port


class FaultSyntaxError(AtollTestingError):
    """A fault specification did not parse.

    Attributes:
        spec: The full specification text.
        item: The item that was wrong.
        reason: Why it was rejected.
    """

    def __init__(self, spec: str, item: str, reason: str) -> None:
        super().__init__(f"bad fault item {item!r} in {spec!r}: {reason}")
        self.spec = spec
        self.item = item
        self.reason = reason


class ScriptError(AtollTestingError):
    """A script is malformed.

    Attributes:
        source: Where the script came from (a file path or ``"<code>"``).
        reason: What was wrong.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"bad script {source}: {reason}")
        self.source = source
        self.reason = reason


class CaseFormatError(AtollTestingError):
    """A case file is not in the corpus format.

    Attributes:
        path: The file that was read.
        reason: What was wrong.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"bad case file {path}: {reason}")
        self.path = path
        self.reason = reason


class DialectError(AtollTestingError):
    """A server dialect, or one of its routes, cannot be used.

    Raised when a route is malformed, when two dialects answer the same route, or when a
    dialect's name is missing or already registered.

    Attributes:
        dialect: The dialect's name (or the route pattern when the route itself is bad).
        reason: What was wrong.
    """

    def __init__(self, dialect: str, reason: str) -> None:
        super().__init__(f"server dialect {dialect!r}: {reason}")
        self.dialect = dialect
        self.reason = reason


class RequestError(AtollTestingError):
    """Raised by a route handler to answer with an error in its dialect's shape.

    The server catches it and sends ``dialect.error(status, message, error_type)``; it never
    reaches the test.

    Attributes:
        status: HTTP status to answer with (4xx or 5xx).
        message: The error message.
        error_type: The dialect's error type, or None for its default for the status.
    """

    def __init__(self, status: int, message: str, error_type: str | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.error_type = error_type
