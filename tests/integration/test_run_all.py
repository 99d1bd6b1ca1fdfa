"""run-all.sh against the real gateway (the session's main stack), with the load scaled down
through the environment and results and baselines in temporary folders: README's run of the
smoke and light profiles and its master report (also as a user sees it, in headless
Chromium); a corrupt baseline, which stops the sequence with exit 2 and still leaves a master
report; Ctrl+C in the middle of a profile.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import KIT_ROOT, Result, kit_env, readme_command, run, run_processes

SCALED = {
    "PERF_REQUESTS": "4",
    "PERF_CONCURRENCY": "2",
    "PERF_ITERATIONS": "1",
    "PERF_WARMUP": "0",
}
HREF = re.compile(r'href="([^"]+)"')
PROFILES = ["smoke", "light"]
# the scenarios README's command names (every scenario runs in test_flows' `make test`)
SCENARIOS = {"tools", "gateway-core"}


def env_for(results: Path, stack_url: str) -> dict[str, str]:
    # no --url: run-all finds the gateway answering at the base URL (service.manage auto)
    return kit_env(PERF_RESULTS_DIR=str(results), PERF_BASE_URL=stack_url, **SCALED)


def all_dir_of(result: Result) -> Path:
    report = Path(result.stdout.strip().splitlines()[-1])
    assert report.name == "report.html" and report.parent.name.startswith("all_")
    return report.parent


@pytest.fixture(scope="module")
def smoke_run(
    stack_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Result, Path]:
    """README's `./run-all.sh --profiles smoke,light ...`, as written: the first run of each
    profile, which becomes its baseline."""
    results = tmp_path_factory.mktemp("run_all") / "results"
    command = readme_command("./run-all.sh --profiles smoke,light")
    result = run(["bash", "-c", command], env_for(results, stack_url))
    return result, results


def test_profiles_exit_0_with_runs_json(smoke_run: tuple[Result, Path]) -> None:
    result, results = smoke_run
    assert result.code == 0, result.stderr[-3000:]
    all_dir = all_dir_of(result)
    assert all_dir.parent == results
    runs = json.loads((all_dir / "runs.json").read_text())
    assert runs["profiles"] == PROFILES
    assert (runs["exit_code"], runs["status"], runs["interrupted"]) == (
        0,
        "complete",
        False,
    )
    assert runs["started_at"] <= runs["finished_at"]
    assert [(r["profile"], r["exit_code"], r["log"]) for r in runs["runs"]] == [
        (profile, 0, f"{profile}.log") for profile in PROFILES
    ]
    for entry in runs["runs"]:
        run_dir = (all_dir / entry["run_dir"]).resolve()
        assert run_dir.parent == results.resolve()
        assert run_dir.name.startswith(f"{entry['profile']}_")
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["profile"] == entry["profile"]
        assert summary["status"] == "complete" and summary["totals"]["failed"] == 0
        assert {t["scenario"] for t in summary["tests"]} == SCENARIOS
        count, ok = len(summary["tests"]), summary["totals"]["ok"]
        assert count == ok
        assert (
            f"{count} tests: {ok} ok, 0 failed, 0 skipped"
            in (all_dir / entry["log"]).read_text()
        )
        assert run_processes(run_dir) == []
    baselines = results.parent / "baselines"
    # one baseline per profile, named after its scenarios too
    names = sorted(p.name for p in baselines.glob("baseline_*.json"))
    assert len(names) == len(PROFILES), names
    for name, profile in zip(names, sorted(PROFILES), strict=True):
        assert name.startswith(f"baseline_{profile}_") and "gateway-core" in name, names


def test_master_report_sections_and_links(smoke_run: tuple[Result, Path]) -> None:
    all_dir = all_dir_of(smoke_run[0])
    html = (all_dir / "report.html").read_text()
    headings = [
        "Critical regressions and failures",
        "Summary per profile",
        "Per test, profiles side by side",
        "Each run's own report",
    ]
    positions = [html.index(f"<h2>{h}</h2>") for h in headings]
    assert positions == sorted(positions)
    assert '<p class="critical-none"><strong>None</strong>' in html
    assert "All good: exit 0" in html
    # one line per test: the tests of a profile's run, the same in both profiles
    runs = json.loads((all_dir / "runs.json").read_text())
    counts = set()
    for entry in runs["runs"]:
        summary = json.loads((all_dir / entry["run_dir"] / "summary.json").read_text())
        counts.add(len(summary["tests"]))
    assert len(counts) == 1
    assert html.count('<tr><td class="mono">') == counts.pop()
    # the per-test table: a group of columns per profile, in the order they ran
    table = html[html.index('<section id="tests">') : html.index('<section id="runs">')]
    columns = re.findall(r'<th colspan="\d+" class="mono">(\w+)</th>', table)
    assert columns == PROFILES
    # every link but the in-page ones and the empty favicon (data:,) points at a file
    links = [h for h in HREF.findall(html) if not h.startswith(("#", "data:"))]
    assert any(h.endswith("/report.html") for h in links)
    for link in links:
        assert not re.match(r"[a-z]+:", link), f"not a relative link: {link}"
        assert (all_dir / link).exists(), f"{link} does not resolve from {all_dir}"


def test_master_report_in_headless_chromium(
    smoke_run: tuple[Result, Path], tmp_path: Path
) -> None:
    from test_report_browser import CHROMIUM, load, problems

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium")
    report = all_dir_of(smoke_run[0]) / "report.html"
    seen = load(report, tmp_path / "profile")
    assert problems(seen["events"]) == []
    requests = [
        e["params"]["request"]["url"]
        for e in seen["events"]
        if e["method"] == "Network.requestWillBeSent"
    ]
    assert requests == [report.as_uri()]


def test_corrupt_baseline_stops_with_exit_2_and_a_report(
    stack_url: str, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    baseline = tmp_path / "baselines" / "baseline_smoke_gateway-core.json"
    baseline.parent.mkdir()
    baseline.write_text('{"schema_version": 1, "tests": [')
    before = baseline.stat()
    args = ["./run-all.sh", "--profiles", "smoke,light", "--scenarios", "gateway-core"]
    result = run(args, env_for(results, stack_url))
    assert result.code == 2, result.stderr[-3000:]
    assert "run-all.sh: error: profile 'smoke' ended with exit 2" in result.stderr
    assert "not running: light" in result.stderr
    assert str(baseline) in result.stderr
    after = baseline.stat()
    assert baseline.read_text() == '{"schema_version": 1, "tests": ['
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    all_dir = all_dir_of(result)
    runs = json.loads((all_dir / "runs.json").read_text())
    assert (runs["exit_code"], runs["status"]) == (2, "partial")
    # the corrupt baseline is found before any load: smoke leaves no run folder
    assert [(r["profile"], r["exit_code"], r["run_dir"]) for r in runs["runs"]] == [
        ("smoke", 2, None)
    ]
    assert not list(results.glob("smoke_*"))
    html = (all_dir / "report.html").read_text()
    assert "not compared" in html and str(baseline) in html
    critical = html[html.index("<h2>Critical") : html.index("<h2>Summary")]
    assert ">run</span>" in critical and ">not run</span>" in critical


def test_ctrl_c_stops_the_profile_and_leaves_a_partial_report(
    stack_url: str, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    proc = subprocess.Popen(
        ["./run-all.sh", "--profiles", "smoke,light", "--scenarios", "gateway-core"],
        cwd=KIT_ROOT, env=env_for(results, stack_url), start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(results.glob("smoke_*/raw/gateway-core/*/round-1.csv")):
        assert proc.poll() is None and time.monotonic() < deadline, (
            "smoke never started"
        )
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C in a terminal does
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr[-3000:]
    all_dir = Path(stdout.strip().splitlines()[-1]).parent
    runs = json.loads((all_dir / "runs.json").read_text())
    assert (runs["exit_code"], runs["status"], runs["interrupted"]) == (
        130,
        "partial",
        True,
    )
    [entry] = runs["runs"]
    assert (entry["profile"], entry["exit_code"]) == ("smoke", 130)
    run_dir = (all_dir / entry["run_dir"]).resolve()
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "partial"
    assert "(partial)" in (all_dir / "report.html").read_text()
    assert run_processes(run_dir) == []
    assert not list(results.glob("light_*"))
