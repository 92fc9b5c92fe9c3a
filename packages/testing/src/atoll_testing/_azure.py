"""``AzureOpenAIServer``: Azure OpenAI's deployment and v1 paths, ``api-version`` checked.

Routes: ``POST /openai/deployments/{deployment}/chat/completions?api-version=...`` (and
``/embeddings``), where the deployment is the model and ``api-version`` is required, and the v1
form ``POST /openai/v1/chat/completions``, where ``api-version`` is absent or ``preview``. The
key goes in ``api-key``; a Microsoft Entra ID token in ``Authorization: Bearer``. Bodies, streams
and errors are OpenAI's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import msgspec

from ._exceptions import RequestError
from ._exchange import Exchange
from ._inputs import ChatInput
from ._openai import OpenAIChatServer
from ._reply import Reply
from ._routes import Route

__all__ = ["AzureOpenAIServer"]

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


class AzureOpenAIServer(OpenAIChatServer):
    """Azure OpenAI (deployment and v1 forms); give it to a server beside the built-ins.

    Attributes:
        versions: The ``api-version`` values received, in order (``None`` when absent).
    """

    name = "azure"
    corpus_dialect = "azure-openai"

    def __init__(self) -> None:
        self.versions: list[str | None] = []

    def routes(self) -> Sequence[Route]:
        """Deployment chat and embeddings, and the v1 chat path."""
        deployment = "/openai/deployments/{deployment}"
        return (
            Route("POST", deployment + "/chat/completions", self.serve_chat, chat=True),
            Route("POST", deployment + "/embeddings", self.serve_deployment_embeddings),
            Route("POST", "/openai/v1/chat/completions", self.serve_chat, chat=True),
        )

    def credential(self, headers: Mapping[str, str]) -> str | None:
        """The ``api-key`` header, or an Entra ID bearer token."""
        key = headers.get("api-key")
        if key is not None:
            return key.strip()
        return super().credential(headers)

    def auth_error(self, headers: Mapping[str, str]) -> Reply:
        """Azure's 401."""
        return self.error(
            401,
            "Access denied due to invalid subscription key or wrong API endpoint.",
            "401",
        )

    def _version(self, exchange: Exchange) -> None:
        version = exchange.query_params.get("api-version")
        self.versions.append(version)
        if "deployment" in exchange.params:
            if version is None:
                raise RequestError(404, "Resource not found")
            if not _VERSION.match(version):
                raise RequestError(400, f"Unsupported api-version {version!r}", "BadRequest")
        elif version not in (None, "preview", "latest"):
            raise RequestError(
                400, f"api-version {version!r} is not valid for the v1 API", "BadRequest"
            )

    def parse_chat(self, exchange: Exchange) -> ChatInput:
        """The OpenAI body; the model is the deployment on deployment paths."""
        self._version(exchange)
        chat = super().parse_chat(exchange)
        deployment = exchange.params.get("deployment")
        return msgspec.structs.replace(chat, dialect=self.name, model=deployment or chat.model)

    def serve_deployment_embeddings(self, exchange: Exchange) -> Reply:
        """Embeddings on a deployment path."""
        self._version(exchange)
        return self.serve_embeddings(exchange)
