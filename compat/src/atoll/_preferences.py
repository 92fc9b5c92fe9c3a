"""Preferences: default models, the default schema, API keys, the local server and log folder.

As in the legacy API, ``set_preferences(MODEL_CHAT="claudeh")`` persists (here in a JSON file,
``$ATOLL_PREFERENCES`` or ``~/.config/atoll/preferences.json``, readable by you only) and
``get_preferences("MODEL_CHAT")`` reads. Unlike the legacy API a change applies at once, with
no restart. An API key is looked up in this order: the ``api_key`` argument, then the
preference named like the provider's variable (``OPENAI_API_KEY``), then the environment.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, cast

DEFAULTS: dict[str, Any] = {
    "MODEL_CHAT": "gpt-4o-mini",
    "MODEL_EMBEDDING": "openai/text-embedding-3-small",
    "PROMPT_SCHEMA": "OpenAISchema",
    "LOCAL_SERVER": "http://127.0.0.1:10897/v1",
    "LOG_DIR": "log",
    "MAX_HISTORY_LENGTH": 5,
}
"""Preference values used when nothing is set."""

_KEY_SUFFIX = "_API_KEY"
_OTHER = frozenset({"AZURE_OPENAI_HOST", *DEFAULTS})
_lock = threading.Lock()
_loaded: dict[str, Any] | None = None


def preferences_path() -> Path:
    """Where preferences persist: ``$ATOLL_PREFERENCES`` or the user's config folder."""
    explicit = os.environ.get("ATOLL_PREFERENCES")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "atoll" / "preferences.json"


def _check_key(key: str) -> None:
    if key not in _OTHER and not key.endswith(_KEY_SUFFIX):
        allowed = ", ".join(sorted(_OTHER))
        raise KeyError(f"unknown preference {key!r}; allowed: {allowed} and any *_API_KEY")


def _load() -> dict[str, Any]:
    global _loaded
    if _loaded is None:
        path = preferences_path()
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as exc:
            raise OSError(f"cannot read preferences from {path}: {exc}") from exc
        _loaded = dict(cast(dict[str, Any], data)) if isinstance(data, dict) else {}
    return _loaded


def reload_preferences() -> None:
    """Forget the preferences read so far; the next lookup reads the file again."""
    global _loaded
    with _lock:
        _loaded = None


def set_preferences(**values: Any) -> None:
    """Set preferences and persist them (``None`` removes one).

    Args:
        **values: ``MODEL_CHAT``, ``MODEL_EMBEDDING``, ``PROMPT_SCHEMA`` (a schema class name),
            ``LOCAL_SERVER``, ``LOG_DIR``, ``MAX_HISTORY_LENGTH``, ``AZURE_OPENAI_HOST`` or any
            ``*_API_KEY``.

    Raises:
        KeyError: An unknown preference name.
    """
    for key in values:
        _check_key(key)
    with _lock:
        data = _load()
        for key, value in values.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        path = preferences_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        # The file may hold API keys: readable by its owner only, written whole or not at all.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, path)


def get_preferences(key: str) -> Any:
    """The value of a preference (its default when unset; ``None`` for an unset key).

    Raises:
        KeyError: An unknown preference name.
    """
    _check_key(key)
    data = _load()
    if key in data:
        return data[key]
    if key.endswith(_KEY_SUFFIX) or key == "AZURE_OPENAI_HOST":
        return None
    return DEFAULTS[key]


def key_from_preferences(env_var: str | None) -> str | None:
    """The API key stored as a preference under ``env_var`` (``OPENAI_API_KEY``), if any."""
    if env_var is None:
        return None
    value = _load().get(env_var)
    return str(value) if value else None
