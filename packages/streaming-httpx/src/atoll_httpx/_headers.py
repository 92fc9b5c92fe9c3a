"""Request headers checked before httpx sees them, so a bad value never reaches an error message.

httpx (h11 underneath) refuses a header value with CR, LF or surrounding whitespace only once a
connection is open, with ``LocalProtocolError("Illegal header value b'<the value>'")``: the
value, often an API key read from a file with its trailing newline, would then sit in the error
and in its chained cause. Checking here first, the error names the header and never its value,
and nothing is sent. atoll_curl applies the same rules, so both transports accept and refuse the
same requests.
"""

from __future__ import annotations

import re

from atoll_wire import HttpRequest, TransportError

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII, space and tab: no control character (CR, LF, NUL, ...) and no non-ASCII text,
# which httpx cannot encode and libcurl would send as raw bytes.
_VALUE = re.compile(r"[\t\x20-\x7e]*")
_OWS = " \t"


def checked_headers(request: HttpRequest) -> dict[str, str]:
    """The headers to send: validated, values stripped of surrounding spaces and tabs.

    Surrounding whitespace is not part of an HTTP field value (RFC 9110, 5.5), so it is dropped
    rather than refused.

    Args:
        request: The request about to be sent.

    Raises:
        TransportError: A header name is not an HTTP token, or a value holds a control or
            non-ASCII character. The message names the header, never its value.
    """
    headers = request.headers
    needs_strip = False
    for name, value in headers.items():
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
        if value and (value[0] in _OWS or value[-1] in _OWS):
            needs_strip = True
    if needs_strip:
        return {name: value.strip(_OWS) for name, value in headers.items()}
    return headers
