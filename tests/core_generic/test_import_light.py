"""atoll_generic subclasses atoll_wire's error root without loading msgspec."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import atoll_generic
assert issubclass(atoll_generic.AtollGenericError, __import__("atoll_wire").AtollError)
assert "msgspec" not in sys.modules, "atoll_generic loaded msgspec"
print("ok")
"""


def test_import_does_not_load_msgspec() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
