"""Every error atoll_local raises, with structured fields.

Hierarchy::

    AtollError (atoll_wire)
    └── LocalError                 base of everything raised here
        ├── ModelLoadError         a model could not be loaded (missing file, not GGUF,
        │                          context larger than the model's, llama.cpp refused it)
        └── ModelClosedError       work was sent to a model (or transport) already closed

Problems with one *request* (an unknown model name, a prompt longer than the context, an
unsupported option) never raise in the transport: they become OpenAI-shaped HTTP error responses,
so the Client maps them to its typed errors exactly as for a remote server.
"""

from __future__ import annotations

from typing import Literal

from atoll_wire import AtollError

LoadFailure = Literal[
    "missing", "not_a_file", "not_gguf", "bad_metadata", "context_too_large", "llama"
]
"""Why a load failed: the file is absent, a directory, not GGUF, has unreadable metadata, the
requested context is larger than the model's, or llama.cpp itself refused the file."""


class LocalError(AtollError):
    """Base class of every error raised by atoll_local."""


class ModelLoadError(LocalError):
    """A GGUF model could not be loaded; raised before any generation.

    Attributes:
        path: The model file as given.
        reason: What went wrong (``missing``, ``not_a_file``, ``not_gguf``, ``bad_metadata``,
            ``context_too_large``, ``llama``).
        detail: Words for a person.
        n_ctx: The context length asked for, when it matters (else None).
        n_ctx_train: The model's own context length, when known (else None).
    """

    def __init__(
        self,
        path: str,
        reason: LoadFailure,
        detail: str,
        *,
        n_ctx: int | None = None,
        n_ctx_train: int | None = None,
    ) -> None:
        super().__init__(f"cannot load {path}: {detail}")
        self.path = path
        self.reason: LoadFailure = reason
        self.detail = detail
        self.n_ctx = n_ctx
        self.n_ctx_train = n_ctx_train


class ModelClosedError(LocalError):
    """A request reached a model or transport that was already closed.

    Attributes:
        name: The model's name (its file name when it has no other).
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"model {name!r} is closed")
        self.name = name
