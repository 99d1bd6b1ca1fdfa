"""perfkit monitor and the resource blocks of summary.json, on a recorded resources.jsonl
(tests/fixtures/monitor/, re-recorded by tests/fixtures/record-monitor-fixture.sh: a light hey
round, then a heavy one spinning on a closed port while the "gateway" idles) and on the real
sampler started as a subprocess."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import RunFolder
from perfkit.clock import iso_utc
from perfkit.monitor.sample import ProcessTracker
from perfkit.monitor.summary import (
    RoleSummary,
    WindowSummary,
    bottleneck_warning,
    resource_summary,
)
from perfkit.results.csvstats import read_time_file
from perfkit.results.summarize import cli as summarize_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "monitor"
UTILS = Path(__file__).resolve().parents[2] / "utils"


def fixture_samples() -> list[dict[str, Any]]:
    lines = (FIXTURE / "resources.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def fixture_round(name: str) -> dict[str, Any]:
    """A round dict as summary.json holds it, from the recorded <name>.time."""
    timing = read_time_file(FIXTURE / f"{name}.time")
    assert timing.started_at is not None
    return {
        "index": 1,
        "started_at": iso_utc(timing.started_at),
        "wall_s": timing.elapsed,
    }


def window_of(name: str) -> tuple[float, float]:
    timing = read_time_file(FIXTURE / f"{name}.time")
    assert timing.started_at is not None and timing.elapsed is not None
    return timing.started_at, timing.started_at + timing.elapsed


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    shutil.copy(FIXTURE / "resources.jsonl", tmp_path / "resources.jsonl")
    return tmp_path


# --- the recorded samples ----------------------------------------------------------------


def test_recorded_samples_have_the_documented_shape() -> None:
    samples = fixture_samples()
    assert len(samples) >= 10
    for sample in samples:
        assert sample["schema_version"] == 1 and sample["interval_s"] == 0.5
        assert iso_utc(sample["t"]) == sample["at"]
        host = sample["host"]
        assert 0 <= host["cpu_percent"] <= 100
        assert len(host["per_cpu"]) == host["cpu_count"]
        assert host["mem_used_bytes"] > 0 and host["load1"] >= 0
        assert set(sample["processes"]) == {"gateway", "mcp_servers", "generator"}
        for role in sample["processes"].values():
            total = sum(p["cpu_percent"] for p in role["processes"])
            assert role["cpu_percent"] == pytest.approx(total, abs=0.2)
            assert role["rss_bytes"] == sum(p["rss_bytes"] for p in role["processes"])
        # the gateway was found by its port: its listening socket counts as a connection
        (gateway,) = sample["processes"]["gateway"]["processes"]
        assert gateway["connections"] >= 1
        assert "postgres" not in sample  # no --pg-dsn
    ticks = [b["t"] - a["t"] for a, b in itertools.pairwise(samples)]
    # sampled every 0.5 s; a sample delayed by a busy host skips ticks rather than bursting
    assert 0.45 <= sorted(ticks)[len(ticks) // 2] <= 0.55
    assert all(0.45 <= tick < 1.05 for tick in ticks)


def test_only_the_runs_hey_is_the_generator() -> None:
    names = {
        p["name"]
        for s in fixture_samples()
        for p in s["processes"]["generator"]["processes"]
    }
    assert names == {"hey"}


# --- windows: a test's samples are those taken while its rounds ran --------------------------


def test_each_test_gets_the_samples_of_its_rounds(run_dir: Path) -> None:
    summary = resource_summary(
        run_dir, {"light": [fixture_round("light")], "heavy": [fixture_round("heavy")]}
    )
    assert summary is not None
    light, heavy = summary.tests["light"], summary.tests["heavy"]
    # 2 s rounds sampled every 0.5 s
    assert 3 <= light.samples <= 5 and 3 <= heavy.samples <= 5
    # the heavy round's hey spun on refused connections; the light one idled at 20 rps
    heavy_hey = heavy.roles["generator"].cpu_percent_mean
    light_hey = light.roles["generator"].cpu_percent_max
    assert heavy_hey is not None and light_hey is not None
    assert heavy_hey > 50 and light_hey < 20
    assert heavy.host_cpu_percent_mean is not None and heavy.host_cpu_percent_mean > 50


def test_window_samples_are_those_where_hey_ran(run_dir: Path) -> None:
    """Independent check: every sample in which hey was busy falls in the heavy round."""
    heavy_round = fixture_round("heavy")
    start, end = window_of("heavy")
    samples = fixture_samples()
    busy = [s for s in samples if s["processes"]["generator"]["cpu_percent"] > 20]
    inside = [s for s in samples if start <= s["t"] - 0.25 <= end]
    assert busy and all(s in inside for s in busy)
    summary = resource_summary(run_dir, {"heavy": [heavy_round]})
    assert summary is not None
    assert summary.tests["heavy"].samples == len(inside)
    expected_max = max(s["processes"]["generator"]["cpu_percent"] for s in inside)
    assert summary.tests["heavy"].roles["generator"].cpu_percent_max == expected_max


def test_a_round_without_timing_gets_no_samples(run_dir: Path) -> None:
    summary = resource_summary(
        run_dir, {"t": [{"index": 1, "started_at": None, "wall_s": None}]}
    )
    assert summary is not None
    window = summary.tests["t"]
    assert (window.samples, window.host_cpu_percent_mean, window.roles) == (0, None, {})


def test_run_level_block_covers_every_sample(run_dir: Path) -> None:
    with (run_dir / "resources.jsonl").open("a") as stream:
        stream.write('{"schema_version": 1, "t": 17')  # a line torn by a kill -9
    summary = resource_summary(run_dir, {})
    assert summary is not None
    samples = fixture_samples()
    run = summary.run
    assert (run.samples, run.skipped_lines, run.interval_s) == (len(samples), 1, 0.5)
    assert (run.first_at, run.last_at) == (samples[0]["at"], samples[-1]["at"])
    assert set(run.roles) == {"gateway", "mcp_servers", "generator"}
    generator_cpu = [s["processes"]["generator"]["cpu_percent"] for s in samples]
    assert run.roles["generator"].cpu_percent_max == max(generator_cpu)
    assert run.roles["mcp_servers"].cpu_percent_max == 0.0  # a sleeping process
    assert run.host_cpu_count == samples[0]["host"]["cpu_count"]


# --- the bottleneck rule ---------------------------------------------------------------------


def window(hey: float, gateway: float, gateway_processes: int = 1) -> WindowSummary:
    return WindowSummary(
        samples=4,
        host_cpu_percent_mean=90.0,
        roles={
            "generator": RoleSummary(hey, hey, 1, 1),
            "gateway": RoleSummary(gateway, gateway, 1, gateway_processes),
        },
    )


@pytest.mark.parametrize(
    ("hey", "gateway", "processes", "fires"),
    [
        (85.0, 40.0, 1, True),  # hey near a core, gateway idle
        (79.0, 40.0, 1, False),  # hey below 0.8 cores
        (85.0, 90.0, 1, False),  # one worker saturated (above 85% of a core)
        (85.0, 90.0, 3, True),  # master + 2 workers: 90% is not saturated on 2 cores
        (85.0, 175.0, 3, False),  # ... but 175% is
    ],
)
def test_bottleneck_rule(
    hey: float, gateway: float, processes: int, fires: bool
) -> None:
    text = bottleneck_warning(
        "tools/list", window(hey, gateway, processes), 0.8, cores=2
    )
    assert (text is not None) is fires
    if fires:
        assert text == (
            "the load generator (hey), not the gateway, was the bottleneck in tools/list: "
            f"hey {hey:.0f}% CPU, gateway {gateway:.0f}%"
        )


def test_no_gateway_role_no_verdict() -> None:
    only_hey = WindowSummary(4, 90.0, {"generator": RoleSummary(150.0, 150.0, 1, 1)})
    assert bottleneck_warning("t", only_hey, 0.8, cores=2) is None


# --- summary.json --------------------------------------------------------------------------


def folder_with_rounds(folder: RunFolder, *, monitored: bool = True) -> None:
    """Two tests whose round-1 timing is the recorded light and heavy rounds."""
    for name in ("light", "heavy"):
        folder.add_test(f"core/{name}")
        csv_path = folder.copy_round(f"core/{name}", "health-200", 1)
        shutil.copy(FIXTURE / f"{name}.time", csv_path.with_suffix(".time"))
        folder.event(f"core/{name}")
    if monitored:
        shutil.copy(FIXTURE / "resources.jsonl", folder.path / "resources.jsonl")


def summarize(folder: RunFolder) -> dict[str, Any]:
    assert summarize_cli([str(folder.path), "--quiet"]) == 0
    summary: dict[str, Any] = json.loads((folder.path / "summary.json").read_text())
    return summary


BOTTLENECK = "the load generator (hey), not the gateway, was the bottleneck in"


def test_summary_gets_resource_blocks_and_the_warning(run_folder: RunFolder) -> None:
    # the recording's hey reached 0.5 to 1.7 cores, depending on what else the host ran
    run_folder.settings["generator_cpu_warning"] = 0.5
    run_folder.write_run_json()
    folder_with_rounds(run_folder)
    summary = summarize(run_folder)
    run = summary["resources"]
    assert run["samples"] == len(fixture_samples()) and run["file"] == "resources.jsonl"
    assert set(run["roles"]["generator"]) == {
        "cpu_percent_mean", "cpu_percent_max", "rss_bytes_max", "processes_max",
    }  # fmt: skip
    tests = {t["id"]: t for t in summary["tests"]}
    heavy = tests["core/heavy"]["resources"]
    assert (
        heavy["samples"] >= 3 and heavy["roles"]["generator"]["cpu_percent_mean"] > 50
    )
    warnings = [w for w in summary["warnings"] if w.startswith(BOTTLENECK)]
    assert len(warnings) == 1 and warnings[0].startswith(
        f"{BOTTLENECK} core/heavy: hey "
    )
    # the GNU-time based figure is kept alongside
    assert any(
        w.startswith("hey used ") and "core/heavy" in w for w in summary["warnings"]
    )


def test_a_higher_threshold_silences_the_warning(run_folder: RunFolder) -> None:
    run_folder.settings["generator_cpu_warning"] = (
        3.0  # three cores: never reached on 2
    )
    run_folder.write_run_json()
    folder_with_rounds(run_folder)
    summary = summarize(run_folder)
    assert "resources" in summary
    assert not [w for w in summary["warnings"] if w.startswith(BOTTLENECK)]


def test_no_resources_file_no_resource_keys(run_folder: RunFolder) -> None:
    folder_with_rounds(run_folder, monitored=False)
    summary = summarize(run_folder)
    assert "resources" not in summary
    assert all("resources" not in test for test in summary["tests"])
    assert not [w for w in summary["warnings"] if w.startswith(BOTTLENECK)]


# --- the sampler itself ----------------------------------------------------------------------


def monitor(run_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(UTILS)}
    command = [sys.executable, "-m", "perfkit", "monitor", str(run_dir), *args]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


def spawn(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code], text=True)


def stop(*procs: subprocess.Popen[str]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def read_samples(run_dir: Path) -> list[dict[str, Any]]:
    text = (run_dir / "resources.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def wait_for_first_sample(run_dir: Path) -> None:
    """The sampler's start-up (imports) is not sampling time: wait for its first line."""
    deadline = time.monotonic() + 10
    path = run_dir / "resources.jsonl"
    while not (path.is_file() and path.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_sampler_measures_a_busy_child_and_stops_on_sigterm(tmp_path: Path) -> None:
    busy = spawn("while True: pass")
    idle = spawn("import time; time.sleep(60)")
    sampler = monitor(
        tmp_path, "--interval", "0.5", "--gateway-pid", str(busy.pid),
        "--server-pid", str(idle.pid),
    )  # fmt: skip
    try:
        wait_for_first_sample(tmp_path)
        time.sleep(2.0)
        sampler.send_signal(signal.SIGTERM)
        code = sampler.wait(timeout=10)  # raises if SIGTERM did not stop it
    finally:
        stop(sampler, busy, idle)
    assert code == 0
    samples = read_samples(tmp_path)
    assert len(samples) >= 3
    busy_cpu = [
        s["processes"]["gateway"]["processes"][0]["cpu_percent"] for s in samples
    ]
    idle_cpu = [
        s["processes"]["mcp_servers"]["processes"][0]["cpu_percent"] for s in samples
    ]
    assert {s["processes"]["gateway"]["processes"][0]["pid"] for s in samples} == {
        busy.pid
    }
    assert sorted(busy_cpu)[len(busy_cpu) // 2] > 50
    assert max(idle_cpu) < 10


def test_vanished_processes_are_skipped(tmp_path: Path) -> None:
    gone = spawn("pass")
    gone.wait()
    tracker = ProcessTracker()
    assert tracker.stat(gone.pid) is None
    role = tracker.role([gone.pid, os.getpid()])
    assert [p.pid for p in role.processes] == [os.getpid()]


def test_sampler_stops_when_the_run_folder_disappears(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    sampler = monitor(run_dir, "--interval", "0.2")
    try:
        time.sleep(0.8)
        shutil.rmtree(run_dir)
        code = sampler.wait(timeout=3)
    finally:
        stop(sampler)
    assert code == 0
    assert sampler.stderr is not None and "run folder" in sampler.stderr.read()


def test_sampler_stops_when_the_watched_process_ends(tmp_path: Path) -> None:
    parent = spawn("import time; time.sleep(0.6)")
    sampler = monitor(tmp_path, "--interval", "0.2", "--watch-pid", str(parent.pid))
    try:
        parent.wait()
        code = sampler.wait(timeout=3)
    finally:
        stop(sampler, parent)
    assert code == 0
    assert len(read_samples(tmp_path)) >= 1


@pytest.mark.skipif(shutil.which("hey") is None, reason="needs hey")
def test_generator_is_the_hey_of_this_run_only(tmp_path: Path) -> None:
    mine, other = tmp_path / "mine", tmp_path / "other"
    mine.mkdir()
    other.mkdir()
    hey = ["hey", "-z", "3s", "-c", "1", "-q", "2", "http://127.0.0.1:9/"]
    heys = [
        subprocess.Popen(hey, env={**os.environ, "PERF_RUN_DIR": str(d)},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        for d in (mine, other)
    ]  # fmt: skip
    sampler = monitor(mine, "--interval", "0.25")
    try:
        wait_for_first_sample(mine)
        time.sleep(0.8)
        sampler.send_signal(signal.SIGTERM)
        assert sampler.wait(timeout=3) == 0
    finally:
        stop(sampler, *heys)
    seen = {
        p["pid"]
        for s in read_samples(mine)
        for p in s["processes"]["generator"]["processes"]
    }
    assert seen == {heys[0].pid}
    assert all("gateway" not in s["processes"] for s in read_samples(mine))
