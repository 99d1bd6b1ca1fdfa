"""The tuning advisor (make tune, utils/tune.sh) on the real gateway: a setting with a known,
large cost (debug logging of every request, persisted to the database: measured 20-76% slower
by test_ab_builds.py) is ranked and judged worse, a setting that stops the gateway from
starting is "broke the gateway" with its log while the sweep goes on, and Ctrl+C keeps the
partial sweep, labelled, with every gateway the sweep started stopped.

Each candidate is an A/B on the kit's ab-base and ab-candidate stacks (:4481, :4482): these
tests run one after the other, never beside another A/B. CI time: five of gateway-core's tests,
50 requests a round (the cost is per request).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import KIT_ROOT, answers, kit_env, readme_command, run, stack_processes

PORTS = ("http://127.0.0.1:4481", "http://127.0.0.1:4482")
SOME_TESTS = (
    "health,ready,rest_list_servers_limit_10,rest_list_gateways_limit_10,rpc_ping"
)
COSTLY = "LOG_LEVEL=DEBUG,LOG_REQUESTS=true,STRUCTURED_LOGGING_DATABASE_ENABLED=true"
# pydantic refuses it when the gateway starts: the gateway exits at once
BROKEN = "DB_POOL_SIZE=lots"


@pytest.fixture()
def tune_env(tmp_path: Path) -> dict[str, str]:
    for url in PORTS:
        assert not answers(url), f"{url} must be free for a tune test"
    return kit_env(
        PERF_RESULTS_DIR=str(tmp_path / "results"),
        PERF_TOKEN_CACHE=str(tmp_path / "token.json"),
        PERF_REQUESTS="50",
    )


def the_sweep(tmp_path: Path) -> Path:
    [sweep] = sorted((tmp_path / "results").glob("tune_*"))
    return sweep


def assert_nothing_left_running() -> None:
    for side in ("base", "candidate"):
        assert stack_processes(KIT_ROOT / ".state" / f"ab-{side}") == [], side
    for url in PORTS:
        assert not answers(url)


def test_a_costly_setting_is_ranked_worse_and_a_broken_one_is_said(
    tune_env: dict[str, str], tmp_path: Path
) -> None:
    """The README's command, as written (five of gateway-core's tests: PERF_TESTS, which it
    leaves to the environment)."""
    command = readme_command("make tune CANDIDATES=")
    assert f'CANDIDATES="{BROKEN} {COSTLY}"' in command
    result = run(
        ["bash", "-c", command], tune_env | {"PERF_TESTS": SOME_TESTS}, timeout=1200
    )
    assert result.code == 0, result.stderr[-3000:]
    # the plan is said before anything starts
    assert (
        "2 candidate(s) against the stack's own settings, light over gateway-core"
        in result.stderr
    )
    assert "one A/B takes about" in result.stderr
    assert result.stderr.index("one A/B takes about") < result.stderr.index("[1]")
    sweep = the_sweep(tmp_path)
    data = json.loads((sweep / "tune.json").read_text())
    # the workload counted without a gateway (run-configurable.sh --list-tests)
    assert data["workload"]["test_count"] == 5
    [costly, broken] = data["candidates"]
    assert costly["label"] == COSTLY and costly["verdict"] == "worse", costly
    assert costly["regressed"] and costly["tests"] == 5
    assert costly["effects"]["rps"]["change_pct"] < 0
    assert costly["effects"]["p50"]["change_pct"] > 0
    assert broken["label"] == BROKEN and broken["verdict"] == "broke the gateway"
    assert any("db_pool_size" in line.lower() for line in broken["log_tail"]), broken[
        "log_tail"
    ]
    assert data["recommended"] == {} and data["combination"] is None
    # the ranked table on stdout, the page and the fragment
    table = result.stdout
    assert f"1  {COSTLY}" in table and "worse" in table
    assert f"2  {BROKEN}" in table and "broke the gateway" in table
    assert "No setting measured better beyond noise" in table
    page = (sweep / "tune.html").read_text()
    assert 'data-verdict="worse"' in page and 'data-chart="tune"' in page
    assert "no setting measured better" in (sweep / "recommended.env").read_text()
    assert_nothing_left_running()


def test_an_unknown_setting_is_exit_2_naming_it_before_anything_starts(
    tune_env: dict[str, str], tmp_path: Path
) -> None:
    result = run(
        ["utils/tune.sh", "--candidate", "LOG_REQUEST=true"], tune_env, timeout=600
    )
    assert result.code == 2, result.stderr[-2000:]
    assert (
        "unknown gateway setting 'LOG_REQUEST' (did you mean LOG_REQUESTS?)"
        in result.stderr
    )
    assert "release 1.0.7.post20260921 does not read it" in result.stderr
    assert not list((tmp_path / "results").glob("tune_*"))
    assert_nothing_left_running()


def test_ctrl_c_keeps_the_partial_sweep_and_stops_every_gateway(
    tune_env: dict[str, str], tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        ["utils/tune.sh", "--candidate", "CACHE_TYPE=database", "--candidate", "LOG_LEVEL=INFO",
         "--scenarios", "gateway-core", "--tests", SOME_TESTS],
        cwd=KIT_ROOT, env=tune_env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        if list(
            (tmp_path / "results").glob(
                "tune_*/*/*_ab_*/candidate/raw/*/*/round-1.time"
            )
        ):
            break
        time.sleep(0.5)
    assert time.monotonic() < deadline, "the first A/B never measured a round"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl+C does
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-3000:]
    data = json.loads((the_sweep(tmp_path) / "tune.json").read_text())
    assert data["partial"].startswith("interrupted (Ctrl+C)")
    assert [r["verdict"] for r in data["candidates"]] == ["interrupted", "interrupted"]
    assert_nothing_left_running()
