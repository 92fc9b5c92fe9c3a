"""Vertex AI with google-auth's real service-account flow against the local token endpoint.

A key pair is made here with ``cryptography``; google-auth signs its JWT assertion with it and
exchanges it at the local server's ``/token``; Vertex routes accept only the tokens issued
there. 200 concurrent calls make exactly one refresh. Claude on Vertex goes through the same
credentials over ``rawPredict``/``streamRawPredict``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from atoll_dialects import Client, GoogleAuth, RetryPolicy
from atoll_testing import (
    FakeLLMServer,
    GoogleTokenServer,
    Script,
    Turn,
    VertexServer,
    registered_server_dialects,
)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SETTINGS = {"project": "atoll-test", "location": "us-central1", "quota_project": "billing-1"}


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def tokens() -> GoogleTokenServer:
    return GoogleTokenServer()


@pytest.fixture(scope="module")
def vertex(tokens: GoogleTokenServer) -> Iterator[FakeLLMServer]:
    dialects = [*registered_server_dialects(), tokens, VertexServer(tokens=tokens)]
    with FakeLLMServer(dialects=dialects).run_in_thread() as srv:
        srv.models["gemini-2.5-flash"] = Script([Turn(text="hi from vertex")], repeat_last=True)
        srv.models["claude-sonnet-4-5@20250929"] = Script(
            [Turn(text="hi from claude")], repeat_last=True
        )
        yield srv


@pytest.fixture(scope="module")
def key_file(
    tmp_path_factory: pytest.TempPathFactory, key: rsa.RSAPrivateKey, vertex: FakeLLMServer
) -> Path:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "from-the-key-file",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "atoll@atoll-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": vertex.url + "/token",
    }
    path = tmp_path_factory.mktemp("sa") / "key.json"
    path.write_text(json.dumps(info))
    return path


def _verify(assertion: str, key: rsa.RSAPrivateKey) -> dict[str, object]:
    head, payload, signature = assertion.split(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    key.public_key().verify(raw, f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.anyio
async def test_200_concurrent_calls_make_one_refresh(
    vertex: FakeLLMServer, tokens: GoogleTokenServer, key_file: Path, key: rsa.RSAPrivateKey
) -> None:
    before = len(tokens.issued)
    settings = {**SETTINGS, "credentials_file": str(key_file)}
    async with Client(
        "vertex/gemini-2.5-flash",
        base_url=vertex.url,
        settings=settings,
        retry=RetryPolicy(attempts=1),
    ) as client:
        auth = client.targets[0].auth
        assert isinstance(auth, GoogleAuth) and auth.project_id == "from-the-key-file"
        texts: list[str] = []

        async def one() -> None:
            texts.append((await client.chat("hello")).text)

        async with anyio.create_task_group() as group:
            for _ in range(200):
                group.start_soon(one)
    assert texts == ["hi from vertex"] * 200
    assert len(tokens.issued) - before == 1 and auth.refreshes == 1
    claims = _verify(tokens.assertions[-1], key)  # google-auth signed it with our key
    assert claims["iss"] == "atoll@atoll-test.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    request = vertex.requests[-1]
    assert request.path == (
        "/v1/projects/atoll-test/locations/us-central1/publishers/google/models/"
        "gemini-2.5-flash:generateContent"
    )
    assert request.headers["authorization"] == "[redacted]"
    assert request.headers["x-goog-user-project"] == "billing-1"


@pytest.mark.anyio
async def test_claude_on_vertex_and_streams(vertex: FakeLLMServer, key_file: Path) -> None:
    auth = GoogleAuth(credentials_file=str(key_file))
    async with Client(
        "vertex-anthropic/claude-sonnet-4-5", base_url=vertex.url, auth=auth, settings=SETTINGS
    ) as client:
        whole = await client.chat("hello", max_tokens=50)
        async with client.stream("hello", max_tokens=50) as stream:
            async for _ in stream:
                pass
    assert whole.text == stream.response.text == "hi from claude"
    body = json.loads(vertex.requests[-1].body)
    assert body["anthropic_version"] == "vertex-2023-10-16" and "model" not in body
    assert vertex.requests[-1].path.endswith(
        "/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
    )
    async with Client(
        "vertex/gemini-2.5-flash", base_url=vertex.url, auth=auth, settings=SETTINGS
    ) as client:
        embedded = await client.embed(["a b", "c"], dimensions=3)
        async with client.stream("hello") as stream:
            async for _ in stream:
                pass
    assert len(embedded.vectors) == 2 and embedded.usage is not None
    assert embedded.usage.input_tokens == 3
    assert stream.response.text == "hi from vertex"


@pytest.mark.anyio
async def test_a_token_the_endpoint_never_issued_is_refused(vertex: FakeLLMServer) -> None:
    from atoll_dialects import AuthenticationError, TokenAuth

    async with Client(
        "vertex/gemini-2.5-flash",
        base_url=vertex.url,
        auth=TokenAuth(lambda: "forged"),
        settings=SETTINGS,
        retry=RetryPolicy(attempts=1),
    ) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.chat("hello")
    assert caught.value.error_type == "UNAUTHENTICATED"
