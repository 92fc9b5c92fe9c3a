"""Prompt schemas: the optional first argument of every ai* function, mapped onto the layers.

A schema names a registry provider and the dialect that speaks to it; it never holds provider
logic (URLs, auth and quirks are the registry's, the wire format the dialect's). Without a
schema, the model's registry entry decides, then the ``PROMPT_SCHEMA`` preference.

=============================  ===============================================================
schema                         calls
=============================  ===============================================================
``OpenAISchema``               the ``openai`` provider
``CustomOpenAISchema``         any OpenAI-compatible server at ``api_kwargs={"url": ...}``
``LocalServerOpenAISchema``    the server at the ``LOCAL_SERVER`` preference (llama.cpp-style)
``MistralOpenAISchema`` ...    ``mistral``, ``groq``, ``deepseek``, ``together``, ``fireworks``,
                               ``openrouter``, ``cerebras``, ``xai``, ``gemini`` (OpenAI API)
``AzureOpenAISchema``          ``{AZURE_OPENAI_HOST}/openai/v1`` (``api-key`` header)
``AnthropicSchema``            the ``anthropic`` provider (Messages API)
``OllamaSchema``               the ``ollama`` provider (its OpenAI-compatible endpoint)
``ChatMLSchema``               nothing: render-only (``dry_run``), a ChatML string
``TracerSchema(s)``            ``s``, and returns ``TracerMessage``s (inputs, timing, model)
``SaverSchema(s)``             ``s``, and writes each conversation to ``LOG_DIR``
=============================  ===============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._exceptions import SchemaError


@dataclass(frozen=True)
class AbstractPromptSchema:
    """Base of every schema."""

    provider: ClassVar[str | None] = None
    """The registry provider this schema calls (``None``: the URL decides)."""
    dialect: ClassVar[str] = "openai-chat"
    """The dialect id the provider speaks."""
    url_required: ClassVar[bool] = False
    """Calls need ``api_kwargs={"url": ...}``."""


@dataclass(frozen=True)
class NoSchema(AbstractPromptSchema):
    """Only the first rendering pass (placeholders, system message); never sent anywhere."""


@dataclass(frozen=True)
class AbstractOpenAISchema(AbstractPromptSchema):
    """Base of the schemas that speak the OpenAI chat-completions API."""


@dataclass(frozen=True)
class OpenAISchema(AbstractOpenAISchema):
    """OpenAI's API (key: ``OPENAI_API_KEY``)."""

    provider: ClassVar[str | None] = "openai"


@dataclass(frozen=True)
class CustomOpenAISchema(AbstractOpenAISchema):
    """Any OpenAI-compatible server: pass ``api_kwargs={"url": "http://host:port/v1"}``.

    A model name the registry knows keeps its facts and prices; any other name is sent as it
    is and its cost is unknown (``None``).
    """

    url_required: ClassVar[bool] = True


@dataclass(frozen=True)
class LocalServerOpenAISchema(AbstractOpenAISchema):
    """A local OpenAI-compatible server at the ``LOCAL_SERVER`` preference (costs $0)."""

    provider: ClassVar[str | None] = "llama.cpp"


@dataclass(frozen=True)
class MistralOpenAISchema(AbstractOpenAISchema):
    """Mistral's API (key: ``MISTRAL_API_KEY``)."""

    provider: ClassVar[str | None] = "mistral"


@dataclass(frozen=True)
class GroqOpenAISchema(AbstractOpenAISchema):
    """Groq's API (key: ``GROQ_API_KEY``)."""

    provider: ClassVar[str | None] = "groq"


@dataclass(frozen=True)
class DeepSeekOpenAISchema(AbstractOpenAISchema):
    """DeepSeek's API (key: ``DEEPSEEK_API_KEY``)."""

    provider: ClassVar[str | None] = "deepseek"


@dataclass(frozen=True)
class TogetherOpenAISchema(AbstractOpenAISchema):
    """Together's API (key: ``TOGETHER_API_KEY``)."""

    provider: ClassVar[str | None] = "together"


@dataclass(frozen=True)
class FireworksOpenAISchema(AbstractOpenAISchema):
    """Fireworks' API (key: ``FIREWORKS_API_KEY``)."""

    provider: ClassVar[str | None] = "fireworks"


@dataclass(frozen=True)
class OpenRouterOpenAISchema(AbstractOpenAISchema):
    """OpenRouter (key: ``OPENROUTER_API_KEY``)."""

    provider: ClassVar[str | None] = "openrouter"


