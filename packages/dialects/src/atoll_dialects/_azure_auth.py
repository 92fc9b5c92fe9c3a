"""Microsoft Entra ID bearer tokens for Azure OpenAI, from any token provider.

``AzureEntraAuth`` takes what Azure's libraries hand out: a token-provider callable (such as
azure-identity's ``get_bearer_token_provider(credential, scope)``, returning a string), a
credential with ``get_token(scope)`` (returning a token with ``expires_on``), or any callable
returning a ``Token``. It is a ``TokenAuth``: refreshed before expiry, one refresh however many
calls are in flight, never on the event loop thread. A bare string carries no expiry, so it is
kept for ``string_ttl`` seconds (azure-identity's provider caches and renews behind it).

The registered scheme ``azure-entra`` builds one from azure-identity's
``DefaultAzureCredential`` (extra ``[azure]``), with the ``scope`` setting (default
``https://cognitiveservices.azure.com/.default``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ._auth import Token, TokenAuth
from ._dialects import AuthContext, register_builtin_auth

__all__ = ["COGNITIVE_SERVICES_SCOPE", "AzureEntraAuth"]

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"


class AzureEntraAuth(TokenAuth):
    """Bearer tokens from a Microsoft Entra ID token provider (Azure OpenAI).

    Args:
        provider: A callable returning a token string or a ``Token``, or a credential object
            with ``get_token(scope)`` (azure-identity's credentials).
        scope: The scope asked of a credential object.
        string_ttl: Seconds a token given as a bare string is used before asking again.
        refresh_margin: Seconds before a known expiry at which the token is refreshed.
        clock: The Unix clock (for tests).
    """

    def __init__(
        self,
        provider: Callable[[], Any] | Any,
        *,
        scope: str = COGNITIVE_SERVICES_SCOPE,
        string_ttl: float = 300.0,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        get_token = getattr(provider, "get_token", None)
        if callable(get_token):
            self._call: Callable[[], Any] = lambda: get_token(scope)
        elif callable(provider):
            self._call = provider
        else:
            raise TypeError("AzureEntraAuth needs a token provider callable or a credential")
        self._ttl = string_ttl
        self._now = clock
        super().__init__(self._fetch, refresh_margin=refresh_margin, clock=clock)

    def _fetch(self) -> Token:
        value = self._call()
        if isinstance(value, Token):
            return value
        if isinstance(value, str):
            # Kept for the TTL, but never past the refresh margin's reach.
            return Token(value, expires_at=self._now() + self._ttl + self._margin)
        token = getattr(value, "token", None)
        expires = getattr(value, "expires_on", None)
        if not isinstance(token, str):
            raise TypeError("the token provider returned neither a string nor a token")
        return Token(token, expires_at=float(expires) if expires is not None else None)

    def __repr__(self) -> str:
        return f"AzureEntraAuth(refreshes={self.refreshes})"


def _azure_entra(context: AuthContext) -> AzureEntraAuth:
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as exc:
        raise ImportError(
            'Entra ID tokens need azure-identity: pip install "atoll-dialects[azure]"'
        ) from exc
    scope = context.settings.get("scope") or COGNITIVE_SERVICES_SCOPE
    return AzureEntraAuth(DefaultAzureCredential(), scope=scope)


register_builtin_auth("azure-entra", _azure_entra)
