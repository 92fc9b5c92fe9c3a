"""Options shared by the async and sync transports, checked once at construction.

A bad option fails here with a message naming it, instead of surfacing later as a libcurl error
code. The resolved values (CA bundle path, proxies from the environment, HTTP/2 support) are
computed once per transport, not per request.
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from dataclasses import dataclass

import pycurl
from atoll_wire import HttpRequest, Timeout

DEFAULT_TIMEOUT = Timeout(connect=10.0, read=600.0, write=600.0, pool=60.0)
"""Per-phase defaults: quick to fail on connect, patient with slow models."""

DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
"""Responses larger than this raise ``ResponseTooLarge`` unless the caller says otherwise."""

DEFAULT_BUFFER_BYTES = 256 * 1024
"""How much body may wait for a slow consumer before the transfer is paused."""

MAX_BODY_EXTENSION = "max_body_bytes"
"""``HttpRequest.extensions`` key overriding the transport's body limit for one request."""

# Where distributions keep their CA bundle. The pycurl wheels' libcurl was built on CentOS and
# looks only at /etc/pki/..., which Debian-family systems lack, so we resolve it ourselves.
_CA_CANDIDATES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
)


def http2_supported() -> bool:
    """True when the loaded libcurl was built with HTTP/2 (nghttp2)."""
    features = pycurl.version_info()[4]
    return bool(features & pycurl.VERSION_HTTP2)


@dataclass(frozen=True, slots=True)
class CurlConfig:
    """Everything a transport applies to each request. Built by :func:`curl_config`.

    Attributes:
        verify: Verify the server's certificate and host name.
        ca_file: CA bundle file, or None.
        ca_dir: CA directory (hashed), or None.
        proxies: Scheme (``http``, ``https``, ``all``) to proxy URL.
        no_proxy: libcurl's ``NOPROXY`` list, or None.
        http2: Offer HTTP/2 over TLS (ALPN).
        max_connections: Transfers in flight at once (and connections open at once).
        max_keepalive_connections: Idle connections kept for reuse.
        keepalive_expiry: Seconds an idle connection may be reused.
        buffer_bytes: Body bytes buffered for a slow consumer before pausing.
        timeout: Default per-phase timeouts.
        max_body_bytes: Default body limit, or None.
    """

    verify: bool
    ca_file: str | None
    ca_dir: str | None
    proxies: dict[str, str]
    no_proxy: str | None
    http2: bool
    max_connections: int
    max_keepalive_connections: int
    keepalive_expiry: float
    buffer_bytes: int
    timeout: Timeout
    max_body_bytes: int | None

    def timeouts(self, request: HttpRequest) -> Timeout:
        """The request's timeouts, with the transport's filling every phase it left unset.

        Args:
            request: The request about to be sent.
        """
        own = request.timeout
        base = self.timeout
        if own.connect is None and own.read is None and own.write is None and own.pool is None:
            return base
        return Timeout(
            connect=base.connect if own.connect is None else own.connect,
            read=base.read if own.read is None else own.read,
            write=base.write if own.write is None else own.write,
            pool=base.pool if own.pool is None else own.pool,
        )

    def body_limit(self, request: HttpRequest) -> int | None:
        """The body limit for ``request``: its ``max_body_bytes`` extension, else ours.

        Args:
            request: The request about to be sent.

        Raises:
            ValueError: The extension is not a positive int or None.
        """
        if MAX_BODY_EXTENSION not in request.extensions:
            return self.max_body_bytes
        value: object = request.extensions[MAX_BODY_EXTENSION]
        if value is None:
            return None
        return _positive(value, f"extensions[{MAX_BODY_EXTENSION!r}]")

    def proxy_for(self, url: str) -> str | None:
        """The proxy URL for ``url`` by its scheme (``all`` as the fallback), or None."""
        if not self.proxies:
            return None
        scheme = url.split(":", 1)[0].lower()
        return self.proxies.get(scheme) or self.proxies.get("all")