@dataclass(frozen=True)
class CerebrasOpenAISchema(AbstractOpenAISchema):
    """Cerebras' API (key: ``CEREBRAS_API_KEY``)."""

    provider: ClassVar[str | None] = "cerebras"


@dataclass(frozen=True)
class XAIOpenAISchema(AbstractOpenAISchema):
    """xAI's API (key: ``XAI_API_KEY``)."""

    provider: ClassVar[str | None] = "xai"


@dataclass(frozen=True)
class GoogleOpenAISchema(AbstractOpenAISchema):
    """Gemini through Google's OpenAI-compatible endpoint (key: ``GEMINI_API_KEY``)."""

    provider: ClassVar[str | None] = "gemini"


@dataclass(frozen=True)
class AzureOpenAISchema(AbstractOpenAISchema):
    """Azure OpenAI's v1 API at ``{AZURE_OPENAI_HOST}/openai/v1`` (or ``api_kwargs["url"]``).

    The key (``api_key``, else ``AZURE_OPENAI_API_KEY``) travels in Azure's ``api-key`` header;
    the model name is your deployment's name.
    """


@dataclass(frozen=True)
class AnthropicSchema(AbstractPromptSchema):
    """Anthropic's Messages API (key: ``ANTHROPIC_API_KEY``)."""

    provider: ClassVar[str | None] = "anthropic"
    dialect: ClassVar[str] = "anthropic-messages"


@dataclass(frozen=True)
class OllamaSchema(AbstractPromptSchema):
    """A local Ollama server (default ``http://localhost:11434/v1``; costs $0)."""

    provider: ClassVar[str | None] = "ollama"


@dataclass(frozen=True)
class ChatMLSchema(AbstractPromptSchema):
    """Render-only: the conversation as one ChatML string (``dry_run=True``)."""


@dataclass(frozen=True)
class TracerSchema(AbstractPromptSchema):
    """Wraps a schema; replies come back as ``TracerMessage`` with inputs, timing and model.

    Args:
        schema: The schema that makes the call.
    """

    schema: AbstractPromptSchema


@dataclass(frozen=True)
class SaverSchema(AbstractPromptSchema):
    """Wraps a schema; every conversation is also written to disk (``LOG_DIR``).

    Args:
        schema: The schema that makes the call (may itself be a ``TracerSchema``).
    """

    schema: AbstractPromptSchema


Wrapper = TracerSchema | SaverSchema

_BY_NAME: dict[str, type[AbstractPromptSchema]] = {
    cls.__name__: cls
    for cls in (
        OpenAISchema,
        CustomOpenAISchema,
        LocalServerOpenAISchema,
        MistralOpenAISchema,
        GroqOpenAISchema,
        DeepSeekOpenAISchema,
        TogetherOpenAISchema,
        FireworksOpenAISchema,
        OpenRouterOpenAISchema,
        CerebrasOpenAISchema,
        XAIOpenAISchema,
        GoogleOpenAISchema,
        AzureOpenAISchema,
        AnthropicSchema,
        OllamaSchema,
        ChatMLSchema,
    )
}
_BY_PROVIDER: dict[str, type[AbstractPromptSchema]] = {
    cls.provider: cls for cls in _BY_NAME.values() if cls.provider is not None
}


def schema_named(name: str) -> AbstractPromptSchema:
    """The schema whose class is called ``name`` (the ``PROMPT_SCHEMA`` preference).

    Raises:
        SchemaError: No schema of that name.
    """
    cls = _BY_NAME.get(name)
    if cls is None:
        raise SchemaError(name, f"no such schema; known: {', '.join(sorted(_BY_NAME))}")
    return cls()


def schema_for_provider(provider: str, dialect: str) -> AbstractPromptSchema:
    """The schema that calls a registry provider (a generic one when it has no class)."""
    cls = _BY_PROVIDER.get(provider)
    if cls is not None:
        return cls()
    return AnthropicSchema() if dialect == "anthropic-messages" else CustomOpenAISchema()


def split_wrappers(schema: AbstractPromptSchema) -> tuple[AbstractPromptSchema, list[Wrapper]]:
    """The schema that makes the call, and the tracer/saver wrappers around it, outermost first."""
    wrappers: list[Wrapper] = []
    while isinstance(schema, TracerSchema | SaverSchema):
        wrappers.append(schema)
        schema = schema.schema
    return schema, wrappers
