"""Charts of the benchmark results for docs/performance.md, as ratios to the peers.

The charts are drawn from a committed snapshot of ``make bench``'s JSON (benchmarks/results is
not committed: each run writes its own). Two steps:

    make bench                                              # writes benchmarks/results/*.json
    uv run --no-sync python scripts/docs/perf_charts.py --snapshot --note "what else ran"

``--snapshot`` copies benchmarks/results/*.json to docs/performance/data/ and writes
``snapshot.json`` beside them: when the results were measured, on what machine, the commit and
the versions of Atoll's peers from uv.lock (what ``make bench`` installed). Without it the
script redraws the charts from the committed snapshot (tests/docs/test_performance.py checks
that the committed SVGs are exactly what it draws). Every chart says what was measured, on what
machine, against which peers and versions, and the command that reproduces it; every bar is a
ratio measured side by side in one run, never a bare time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend is chosen first
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
DATA = ROOT / "docs" / "performance" / "data"
CHARTS = ROOT / "docs" / "performance"
PEERS = (
    "openai", "anthropic", "litellm", "pydantic-ai-slim", "httpx", "httpx2", "aiohttp",
    "httpx-sse", "pycurl", "msgspec", "pydantic",
)  # fmt: skip
ATOLL = "#0b7285"
PEER = "#adb5bd"


@dataclass(frozen=True)
class Bar:
    """One bar: a label and its ratio (the peer is 1.0)."""

    label: str
    ratio: float
    atoll: bool = True


@dataclass(frozen=True)
class Chart:
    """One chart: what was measured, the bars, and how to reproduce them."""

    name: str
    title: str
    measured: str
    bench: str
    peers: tuple[str, ...]
    bars: Callable[[dict[str, Any]], list[Bar]]
    higher: str = "higher is better for Atoll"
    log: bool = False


# ------------------------------------------------------------------ what each chart shows


def _client(d: dict[str, Any]) -> list[Bar]:
    rows = (
        ("chat calls/s vs openai SDK", "openai_sdk_chat"),
        ("chat calls/s vs anthropic SDK", "anthropic_sdk_messages"),
        ("chat calls/s vs litellm", "litellm_chat"),
        ("200 streams, events/s vs openai SDK", "openai_sdk_200_streams"),
        ("long stream events/s vs openai SDK", "openai_sdk_long_stream_events"),
        ("long stream events/s vs litellm", "litellm_long_stream_events"),
    )
    return [Bar(label, d["ratios"][f"client_curl_vs_{key}"]) for label, key in rows]


def _imports(d: dict[str, Any]) -> list[Bar]:
    s = d["import_seconds"]
    mine = s["atoll_dialects"]
    return [
        Bar("vs import openai", s["openai"] / mine),
        Bar("vs import anthropic", s["anthropic"] / mine),
        Bar("vs import litellm", s["litellm"] / mine),
    ]


def _transports(d: dict[str, Any]) -> list[Bar]:
    res = d["results"]
    base = res["raw_httpx"]["plain"]["requests_per_s"]
    rows = [
        ("atoll_curl (asyncio)", "atoll_curl", True),
        ("atoll_curl (trio)", "atoll_curl_trio", True),
        ("atoll_httpx on httpx2", "atoll_httpx_on_httpx2", True),
        ("atoll_httpx on httpx", "atoll_httpx", True),
        ("bare pycurl CurlMulti loop", "bare_pycurl_multi", False),
        ("raw aiohttp", "raw_aiohttp", False),
        ("raw httpx2", "raw_httpx2", False),
    ]
    return [
        Bar(label, res[key]["plain"]["requests_per_s"] / base, mine) for label, key, mine in rows
    ]


def _agents(d: dict[str, Any]) -> list[Bar]:
    r = d["ratios"]
    return [
        Bar("Agent runs/s vs pydantic-ai Agent", r["agent_vs_pydantic_ai"]),
        Bar("Agent runs/s vs the same loop by hand", r["agent_vs_hand_loop"]),
        Bar("run_many runs/s vs the loop by hand", r["run_many_vs_hand_loop"]),
    ]


def _wire(d: dict[str, Any]) -> list[Bar]:
    rows = (
        ("SSE events/s vs httpx-sse decoders (16-1,024 B reads)", "sse_chunks_16_1024",
         "httpx_sse_decoders"),
        ("SSE events/s vs openai SDK decoder (16-1,024 B reads)", "sse_chunks_16_1024",
         "openai_sdk"),
        ("SSE events/s vs httpx-sse decoders (1-64 B reads)", "sse_chunks_1_64",
         "httpx_sse_decoders"),
        ("bytes to typed chunk vs openai SDK pydantic validate", "bytes_to_typed_chunk",
         "openai_pydantic_validate"),
        ("bytes to typed chunk vs openai SDK construct", "bytes_to_typed_chunk",
         "openai_sdk_construct"),
    )  # fmt: skip
    return [Bar(label, d[part][f"ratio_vs_{key}"]) for label, part, key in rows]


CHARTS_SPEC = (
    Chart(
        "client",
        "The Client against the vendor SDKs and litellm",
        "calls or events per second through each client, 2,000 chat calls at concurrency 64, "
        "200 concurrent streams of 200 events, one 5,000-event stream; FakeLLMServer in its own "
        "process on 127.0.0.1; Atoll on atoll_curl",
        "client",
        ("openai", "anthropic", "litellm"),
        _client,
        log=True,
    ),
    Chart(
        "imports",
        "Import time of the Client against the vendor SDKs and litellm",
        "wall-clock time of `import` in a fresh process (atoll_dialects against openai, "
        "anthropic, litellm); ratio = their time / Atoll's",
        "client",
        ("openai", "anthropic", "litellm"),
        _imports,
        "higher means Atoll imports faster",
        log=True,
    ),
    Chart(
        "transports",
        "Transports: non-stream requests per second, raw httpx = 1",
        "2,000 POSTs at concurrency 64 to FakeLLMServer in its own process, asyncio unless said; "
        "best of 5 round-robin rounds (1 for httpx-based clients)",
        "transports",
        ("httpx", "httpx2", "aiohttp", "pycurl"),
        _transports,
        "higher is faster than raw httpx",
        log=True,
    ),
    Chart(
        "agents",
        "The agent loop against pydantic-ai and a hand-written loop",
        "1,000 runs (one tool turn and one answer each, streamed) at concurrency 64 against a "
        "scripted FakeLLMServer in its own process",
        "agents",
        ("pydantic-ai-slim", "openai"),
        _agents,
        "above 1: Atoll faster",
        log=True,
    ),
    Chart(
        "wire",
        "SSE decoding and typed chunks (CPU time)",
        "a 5,000-event OpenAI stream fed in random-sized reads; bytes to typed chunk objects; "
        "best of interleaved rounds, CPU time",
        "wire",
        ("httpx-sse", "openai", "pydantic", "msgspec"),
        _wire,
        "above 1: Atoll faster",
        log=True,
    ),
)


# ------------------------------------------------------------------ snapshot


def _locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    found = {p["name"]: p.get("version", "") for p in lock.get("package", [])}
    return {name: found[name] for name in PEERS if name in found}


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


def snapshot(note: str) -> None:
    """Copy benchmarks/results into docs/performance/data with what they were measured on."""
    files = sorted(RESULTS.glob("*.json"))
    if not files:
        sys.exit(f"no results in {RESULTS}: run `make bench` first")
    DATA.mkdir(parents=True, exist_ok=True)
    for old in DATA.glob("*.json"):
        old.unlink()
    whens = []
    for path in files:
        shutil.copy(path, DATA / path.name)
        whens.append(json.loads(path.read_text())["machine"]["when"])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    info = {
        "measured": f"{min(whens)} to {max(whens)}",
        "machine": f"{os.cpu_count()} cores ({_cpu_model()}), {platform.system()}, "
        f"Python {platform.python_version()}",
        "note": note,
        "commit": commit,
        "versions": _locked_versions(),
        "benchmarks": [p.stem for p in files],
    }
    (DATA / "snapshot.json").write_text(json.dumps(info, indent=2) + "\n")


# ------------------------------------------------------------------ drawing


def _draw(chart: Chart, data: dict[str, Any], info: dict[str, Any], out: Path) -> Path:
    bars = chart.bars(data)
    plt.rcParams.update({"svg.hashsalt": "atoll-docs", "svg.fonttype": "none", "font.size": 9})
    height = 0.45 * len(bars) + 2.3  # inches: the bars, the title and axis, the caption
    fig, ax = plt.subplots(figsize=(10, height))
    y = list(range(len(bars)))[::-1]
    ax.barh(y, [b.ratio for b in bars], color=[ATOLL if b.atoll else PEER for b in bars])
    ax.set_yticks(y, [b.label for b in bars])
    ax.axvline(1.0, color="#495057", linewidth=1, linestyle="--")
    if chart.log:
        ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
    fig.legend(
        handles=[Patch(color=ATOLL, label="Atoll"), Patch(color=PEER, label="a peer")],
        loc="upper right",
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    for yi, bar in zip(y, bars, strict=True):
        ax.text(bar.ratio, yi, f" {bar.ratio:,.2f}x", va="center", fontsize=8)
    ax.set_xlabel(f"ratio (1 = the peer; {chart.higher})")
    ax.set_xlim(right=max(b.ratio for b in bars) * (3 if chart.log else 1.2))
    ax.set_title(chart.title, loc="left", fontsize=11, fontweight="bold")
    versions = ", ".join(f"{p} {info['versions'][p]}" for p in chart.peers if p in info["versions"])
    data_when = data["machine"]["when"]
    caption = (
        f"Measured: {chart.measured}.\n"
        f"Machine: {info['machine']}; {data_when}; {info['note']}.\n"
        f"Peers: {versions}. Atoll at commit {info['commit']}.\n"
        f"Reproduce: make bench (or: cd benchmarks && python run.py {chart.bench}), then "
        "python scripts/docs/perf_charts.py --snapshot"
    )
    fig.text(0.01, 0.02, caption, fontsize=7, va="bottom", ha="left", wrap=True)
    left = min(0.6, 0.03 + 0.0068 * max(len(b.label) for b in bars))  # room for the labels
    fig.subplots_adjust(left=left, right=0.97, top=1 - 0.45 / height, bottom=1.45 / height)
    path = out / f"{chart.name}.svg"
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)
    return path


def draw_all(data_dir: Path = DATA, out: Path = CHARTS) -> list[Path]:
    """Draw every chart from the snapshot in ``data_dir`` into ``out``."""
    info = json.loads((data_dir / "snapshot.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    drawn = []
    for chart in CHARTS_SPEC:
        data = json.loads((data_dir / f"{chart.bench}.json").read_text())
        drawn.append(_draw(chart, data, info, out))
    return drawn


def main() -> None:
    parser = argparse.ArgumentParser(description="Charts of the benchmark results, as ratios.")
    parser.add_argument("--snapshot", action="store_true", help="copy benchmarks/results first")
    parser.add_argument("--note", default="", help="what else ran on the machine meanwhile")
    parser.add_argument("--out", type=Path, default=CHARTS, help="where to write the SVGs")
    args = parser.parse_args()
    if args.snapshot:
        snapshot(args.note)
    for path in draw_all(out=args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