def curl_config(
    *,
    verify: bool,
    ca_bundle: str | os.PathLike[str] | None,
    trust_env: bool,
    proxy: str | None,
    http2: bool | None,
    max_connections: int,
    max_keepalive_connections: int | None,
    keepalive_expiry: float,
    buffer_bytes: int,
    timeout: float | Timeout | None,
    max_body_bytes: int | None,
) -> CurlConfig:
    """Validate the transport options and resolve TLS, proxy and HTTP/2 settings.

    Raises:
        ValueError: An option is out of range, or options contradict each other.
    """
    if not isinstance(verify, bool):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError(f"verify must be True or False, got {verify!r}")
    _positive(max_connections, "max_connections")
    keepalive = max_connections if max_keepalive_connections is None else max_keepalive_connections
    if isinstance(keepalive, bool) or not 0 <= keepalive <= max_connections:
        raise ValueError(
            f"max_keepalive_connections must be between 0 and max_connections "
            f"({max_connections}), got {keepalive!r}"
        )
    if keepalive_expiry < 0:
        raise ValueError(f"keepalive_expiry must be >= 0 seconds, got {keepalive_expiry!r}")
    _positive(buffer_bytes, "buffer_bytes")
    if max_body_bytes is not None:
        _positive(max_body_bytes, "max_body_bytes")
    if http2 is None:
        http2 = http2_supported()
    elif http2 and not http2_supported():
        raise ValueError("http2=True, but the loaded libcurl was built without HTTP/2 support")
    if proxy is not None and "://" not in proxy:
        raise ValueError(f"proxy must be a URL such as http://host:port, got {proxy!r}")
    ca_file, ca_dir = _ca(verify, ca_bundle, trust_env)
    proxies, no_proxy = _proxies(proxy, trust_env)
    return CurlConfig(
        verify=verify,
        ca_file=ca_file,
        ca_dir=ca_dir,
        proxies=proxies,
        no_proxy=no_proxy,
        http2=http2,
        max_connections=max_connections,
        max_keepalive_connections=keepalive,
        keepalive_expiry=keepalive_expiry,
        buffer_bytes=buffer_bytes,
        timeout=Timeout.of(timeout),
        max_body_bytes=max_body_bytes,
    )


def _positive(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return value


def _ca(
    verify: bool, ca_bundle: str | os.PathLike[str] | None, trust_env: bool
) -> tuple[str | None, str | None]:
    if ca_bundle is not None:
        if not verify:
            raise ValueError("ca_bundle cannot be combined with verify=False")
        path = os.fspath(ca_bundle)
        if os.path.isdir(path):
            return None, path
        if not os.path.isfile(path):
            raise ValueError(f"ca_bundle {path!r} is neither a file nor a directory")
        return path, None
    if not verify:
        return None, None
    if trust_env:
        env_file, env_dir = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
        if env_file and os.path.isfile(env_file):
            return env_file, None
        if env_dir and os.path.isdir(env_dir):
            return None, env_dir
    defaults = ssl.get_default_verify_paths()
    for candidate in (defaults.cafile, defaults.openssl_cafile, *_CA_CANDIDATES):
        if candidate and os.path.isfile(candidate):
            return candidate, None
    # Nothing found: leave libcurl's compiled-in default; verification fails loudly if it is absent.
    return None, None


def _proxies(proxy: str | None, trust_env: bool) -> tuple[dict[str, str], str | None]:
    if proxy is not None:
        return {"all": proxy}, None
    if not trust_env:
        return {}, None
    # urllib reads HTTP_PROXY/http_proxy, HTTPS_PROXY, ALL_PROXY and NO_PROXY the way httpx does
    # (lowercase first). We resolve them ourselves rather than leave it to libcurl, which ignores
    # upper-case HTTP_PROXY, so both transports route the same request the same way.
    found = urllib.request.getproxies()
    no_proxy = found.pop("no", None)
    proxies = {k: v for k, v in found.items() if k in ("http", "https", "all") and v}
    return proxies, no_proxy
