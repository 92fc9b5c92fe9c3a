"""Headless Chromium driven over the DevTools protocol, for the site test.

Debian's ``chromium`` (installed by ``make chromium``, which ``make test`` runs) is started with
the flags this machine needs (no sandbox as root, no GPU, no background networking to hosts it
cannot reach) and a fresh profile. The protocol goes over a WebSocket (``websockets``' sync
client): no browser download, no node package.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-port=0",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
_IMAGES = """
Array.from(document.images)
  .filter(img => !img.complete || img.naturalWidth === 0)
  .map(img => img.currentSrc || img.src)
"""


def chromium_path() -> str | None:
    """Where Debian's chromium is, if it is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageReport:
    """What went wrong while one page loaded."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every problem, one line each."""
        return (
            [f"console: {e}" for e in self.console_errors]
            + [f"request: {r}" for r in self.failed_requests]
            + [f"image: {i}" for i in self.broken_images]
        )


class Browser:
    """One headless Chromium with one tab, closed when the block ends."""

    def __init__(self, executable: str, width: int = 1280, height: int = 900) -> None:
        self._profile = tempfile.mkdtemp(prefix="atoll-chromium-")
        self._proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stack = contextlib.ExitStack()
        self._next = 0
        self._events: list[dict[str, Any]] = []
        self._session = ""
        try:
            self._ws = self._stack.enter_context(
                connect(self._endpoint(), max_size=None, open_timeout=30)
            )
            self._open_tab(width, height)
        except BaseException:
            self.close()
            raise

    def _open_tab(self, width: int, height: int) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def _endpoint(self) -> str:
        assert self._proc.stderr is not None
        deadline = time.monotonic() + 30
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = self._proc.stderr.readline()
            if not line and self._proc.poll() is not None:
                break
            seen.append(line)
            found = _LISTENING.search(line)
            if found:
                # Keep reading what chromium logs, or a full pipe would stall it.
                threading.Thread(target=self._proc.stderr.read, daemon=True).start()
                return found.group(1)
        raise RuntimeError("chromium did not start its DevTools endpoint:\n" + "".join(seen))

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        self._stack.close()
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stderr is not None:
            self._proc.stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    # ------------------------------------------------------------------ the protocol

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> dict[str, Any]:
        """Send one command and return its result; events met meanwhile are kept."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        while True:
            data = json.loads(self._ws.recv(timeout=60))
            if data.get("id") == self._next:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
            self._events.append(data)

    def _wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self._events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method} within {timeout} s")
            try:
                self._events.append(json.loads(self._ws.recv(timeout=remaining)))
            except TimeoutError:
                continue

    def _drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                self._events.append(json.loads(self._ws.recv(timeout=remaining)))
            except TimeoutError:
                return

    # ------------------------------------------------------------------ pages

    def visit(self, url: str, settle: float = 0.3) -> PageReport:
        """Load ``url``, wait for its load event and a moment more, and report what failed."""
        self._events.clear()
        self.call("Page.navigate", {"url": url}, session=True)
        self._wait_for("Page.loadEventFired", timeout=60)
        self._drain(settle)  # late errors: scripts that run after load
        report = PageReport(url)
        for event in self._events:
            self._read(event, report)
        images = self.call(
            "Runtime.evaluate", {"expression": _IMAGES, "returnByValue": True}, session=True
        )
        report.broken_images.extend(images["result"].get("value") or [])
        return report

    @staticmethod
    def _read(event: dict[str, Any], report: PageReport) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            report.console_errors.append(text)
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            report.console_errors.append(
                details.get("exception", {}).get("description") or details.get("text", "")
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            report.console_errors.append(f"{entry.get('text')} ({entry.get('url', '')})")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            report.failed_requests.append(f"{params.get('errorText')} ({params.get('type')})")
        elif method == "Network.responseReceived":
            response = params.get("response", {})
            if response.get("status", 200) >= 400:
                report.failed_requests.append(f"{response.get('status')} {response.get('url')}")

    def screenshot(self, path: Path) -> Path:
        """Write a PNG of the whole current page."""
        data = self.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True},
            session=True,
        )["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
