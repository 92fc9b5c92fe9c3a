"""Errors raised by the registry; each carries the facts a caller needs as fields.

Hierarchy::

    RegistryError (Exception)
    ├── UnknownProviderError (also LookupError)   provider name not in the registry
    ├── UnknownModelError (also LookupError)      model name matches nothing
    │   └── AmbiguousModelError                   a bare name matches several providers
    └── RegistryDataError (also ValueError)       a data or override file is malformed

Unknown *prices* are not errors: ``Registry.cost`` returns ``None`` and
``Registry.explain_cost`` says why.
"""

from __future__ import annotations

from atoll_wire import AtollError

__all__ = [
    "AmbiguousModelError",
    "RegistryDataError",
    "RegistryError",
    "UnknownModelError",
    "UnknownProviderError",
]


def _hint(suggestions: tuple[str, ...]) -> str:
    return f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""


class RegistryError(AtollError):
    """Base class of every error raised by ``atoll_registry``."""


class UnknownProviderError(RegistryError, LookupError):
    """A provider name that the registry does not know.

    Attributes:
        provider: The name that was looked up.
        suggestions: Known provider names close to it, best first.
    """

    def __init__(self, provider: str, suggestions: tuple[str, ...] = ()) -> None:
        self.provider = provider
        self.suggestions = suggestions
        super().__init__(f"unknown provider {provider!r}{_hint(suggestions)}")


class UnknownModelError(RegistryError, LookupError):
    """A model name that matches no model, alias or provider in the registry.

    Attributes:
        name: The name that was looked up.
        suggestions: Known names (qualified ``provider/model`` or aliases) close to it.
    """

    def __init__(self, name: str, suggestions: tuple[str, ...] = (), message: str = "") -> None:
        self.name = name
        self.suggestions = suggestions
        super().__init__(message or f"unknown model {name!r}{_hint(suggestions)}")


class AmbiguousModelError(UnknownModelError):
    """A bare model name or alias served by several providers; qualify it as ``provider/model``.

    Attributes:
        name: The name that was looked up.
        candidates: The qualified names it could mean, sorted.
    """

    def __init__(self, name: str, candidates: tuple[str, ...]) -> None:
        self.candidates = candidates
        super().__init__(
            name,
            candidates,
            f"model name {name!r} is ambiguous; qualify it as one of "
            f"{', '.join(repr(c) for c in candidates)}",
        )


class RegistryDataError(RegistryError, ValueError):
    """A registry data file (packaged or user override) is malformed or inconsistent.

    Attributes:
        path: The file (or ``"<memory>"``) the bad data came from.
        detail: What was wrong, including the JSON path when the decoder knows it.
    """

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {detail}")
