"""Turn one ``HttpRequest`` plus the transport's ``CurlConfig`` into easy-handle options.

Shared by the async and sync transports, so both send byte-for-byte the same request. Handles come
from the pool freshly ``reset()``, so every option here starts from libcurl's default.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

import pycurl
from atoll_wire import HttpRequest, Timeout, TransportError, checked_header_value

from ._config import CurlConfig
from ._transfer import Transfer

USER_AGENT = f"atoll-curl/0.1.0 {pycurl.version.split()[1]}"
"""Sent when the request names no ``User-Agent`` of its own."""

_BUFFER_SIZE = 64 * 1024
# Options pycurl does not name (values from curl.h); all exist in libcurl >= 7.54.
_SUPPRESS_CONNECT_HEADERS = 265
_PIPEWAIT = 237


def url_to_send(request: HttpRequest) -> str:
    """The request's URL as libcurl needs it: http(s) only, non-ASCII text and spaces encoded.

    libcurl takes ASCII URLs only (pycurl fails to encode anything else) and rejects a space in
    a query, while httpx percent-encodes both and IDNA-encodes the host: this does the same, so
    both transports send the same URL. The common case, an ASCII URL without spaces, is
    returned as is.

    Raises:
        TransportError: The URL has another scheme (libcurl would also speak file://,
            ftp://, ...), none, or a host that cannot be IDNA-encoded.
    """
    url = request.url
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("http", "https"):
        raise TransportError(
            f"unsupported URL scheme {scheme!r}: only http:// and https:// URLs are sent",
            request=request,
        )
    if url.isascii() and not _UNSAFE.search(url):
        return url
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    host, colon, port = hostport, "", ""
    if not hostport.startswith("[") and ":" in hostport:
        host, colon, port = hostport.rpartition(":")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise TransportError(f"invalid URL: cannot encode host ({exc})", request=request) from exc
    netloc = f"{_quote(userinfo, _USERINFO_SAFE)}{at}{host}{colon}{port}"
    path = _quote(parts.path, _PATH_SAFE)
    query = _quote(parts.query, _QUERY_SAFE)
    return urlunsplit((parts.scheme, netloc, path, query, ""))


# Characters kept as they are (with "%", so existing escapes survive); the rest is encoded.
_PATH_SAFE = "/%!$&'()*+,;=:@~-._"
_QUERY_SAFE = _PATH_SAFE + "?"
_USERINFO_SAFE = "%!$&'()*+,;=:~-._"
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")  # controls and space


def _quote(text: str, safe: str) -> str:
    return quote(text, safe=safe, encoding="utf-8")


def header_lines(request: HttpRequest) -> list[str]:
    """The request headers as libcurl's ``Name: value`` lines, validated.

    The rules are atoll_wire's ``checked_header_value``, shared with atoll_httpx: names are HTTP
    tokens, values visible ASCII, spaces and tabs, surrounding spaces and tabs dropped.

    Raises:
        TransportError: A header name is not an HTTP token, or a value holds a control
            character (CR, LF, NUL: header injection) or non-ASCII text. The value itself is
            never echoed: it may be a credential.
    """
    lines: list[str] = []
    has_type = has_agent = False
    for name, raw in request.headers.items():
        value = checked_header_value(name, raw, request)
        lower = name.lower()
        has_type = has_type or lower == "content-type"
        has_agent = has_agent or lower == "user-agent"
        # "Name:" would tell libcurl to drop the header; "Name;" sends it with an empty value.
        lines.append(f"{name}: {value}" if value else f"{name};")
    if request.body and not has_type:
        lines.append("Content-Type:")  # libcurl would otherwise claim a urlencoded form
    if not has_agent:
        lines.append(f"User-Agent: {USER_AGENT}")
    lines.append("Expect:")  # no 100-continue round trip for large bodies
    return lines


def prepare(easy: pycurl.Curl, config: CurlConfig) -> None:
    """Set the options every request of this transport shares, once per new easy handle.

    Handles are reused without ``reset()``: :func:`configure` overwrites every option that
    varies between requests, so these stay in place.
    """
    setopt = easy.setopt
    setopt(pycurl.NOSIGNAL, 1)
    setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
    setopt(pycurl.BUFFERSIZE, _BUFFER_SIZE)
    setopt(pycurl.ACCEPT_ENCODING, "")  # every encoding this libcurl decodes, decoded for us
    setopt(_SUPPRESS_CONNECT_HEADERS, 1)  # a proxy's CONNECT reply is not the response
    setopt(
        pycurl.HTTP_VERSION,
        pycurl.CURL_HTTP_VERSION_2TLS if config.http2 else pycurl.CURL_HTTP_VERSION_1_1,
    )
    setopt(pycurl.MAXAGE_CONN, max(1, round(config.keepalive_expiry)))
    if config.no_proxy:
        setopt(pycurl.NOPROXY, config.no_proxy)
    if not config.verify:
        setopt(pycurl.SSL_VERIFYPEER, 0)
        setopt(pycurl.SSL_VERIFYHOST, 0)
    if config.ca_file is not None:
        setopt(pycurl.CAINFO, config.ca_file)
    if config.ca_dir is not None:
        setopt(pycurl.CAPATH, config.ca_dir)


def asks_to_close(request: HttpRequest) -> bool:
    """True when the request carries ``Connection: close`` (its connection is not reused)."""
    for name, value in request.headers.items():
        if name.lower() == "connection" and "close" in value.lower().replace(" ", "").split(","):
            return True
    return False


class _Applied:
    """What one handle was last configured with, so equal options are not set again."""

    __slots__ = ("headers", "settings", "url", "verb")

    def __init__(self) -> None:
        self.headers: list[str] | None = None
        self.url = ""
        self.verb: tuple[str, bool] | None = None
        self.settings: tuple[int, int, int, str, int] | None = None


class Configurator:
    """Applies each request's options to a handle, skipping what the handle already has.

    Handles are reused without ``reset()``, so an option set for an earlier request is still in
    place: per handle we remember the URL, header list, method and rarely changing settings
    last applied, and set only what differs. Header lines are built once per distinct header set
    (clients send the same headers again and again).

    Args:
        config: The transport's options.
    """

    __slots__ = (
        "_applied",
        "_config",
        "_last_close",
        "_last_has_body",
        "_last_headers",
        "_last_lines",
    )

    def __init__(self, config: CurlConfig) -> None:
        self._config = config
        self._applied: dict[pycurl.Curl, _Applied] = {}
        self._last_headers: dict[str, str] | None = None
        self._last_has_body = False
        self._last_lines: list[str] = []
        self._last_close = False

    def _header_lines(self, request: HttpRequest) -> list[str]:
        has_body = bool(request.body)
        if request.headers == self._last_headers and has_body == self._last_has_body:
            return self._last_lines
        lines = header_lines(request)
        self._last_headers = dict(request.headers)
        self._last_has_body = has_body
        self._last_lines = lines
        self._last_close = asks_to_close(request)
        return lines

    def configure(self, transfer: Transfer, timeout: Timeout, limit: int | None, url: str) -> None:
        """Set every per-request option of ``transfer.easy`` (a :func:`prepare`-d handle).

        Args:
            transfer: The transfer whose handle to configure (callbacks point at it).
            timeout: The resolved per-phase timeouts of this request.
            limit: The body size limit, or None.
            url: The URL to send, from :func:`url_to_send`.

        Raises:
            TransportError: A header is invalid.
        """
        config = self._config
        request = transfer.request
        easy = transfer.easy
        setopt = easy.setopt
        applied = self._applied.get(easy)
        if applied is None:
            applied = self._applied[easy] = _Applied()
        lines = self._header_lines(request)
        if applied.headers is not lines:
            setopt(pycurl.HTTPHEADER, lines)
            applied.headers = lines
        if applied.url != url:
            setopt(pycurl.URL, url)
            applied.url = url
        body = request.body
        verb = (request.method, bool(body))
        if applied.verb != verb:
            _method(easy, request.method, body)
            applied.verb = verb
        if body or request.method in _BODY_METHODS:
            setopt(pycurl.POSTFIELDSIZE_LARGE, len(body))
            setopt(pycurl.POSTFIELDS, body)
        setopt(pycurl.HEADERFUNCTION, transfer.header_lines.append)
        setopt(pycurl.WRITEFUNCTION, transfer.on_write)
        setopt(pycurl.PREREQFUNCTION, transfer.on_prereq)  # at most one send (see Transfer)
        connect = timeout.connect
        settings = (
            0 if connect is None else max(1, round(connect * 1000)),
            0 if limit is None else limit,
            # Wait for a TLS handshake in progress to tell whether its connection multiplexes,
            # rather than open more. Never for http://: libcurl would queue behind a busy
            # HTTP/1.1 connection (2TLS means cleartext is HTTP/1.1 only).
            1 if config.http2 and url[:6].lower() == "https:" else 0,
            config.proxy_for(url) or "",
            # libcurl ignores a Connection header set by the caller and would pool the
            # connection that the server is about to close, then send the next request on it.
            1 if self._last_close or config.max_keepalive_connections == 0 else 0,
        )
        if applied.settings != settings:
            applied.settings = settings
            connect_ms, max_size, pipewait, proxy, forbid_reuse = settings
            setopt(pycurl.FORBID_REUSE, forbid_reuse)
            # 0 means "libcurl's default" (300 s) for the first, "no limit" for the second.
            setopt(pycurl.CONNECTTIMEOUT_MS, connect_ms)
            setopt(pycurl.MAXFILESIZE_LARGE, max_size)
            setopt(_PIPEWAIT, pipewait)
            setopt(pycurl.PROXY, proxy)  # "" stops libcurl from reading the environment itself

    def forget(self, easy: pycurl.Curl) -> None:
        """Drop what was remembered about a handle that is being closed."""
        self._applied.pop(easy, None)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _method(easy: pycurl.Curl, method: str, body: bytes) -> None:
    # Back to a plain GET first: clears NOBODY, POST and a custom verb left by an earlier request.
    easy.setopt(pycurl.HTTPGET, 1)
    easy.unsetopt(pycurl.CUSTOMREQUEST)
    if method == "GET" and not body:
        return
    if method == "HEAD":
        easy.setopt(pycurl.NOBODY, 1)
        return
    if body or method in _BODY_METHODS:
        # Marks the request as one with a body (POST); configure() sets the bytes each time.
        easy.setopt(pycurl.POSTFIELDSIZE_LARGE, len(body))
        easy.setopt(pycurl.POSTFIELDS, body)
    if method != "POST":
        easy.setopt(pycurl.CUSTOMREQUEST, method)
