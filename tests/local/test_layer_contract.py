"""atoll_local's import-linter contracts bite: planted forbidden imports break them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
@pytest.mark.parametrize(
    ("bad_import", "contract"),
    [
        ("import atoll_dialects", "atoll_local imports only atoll_wire, llama-cpp-python"),
        ("import msgspec", "atoll_local uses msgspec only through atoll_wire"),
    ],
)
def test_planted_import_breaks_the_contract(tmp_path: Path, bad_import: str, contract: str) -> None:
    roots: list[Path] = []
    for src in sorted([*ROOT.glob("packages/*/src"), ROOT / "compat" / "src"]):
        dest = tmp_path / src.parent.name / "src"
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
        roots.append(dest)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "local" / "src" / "atoll_local" / "_planted.py").write_text(f"{bad_import}\n")
    done = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tmp_path / "pyproject.toml"), "--no-cache"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(str(r) for r in roots)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0, done.stdout
    assert f"{contract}" in done.stdout and "BROKEN" in done.stdout
