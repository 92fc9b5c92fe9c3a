"""Google OAuth2 access tokens for Vertex AI, through google-auth (extra ``[vertex]``).

``GoogleAuth`` is a ``TokenAuth`` whose source is a google-auth credentials object: application
default credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's, the metadata server) or a
service-account file. Tokens are refreshed before they expire, one refresh at a time however
many calls are in flight, in a worker thread (never on the event loop's). The credentials'
quota project goes out as ``x-goog-user-project``. google-auth talks to the token endpoint
through the standard library here, so the extra needs no HTTP library of its own.

The ``google-api-key`` scheme (the registry's ``gemini`` provider) sends the Gemini API key in
``x-goog-api-key``: ``GEMINI_API_KEY``, else ``GOOGLE_API_KEY``.

The registry's ``vertex`` and ``vertex-anthropic`` providers name the scheme ``google-oauth``;
its settings: ``credentials_file`` (a service-account or other credentials JSON file; default:
application default credentials), ``scopes`` (space-separated; default cloud-platform) and
``quota_project``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from ._auth import Auth, HeaderKeyAuth, NoAuth, Token, TokenAuth
from ._dialects import AuthContext, register_builtin_auth
from ._exceptions import AuthError, MissingAPIKeyError

__all__ = ["CLOUD_PLATFORM_SCOPE", "GoogleAuth"]

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def _google() -> Any:
    try:
        import google.auth
        import google.auth.exceptions  # pyright: ignore[reportUnusedImport]
    except ImportError as exc:
        raise ImportError(
            'Vertex AI needs google-auth: pip install "atoll-dialects[vertex]"'
        ) from exc
    return google.auth


def _from_file(path: str, scopes: list[str]) -> tuple[Any, str | None]:
    """Credentials of a known type from a JSON file (never an arbitrary configuration)."""
    import json

    with open(path, encoding="utf-8") as file:
        info = json.load(file)
    kind = info.get("type")
    if kind == "service_account":
        from google.oauth2 import service_account

        made = service_account.Credentials.from_service_account_info(info, scopes=scopes)  # pyright: ignore[reportUnknownMemberType]
        return made, info.get("project_id")
    if kind == "authorized_user":
        from google.oauth2 import credentials

        user = credentials.Credentials.from_authorized_user_info(info, scopes=scopes)  # pyright: ignore[reportUnknownMemberType]
        return user, info.get("quota_project_id")
    raise ValueError(f"credentials of type {kind!r} are not supported from a file")


class _Response:
    """The shape google-auth reads: ``status``, ``headers``, ``data``."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self.status = status
        self.headers = headers
        self.data = data


class _UrllibRequest:
    """google-auth's transport interface on ``urllib.request`` (blocking; worker threads)."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: object,
    ) -> _Response:
        import urllib.error  # here: only a token refresh needs urllib (import time)
        import urllib.request

        from google.auth import exceptions

        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=timeout or 120) as response:
                return _Response(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return _Response(error.code, dict(error.headers), error.read())
        except (urllib.error.URLError, OSError) as error:
            raise exceptions.TransportError(f"token request failed: {error}") from error


class GoogleAuth(TokenAuth):
    """OAuth2 bearer tokens from google-auth credentials (Vertex AI).

    Args:
        credentials: A ``google.auth.credentials.Credentials``; default: loaded from
            ``credentials_file``, else application default credentials.
        credentials_file: A credentials JSON file (a service account's key file, ...).
        scopes: OAuth scopes (default: cloud-platform).
        quota_project: Bill this project (``x-goog-user-project``); default: the credentials'.
        refresh_margin: Seconds before expiry at which the token is refreshed.

    Attributes:
        credentials: The google-auth credentials.
        project_id: The project the credentials name (used when no ``project`` setting is
            given), or None.

    Raises:
        ImportError: google-auth is not installed (names the ``[vertex]`` extra).
        AuthError: No credentials could be found or loaded.
    """

    def __init__(
        self,
        credentials: Any = None,
        *,
        credentials_file: str | None = None,
        scopes: Sequence[str] = (CLOUD_PLATFORM_SCOPE,),
        quota_project: str | None = None,
        refresh_margin: float = 300.0,
    ) -> None:
        google_auth = _google()
        project: str | None = None
        if credentials is None:
            try:
                if credentials_file:
                    credentials, project = _from_file(credentials_file, list(scopes))
                else:
                    credentials, project = google_auth.default(scopes=list(scopes))
            except (google_auth.exceptions.GoogleAuthError, OSError, ValueError) as exc:
                raise AuthError(f"no Google credentials: {type(exc).__name__}: {exc}") from exc
        self.credentials = credentials
        self.project_id: str | None = project or getattr(credentials, "project_id", None)
        quota = quota_project or getattr(credentials, "quota_project_id", None)
        self._quota: Mapping[str, str] = {"x-goog-user-project": quota} if quota else {}
        self._transport = _UrllibRequest()
        super().__init__(self._fetch, refresh_margin=refresh_margin)

    def __repr__(self) -> str:
        return f"GoogleAuth(project_id={self.project_id!r}, refreshes={self.refreshes})"

    def _fetch(self) -> Token:
        credentials = self.credentials
        credentials.refresh(self._transport)
        expiry = getattr(credentials, "expiry", None)
        expires_at = expiry.replace(tzinfo=UTC).timestamp() if expiry is not None else None
        return Token(str(credentials.token), expires_at=expires_at)

    def _store(self, fetched: Token | str) -> Mapping[str, str]:
        headers = super()._store(fetched)
        if self._quota:
            self._headers = {**headers, **self._quota}
        return self._headers


def _google_oauth(context: AuthContext) -> GoogleAuth:
    settings = context.settings
    scopes = settings.get("scopes")
    return GoogleAuth(
        credentials_file=settings.get("credentials_file") or None,
        scopes=scopes.split() if scopes else (CLOUD_PLATFORM_SCOPE,),
        quota_project=settings.get("quota_project") or None,
    )


def _google_api_key(context: AuthContext) -> Auth:
    # The Gemini API's key: the provider's variable (GEMINI_API_KEY), else GOOGLE_API_KEY,
    # which Google's own SDKs also read; in the x-goog-api-key header, never in the URL.
    key = context.api_key or os.environ.get("GOOGLE_API_KEY") or None
    if key is None:
        if context.key_required:
            variable = context.provider.api_key_env
            names = f"{variable} or GOOGLE_API_KEY" if variable else "GOOGLE_API_KEY"
            raise MissingAPIKeyError(context.provider.name, names)
        return NoAuth()
    return HeaderKeyAuth("x-goog-api-key", key)


register_builtin_auth("google-oauth", _google_oauth)
register_builtin_auth("google-api-key", _google_api_key)
