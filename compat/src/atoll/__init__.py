"""atoll: the legacy one-import API (``aigenerate``, ``aiextract``, ...) on the Atoll layers.

Every call goes through ``atoll_dialects.Client`` (sync forms through ``SyncClient``, with no
hidden event loop), tools and structured output through ``atoll_tools``, models and prices
through ``atoll_registry``; this package adds no provider logic of its own. Each function has an
``_async`` twin for asyncio and trio, and the ``atoll`` command line lives here too.

Example:
    >>> from atoll import aigenerate, UserMessage
    >>> aigenerate("Say hi to {{name}}!", name="Ada", dry_run=True) is None
    True

Names load on first use, so ``import atoll`` (and the ``atoll`` command) starts quickly.
"""

from __future__ import annotations

import importlib
import typing

from atoll_wire import AtollError

from ._exceptions import (
    CompatError,
    ExtractionError,
    PlaceholderError,
    RenderError,
    RetryBudgetError,
    SchemaError,
    TemplateError,
    ToolNotFoundError,
)

if typing.TYPE_CHECKING:
    from ._api_extract import (
        aiclassify,
        aiclassify_async,
        aiextract,
        aiextract_async,
    )
    from ._api_tools import (
        aitools,
        aitools_async,
    )
    from ._codec import (
        load_conversation,
        save_conversation,
    )
    from ._convenience import (
        CONV_HISTORY,
        aai,
        aai_,
        ai,
        ai_,
    )
    from ._embed import (
        aiembed,
        aiembed_async,
    )
    from ._engine import (
        close_connections,
    )
    from ._generate import (
        aigenerate,
        aigenerate_async,
        aiscan,
        aiscan_async,
    )
    from ._lazy import (
        AICall,
        AIClassify,
        AIEmbed,
        AIExtract,
        AIGenerate,
        AIScan,
        AITools,
        RetryConfig,
        run_,
        run__async,
    )
    from ._messages import (
        AbstractChatMessage,
        AbstractDataMessage,
        AbstractMessage,
        AIMessage,
        AIToolRequest,
        AnnotationMessage,
        DataMessage,
        MetadataMessage,
        SystemMessage,
        ToolMessage,
        UserMessage,
        UserMessageWithImages,
        last_message,
        last_output,
        tool_calls,
    )
    from ._models import (
        MODEL_ALIASES,
        MODEL_REGISTRY,
        ModelSpec,
        register_model,
    )
    from ._neutral import (
        from_neutral,
        to_neutral,
    )
    from ._preferences import (
        get_preferences,
        set_preferences,
    )
    from ._retry import (
        airetry_,
        airetry__async,
    )
    from ._samples import (
        UCT,
        SampleNode,
        ThompsonSampling,
    )
    from ._schemas import (
        AbstractPromptSchema,
        AnthropicSchema,
        AzureOpenAISchema,
        CerebrasOpenAISchema,
        ChatMLSchema,
        CustomOpenAISchema,
        DeepSeekOpenAISchema,
        FireworksOpenAISchema,
        GoogleOpenAISchema,
        GroqOpenAISchema,
        LocalServerOpenAISchema,
        MistralOpenAISchema,
        NoSchema,
        OllamaSchema,
        OpenAISchema,
        OpenRouterOpenAISchema,
        SaverSchema,
        TogetherOpenAISchema,
        TracerSchema,
        XAIOpenAISchema,
    )
    from ._templates import (
        AITemplate,
        AITemplateMetadata,
        aitemplates,
        create_template,
        load_template,
        load_templates_,
        save_template,
    )
    from ._tools import (
        execute_tool,
        execute_tool_async,
    )
    from ._tracer import (
        TracerMessage,
    )

__version__ = "0.1.0"

for _cls in (
    CompatError,
    ExtractionError,
    PlaceholderError,
    RenderError,
    RetryBudgetError,
    SchemaError,
    TemplateError,
    ToolNotFoundError,
):
    _cls.__module__ = __name__

