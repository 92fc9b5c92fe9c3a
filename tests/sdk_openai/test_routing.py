"""Where a request goes through the SDK client, and with which headers and options.

The plain peer (tests/transports/_peer.py) records every request line and header as it arrived,
so these tests see exactly what the SDK client put on the wire.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx2
import openai
import pytest
from atoll_openai_sdk import OpenAISDKTransport, SyncOpenAISDKTransport
from atoll_wire import HttpRequest, ResponseTooLarge, TransportError

from tests.transports._peer import PlainServer, Received

pytestmark = pytest.mark.anyio

ATOLL_KEY = "sk-atoll-own-key"
SDK_KEY = "sk-sdk-client-key"
CHAT = "https://api.openai.com/v1/chat/completions"  # what the Client builds from the registry


@pytest.fixture
def server() -> Iterator[PlainServer]:
    with PlainServer() as peer:
        yield peer


@pytest.fixture
async def sdk(server: PlainServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        api_key=SDK_KEY,
        organization="org-sdk",
        project="proj-sdk",
        base_url=server.url("/v1"),
        default_headers={"x-team": "atoll"},
        max_retries=5,  # the transport must switch these off
    )
    async with client:
        yield client


def chat_request(url: str = CHAT, **body: object) -> HttpRequest:
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **body}
    return HttpRequest(
        "POST",
        url,
        headers={
            "Authorization": f"Bearer {ATOLL_KEY}",
            "OpenAI-Organization": "org-atoll",
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
        },
        body=json.dumps(payload).encode(),
    )


def names(seen: Received) -> list[str]:
    return [name.lower() for name, _ in seen.headers]


async def test_a_registry_url_goes_to_the_clients_base_url_with_its_credentials(
    sdk: openai.AsyncOpenAI, server: PlainServer
) -> None:
    async with OpenAISDKTransport(sdk) as transport:
        response = await transport.send(chat_request())
        await response.aread()
    seen = server.requests[-1]
    assert (seen.method, seen.target) == ("POST", "/v1/chat/completions")
    assert seen.header("authorization") == f"Bearer {SDK_KEY}"
    assert seen.header("openai-organization") == "org-sdk"
    assert seen.header("openai-project") == "proj-sdk"
    assert seen.header("x-team") == "atoll"
    # The request's own headers override the SDK's defaults, once each.
    assert seen.header("accept") == "text/event-stream"
    for name in ("authorization", "accept", "content-type", "openai-organization"):
        assert names(seen).count(name) == 1, name
    assert ATOLL_KEY not in str(seen.headers)
    assert json.loads(seen.body)["model"] == "gpt-4o-mini"


async def test_a_url_under_the_clients_base_url_keeps_its_path_and_query(
    server: PlainServer,
) -> None:
    async with openai.AsyncOpenAI(api_key=SDK_KEY, base_url=server.url("/proxy/root")) as sdk:
        async with OpenAISDKTransport(sdk) as transport:
            url = server.url("/proxy/root/models?limit=2&tag=a&tag=b")
            response = await transport.send(HttpRequest("GET", url))
            await response.aread()
            # OpenAI's "/v1" root elsewhere is re-rooted on the client's base URL too.
            other = "https://example.test/openai/v1/responses/resp_1?include=x"
            response = await transport.send(HttpRequest("GET", other))
            await response.aread()
    assert [r.target for r in server.requests] == [
        "/proxy/root/models?limit=2&tag=a&tag=b",
        "/proxy/root/responses/resp_1?include=x",
    ]


async def test_an_azure_client_routes_to_its_deployment_with_its_key(server: PlainServer) -> None:
    azure = openai.AsyncAzureOpenAI(
        api_key="azure-key", azure_endpoint=server.base_url, api_version="2024-10-21"
    )
    async with azure, OpenAISDKTransport(azure) as transport:
        response = await transport.send(chat_request())
        await response.aread()
    seen = server.requests[-1]
    assert seen.target == "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
    assert seen.header("api-key") == "azure-key"
    assert seen.header("authorization") is None  # the Atoll key never reaches Azure


async def test_a_url_outside_the_clients_api_is_refused(sdk: openai.AsyncOpenAI) -> None:
    async with OpenAISDKTransport(sdk) as transport:
        with pytest.raises(TransportError, match="base_url") as caught:
            await transport.send(HttpRequest("POST", "https://api.example.test/chat", body=b"{}"))
    assert type(caught.value) is TransportError


async def test_without_client_endpoint_the_request_goes_out_as_it_is(
    sdk: openai.AsyncOpenAI, server: PlainServer
) -> None:
    async with OpenAISDKTransport(sdk, use_client_endpoint=False) as transport:
        response = await transport.send(chat_request(server.url("/echo")))
        assert response.status == 200
        assert json.loads(await response.aread())["model"] == "gpt-4o-mini"
    seen = server.requests[-1]
    assert seen.target == "/echo"
    assert seen.header("authorization") == f"Bearer {ATOLL_KEY}"
    assert seen.header("openai-organization") == "org-atoll"
    assert seen.header("x-team") == "atoll"  # the client's other defaults still apply
    assert names(seen).count("authorization") == 1


async def test_an_error_status_is_a_response_sent_once(
    sdk: openai.AsyncOpenAI, server: PlainServer
) -> None:
    # The SDK would retry a 500 five times here, and raise: through the transport it is one
    # request, and a response the Client parses (and retries by its own policy).
    async with OpenAISDKTransport(sdk, use_client_endpoint=False) as transport:
        response = await transport.send(HttpRequest("GET", server.url("/status/500")))
        assert response.status == 500
        assert response.headers["x-multi"] == "a, b"
        assert await response.aread() == b"status 500"
        redirect = await transport.send(HttpRequest("GET", server.url("/status/307")))
        assert redirect.status == 307  # not followed
    assert [r.target for r in server.requests] == ["/status/500", "/status/307"]


async def test_an_error_body_over_the_limit(sdk: openai.AsyncOpenAI, server: PlainServer) -> None:
    async with OpenAISDKTransport(sdk, use_client_endpoint=False, max_body_bytes=5) as transport:
        with pytest.raises(ResponseTooLarge) as caught:
            await transport.send(HttpRequest("GET", server.url("/status/503")))
    assert (caught.value.limit, caught.value.size) == (5, len(b"status 503"))


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_verbs_are_read_whole(
    sdk: openai.AsyncOpenAI, server: PlainServer, method: str
) -> None:
    async with OpenAISDKTransport(sdk, use_client_endpoint=False) as transport:
        request = HttpRequest(method, server.url("/echo"), body=b"payload")
        response = await transport.send(request)
        assert await response.aread() == b"payload"
    assert server.requests[-1].method == method


@pytest.mark.parametrize(
    ("method", "body"), [("HEAD", b""), ("OPTIONS", b""), ("GET", b"a body")], ids=str
)
async def test_what_the_sdk_cannot_send_is_refused_before_sending(
    sdk: openai.AsyncOpenAI, server: PlainServer, method: str, body: bytes
) -> None:
    async with OpenAISDKTransport(sdk, use_client_endpoint=False) as transport:
        with pytest.raises(TransportError, match="cannot send") as caught:
            await transport.send(HttpRequest(method, server.url("/echo"), body=body))
    assert type(caught.value) is TransportError
    assert server.requests == []


async def test_the_clients_http_client_is_used(server: PlainServer) -> None:
    seen: list[str] = []

    async def hook(request: httpx2.Request) -> None:
        seen.append(str(request.url))

    http_client = openai.DefaultAsyncHttpxClient(event_hooks={"request": [hook]})
    async with openai.AsyncOpenAI(
        api_key=SDK_KEY, base_url=server.url("/v1"), http_client=http_client
    ) as sdk:
        async with OpenAISDKTransport(sdk) as transport:
            response = await transport.send(chat_request())
            await response.aread()
    assert seen == [server.url("/v1/chat/completions")]


def test_sync_routing_and_retries(server: PlainServer) -> None:
    with openai.OpenAI(api_key=SDK_KEY, base_url=server.url("/v1"), max_retries=5) as sdk:
        with SyncOpenAISDKTransport(sdk) as transport:
            with transport.send(chat_request()) as response:
                response.read()
            with transport.send(chat_request(server.url("/v1/status/429"))) as limited:
                assert limited.status == 404  # /v1/status/429 is no route of the peer
    assert [r.target for r in server.requests] == ["/v1/chat/completions", "/v1/status/429"]
    assert server.requests[0].header("authorization") == f"Bearer {SDK_KEY}"


def test_the_wrong_client_or_options_fail_at_construction() -> None:
    with openai.OpenAI(api_key=SDK_KEY) as sync_sdk:
        with pytest.raises(TypeError, match="AsyncOpenAI"):
            OpenAISDKTransport(sync_sdk)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="max_body_bytes"):
            SyncOpenAISDKTransport(sync_sdk, max_body_bytes=0)
    async_sdk = openai.AsyncOpenAI(api_key=SDK_KEY)
    with pytest.raises(TypeError, match=r"openai\.OpenAI"):
        SyncOpenAISDKTransport(async_sdk)  # type: ignore[arg-type]


def test_reprs_hold_no_secret() -> None:
    with openai.OpenAI(api_key=SDK_KEY, base_url="https://u:pw@proxy.test/v1?key=sk-q") as sdk:
        shown = repr(SyncOpenAISDKTransport(sdk))
    assert "SyncOpenAISDKTransport(base_url=" in shown
    for secret in (SDK_KEY, "pw", "sk-q"):
        assert secret not in shown
