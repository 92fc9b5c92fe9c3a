"""libcurl codes map onto atoll_wire's errors in one place; bad options and input fail clearly."""

from __future__ import annotations

from pathlib import Path

import pycurl
import pytest
from atoll_curl import CurlTransport, SyncCurlTransport
from atoll_curl._exceptions import raise_curl_error, transport_error
from atoll_curl._options import header_lines, url_to_send
from atoll_wire import (
    ConnectError,
    ConnectTimeout,
    HttpRequest,
    ReadTimeout,
    RemoteProtocolError,
    ResponseTooLarge,
    TransportError,
)

REQUEST = HttpRequest("GET", "https://api.example.test/v1?key=sekrit")


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (pycurl.E_COULDNT_RESOLVE_HOST, "", ConnectError),
        (pycurl.E_COULDNT_CONNECT, "", ConnectError),
        (pycurl.E_SSL_CONNECT_ERROR, "", ConnectError),
        (pycurl.E_PEER_FAILED_VERIFICATION, "", ConnectError),
        (97, "", ConnectError),  # CURLE_PROXY
        (
            pycurl.E_OPERATION_TIMEDOUT,
            "Connection timed out after 300 milliseconds",
            ConnectTimeout,
        ),
        (pycurl.E_OPERATION_TIMEDOUT, "Resolving timed out after 9 milliseconds", ConnectTimeout),
        (pycurl.E_OPERATION_TIMEDOUT, "Operation timed out after 5 milliseconds", ReadTimeout),
        (pycurl.E_GOT_NOTHING, "", RemoteProtocolError),
        (pycurl.E_PARTIAL_FILE, "", RemoteProtocolError),
        (pycurl.E_RECV_ERROR, "", RemoteProtocolError),
        (pycurl.E_SEND_ERROR, "", RemoteProtocolError),
        (pycurl.E_HTTP2, "", RemoteProtocolError),
        (8, "", RemoteProtocolError),  # CURLE_WEIRD_SERVER_REPLY
        (pycurl.E_BAD_CONTENT_ENCODING, "", RemoteProtocolError),
        (pycurl.E_URL_MALFORMAT, "", TransportError),
        (pycurl.E_OUT_OF_MEMORY, "", TransportError),
    ],
)
def test_code_table(code: int, message: str, expected: type[TransportError]) -> None:
    error = transport_error(code, message, REQUEST)
    assert type(error) is expected
    assert error.method == "GET"
    assert "sekrit" not in str(error)  # the URL is redacted


def test_raised_errors_chain_the_native_error() -> None:
    with pytest.raises(ResponseTooLarge) as caught:
        raise_curl_error(pycurl.E_FILESIZE_EXCEEDED, "too big", REQUEST, limit=10, size=11)
    assert (caught.value.limit, caught.value.size) == (10, 11)
    cause = caught.value.__cause__
    assert isinstance(cause, pycurl.error)
    assert cause.args == (pycurl.E_FILESIZE_EXCEEDED, "too big")


def test_write_error_from_our_own_limit_is_response_too_large() -> None:
    with pytest.raises(ResponseTooLarge):
        raise_curl_error(23, "write", REQUEST, limit=5, size=9, too_big=True)


def test_success_without_a_response_is_a_protocol_error() -> None:
    with pytest.raises(RemoteProtocolError):
        raise_curl_error(0, "", REQUEST)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"max_connections": 0}, "max_connections"),
        ({"max_connections": True}, "max_connections"),
        ({"max_connections": 2, "max_keepalive_connections": 3}, "max_keepalive_connections"),
        ({"keepalive_expiry": -1.0}, "keepalive_expiry"),
        ({"buffer_bytes": 0}, "buffer_bytes"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
        ({"proxy": "localhost:3128"}, "proxy"),
        ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle"),
        ({"ca_bundle": __file__, "verify": False}, "ca_bundle"),
        ({"timeout": -1.0}, "timeout"),
    ],
)
@pytest.mark.parametrize("kind", [CurlTransport, SyncCurlTransport])
def test_bad_options_name_themselves(
    kind: type[CurlTransport | SyncCurlTransport], options: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        kind(**options)  # type: ignore[arg-type]


def test_header_injection_is_refused_without_echoing_the_value() -> None:
    request = HttpRequest("GET", "http://127.0.0.1/", {"Authorization": "Bearer sk-1\r\nX-Evil: 1"})
    with pytest.raises(TransportError, match="Authorization") as caught:
        header_lines(request)
    assert "sk-1" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_bad_header_name_is_refused() -> None:
    with pytest.raises(TransportError, match="header name"):
        header_lines(HttpRequest("GET", "http://127.0.0.1/", {"Bad Name": "v"}))


def test_empty_values_are_sent_not_dropped() -> None:
    lines = header_lines(HttpRequest("POST", "http://127.0.0.1/", {"X-Empty": ""}, b"x"))
    assert "X-Empty;" in lines
    assert "Content-Type:" in lines  # suppresses libcurl's form content type
    assert "Expect:" in lines


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/", "127.0.0.1/x"])
def test_only_http_urls(url: str) -> None:
    with SyncCurlTransport(trust_env=False) as t, pytest.raises(TransportError, match="scheme"):
        t.send(HttpRequest("GET", url))


def test_surrounding_whitespace_is_dropped_from_values() -> None:
    lines = header_lines(HttpRequest("GET", "http://127.0.0.1/", {"Authorization": " k \t"}))
    assert "Authorization: k" in lines


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("http://127.0.0.1:8/a b?q=é&r=a b#frag", "http://127.0.0.1:8/a%20b?q=%C3%A9&r=a%20b"),
        ("https://u:p@bücher.example/x?y=1", "https://u:p@xn--bcher-kva.example/x?y=1"),
        ("http://127.0.0.1/%41?a=%20", "http://127.0.0.1/%41?a=%20"),
    ],
)
def test_urls_are_encoded_for_libcurl(url: str, sent: str) -> None:
    assert url_to_send(HttpRequest("GET", url)) == sent


def test_bad_body_limit_extension(tmp_path: Path) -> None:
    request = HttpRequest("GET", "http://127.0.0.1:9/", extensions={"max_body_bytes": "big"})
    with SyncCurlTransport(trust_env=False) as t, pytest.raises(ValueError, match="max_body_bytes"):
        t.send(request)
