"""Run every benchmark script in this folder, one after another; each writes results/<name>.json.

Usage: ``python benchmarks/run.py [name ...]`` (names without ``.py``; default: all).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(
        p for p in HERE.glob("*.py") if not p.name.startswith("_") and p.name != "run.py"
    )
    if argv:
        scripts = [p for p in scripts if p.stem in argv]
    if not scripts:
        print("no benchmark scripts found", file=sys.stderr)
        return 1
    failed = [
        s.stem for s in scripts if subprocess.run([sys.executable, str(s)], check=False).returncode
    ]
    ran = len(scripts) - len(failed)
    print(f"bench: {ran} of {len(scripts)} scripts ran; results in {HERE / 'results'}")
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
