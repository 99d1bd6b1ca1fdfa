"""The report as a user sees it (STYLE.md rule 15): the report of a recorded real smoke run
(tests/fixtures/runs/; smoke_mcp with the MCP protocol paths' comparison, smoke_mcp_stateful also with where its calls' time went,
smoke_database with its Database section) loaded in headless Debian chromium, driven over the DevTools protocol
on a pipe (`--remote-debugging-pipe`: JSON messages ending in NUL on fds 3 and 4, so no
websocket package is needed). Checks: no console error or exception, no network request but
the file itself, every chart present and drawn; writes report.png next to the report and
prints the report's size and the time to its load event (measured, not asserted).
Needs no gateway.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

KIT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
RUNS = KIT_ROOT / "tests" / "fixtures" / "runs"
MAX_BYTES = 3 * 1024 * 1024
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-pipe", "--hide-scrollbars",
]  # fmt: skip
CHARTS_JS = """JSON.stringify([...document.querySelectorAll('figure.chart')].map(f => {
  const svg = f.querySelector('svg'); const box = svg ? svg.getBoundingClientRect() : null;
  return {kind: f.dataset.chart, width: box ? box.width : 0, height: box ? box.height : 0,
          shapes: svg ? svg.querySelectorAll('path, use, rect').length : 0};
}))"""

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


class DevTools:
    """A minimal DevTools-protocol client over chromium's debugging pipe."""

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds() -> None:  # in the child: its fd 3 reads our commands, fd 4 answers
            read, write = os.dup(to_browser_r), os.dup(from_browser_w)  # above 4 first
            os.dup2(read, 3)  # dup2 onto another fd makes it inheritable
            os.dup2(write, 4)

        self.proc = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=fds,  # noqa: PLW1509 - only dup/dup2, async-signal-safe
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=False,
        )  # fmt: skip
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.replies: dict[int, dict[str, Any]] = {}
        self._next = 0
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._cond:
                        self.replies[message["id"]] = message
                        self._cond.notify_all()
                else:
                    self.events.put(message)

    def send(
        self, method: str, session: str | None = None, **params: Any
    ) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        with self._cond:
            if not self._cond.wait_for(lambda: self._next in self.replies, timeout=30):
                raise TimeoutError(method)
            reply = self.replies.pop(self._next)
        assert "error" not in reply, reply
        return dict(reply.get("result", {}))

    def wait_event(
        self, method: str, seen: list[dict[str, Any]], timeout: float = 30
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            seen.append(event)
            if event["method"] == method:
                return
        raise TimeoutError(method)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, TimeoutError, AssertionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)


def render_report(run: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "perfkit", "report", str(run)],
        cwd=KIT_ROOT, env={**os.environ, "PYTHONPATH": str(KIT_ROOT / "utils"), "CI": "1"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(run / "report.html")
    return run / "report.html"


def load(report: Path, profile: Path) -> dict[str, Any]:
    """Open the report; return console problems, requests, chart boxes, load time."""
    browser = DevTools(profile)
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)
        sid = session["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", sid)
        browser.send("Emulation.setDeviceMetricsOverride", sid, width=1280, height=900,
                     deviceScaleFactor=1, mobile=False)  # fmt: skip
        events: list[dict[str, Any]] = []
        started = time.monotonic()
        browser.send("Page.navigate", sid, url=report.as_uri())
        browser.wait_event("Page.loadEventFired", events)
        load_s = time.monotonic() - started
        charts = json.loads(
            browser.send(
                "Runtime.evaluate", sid, expression=CHARTS_JS, returnByValue=True
            )["result"]["value"]
        )
        height = browser.send("Page.getLayoutMetrics", sid)["cssContentSize"]["height"]
        shot = browser.send("Page.captureScreenshot", sid, format="png",
                            captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": 1280, "height": min(height, 5000),
                                  "scale": 1})  # fmt: skip
        report.with_suffix(".png").write_bytes(base64.b64decode(shot["data"]))
        time.sleep(0.3)  # late console messages or requests
        while not browser.events.empty():
            events.append(browser.events.get())
    finally:
        browser.close()
    return {"events": events, "charts": charts, "load_s": load_s}


