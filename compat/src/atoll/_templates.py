"""Prompt templates: legacy JSON template files, a starter library, search and creation.

A template is a list of messages saved as JSON (``save_template``), named after its file. Use
one as the prompt with ``AITemplate("AssistantAsk")`` or the ``":AssistantAsk"`` shorthand
(Julia's ``:AssistantAsk``) and fill its placeholders with keyword arguments::

    aigenerate(":AssistantAsk", ask="What is an atoll?")

The starter library (package data) loads on first use; ``load_templates_(folder)`` adds yours
(remembered for later reloads), ``aitemplates("query")`` searches names and descriptions.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from ._codec import PathOrIO, decode_message, encode_message, read_json, write_text
from ._exceptions import TemplateError
from ._messages import AbstractMessage, MetadataMessage, SystemMessage, UserMessage
from ._render import DEFAULT_SYSTEM_PROMPT

_log = logging.getLogger("atoll")
_SHORTHAND = re.compile(r"^:([A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class AITemplate:
    """A template by name, usable as the prompt of any ai* function.

    Args:
        name: The template's name (its file name without ``.json``).
    """

    name: str


@dataclass
class AITemplateMetadata:
    """What ``aitemplates`` shows about a template."""

    name: str
    description: str = ""
    version: str = "-"
    wordcount: int = 0
    variables: list[str] = field(default_factory=list[str])
    system_preview: str = ""
    user_preview: str = ""
    source: str = ""


TEMPLATE_STORE: dict[str, list[AbstractMessage]] = {}
"""Loaded templates by name."""

TEMPLATE_METADATA: list[AITemplateMetadata] = []
"""Metadata of the loaded templates, in load order."""

TEMPLATE_PATH: list[str] = []
"""Folders ``load_templates_()`` reads (the starter library first)."""

_lock = threading.RLock()
_ready = False


def template_name(prompt: object) -> str | None:
    """The template a prompt names (``AITemplate`` or ``":Name"``), else ``None``."""
    if isinstance(prompt, AITemplate):
        return prompt.name
    if isinstance(prompt, str):
        match = _SHORTHAND.match(prompt)
        return match.group(1) if match else None
    return None


def load_template(source: PathOrIO) -> tuple[list[AbstractMessage], list[MetadataMessage]]:
    """Read one template file: its messages, and its metadata messages apart.

    Raises:
        TemplateError: The file is not a list of tagged messages.
    """
    where = str(source) if isinstance(source, str | os.PathLike) else "<stream>"
    try:
        data = read_json(source)
        if not isinstance(data, list):
            raise ValueError("a template is a JSON list of messages")
        messages = [decode_message(item) for item in data]  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    except (ValueError, TypeError, KeyError) as exc:
        raise TemplateError(where, f"not a template file: {exc}") from exc
    template = [m for m in messages if not isinstance(m, MetadataMessage)]
    metadata = [m for m in messages if isinstance(m, MetadataMessage)]
    return template, metadata


def save_template(
    target: PathOrIO,
    messages: Sequence[AbstractMessage],
    *,
    content: str = "Template Metadata",
    description: str = "",
    version: str = "1",
    source: str = "",
) -> None:
    """Write a template file (metadata first), readable by ``load_templates_`` and the legacy API.

    Args:
        target: A ``.json`` path (named as the template will be) or a writable text stream.
        messages: The template's messages.
        content: The metadata message's text.
        description: What the template is for (searched by ``aitemplates``).
        version: The template's version.
        source: Where it came from.
    """
    import json

    meta = MetadataMessage(content=content, description=description, version=version, source=source)
    items = [encode_message(m) for m in [meta, *messages]]
    for item in items:
        item.pop("run_id", None)
    write_text(target, json.dumps(items, indent=4) + "\n")


def build_metadata(
    name: str, template: Sequence[AbstractMessage], metadata: Sequence[MetadataMessage] = ()
) -> AITemplateMetadata:
    """The search record of a template (previews cut at 100 characters)."""
    system = "".join(m.content for m in template if isinstance(m, SystemMessage))[:100]
    user = "".join(m.content for m in template if isinstance(m, UserMessage))[:100]
    variables: list[str] = []
    for message in template:
        for v in getattr(message, "variables", ()):
            if v not in variables:
                variables.append(v)
    words = sum(len(str(getattr(m, "content", ""))) for m in template)
    meta = metadata[0] if metadata else None
    return AITemplateMetadata(
        name=name,
        description=meta.description if meta else "",
        version=meta.version if meta else "-",
        wordcount=words,
        variables=variables,
        system_preview=system,
        user_preview=user,
        source=meta.source if meta else "",
    )


def _store(name: str, template: list[AbstractMessage], meta: AITemplateMetadata) -> None:
    if name in TEMPLATE_STORE:
        _log.warning("template %s already exists; replaced", name)
        TEMPLATE_METADATA[:] = [m for m in TEMPLATE_METADATA if m.name != name]
    TEMPLATE_STORE[name] = template
    TEMPLATE_METADATA.append(meta)


def _load_folder(folder: Path) -> None:
    for path in sorted(folder.rglob("*.json")):
        if path.name.startswith("."):
            continue
        template, metadata = load_template(path)
        _store(path.stem, template, build_metadata(path.stem, template, metadata))


def _starter_folder() -> Path:
    # Installed wheels are unpacked, so the package data is a real folder.
    return Path(str(files("atoll").joinpath("templates")))


def load_templates_(
    folder: str | os.PathLike[str] | None = None,
    *,
    remember_path: bool = True,
    remove_templates: bool | None = None,
) -> None:
    """Load templates (``load_templates!`` in the legacy API).

    Args:
        folder: A folder of template files (searched recursively); ``None`` reloads every
            remembered folder, the starter library first.
        remember_path: Remember ``folder`` for later reloads.
        remove_templates: Forget the loaded templates first (default: only when reloading all).

    Raises:
        TemplateError: ``folder`` is not a folder, or a file in it is not a template.
    """
    global _ready
    with _lock:
        if not TEMPLATE_PATH:
            TEMPLATE_PATH.append(str(_starter_folder()))
        if folder is not None and not Path(folder).is_dir():
            raise TemplateError(str(folder), "not a folder")
        if remove_templates if remove_templates is not None else folder is None:
            TEMPLATE_STORE.clear()
            TEMPLATE_METADATA.clear()
        paths = TEMPLATE_PATH if folder is None else [os.fspath(folder)]
        for path in list(paths):
            _load_folder(Path(path))
        if folder is not None and remember_path and os.fspath(folder) not in TEMPLATE_PATH:
            TEMPLATE_PATH.append(os.fspath(folder))
        _ready = True


def _ensure_loaded() -> None:
    if not _ready:
        load_templates_()


def render_template(name: str) -> list[AbstractMessage]:
    """A copy of the named template's messages.

    Raises:
        TemplateError: No template of that name is loaded (close names are suggested).
    """
    _ensure_loaded()
    template = TEMPLATE_STORE.get(name)
    if template is None:
        close = difflib.get_close_matches(name, list(TEMPLATE_STORE), n=3)
        raise TemplateError(name, "not loaded (see aitemplates(), load_templates_())", close)
    return list(template)


def aitemplates(
    query: str | AITemplate | re.Pattern[str] = "", *, limit: int = 10
) -> list[AITemplateMetadata]:
    """Find templates.

    Args:
        query: Text found (case-insensitively) in a name or description; an ``AITemplate``
            for one exact name; a compiled regex searched in names, descriptions and previews.
        limit: At most this many results.
    """
    _ensure_loaded()
    if isinstance(query, AITemplate):
        found = [m for m in TEMPLATE_METADATA if m.name == query.name]
    elif isinstance(query, re.Pattern):
        found = [
            m
            for m in TEMPLATE_METADATA
            if any(
                query.search(s) for s in (m.name, m.description, m.system_preview, m.user_preview)
            )
        ]
    else:
        text = query.lower()
        found = [
            m for m in TEMPLATE_METADATA if text in m.name.lower() or text in m.description.lower()
        ]
    return found[:limit]


def create_template(
    system: str | None = None,
    user: str | None = None,
    *,
    load_as: str | None = None,
) -> list[AbstractMessage]:
    """A system and a user message as a template (``{{placeholders}}`` allowed).

    Args:
        system: The system message (default ``"Act as a helpful AI assistant"``).
        user: The user message.
        load_as: Also store it under this name, so ``":name"`` works in ai* calls.

    Raises:
        TypeError: No user message.
    """
    if user is None:
        raise TypeError("create_template needs the user message: create_template(system, user)")
    template: list[AbstractMessage] = [
        SystemMessage(system if system is not None else DEFAULT_SYSTEM_PROMPT),
        UserMessage(user),
    ]
    if load_as is not None:
        with _lock:
            _ensure_loaded()
            _store(load_as, template, build_metadata(load_as, template))
    return template
