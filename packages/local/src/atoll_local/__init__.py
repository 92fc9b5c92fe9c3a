"""atoll_local: in-process inference on llama-cpp-python behind Atoll's Transport interface.

``LocalTransport`` answers the OpenAI-chat dialect's requests from GGUF models on this machine,
with no socket and no server, so ``Client("local/<name>", transport=...)`` chats, streams, calls
tools and returns structured output exactly as with a remote model. Each ``LocalModel`` is loaded
explicitly (``aload`` reports size, context and time; a bad file is a ``ModelLoadError``) and
served by a worker thread of its own, one request at a time, in arrival order.

Example:
    >>> from atoll_local import LocalModel, LocalTransport
    >>> transport = LocalTransport({"tiny": LocalModel("tiny.gguf", n_ctx=512)})
    >>> sorted(transport.models)
    ['tiny']
"""

from __future__ import annotations

from ._engine import ModelStats
from ._exceptions import LocalError, ModelClosedError, ModelLoadError
from ._model import LoadReport, LocalModel
from ._tool_parsers import HermesToolParser, ParsedToolCall, ToolCallParser
from ._transport import LocalTransport, SyncLocalTransport

__version__ = "0.1.0"

for _cls in (LocalError, ModelClosedError, ModelLoadError):
    _cls.__module__ = __name__

__all__ = (
    "HermesToolParser",
    "LoadReport",
    "LocalError",
    "LocalModel",
    "LocalTransport",
    "ModelClosedError",
    "ModelLoadError",
    "ModelStats",
    "ParsedToolCall",
    "SyncLocalTransport",
    "ToolCallParser",
)
