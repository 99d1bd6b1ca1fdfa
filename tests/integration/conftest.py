"""Integration tests run the real kit against the real gateway (from PyPI) on loopback.

The main local stack is started once per session (or reused when a developer already runs it,
in which case it is left running). Tests that need a stack of their own (a fresh `make test`,
rate limiting left on) use a named stack on other ports, so they never disturb the main one.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

KIT_ROOT = Path(__file__).resolve().parents[2]

# The tests interrupt the kit (Ctrl+C) and check that it cleans up. A suite started in the
# background of a non-interactive shell inherits SIGINT and SIGQUIT ignored, every process it
# starts would too, and a shell cannot trap a signal ignored when it started: handled again here,
# the kit's processes start with them as a terminal leaves them.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGQUIT) == signal.SIG_IGN:
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)
MAIN_URL = os.environ.get("PERF_TEST_GATEWAY_URL", "http://127.0.0.1:4444")


# README commands that another test runs as written, with checks deeper than an exit code:
# test_readme.py leaves them to it (a command starting with one of these).
RUN_BY_OTHER_TESTS = {
    "./run-advanced.sh --servers 1,3": "test_advanced.py::test_readme_scale_command",
    "./run-all.sh --profiles smoke,light": "test_run_all.py (smoke_run)",
    "utils/workflows.sh run --users 3 --duration 5 --remote-workers": (
        "test_workflows.py::test_a_worker_from_another_machine_joins_the_run_over_the_master_port"
    ),
    "make workflows USERS=3 DURATION=20": (
        "test_workflows.py::test_a_run_measures_each_workflow_step_and_user_then_removes_them"
    ),
    "make workflows USERS=3 DURATION=10 WORKERS=2": (
        "test_workflows.py::test_two_worker_processes_add_up_to_what_the_mcp_servers_served"
    ),
    "./run-configurable.sh --profile smoke --scenarios workflows": (
        "test_workflows.py::test_the_scenario_workflows_is_judged_and_reported_like_hey_s"
    ),
    "make up MCP_PEER=": "test_mcp.py::test_federation_readme_commands",
    "make test-mcp MCP_PEER=": "test_mcp.py::test_federation_readme_commands",
    "make calibrate": "test_calibrate_e2e.py::test_readme_calibrate_command",
    "make populate DATASET=tiny": "test_populate.py::test_readme_populate_then_append_then_clean",
    "make populate-clean": "test_populate.py::test_readme_populate_then_append_then_clean",
    "make test DATASET=": "test_populate.py::test_readme_run_on_a_populated_gateway",
    "./scenarios/database-benchmark.sh --profile": "test_populate.py::test_readme_database_scenario",
    "./scenarios/database-benchmark.sh --database both": (
        "test_populate.py::test_sqlite_against_postgresql_side_by_side"
    ),
    "make growth DATASETS=empty": "test_populate.py::test_readme_growth_command",
    "make growth DATASETS=tiny,history": (
        "test_populate.py::test_readme_history_growth_command"
    ),
    "make migration-cost FROM=": "test_populate.py::test_readme_migration_cost_command",
    "make coverage": "test_coverage.py::test_readme_coverage_command_counts_the_document_and_the_run",
    "make rest-sweep": "test_coverage.py::test_the_rest_sweep_covers_most_operations_each_a_test",
    "make tune CANDIDATES=": (
        "test_tune.py::test_a_costly_setting_is_ranked_worse_and_a_broken_one_is_said"
    ),
    ".state/venv/bin/pip download": "test_ab_builds.py (the wheel's A/A)",
    "make compare-versions BASE=1.0.7.post20260921 CANDIDATE=.state/builds/": (
        "test_ab_builds.py::test_a_wheel_of_the_release_against_the_release_is_no_regression"
    ),
    "printf 'LOG_LEVEL=DEBUG": "test_ab_builds.py (the settings A/B)",
    "make compare-versions BASE=1.0.7.post20260921 CANDIDATE_ENV=": (
        "test_ab_builds.py::test_a_costly_setting_is_a_regression_naming_the_tests"
    ),
}


def readme_commands() -> list[str]:
    """Every command line of README.md's ```bash blocks, in order (a command shown twice is
    there twice: the README's commands build on each other)."""
    text = (KIT_ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def readme_command(start: str) -> str:
    """The README command starting with `start` (one of RUN_BY_OTHER_TESTS), as written."""
    assert start in RUN_BY_OTHER_TESTS, f"add {start!r} to RUN_BY_OTHER_TESTS"
    [command] = [c for c in readme_commands() if c.startswith(start)]
    return command


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=3) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def kit_env(**overrides: str) -> dict[str, str]:
    """The environment a user would have: no PERF_* leaking in from the test runner. A test
    that puts its results in a temporary folder gets its baselines beside them, never in the
    kit's own baselines/."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PERF_") and k != "GATEWAY_URL"
    }
    env.update(overrides)
    if "PERF_RESULTS_DIR" in overrides and "PERF_BASELINES_DIR" not in overrides:
        results = Path(overrides["PERF_RESULTS_DIR"])
        env["PERF_BASELINES_DIR"] = str(results.parent / "baselines")
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 600) -> Result:
    done = subprocess.run(
        args,
        cwd=KIT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def run_processes(run_dir: Path) -> list[psutil.Process]:
    """Processes started by the run writing run_dir (they inherit PERF_RUN_DIR)."""
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.environ().get("PERF_RUN_DIR") == str(run_dir):
                found.append(proc)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def stack_processes(stack_dir: Path) -> list[int]:
    """PIDs from a named stack's pidfiles that still run."""
    alive = []
    for pidfile in stack_dir.glob("*.pid"):
        pid = int(pidfile.read_text().strip())
        if psutil.pid_exists(pid):
            alive.append(pid)
    return alive


@pytest.fixture(scope="session")
def stack_url() -> Iterator[str]:
    """The main local stack: reused when it runs, else started here and stopped at the end."""
    if answers(MAIN_URL):
        yield MAIN_URL
        return
    env = kit_env(PERF_BASE_URL=MAIN_URL)
    started = run(["utils/local-stack.sh", "up"], env, timeout=600)
    assert started.code == 0, f"local stack did not start:\n{started.stderr}"
    try:
        yield MAIN_URL
    finally:
        run(["utils/local-stack.sh", "down"], env, timeout=120)


@pytest.fixture()
def results_dir(tmp_path: Path) -> Path:
    path = tmp_path / "results"
    path.mkdir()
    return path
