"""Apply a parsed :class:`Fault` to a rendered :class:`Reply`, in the route dialect's shapes.

Timing, cuts and injected stream events are carried out later by the HTTP layer (it reads
``reply.fault``); here the fault replaces the response with an error, shapes the mid-stream
error event and adds its headers.
"""

from __future__ import annotations

import email.utils
import time

from ._dialect import ServerDialect
from ._faults import Fault
from ._reply import Reply

_MESSAGES = {
    429: "Rate limit reached for requests",
    500: "The server had an error while processing your request.",
    502: "Bad gateway.",
    503: "The service is temporarily unavailable.",
    529: "Overloaded",
}


def apply_fault(reply: Reply, fault: Fault, dialect: ServerDialect) -> Reply:
    """The reply with ``fault`` applied (the same object, or an error reply replacing it)."""
    if fault.is_error:
        assert fault.status is not None
        default = _MESSAGES.get(fault.status, f"injected error {fault.status}")
        replaced = dialect.error(fault.status, fault.message or default, fault.error_type)
        replaced.headers = [h for h in reply.headers if h[0].endswith("request-id")]
        reply = replaced
    elif fault.error_type is not None or fault.message is not None:
        # Shapes the mid-stream error event instead of an HTTP error.
        reply.error_event = dialect.error_event(fault.message or "stream error", fault.error_type)
    headers = reply.headers
    if fault.retry_after is not None:
        value = fault.retry_after
        headers.append(("retry-after", str(int(value)) if value == int(value) else str(value)))
    if fault.retry_after_date is not None:
        when = email.utils.formatdate(time.time() + fault.retry_after_date, usegmt=True)
        headers.append(("retry-after", when))
    if fault.retry_after_ms is not None:
        headers.append(("retry-after-ms", str(fault.retry_after_ms)))
    if fault.should_retry is not None:
        headers.append(("x-should-retry", "true" if fault.should_retry else "false"))
    headers.extend(dialect.ratelimit_headers(fault))
    headers.extend(fault.headers)
    reply.fault = fault
    return reply
