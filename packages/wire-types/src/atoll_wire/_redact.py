"""Keep secrets (API keys, bearer tokens, cookies) out of reprs, logs and error messages."""

from __future__ import annotations

from collections.abc import Mapping

REDACTED = "[redacted]"

# Header names (lowercase) that carry credentials across the providers we speak to.
_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "openai-organization",
        "openai-project",
    }
)
# Substrings that mark a custom header or a query parameter as a credential.
_SECRET_MARKERS = ("key", "token", "secret", "auth", "password", "signature")
_SECRET_QUERY = frozenset({"key", "api_key", "apikey", "token", "access_token", "sig"})


def is_secret_header(name: str) -> bool:
    """Return True when a header of this name may carry a credential.

    Args:
        name: The header name, in any case.
    """
    lower = name.lower()
    return lower in _SECRET_HEADERS or any(marker in lower for marker in _SECRET_MARKERS)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy ``headers`` with the value of every credential-bearing header replaced.

    Args:
        headers: Request or response headers.

    Returns:
        A new dict, safe to log.
    """
    return {k: (REDACTED if is_secret_header(k) else v) for k, v in headers.items()}


def redact_url(url: str) -> str:
    """Return ``url`` with user info and secret query parameter values replaced.

    Args:
        url: An absolute or relative URL.

    Returns:
        The URL, safe to log. ``?key=...`` (Gemini) and similar parameters are redacted.
    """
    if "?" not in url and "@" not in url:
        return url
    # Imported here: urllib.parse costs more import time than the rest of this package.
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, REDACTED if k.lower() in _SECRET_QUERY or _marked(k) else v) for k, v in pairs],
            safe="[]",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _marked(name: str) -> bool:
    lower = name.lower()
    return any(marker in lower for marker in _SECRET_MARKERS)
