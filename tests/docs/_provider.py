"""The stand-in provider for documentation blocks marked ``provider``.

A block marked ``<!-- docs-test: provider -->`` is written for a real provider (it reads
``OPENAI_API_KEY``, calls ``openai/gpt-4o-mini``). The docs test runs it unchanged against
atoll_testing's ``FakeLLMServer`` by changing only its environment, the way a user points Atoll
at another server:

- ``ATOLL_REGISTRY`` names an override file (docs/registry.md, "Overrides") that gives every
  provider of the packaged registry the local server's base URL;
- every provider's key variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ...) holds a dummy
  key, and ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL`` send the vendor SDKs there too;
- URLs written in the block are rewritten to the local server's: the packaged providers'
  origins (``https://api.openai.com``, so ``https://api.openai.com/v1`` too, ...) and the usual
  local servers' (Ollama ``localhost:11434``, vLLM ``:8000``, llama.cpp ``:8080``).

Every other block gets no keys and a registry whose providers all point at a closed loopback
port, and every block runs with ``HTTP(S)_PROXY`` set to that port (loopback excepted), so a
documentation block can never reach a live provider.

The local server answers every model name a block can send with :func:`docs_model`: a small
deterministic model that calls an offered tool with arguments made from the tool's schema,
answers a requested output schema with JSON that matches it, and otherwise echoes the prompt.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import msgspec
from atoll_registry import Registry, RegistryDocument
from atoll_testing import ChatInput, ToolCall, Turn

DUMMY_KEY = "sk-docs-test-0000000000000000"
CLOSED_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens, a connection is refused
_LOCAL_SERVERS = re.compile(r"http://(?:localhost|127\.0\.0\.1):(?:8000|8080|11434)")
_ORIGIN = re.compile(r"https?://[^/]+")
_BUILT_IN = re.compile(r"^(echo|stream-\d+)$")
_OUTPUT_TOOLS = ("final_result",)


# ------------------------------------------------------------------ the environment of a block


def registry_override(path: Path, base_url: str) -> Path:
    """Write an ``ATOLL_REGISTRY`` file giving every packaged provider ``base_url``."""
    registry = Registry.load(packaged=True)
    providers = tuple(msgspec.structs.replace(p, base_url=base_url) for p in registry.providers())
    path.write_bytes(msgspec.json.encode(RegistryDocument(schema_version=1, providers=providers)))
    return path


def key_variables() -> list[str]:
    """Every provider's key variable in the packaged registry."""
    registry = Registry.load(packaged=True)
    return sorted({p.api_key_env for p in registry.providers() if p.api_key_env})


def rewrite_urls(source: str, server: str) -> str:
    """Point the providers' origins and the usual local servers' at the local server.

    Args:
        source: The block's code.
        server: The local server's URL without a path (``http://127.0.0.1:PORT``).
    """
    for provider in Registry.load(packaged=True).providers():
        origin = _ORIGIN.match(provider.base_url or "")
        if origin and not _LOCAL_SERVERS.match(origin.group(0)):
            source = source.replace(origin.group(0), server)
    return _LOCAL_SERVERS.sub(server, source)


# ------------------------------------------------------------------ model names


def model_names(source: str) -> set[str]:
    """Names a block may send as ``model``: the registry's, and the block's own string literals.

    Registry names cover aliases and ``provider/model`` names (the wire carries the model's
    request name); a block's literals cover custom models (``Client("my-model", base_url=...)``).
    Built-in names of the server (``echo``, ``stream-N``) are left to the server.
    """
    names: set[str] = set()
    for spec in Registry.load(packaged=True).models():
        names.update({spec.id, spec.request_name, *spec.aliases, *spec.snapshots})
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if 0 < len(text) <= 100 and not any(c.isspace() for c in text):
                    names.add(text)
                    names.add(text.split("/", 1)[-1])
    return {n for n in names if not _BUILT_IN.match(n)}


# ------------------------------------------------------------------ the model


