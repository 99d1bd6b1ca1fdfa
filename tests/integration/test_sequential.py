"""--sequential end to end through run-configurable.sh: a test whose rounds settle it against
its stored baseline stops early; a slowed one runs every round and is a regression.

The target is the kit's calibrated server (utils/servers/calibrated_server.py, a fixed 20 ms
sleep): quiet enough that three rounds settle an unchanged test, which the gateway's own
round-to-round noise on this shared machine rarely allows (docs/verdicts.md, "Stopping early",
has the gateway's figures). The stopping rule itself is checked on recorded gateway runs in
tests/unit/test_calibrate_rounds.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import KIT_ROOT, kit_env, run

PORT = 18092  # neither make calibrate's 18080 nor test_calibrate_e2e's 18090
URL = f"http://127.0.0.1:{PORT}"


def answers() -> bool:
    try:
        with urllib.request.urlopen(f"{URL}/health", timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture()
def target() -> Iterator[None]:
    assert not answers(), f"something already answers on {URL}"
    server = subprocess.Popen(
        [sys.executable, str(KIT_ROOT / "utils/servers/calibrated_server.py"),
         "--port", str(PORT), "--delay-ms", "20"],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not answers():
            assert server.poll() is None and time.monotonic() < deadline, "no server"
            time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def set_delay(ms: int) -> None:
    request = urllib.request.Request(f"{URL}/set?delay_ms={ms}", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def adhoc(tmp_path: Path, *extra: str) -> tuple[int, str, dict]:
    args = ["./run-configurable.sh", "--endpoint", f"{URL}/delay", "--no-auth",
            "--skip-checks", "--requests", "100", "--concurrency", "5",
            "--iterations", "5", "--warmup", "10", "--quiet", *extra]  # fmt: skip
    env = kit_env(PERF_RESULTS_DIR=str(tmp_path / "results"))
    result = run(args, env, timeout=300)
    assert result.code in (0, 1), result.stderr[-3000:]
    latest = tmp_path / "results" / "latest"
    summary = json.loads((latest / "summary.json").read_text())
    return result.code, result.stdout, summary


def test_settled_tests_stop_early_and_a_slowdown_runs_every_round(
    target: None, tmp_path: Path
) -> None:
    code, _, first = adhoc(tmp_path)  # no baseline yet: becomes it, all rounds
    assert code == 0 and len(first["tests"][0]["rounds"]) == 5

    code, out, second = adhoc(tmp_path, "--sequential")
    (test,) = second["tests"]
    assert code == 0, out
    assert len(test["rounds"]) == 3, test["reason"]
    assert test["status"] == "ok" and test["reason"] == "settled after 3 of 5 rounds"
    assert "stopped early, settled: 1 of 1 tests (1 after 3 rounds)" in out
    assert second["settings"]["sequential"] is True

    set_delay(
        30
    )  # +50%: beyond the drift bound, so a regression even with no history yet
    code, out, third = adhoc(tmp_path, "--sequential")
    (test,) = third["tests"]
    assert len(test["rounds"]) == 5 and test["reason"] is None
    assert code == 1 and "regressed:" in out, out
