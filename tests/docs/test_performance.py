"""The performance page's charts are what scripts/docs/perf_charts.py draws from the snapshot."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "performance.md"


def _charts_module() -> ModuleType:
    path = ROOT / "scripts" / "docs" / "perf_charts.py"
    spec = importlib.util.spec_from_file_location("perf_charts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["perf_charts"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_committed_charts_are_drawn_from_the_committed_snapshot(tmp_path: Path) -> None:
    charts = _charts_module()
    drawn = charts.draw_all(out=tmp_path)
    assert drawn, "no charts drawn"
    for path in drawn:
        committed = charts.CHARTS / path.name
        assert committed.exists(), f"{committed} is missing: run scripts/docs/perf_charts.py"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed.relative_to(ROOT)} differs from what the snapshot draws: "
            "run `uv run --no-sync python scripts/docs/perf_charts.py` and commit the SVGs"
        )


def test_every_chart_is_on_the_page_and_says_what_it_measured() -> None:
    charts = _charts_module()
    text = PAGE.read_text()
    shown = set(re.findall(r"!\[[^\]]+\]\(performance/([\w-]+)\.svg\)", text))
    assert shown == {c.name for c in charts.CHARTS_SPEC}
    for chart in charts.CHARTS_SPEC:
        svg = (charts.CHARTS / f"{chart.name}.svg").read_text()
        for needed in ("Measured:", "Machine:", "Peers:", "Reproduce:", "x"):
            assert needed in svg, f"{chart.name}.svg lacks {needed!r}"


def test_the_snapshot_names_its_machine_dates_commit_and_versions() -> None:
    charts = _charts_module()
    info = json.loads((charts.DATA / "snapshot.json").read_text())
    assert info["machine"] and info["measured"] and info["commit"]
    assert {"openai", "anthropic", "litellm", "httpx"} <= set(info["versions"])
    first, last = info["measured"].split(" to ")
    for name in info["benchmarks"]:
        result = json.loads((charts.DATA / f"{name}.json").read_text())
        assert first <= result["machine"]["when"] <= last, f"{name}.json is not of this snapshot"
