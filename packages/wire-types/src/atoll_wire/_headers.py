"""The request-header rules every transport applies before sending.

Both transports refuse the same headers the same way, before any I/O: a value with CR or LF
would be header injection, and a backend that refuses it later (httpx's h11) echoes the value,
often an API key read from a file with its trailing newline, in its error. Here the error names
the header and never its value.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._exceptions import TransportError

if TYPE_CHECKING:
    from ._transport import HttpRequest

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII, space and tab: no control character (CR, LF, NUL, ...) and no non-ASCII text,
# which httpx cannot encode and libcurl would send as raw bytes.
_VALUE = re.compile(r"[\t\x20-\x7e]*")
_OWS = " \t"


def checked_header_value(name: str, value: str, request: HttpRequest | None = None) -> str:
    """Validate one request header and return the value to send.

    Surrounding spaces and tabs are not part of an HTTP field value (RFC 9110, 5.5), so they
    are dropped rather than refused.

    Args:
        name: The header name.
        value: Its value as the caller gave it.
        request: The request it belongs to (carried by the error), if there is one yet.

    Returns:
        The value without surrounding spaces and tabs.

    Raises:
        TransportError: The name is not an HTTP token, or the value holds a control character
            or non-ASCII text. The message names the header, never its value.
    """
    if not _TOKEN.fullmatch(name):
        raise TransportError(
            f"the request is not valid HTTP: invalid header name {name!r}", request=request
        )
    if not _VALUE.fullmatch(value):
        raise TransportError(
            f"the request is not valid HTTP: the value of header {name!r} holds a control "
            "character (CR, LF, NUL, ...) or non-ASCII text",
            request=request,
        )
    return value.strip(_OWS)
