"""Where an OpenAI-chat request goes: ``{base_url}{path}``, or Azure OpenAI's forms.

Azure (the ``azure_deployments`` quirk) has two URL forms. The deployment form names the
deployment in the path and needs an ``api-version`` query parameter (from the ``api_version``
setting, i.e. ``OPENAI_API_VERSION``, or ``Client(settings=...)``); the v1 form
(``api_version`` ``v1``, or ``preview`` for preview features) is OpenAI's own path under
``/openai/v1``. The version never leaves the settings and no key ever goes in the URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._exceptions import UnsupportedRequestError
from ._openai_quirks import OpenAIChatQuirks
from ._vertex import expand_base_url

if TYPE_CHECKING:
    from ._target import Target

__all__ = ["endpoint_url", "resource_url"]

_V1_VERSIONS = frozenset({"v1", "preview"})


def endpoint_url(target: Target, quirks: OpenAIChatQuirks, path: str, model: str) -> str:
    """The URL of an endpoint (``/chat/completions``, ``/embeddings``) for the target.

    Raises:
        UnsupportedRequestError: An Azure target without an ``api_version`` setting, or a
            base URL naming a setting that is not set.
    """
    if not quirks.azure_deployments:
        if "{" in target.base_url:
            return expand_base_url(target) + path
        return target.base_url.rstrip("/") + path
    base = expand_base_url(target)
    version = target.settings.get("api_version")
    if not version:
        raise UnsupportedRequestError(
            "Azure OpenAI needs an API version: set OPENAI_API_VERSION or pass "
            "Client(settings={'api_version': '2024-10-21'}) ('v1' for the v1 API)",
            provider=target.provider.name,
            model=target.request_model,
        )
    if version in _V1_VERSIONS:
        query = "?api-version=preview" if version == "preview" else ""
        return f"{base}/v1{path}{query}"
    deployment = target.settings.get("deployment") or model
    from urllib.parse import quote  # Azure only: urllib.parse (and ipaddress) cost import time

    return f"{base}/deployments/{quote(deployment, safe='')}{path}?api-version={quote(version)}"


def resource_url(target: Target, quirks: OpenAIChatQuirks, path: str) -> str:
    """The URL of an endpoint that names no model (``/models``) for the target.

    On Azure it sits under the resource, not a deployment: ``{base_url}{path}?api-version=V``
    (the v1 form as for ``endpoint_url``).

    Raises:
        UnsupportedRequestError: As for ``endpoint_url``.
    """
    if not quirks.azure_deployments:
        return endpoint_url(target, quirks, path, target.request_model)
    version = target.settings.get("api_version")
    if not version or version in _V1_VERSIONS:
        return endpoint_url(target, quirks, path, target.request_model)
    from urllib.parse import quote

    return f"{expand_base_url(target)}{path}?api-version={quote(version)}"
