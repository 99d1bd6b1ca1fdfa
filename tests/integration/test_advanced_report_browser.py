"""The scalability report as a user sees it (STYLE.md rule 15): `perfkit advanced report` on the
recorded points of tests/fixtures/advanced/smoke_both (re-recorded by
tests/fixtures/record-advanced-fixture.sh), one point made to fail, loaded in headless chromium
with test_report_browser's DevTools client. Checks: no console error or exception, no network
request but the file itself, every chart present and drawn, the failed point shown. Writes
report.png next to the report. Needs no gateway.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_report_browser import (
    CHROMIUM,
    KIT_ROOT,
    MAX_BYTES,
    load,
    problems,
    requested,
)

FIXTURE = KIT_ROOT / "tests" / "fixtures" / "advanced" / "smoke_both"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


def perfkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perfkit", *args],
        cwd=KIT_ROOT, env={**os.environ, "PYTHONPATH": str(KIT_ROOT / "utils"), "CI": "1"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_advanced_report_in_headless_chromium(tmp_path: Path) -> None:
    adv = tmp_path / "advanced_smoke"
    shutil.copytree(FIXTURE, adv)
    (adv / "sqlite" / "servers-2" / "report.html").write_text("<p>point report</p>")
    data = json.loads((adv / "advanced.json").read_text())
    data["servers"].append(4)
    (adv / "advanced.json").write_text(json.dumps(data))
    added = perfkit("advanced", "add-point", str(adv), "--database", "postgresql",
                    "--servers", "4", "--run", "", "--exit-code", "3")  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = perfkit("advanced", "report", str(adv))
    assert done.returncode == 0, done.stderr
    report = adv / "report.html"
    assert str(report) in done.stderr
    result = load(report, tmp_path / "profile")
    print(f"\nscalability report {report.stat().st_size / 1024:.0f} KiB, load event after "
          f"{result['load_s']:.2f} s; screenshot {report.with_suffix('.png')}")  # fmt: skip
    assert report.stat().st_size < MAX_BYTES
    assert problems(result["events"]) == []
    assert requested(result["events"]) == [report.as_uri()]
    charts = result["charts"]
    assert [c["kind"] for c in charts] == ["scaling", "scaling", "sweep", "sweep"]
    assert all(
        c["width"] > 200 and c["height"] > 80 and c["shapes"] > 10 for c in charts
    )
    html = report.read_text()
    assert (
        "postgresql 4 server(s) (failed)" in html
    )  # named under the charts, not drawn
    assert '<a href="sqlite/servers-2/report.html">' in html
    png = report.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
