"""Import stays cheap: no data parsed and no heavy modules until first use."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import atoll_registry
from atoll_registry import _registry
assert _registry._default is None, "data loaded at import"
heavy = {"json", "difflib", "importlib.resources", "pathlib", "threading",
         "atoll_wire._parts", "atoll_wire._transport", "atoll_wire._sse", "genai_prices",
         "urllib.request", "http.client", "socket", "ssl"}
loaded = sorted(heavy & set(sys.modules))
assert not loaded, loaded
# Only the error root of atoll_wire (RegistryError subclasses AtollError), none of its types.
wire = sorted(m for m in sys.modules if m.startswith("atoll_wire"))
assert wire == ["atoll_wire", "atoll_wire._exceptions"], wire
registry = atoll_registry.Registry.default()
assert atoll_registry.Registry.default() is registry
assert registry.resolve("gpt4om").known
assert not {"socket", "ssl", "http.client", "genai_prices"} & set(sys.modules)
print("ok")
"""


def test_import_parses_nothing_and_stays_offline() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
