"""``GoogleTokenServer``: an OAuth2 token endpoint for google-auth's real service-account flow.

A test writes a service-account key file whose ``token_uri`` is this server's ``/token`` and
lets google-auth sign its JWT assertion and exchange it here, exactly as it would at
``oauth2.googleapis.com``. The endpoint checks the grant type and the assertion's claims
(issuer, audience, scope, expiry), keeps every assertion (``assertions``; a test can verify the
signature with the public key) and issues ``ya29.atoll-N`` tokens that ``VertexServer(tokens=...)``
then accepts. It needs no key: add it to a server that has none.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl

import msgspec

from ._dialect import ServerDialect
from ._exceptions import RequestError
from ._exchange import Exchange
from ._inputs import ChatInput
from ._reply import JSON, Reply
from ._routes import Route
from ._script import Turn

__all__ = ["GoogleTokenServer"]

_ENC = msgspec.json.Encoder()
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class _Claims(msgspec.Struct):
    iss: str = ""
    aud: str = ""
    scope: str = ""
    exp: int = 0
    iat: int = 0


def _claims(assertion: str) -> _Claims:
    try:
        payload = assertion.split(".")[1]
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return msgspec.json.decode(raw, type=_Claims)
    except (IndexError, binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise RequestError(400, f"invalid assertion: {exc}", "invalid_grant") from exc


class GoogleTokenServer(ServerDialect):
    """``POST /token``: service-account JWT assertions in, bearer tokens out.

    Args:
        lifetime: Seconds each issued token is valid (``expires_in``).

    Attributes:
        issued: The tokens handed out, oldest first.
        assertions: The JWT assertions received, as sent.
    """

    name = "google-oauth"

    def __init__(self, *, lifetime: int = 3600) -> None:
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.assertions: list[str] = []
        self._lock = threading.Lock()

    def routes(self) -> Sequence[Route]:
        """The token endpoint."""
        return (Route("POST", "/token", self.token),)

    def credential(self, headers: Mapping[str, str]) -> str | None:
        """None: the token endpoint authenticates by the signed assertion, not a header."""
        return None

    def token(self, exchange: Exchange) -> Reply:
        """Exchange a signed JWT assertion for a bearer token."""
        form = dict(parse_qsl(exchange.body.decode("utf-8", "replace")))
        if form.get("grant_type") != JWT_BEARER:
            raise RequestError(400, "unsupported grant_type", "unsupported_grant_type")
        assertion = form.get("assertion", "")
        claims = _claims(assertion)
        if not claims.iss or not claims.scope or claims.exp < time.time():
            raise RequestError(
                400, "the assertion lacks iss, scope or a future exp", "invalid_grant"
            )
        if not claims.aud.endswith("/token"):
            raise RequestError(
                400, "the assertion's audience is not this endpoint", "invalid_grant"
            )
        with self._lock:
            self.assertions.append(assertion)
            token = f"ya29.atoll-{len(self.issued) + 1}"
            self.issued.append(token)
        body = {"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"}
        return Reply(200, JSON, _ENC.encode(body))

    # ---- no chat on this dialect -----------------------------------------------------------

    def parse_chat(self, exchange: Exchange) -> ChatInput:
        """Never called: the token endpoint is not a chat route."""
        raise RequestError(404, "not a chat endpoint")

    def render(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """Never called."""
        raise RequestError(404, "not a chat endpoint")

    def render_stream(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """Never called."""
        raise RequestError(404, "not a chat endpoint")

    def error(self, status: int, message: str, error_type: str | None = None) -> Reply:
        """OAuth2's ``{"error": type, "error_description": message}``."""
        body = {"error": error_type or "invalid_request", "error_description": message}
        return Reply(status, JSON, _ENC.encode(body))

    def error_event(self, message: str, error_type: str | None = None) -> bytes:
        """No streams here."""
        return b""
