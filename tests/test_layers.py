"""The layer contract really bites: a forbidden import planted in a copy of the tree fails it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _copy_tree(tmp_path: Path) -> list[Path]:
    roots: list[Path] = []
    for src in sorted([*ROOT.glob("packages/*/src"), ROOT / "compat" / "src"]):
        dest = tmp_path / src.parent.name / "src"
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
        roots.append(dest)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return roots


def _lint(tmp_path: Path, roots: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(r) for r in roots)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tmp_path / "pyproject.toml"), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
def test_contract_holds_on_the_real_tree(tmp_path: Path) -> None:
    done = _lint(tmp_path, _copy_tree(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
@pytest.mark.parametrize(
    ("package", "bad_import", "contract"),
    [
        ("wire-types/src/atoll_wire", "import pydantic", "never pydantic"),
        ("core-generic/src/atoll_generic", "import msgspec", "never msgspec"),
        ("wire-types/src/atoll_wire", "import atoll_dialects", "only downward"),
        ("testing/src/atoll_testing", "import atoll_registry", "only atoll_wire"),
    ],
)
def test_planted_forbidden_import_breaks_the_contract(
    tmp_path: Path, package: str, bad_import: str, contract: str
) -> None:
    roots = _copy_tree(tmp_path)
    (tmp_path / package / "_planted.py").write_text(f"{bad_import}\n")
    done = _lint(tmp_path, roots)
    assert done.returncode != 0, done.stdout
    assert "BROKEN" in done.stdout
    assert contract in done.stdout
