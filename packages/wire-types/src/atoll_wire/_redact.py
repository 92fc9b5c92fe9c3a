"""One rule for keeping secrets out of reprs, logs, errors and spans: headers, URLs and text.

Every package calls these three functions; none keeps a redaction of its own. A header is
masked when its name marks a credential (``authorization``, ``x-api-key``, anything with
``key``, ``token``, ``secret``, ``auth``, ``password`` or ``signature`` in it) or when its value
looks like one (``Bearer ...``, ``sk-...``, ``AIza...``), whatever its name. Text (error bodies,
messages, stream error payloads) has key-like substrings masked; on request also email addresses
and known secret values (a key whose format has no prefix to recognise it by). URLs lose user
info and the values of secret query parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

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

# Key-like text: bearer tokens, the key formats of the providers in the registry (OpenAI,
# DeepSeek and OpenRouter ``sk-``, Anthropic ``sk-ant-``, Groq ``gsk_``, xAI ``xai-``, NVIDIA
# ``nvapi-``, Cerebras ``csk-``, Fireworks ``fw_``, Together ``tgp_v1_``, Google ``AIza``), AWS
# access keys, JWTs. Formats with no prefix (Mistral's 32 characters, Together's older 64 hex
# digits, keys chosen for vLLM or llama.cpp) look like ids: callers mask those by value (``known``).
_SECRET_TEXT = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}"
    r"|\b(?:sk|pk|rk|gsk|csk|xai|nvapi|sk-ant|sk-or|sk-proj)-[A-Za-z0-9_\-]{8,}"
    r"|\b(?:gsk|fw|tgp_v1)_[A-Za-z0-9_\-]{16,}"
    r"|\bAIza[0-9A-Za-z_\-]{20,}"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_MIN_KNOWN = 8

#: How much of a body an error keeps by default.
BODY_EXCERPT_CHARS = 2000


def _mask(match: re.Match[str]) -> str:
    return f"{match.group(1) or ''}{REDACTED}"


def redact_text(
    text: str,
    limit: int | None = BODY_EXCERPT_CHARS,
    *,
    emails: bool = False,
    known: Iterable[str] = (),
) -> str:
    """Mask key-like substrings in ``text`` and shorten it to ``limit`` characters.

    Args:
        text: Any text that may be shown (an error body, a message, a stream error payload).
        limit: The most characters kept (longer text ends with an ellipsis); None keeps all.
        emails: Also mask email addresses.
        known: Secret values to mask wherever they appear, whatever they look like (values
            shorter than 8 characters are ignored: masking them would hide ordinary words).

    Returns:
        The scrubbed text.
    """
    cleaned = text
    if cleaned:
        # Known values first: a pattern could mask part of one and leave the rest showing.
        for secret in known:
            if len(secret) >= _MIN_KNOWN and secret in cleaned:
                cleaned = cleaned.replace(secret, REDACTED)
        cleaned = _SECRET_TEXT.sub(_mask, cleaned)
        if emails:
            cleaned = _EMAIL.sub(REDACTED, cleaned)
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[:limit] + "…"
    return cleaned


def is_secret_header(name: str) -> bool:
    """Return True when a header of this name may carry a credential.

    Args:
        name: The header name, in any case.
    """
    lower = name.lower()
    return lower in _SECRET_HEADERS or any(marker in lower for marker in _SECRET_MARKERS)


def redact_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Copy ``headers`` with every credential masked, by its name or by the look of its value.

    Args:
        headers: Request or response headers (``None`` gives ``{}``). Names keep their case.

    Returns:
        A new dict, safe to log: a credential header's value is ``[redacted]``; any other value
        has key-like text masked (``x-echo-auth: Bearer sk-...`` is caught either way).
    """
    if not headers:
        return {}
    return {
        name: REDACTED if is_secret_header(name) else redact_text(value, None)
        for name, value in headers.items()
    }


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
