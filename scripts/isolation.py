"""Prove that every distribution installs and imports alone.

Builds every wheel with ``uv build --all-packages``, then for each distribution makes a fresh
virtual environment, installs only that wheel plus the wheels of the workspace siblings it
declares (transitively, by file path, so nothing is taken from PyPI under our names) and its
third-party dependencies, imports it and runs the one-line smoke check from its
``[tool.atoll] smoke`` setting. Any undeclared dependency shows up as an ImportError here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
WORK = ROOT / ".isolation"


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _members() -> dict[str, dict[str, object]]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members: dict[str, dict[str, object]] = {}
    for folder in root["tool"]["uv"]["workspace"]["members"]:
        data = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())
        members[data["project"]["name"]] = data
    return members


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert match, requirement
    return match.group(0).lower().replace("_", "-")


def _closure(name: str, members: dict[str, dict[str, object]]) -> list[str]:
    """Workspace siblings reachable through declared (non-optional) dependencies and extras used."""
    seen: list[str] = []
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        project = members[current]["project"]
        assert isinstance(project, dict)
        requirements: list[str] = list(project.get("dependencies", []))
        for requirement in requirements:
            dep = _requirement_name(requirement)
            if dep in members:
                todo.append(dep)
                extras = re.search(r"\[([^\]]+)\]", requirement)
                for extra in extras.group(1).split(",") if extras else []:
                    optional = members[dep]["project"].get("optional-dependencies", {})  # type: ignore[union-attr]
                    for extra_req in optional.get(extra.strip(), []):
                        if _requirement_name(extra_req) in members:
                            todo.append(_requirement_name(extra_req))
    return seen


def _wheel(name: str) -> Path:
    stem = name.replace("-", "_")
    wheels = sorted(DIST.glob(f"{stem}-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel for {name} in {DIST}, found {wheels}")
    return wheels[0]


def _check(name: str, members: dict[str, dict[str, object]]) -> tuple[str, bool, str]:
    venv = WORK / name
    shutil.rmtree(venv, ignore_errors=True)
    python = venv / "bin" / "python"
    smoke = members[name]["tool"]["atoll"]["smoke"]  # type: ignore[index]
    steps = [
        [*_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)],
        [
            *_uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            *[str(_wheel(sibling)) for sibling in _closure(name, members)],
        ],
        [str(python), "-I", "-c", smoke],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return name, False, f"$ {' '.join(step)}\n{done.stdout}{done.stderr}"
    return name, True, ", ".join(_closure(name, members)[1:]) or "no siblings"


def main() -> int:
    members = _members()
    shutil.rmtree(DIST, ignore_errors=True)
    subprocess.run(
        [*_uv(), "build", "--all-packages", "--quiet", "--out-dir", str(DIST)], check=True
    )
    WORK.mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: _check(n, members), sorted(members)))
    failed = 0
    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name:24} {detail if ok else ''}")
        if not ok:
            failed += 1
            print(detail)
    print(
        f"isolation: {len(results) - failed} of {len(results)} distributions"
        " install and import alone"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
