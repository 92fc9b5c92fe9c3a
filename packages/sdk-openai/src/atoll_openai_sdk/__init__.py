"""atoll_openai_sdk: an opt-in Transport through a configured openai SDK client.

``OpenAISDKTransport`` (async, on ``openai.AsyncOpenAI``) and ``SyncOpenAISDKTransport``
(blocking, on ``openai.OpenAI``) implement atoll_wire's transport interface by sending each
``HttpRequest`` through the SDK client you configured: its base URL, credentials, default
headers, HTTP client and Azure settings apply, and its own retries are off so the Client's retry
policy is the only one. For teams that must use the SDK; atoll_curl and atoll_httpx are faster.

Example:
    >>> import openai
    >>> from atoll_openai_sdk import OpenAISDKTransport
    >>> transport = OpenAISDKTransport(openai.AsyncOpenAI(api_key="sk-..."))
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._async import OpenAISDKTransport
from ._sync import SyncOpenAISDKTransport

__version__ = "0.1.0"

__all__: tuple[str, ...] = ("AtollError", "OpenAISDKTransport", "SyncOpenAISDKTransport")
