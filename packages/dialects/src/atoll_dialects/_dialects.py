"""The open sets of dialects and auth schemes, each registered under the id the registry uses.

A new dialect is a module that subclasses ``Dialect`` and calls ``register_dialect``; a new
auth scheme is a factory registered with ``register_auth``. The built-in OpenAI-chat and
Anthropic dialects register themselves when atoll_dialects is imported; the Gemini and
Responses dialects and the Google and Azure auth schemes are listed by id and load with their
first use, so a program pays the import only for the API families it calls. The registry
names both as data (a provider's ``dialect`` and ``auth``), and a Client refuses an id nobody
registered.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._auth import Auth, HeaderKeyAuth, NoAuth
from ._exceptions import MissingAPIKeyError, UnknownDialectError

if TYPE_CHECKING:
    from atoll_registry import ProviderSpec

    from ._dialect import Dialect

__all__ = [
    "AuthContext",
    "AuthFactory",
    "auth_for",
    "dialect_named",
    "register_auth",
    "register_builtin_auth",
    "register_builtin_dialect",
    "register_dialect",
    "registered_auth_schemes",
    "registered_dialects",
    "unregister_auth",
    "unregister_dialect",
]

_DIALECTS: dict[str, Dialect] = {}

# Built-ins that load on first use (each module registers itself when imported). An entry
# leaves its table when it loads, or when the id is registered or unregistered by hand, so a
# user's choice is never overwritten by a late built-in import.
_LAZY_DIALECTS: dict[str, str] = {"gemini": "._gemini", "openai-responses": "._responses"}
_LAZY_AUTH: dict[str, str] = {
    "azure-entra": "._azure_auth",
    "google-api-key": "._google_auth",
    "google-oauth": "._google_auth",
}


# Lazy ids a user registered or unregistered by hand before the built-in loaded.
_CHOSEN: set[str] = set()


def _load(table: dict[str, str], name: str) -> bool:
    """Import the built-in module that registers ``name``; False when there is none.

    The entry leaves the table only after the import (the module's own registration removes
    it): a second thread asking meanwhile waits on the import lock instead of finding nothing.
    """
    module = table.get(name)
    if module is None:
        return False
    importlib.import_module(module, __package__)
    table.pop(name, None)
    return True


def register_dialect(dialect: Dialect, *, replace: bool = False) -> Dialect:
    """Make a dialect available under its ``name``, the id registry entries use.

    Args:
        dialect: An instance of a ``Dialect`` subclass (dialects are stateless and shared).
        replace: Allow replacing a dialect already registered under that id.

    Returns:
        The dialect, so a module can write ``MY_DIALECT = register_dialect(MyDialect())``.

    Raises:
        ValueError: The id is empty, or taken and ``replace`` is False.
    """
    name = getattr(dialect, "name", "")
    if not name:
        raise ValueError(f"{type(dialect).__name__} has no `name` (its registry dialect id)")
    if name in _DIALECTS and not replace and _DIALECTS[name] is not dialect:
        raise ValueError(f"a dialect named {name!r} is already registered; pass replace=True")
    if name in _LAZY_DIALECTS and not replace:
        raise ValueError(f"{name!r} is a built-in dialect (loaded on first use); pass replace=True")
    if _LAZY_DIALECTS.pop(name, None) is not None:
        _CHOSEN.add(name)
    _DIALECTS[name] = dialect
    return dialect


def unregister_dialect(name: str) -> None:
    """Remove the dialect registered under ``name`` (no error when there is none).

    Clients already made keep the dialect they resolved.
    """
    if _LAZY_DIALECTS.pop(name, None) is not None:
        _CHOSEN.add(name)
    _DIALECTS.pop(name, None)


def dialect_named(name: str) -> Dialect:
    """The registered dialect for an id.

    Raises:
        UnknownDialectError: No dialect is registered under that id.
    """
    dialect = _DIALECTS.get(name)
    if dialect is None and _load(_LAZY_DIALECTS, name):
        dialect = _DIALECTS.get(name)
    if dialect is None:
        raise UnknownDialectError("dialect", name, registered_dialects())
    return dialect


def registered_dialects() -> list[str]:
    """The ids of every registered dialect (built-ins not loaded yet included), sorted."""
    return sorted({*_DIALECTS, *_LAZY_DIALECTS})


@dataclass(frozen=True, slots=True)
class AuthContext:
    """What an auth factory knows when a Client resolves a target.

    Attributes:
        provider: The provider's registry entry.
        api_key: The key the caller gave or the environment held (None when neither).
        settings: The target's endpoint settings (``api_version``, ``project``, ...).
        key_required: Whether a missing key is an error (False for local or custom servers).
    """

    provider: ProviderSpec
    api_key: str | None = field(repr=False)
    settings: Mapping[str, str]
    key_required: bool

    def require_key(self) -> str | None:
        """The key, or raise when the provider needs one and there is none.

        Raises:
            MissingAPIKeyError: No key, and the provider requires one (names the variable).
        """
        if self.api_key is None and self.key_required:
            raise MissingAPIKeyError(self.provider.name, self.provider.api_key_env)
        return self.api_key


AuthFactory = Callable[[AuthContext], Auth]
"""Makes the ``Auth`` of one target (raises ``MissingAPIKeyError`` when it needs a key)."""


def _key_header(header: str, prefix: str = "") -> AuthFactory:
    def factory(context: AuthContext) -> Auth:
        key = context.require_key()
        return NoAuth() if not key else HeaderKeyAuth(header, key, prefix=prefix)

    return factory


def _none(context: AuthContext) -> Auth:
    return NoAuth()


_AUTH: dict[str, AuthFactory] = {
    "bearer": _key_header("Authorization", "Bearer "),
    "x-api-key": _key_header("x-api-key"),
    "api-key": _key_header("api-key"),
    "x-goog-api-key": _key_header("x-goog-api-key"),
    "none": _none,
}


def register_auth(scheme: str, factory: AuthFactory, *, replace: bool = False) -> None:
    """Make an auth scheme available under the id registry entries use (``auth``).

    Args:
        scheme: The id (``"google-oauth"``, ``"azure-entra"``, ...).
        factory: Builds a target's ``Auth`` from an ``AuthContext``.
        replace: Allow replacing a scheme already registered under that id.

    Raises:
        ValueError: The id is empty, or taken and ``replace`` is False.
    """
    if not scheme:
        raise ValueError("an auth scheme needs a non-empty id")
    if scheme in _AUTH and not replace and _AUTH[scheme] is not factory:
        raise ValueError(f"an auth scheme named {scheme!r} is already registered")
    if scheme in _LAZY_AUTH and not replace:
        raise ValueError(
            f"{scheme!r} is a built-in auth scheme (loaded on first use); pass replace=True"
        )
    if _LAZY_AUTH.pop(scheme, None) is not None:
        _CHOSEN.add(scheme)
    _AUTH[scheme] = factory


def unregister_auth(scheme: str) -> None:
    """Remove the auth scheme registered under ``scheme`` (no error when there is none)."""
    if _LAZY_AUTH.pop(scheme, None) is not None:
        _CHOSEN.add(scheme)
    _AUTH.pop(scheme, None)


def registered_auth_schemes() -> list[str]:
    """The ids of every registered auth scheme (built-ins not loaded yet included), sorted."""
    return sorted({*_AUTH, *_LAZY_AUTH})


def register_builtin_dialect(dialect: Dialect) -> None:
    """Register a lazily loaded built-in dialect as its module loads.

    Nothing happens when its id was registered or unregistered by hand before it loaded: a
    user's choice wins over a late import.
    """
    if dialect.name not in _CHOSEN:
        _LAZY_DIALECTS.pop(dialect.name, None)
        _DIALECTS.setdefault(dialect.name, dialect)


def register_builtin_auth(scheme: str, factory: AuthFactory) -> None:
    """``register_builtin_dialect`` for a lazily loaded built-in auth scheme."""
    if scheme not in _CHOSEN:
        _LAZY_AUTH.pop(scheme, None)
        _AUTH.setdefault(scheme, factory)


def auth_for(scheme: str, context: AuthContext) -> Auth:
    """Build a target's ``Auth`` with the factory registered under ``scheme``.

    Raises:
        UnknownDialectError: No auth scheme is registered under that id.
        MissingAPIKeyError: The scheme needs a key and there is none.
    """
    factory = _AUTH.get(scheme)
    if factory is None and _load(_LAZY_AUTH, scheme):
        factory = _AUTH.get(scheme)
    if factory is None:
        raise UnknownDialectError("auth scheme", scheme, registered_auth_schemes())
    return factory(context)


def resolve_settings(provider: ProviderSpec, given: Mapping[str, str] | None) -> dict[str, str]:
    """A target's endpoint settings: the registry's, then the caller's on top.

    A registry value ``$NAME`` is read from the environment variable ``NAME``; a setting whose
    variable is unset is left out.
    """
    settings: dict[str, str] = {}
    for key, value in provider.settings.items():
        if value.startswith("$"):
            found = os.environ.get(value[1:])
            if found:
                settings[key] = found
        else:
            settings[key] = value
    if given:
        settings.update(given)
    return settings
