"""Request headers checked before httpx sees them, so a bad value never reaches an error message.

httpx (h11 underneath) refuses a header value with CR, LF or surrounding whitespace only once a
connection is open, with ``LocalProtocolError("Illegal header value b'<the value>'")``: the
value, often an API key read from a file with its trailing newline, would then sit in the error
and in its chained cause. atoll_wire's rules run first instead (atoll_curl applies the same), so
the error names the header, never its value, and nothing is sent.
"""

from __future__ import annotations

from atoll_wire import HttpRequest, checked_header_value


def checked_headers(request: HttpRequest) -> dict[str, str]:
    """The headers to send: validated, values stripped of surrounding spaces and tabs.

    Args:
        request: The request about to be sent.

    Raises:
        TransportError: A header name is not an HTTP token, or a value holds a control or
            non-ASCII character. The message names the header, never its value.
    """
    return {
        name: checked_header_value(name, value, request) for name, value in request.headers.items()
    }
