"""Endpoint URLs built from a target's settings: Vertex AI's project/location paths and hosts.

A registry base URL may name settings in braces (``https://{location}-aiplatform.googleapis.com``,
``{endpoint}/openai``); they are filled from the target's settings (the registry's ``$ENV``
values and ``Client(settings=...)``). A base URL the caller gave is used as it is, so the same
paths reach a proxy or the local test server.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._exceptions import UnsupportedRequestError

if TYPE_CHECKING:
    from ._target import Target

__all__ = ["expand_base_url", "vertex_host", "vertex_model_url"]

#: The registry's Vertex base URL: the host depends on the location.
VERTEX_TEMPLATE = "https://{location}-aiplatform.googleapis.com"
#: Vertex's multi-region locations, served from their own ``rep`` hosts.
_MULTI_REGIONS = frozenset({"us", "eu"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _missing(target: Target, name: str) -> UnsupportedRequestError:
    variable = target.provider.settings.get(name, "")
    hint = f"set {variable[1:]} or " if variable.startswith("$") else ""
    return UnsupportedRequestError(
        f"provider {target.provider.name!r} needs the setting {name!r}: "
        f"{hint}pass Client(settings={{{name!r}: ...}})",
        provider=target.provider.name,
        model=target.request_model,
    )


def expand_base_url(target: Target) -> str:
    """The target's base URL with every ``{setting}`` filled in (trailing slashes removed).

    Raises:
        UnsupportedRequestError: A named setting is not set (the message names its variable).
    """
    url = target.base_url
    if "{" not in url:
        return url
    settings = target.settings

    def fill(found: re.Match[str]) -> str:
        value = settings.get(found.group(1))
        if not value:
            raise _missing(target, found.group(1))
        return value.rstrip("/")

    return _PLACEHOLDER.sub(fill, url).rstrip("/")


def vertex_host(location: str) -> str:
    """The Vertex AI API root for a location: global, a multi-region, or a region.

    Example:
        >>> vertex_host("global"), vertex_host("eu"), vertex_host("us-central1")
        ('https://aiplatform.googleapis.com', 'https://aiplatform.eu.rep.googleapis.com', \
'https://us-central1-aiplatform.googleapis.com')
    """
    if location == "global":
        return "https://aiplatform.googleapis.com"
    if location in _MULTI_REGIONS:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def vertex_model_url(target: Target, publisher: str, model: str) -> str:
    """``{root}/{version}/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}``.

    The project comes from the settings (``GOOGLE_CLOUD_PROJECT``), else from the credentials
    (application default credentials know theirs); the location from the settings
    (``GOOGLE_CLOUD_LOCATION``), else ``global``; the API version from ``api_version``
    (default ``v1``).

    Raises:
        UnsupportedRequestError: No project is known.
    """
    settings = target.settings
    location = settings.get("location") or "global"
    project = settings.get("project") or getattr(target.auth, "project_id", None)
    if not project:
        raise _missing(target, "project")
    base = target.base_url
    if base.startswith(VERTEX_TEMPLATE):
        base = vertex_host(location) + base[len(VERTEX_TEMPLATE) :]
    if "{" in base:
        base = expand_base_url(_with_base(target, base))
    version = settings.get("api_version") or "v1"
    return (
        f"{base.rstrip('/')}/{version}/projects/{project}/locations/{location}"
        f"/publishers/{publisher}/models/{model}"
    )


def _with_base(target: Target, base: str) -> Target:
    from dataclasses import replace  # the target is a frozen dataclass

    return replace(target, base_url=base)