def docs_model(chat: ChatInput) -> Turn:
    """Answer like a cooperative model, deterministically, from what the request offers."""
    body = _json(chat.body)
    tools = _tools(body)
    schema = _output_schema(body)
    forced = _forced_tool(body)
    if forced is not None and forced in tools:
        return _call(forced, tools[forced])
    answered = bool(chat.tool_results)
    if not answered and tools:
        name = next((n for n in tools if n not in _OUTPUT_TOOLS), next(iter(tools)))
        return _call(name, tools[name])
    if answered and _required(body):
        for name in _OUTPUT_TOOLS:
            if name in tools:
                return _call(name, tools[name])
    if schema is not None:
        return Turn(text=json.dumps(sample(schema)))
    if answered:
        results = "; ".join(r.content for r in chat.tool_results)
        return Turn(text=f"Done. The tools said: {results}")
    return Turn(text=chat.last_user_text or "Hello from the local server.")


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _tools(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Offered tools by name with their parameter schemas (OpenAI chat, Responses, Anthropic)."""
    found: dict[str, dict[str, Any]] = {}
    for tool in body.get("tools") or []:
        if not isinstance(tool, dict):
            continue
        if isinstance(tool.get("function"), dict):  # OpenAI chat
            fn = tool["function"]
            found[fn.get("name", "")] = fn.get("parameters") or {}
        elif "name" in tool:  # Anthropic (input_schema), OpenAI Responses (parameters)
            found[tool["name"]] = tool.get("input_schema") or tool.get("parameters") or {}
    return found


def _forced_tool(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        if isinstance(choice.get("function"), dict):
            return choice["function"].get("name")
        if choice.get("type") in ("tool", "function"):  # Anthropic; OpenAI Responses
            return choice.get("name")
    return None


def _required(body: dict[str, Any]) -> bool:
    choice = body.get("tool_choice")
    return choice == "required" or (isinstance(choice, dict) and choice.get("type") == "any")


def _output_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
        return fmt["json_schema"].get("schema") or {}
    for holder in ("output_config", "text"):  # Anthropic; OpenAI Responses
        config = body.get(holder)
        if isinstance(config, dict) and isinstance(config.get("format"), dict):
            if "schema" in config["format"]:
                return config["format"]["schema"] or {}
    return None


def _call(name: str, schema: dict[str, Any]) -> Turn:
    return Turn(tool_calls=[ToolCall(name=name, arguments=sample(schema))])


def sample(schema: dict[str, Any], root: dict[str, Any] | None = None, key: str = "") -> Any:
    """A value that matches ``schema`` (the subset of JSON Schema that tools and outputs use)."""
    root = schema if root is None else root
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return sample(target, root, key)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for combo in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(combo, []) if o.get("type") != "null"]
        if options:
            return sample(options[0], root, key)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _SAMPLERS.get(kind, lambda s, r, k: None)(schema, root, key)


def _object(schema: dict[str, Any], root: dict[str, Any], key: str) -> dict[str, Any]:
    properties: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or properties)
    return {k: sample(v, root, k) for k, v in properties.items() if k in required}


def _number(schema: dict[str, Any], root: dict[str, Any], key: str) -> float:
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
    high = schema.get("maximum", schema.get("exclusiveMaximum", low + 2) - 1)
    return min(max(low, 1), high)


def _string(schema: dict[str, Any], root: dict[str, Any], key: str) -> str:
    formats = {
        "date": "2026-01-01",
        "date-time": "2026-01-01T00:00:00Z",
        "email": "ann@example.com",
    }
    text = formats.get(schema.get("format", ""), key.replace("_", " ") or "text")
    return text.ljust(schema.get("minLength", 0), "x")


def _array(schema: dict[str, Any], root: dict[str, Any], key: str) -> list[Any]:
    items = schema.get("items") or {}
    count = max(schema.get("minItems", 1), 1)
    return [sample(items, root, key) for _ in range(min(count, schema.get("maxItems", count)))]


_SAMPLERS: dict[str, Any] = {
    "object": _object,
    "integer": lambda s, r, k: int(_number(s, r, k)),
    "number": _number,
    "string": _string,
    "boolean": lambda s, r, k: True,
    "array": _array,
    "null": lambda s, r, k: None,
}
