"""How the ``atoll`` command reports a failure: one readable line and the exit status of its kind.

=====  ==========================================================================
 exit  meaning
=====  ==========================================================================
    0  done
    1  done, but part of the work failed (calls in a batch or the demo; a cost
       that cannot be known)
    2  bad command line (an unknown option, a value out of range)
    3  configuration or input: no API key (the variable to set is named), an
       unknown model or provider, a missing or malformed file, a busy port
    4  the provider refused the credentials (401, 403)
    5  the server could not be reached, or did not answer in time
    6  the provider answered with another error (429, 5xx, 400, ...)
   70  a bug in atoll itself (set ``ATOLL_DEBUG=1`` for the traceback)
  130  interrupted (Ctrl-C)
=====  ==========================================================================
"""

from __future__ import annotations

import builtins
import os
import sys
import traceback
from typing import cast

from atoll_dialects import (
    APIError,
    AuthenticationError,
    MissingAPIKeyError,
    PermissionDeniedError,
    UnsupportedRequestError,
)
from atoll_registry import RegistryError
from atoll_wire import AtollError, TransportError

OK = 0
FAILED = 1
USAGE = 2
CONFIG = 3
AUTH = 4
UNREACHABLE = 5
PROVIDER = 6
BUG = 70
INTERRUPTED = 130


def leaf(error: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups."""
    current: BaseException = error
    while isinstance(current, BaseExceptionGroup):
        inner = cast(tuple[BaseException, ...], current.exceptions)  # pyright: ignore[reportUnknownMemberType]
        if not inner:
            break
        current = inner[0]
    return cast(BaseException, current)  # pyright: ignore[reportUnnecessaryCast]


def exit_status(error: BaseException) -> int:
    """The exit status for ``error`` (see the module table)."""
    error = leaf(error)
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return AUTH
    if isinstance(error, TransportError | builtins.TimeoutError):
        return UNREACHABLE
    if isinstance(error, APIError):
        return PROVIDER
    if isinstance(error, AtollError | RegistryError | OSError | ValueError | LookupError):
        return CONFIG
    return BUG


def describe(error: BaseException) -> str:
    """One line saying what went wrong and, where we know, what to do."""
    error = leaf(error)
    if isinstance(error, MissingAPIKeyError):
        if error.env_var:
            return f"no API key for {error.provider}: set the environment variable {error.env_var}"
        return f"no API key for {error.provider}"
    if isinstance(error, TransportError):
        return f"cannot reach {_where(error)}: {error.message.splitlines()[0]}"
    if isinstance(error, UnsupportedRequestError):
        return _first_line(error)
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if exit_status(error) == BUG:
        return f"internal error: {type(error).__name__}: {_first_line(error)}"
    return _first_line(error)


def _where(error: TransportError) -> str:
    url = getattr(error, "url", None)
    return str(url) if url else "the server"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def report(command: str, error: BaseException) -> int:
    """Print the one line for ``error`` on stderr; returns its exit status."""
    status = exit_status(error)
    print(f"atoll {command}: error: {describe(error)}", file=sys.stderr)
    if status == BUG or os.environ.get("ATOLL_DEBUG"):
        if os.environ.get("ATOLL_DEBUG"):
            traceback.print_exception(error)
        else:
            print("atoll: set ATOLL_DEBUG=1 to see the traceback", file=sys.stderr)
    return status
