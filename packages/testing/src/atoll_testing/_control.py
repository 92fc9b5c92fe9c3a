"""The server's own routes, beside the dialects' in the same table: health and fault injection.

They exist for harnesses that drive a server in another process (``python -m atoll_testing
serve``), where ``srv.inject`` is out of reach. They are not provider endpoints: no API key is
asked for, they are not logged or counted, no fault applies to them, and a recording server
answers them itself instead of proxying.

* ``GET /_atoll/health`` -> ``{"status": "ok", "dialects": [...]}``
* ``POST /_atoll/faults`` with ``{"fault": "status=429; retry-after=0", "times": 2}`` ->
  ``{"injected": 2}``; a bad fault or body -> 400 ``{"error": {"message": ..., "type": ...}}``
* ``DELETE /_atoll/faults`` -> ``{"cleared": n}`` (injected faults not used yet)
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from ._exceptions import FaultSyntaxError
from ._exchange import Exchange
from ._faults import Fault
from ._reply import JSON, Reply
from ._routes import Route

_ENC = msgspec.json.Encoder()


class _Injection(msgspec.Struct, forbid_unknown_fields=True):
    fault: str
    times: int = 1


_INJECTION = msgspec.json.Decoder(_Injection)


class Controlled(Protocol):
    """What the control routes act on (the server's dispatcher)."""

    def dialect_names(self) -> list[str]:
        """Names of the dialects served."""
        ...

    def inject(self, fault: Fault, times: int) -> None:
        """Queue a fault for the next ``times`` requests."""
        ...

    def clear_injected(self) -> int:
        """Drop queued faults; returns how many there were."""
        ...


def control_routes(target: Controlled) -> list[Route]:
    """The control routes acting on ``target``."""

    def health(exchange: Exchange) -> Reply:
        return _json(200, {"status": "ok", "dialects": target.dialect_names()})

    def inject(exchange: Exchange) -> Reply:
        try:
            wanted = _INJECTION.decode(exchange.body)
            fault = Fault.parse(wanted.fault)
        except (msgspec.DecodeError, msgspec.ValidationError, FaultSyntaxError) as exc:
            return _json(400, {"error": {"message": str(exc), "type": "invalid_request_error"}})
        if wanted.times < 1:
            message = f"times must be at least 1, got {wanted.times}"
            return _json(400, {"error": {"message": message, "type": "invalid_request_error"}})
        target.inject(fault, wanted.times)
        return _json(200, {"injected": wanted.times})

    def clear(exchange: Exchange) -> Reply:
        return _json(200, {"cleared": target.clear_injected()})

    return [
        Route("GET", "/_atoll/health", health),
        Route("POST", "/_atoll/faults", inject),
        Route("DELETE", "/_atoll/faults", clear),
    ]


def _json(status: int, body: object) -> Reply:
    return Reply(status, JSON, _ENC.encode(body))