def problems(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.exceptionThrown":
            found.append(f"exception: {p['exceptionDetails'].get('text')}")
        elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in {
            "error",
            "assert",
        }:
            found.append(f"console.{p['type']}: {p.get('args')}")
        elif e["method"] == "Log.entryAdded" and p["entry"].get("level") == "error":
            found.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
    return found


def requested(events: list[dict[str, Any]]) -> list[str]:
    """The URLs the page asked for."""
    return [
        e["params"]["request"]["url"]
        for e in events
        if e["method"] == "Network.requestWillBeSent"
    ]


@pytest.mark.parametrize(
    "name",
    [
        "smoke_tools_regression",
        "smoke_all",
        "smoke_mcp",
        "smoke_mcp_stateful",
        "smoke_database",
    ],
)
def test_report_in_headless_chromium(name: str, tmp_path: Path) -> None:
    run = tmp_path / name
    shutil.copytree(RUNS / name, run)
    started = time.monotonic()
    report = render_report(run)
    generate_s = time.monotonic() - started
    size = report.stat().st_size
    result = load(report, tmp_path / "profile")
    tests = len(json.loads((run / "summary.json").read_text())["tests"])
    print(
        f"\n{name}: {tests} tests, report {size / 1024:.0f} KiB, generated in {generate_s:.1f} s,"
        f" load event after {result['load_s']:.2f} s; screenshot {report.with_suffix('.png')}"
    )
    assert size < MAX_BYTES
    assert problems(result["events"]) == []
    assert requested(result["events"]) == [report.as_uri()]
    charts = result["charts"]
    assert sum(c["kind"] == "latency" for c in charts) == tests
    assert sum(c["kind"] == "throughput" for c in charts) == tests
    # the mcp scenario's run compares its paths: one table and one chart (docs: README)
    assert sum(c["kind"] == "protocol" for c in charts) == name.startswith("smoke_mcp")
    # the run recorded the MCP servers' own account: where its calls' time went
    html = report.read_text()
    assert html.count('data-table="upstream"') == (name == "smoke_mcp_stateful")
    # the database scenario's SQL: statements per test, slow queries with plans, the index
    assert html.count('data-table="database-tests"') == (name == "smoke_database")
    assert html.count("data-recommendations") == (name == "smoke_database")
    # ... and its connection pool: a table and a chart, drawn like the others
    assert html.count('data-table="database-pool"') == (name == "smoke_database")
    assert sum(c["kind"] == "database-pool" for c in charts) == (
        name == "smoke_database"
    )
    assert all(
        c["width"] > 200 and c["height"] > 80 and c["shapes"] > 10 for c in charts
    )
    png = report.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


def test_tune_page_in_headless_chromium(tmp_path: Path) -> None:
    """make tune's page, from a sweep of two recorded real A/Bs (tests/fixtures/ab): drawn,
    self-contained, no console error."""
    sweep = tmp_path / "tune_1"
    sweep.mkdir()
    candidates = {
        "slow-setting": "LOG_LEVEL=DEBUG,LOG_REQUESTS=true",
        "aa": "CACHE_TYPE=memory",
    }
    plan = {
        "release": "1.0.7.post20260921", "budget_minutes": None, "estimate_seconds": 300,
        "estimate_source": "recorded", "started_at": "2026-12-06T08:00:00+00:00",
        "workload": {"profile": "light", "scenarios": "gateway-core", "tests": "",
                     "test_count": 9, "rounds": 5},
        "candidates": [
            {"label": label, "slug": folder, "trade_off": None,
             "settings": dict(pair.split("=") for pair in label.split(","))}
            for folder, label in candidates.items()
        ],
        "trade_offs": {},
    }  # fmt: skip
    (sweep / "plan.json").write_text(json.dumps(plan))
    env = {**os.environ, "PYTHONPATH": str(KIT_ROOT / "utils")}
    for folder in candidates:
        shutil.copytree(KIT_ROOT / "tests" / "fixtures" / "ab" / folder, sweep / folder)
        subprocess.run(
            [sys.executable, "-m", "perfkit", "tune", "record", str(sweep), "--slug", folder,
             "--status", "measured", "--exit", "1", "--seconds", "300", "--run", str(sweep / folder)],
            cwd=KIT_ROOT, env=env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "perfkit", "tune", "report", str(sweep)],
        cwd=KIT_ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    page = sweep / "tune.html"
    result = load(page, tmp_path / "profile")
    assert problems(result["events"]) == []
    assert requested(result["events"]) == [page.as_uri()]
    [chart] = result["charts"]
    assert chart["kind"] == "tune" and chart["width"] > 200 and chart["shapes"] > 4
    assert page.read_text().count("<tr data-verdict=") == 2