_LAZY: dict[str, str] = {  # name -> private module
    "AICall": "_lazy",
    "AIClassify": "_lazy",
    "AIEmbed": "_lazy",
    "AIExtract": "_lazy",
    "AIGenerate": "_lazy",
    "AIMessage": "_messages",
    "AIScan": "_lazy",
    "AITemplate": "_templates",
    "AITemplateMetadata": "_templates",
    "AIToolRequest": "_messages",
    "AITools": "_lazy",
    "AbstractChatMessage": "_messages",
    "AbstractDataMessage": "_messages",
    "AbstractMessage": "_messages",
    "AbstractPromptSchema": "_schemas",
    "AnnotationMessage": "_messages",
    "AnthropicSchema": "_schemas",
    "AzureOpenAISchema": "_schemas",
    "CONV_HISTORY": "_convenience",
    "CerebrasOpenAISchema": "_schemas",
    "ChatMLSchema": "_schemas",
    "CustomOpenAISchema": "_schemas",
    "DataMessage": "_messages",
    "DeepSeekOpenAISchema": "_schemas",
    "FireworksOpenAISchema": "_schemas",
    "GoogleOpenAISchema": "_schemas",
    "GroqOpenAISchema": "_schemas",
    "LocalServerOpenAISchema": "_schemas",
    "MODEL_ALIASES": "_models",
    "MODEL_REGISTRY": "_models",
    "MetadataMessage": "_messages",
    "MistralOpenAISchema": "_schemas",
    "ModelSpec": "_models",
    "NoSchema": "_schemas",
    "OllamaSchema": "_schemas",
    "OpenAISchema": "_schemas",
    "OpenRouterOpenAISchema": "_schemas",
    "RetryConfig": "_lazy",
    "SampleNode": "_samples",
    "SaverSchema": "_schemas",
    "SystemMessage": "_messages",
    "ThompsonSampling": "_samples",
    "TogetherOpenAISchema": "_schemas",
    "ToolMessage": "_messages",
    "TracerMessage": "_tracer",
    "TracerSchema": "_schemas",
    "UCT": "_samples",
    "UserMessage": "_messages",
    "UserMessageWithImages": "_messages",
    "XAIOpenAISchema": "_schemas",
    "aai": "_convenience",
    "aai_": "_convenience",
    "ai": "_convenience",
    "ai_": "_convenience",
    "aiclassify": "_api_extract",
    "aiclassify_async": "_api_extract",
    "aiembed": "_embed",
    "aiembed_async": "_embed",
    "aiextract": "_api_extract",
    "aiextract_async": "_api_extract",
    "aigenerate": "_generate",
    "aigenerate_async": "_generate",
    "airetry_": "_retry",
    "airetry__async": "_retry",
    "aiscan": "_generate",
    "aiscan_async": "_generate",
    "aitemplates": "_templates",
    "aitools": "_api_tools",
    "aitools_async": "_api_tools",
    "close_connections": "_engine",
    "create_template": "_templates",
    "execute_tool": "_tools",
    "execute_tool_async": "_tools",
    "from_neutral": "_neutral",
    "get_preferences": "_preferences",
    "last_message": "_messages",
    "last_output": "_messages",
    "load_conversation": "_codec",
    "load_template": "_templates",
    "load_templates_": "_templates",
    "register_model": "_models",
    "run_": "_lazy",
    "run__async": "_lazy",
    "save_conversation": "_codec",
    "save_template": "_templates",
    "set_preferences": "_preferences",
    "to_neutral": "_neutral",
    "tool_calls": "_messages",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'atoll' has no attribute {name!r}")
    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = (
    "AICall",
    "AIClassify",
    "AIEmbed",
    "AIExtract",
    "AIGenerate",
    "AIMessage",
    "AIScan",
    "AITemplate",
    "AITemplateMetadata",
    "AIToolRequest",
    "AITools",
    "AbstractChatMessage",
    "AbstractDataMessage",
    "AbstractMessage",
    "AbstractPromptSchema",
    "AnnotationMessage",
    "AnthropicSchema",
    "AtollError",
    "AzureOpenAISchema",
    "CONV_HISTORY",
    "CerebrasOpenAISchema",
    "ChatMLSchema",
    "CompatError",
    "CustomOpenAISchema",
    "DataMessage",
    "DeepSeekOpenAISchema",
    "ExtractionError",
    "FireworksOpenAISchema",
    "GoogleOpenAISchema",
    "GroqOpenAISchema",
    "LocalServerOpenAISchema",
    "MODEL_ALIASES",
    "MODEL_REGISTRY",
    "MetadataMessage",
    "MistralOpenAISchema",
    "ModelSpec",
    "NoSchema",
    "OllamaSchema",
    "OpenAISchema",
    "OpenRouterOpenAISchema",
    "PlaceholderError",
    "RenderError",
    "RetryBudgetError",
    "RetryConfig",
    "SampleNode",
    "SaverSchema",
    "SchemaError",
    "SystemMessage",
    "TemplateError",
    "ThompsonSampling",
    "TogetherOpenAISchema",
    "ToolMessage",
    "ToolNotFoundError",
    "TracerMessage",
    "TracerSchema",
    "UCT",
    "UserMessage",
    "UserMessageWithImages",
    "XAIOpenAISchema",
    "aai",
    "aai_",
    "ai",
    "ai_",
    "aiclassify",
    "aiclassify_async",
    "aiembed",
    "aiembed_async",
    "aiextract",
    "aiextract_async",
    "aigenerate",
    "aigenerate_async",
    "airetry_",
    "airetry__async",
    "aiscan",
    "aiscan_async",
    "aitemplates",
    "aitools",
    "aitools_async",
    "close_connections",
    "create_template",
    "execute_tool",
    "execute_tool_async",
    "from_neutral",
    "get_preferences",
    "last_message",
    "last_output",
    "load_conversation",
    "load_template",
    "load_templates_",
    "register_model",
    "run_",
    "run__async",
    "save_conversation",
    "save_template",
    "set_preferences",
    "to_neutral",
    "tool_calls",
)
