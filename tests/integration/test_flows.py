"""End-to-end flows of run-configurable.sh / make against the real gateway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import KIT_ROOT, answers, kit_env, run, run_processes, stack_processes

SCENARIOS = {
    "tools",
    "resources",
    "prompts",
    "gateway-core",
    "mcp",
    "mixed",
    "database",
}


def load_summary(results_dir: Path) -> dict:
    latest = results_dir / "latest"
    assert latest.is_symlink(), "results/latest should point at the run folder"
    return json.loads((latest / "summary.json").read_text())


def named_stack_env(
    name: str, port: int, server_base: int, tmp_path: Path, **extra: str
) -> dict[str, str]:
    return kit_env(
        PERF_STACK_NAME=name,
        PERF_BASE_URL=f"http://127.0.0.1:{port}",
        PERF_SERVER_BASE_PORT=str(server_base),
        PERF_RESULTS_DIR=str(tmp_path / "results"),
        PERF_TOKEN_CACHE=str(tmp_path / "token.json"),
        **extra,
    )


def test_make_test_brings_stack_up_runs_everything_and_takes_it_down(
    tmp_path: Path,
) -> None:
    env = named_stack_env("it-fresh", 4460, 9200, tmp_path)
    assert not answers("http://127.0.0.1:4460"), "port 4460 must be free for this test"
    result = run(["make", "test", "PROFILE=smoke"], env, timeout=900)
    assert result.code == 0, result.stderr[-3000:]

    summary = load_summary(tmp_path / "results")
    assert summary["status"] == "complete"
    assert summary["profile"] == "smoke"
    assert summary["target"]["gateway_version"], (
        "the gateway's version should be read from /version"
    )
    assert {t["scenario"] for t in summary["tests"]} == SCENARIOS
    not_ok = [(t["id"], t["status"]) for t in summary["tests"] if t["status"] != "ok"]
    # a call over the legacy SSE transport is not answered on CACHE_TYPE=memory, and an
    # unpopulated database has no team member to list tools as: skipped, saying why
    members = [f"database/list_tools_member_limit_{n}" for n in (10, 50, 100)]
    assert not_ok == [
        ("mcp/server_sse_tools_call_get_system_time", "skipped"),
        *((m, "skipped") for m in members),
    ]
    reasons = {t["id"]: t.get("reason", "") for t in summary["tests"]}
    assert all("no user besides the admin is in a team" in reasons[m] for m in members)
    for test in summary["tests"]:
        if test["status"] == "skipped":
            continue
        assert len(test["rounds"]) == summary["settings"]["iterations"]
        for measured in test["rounds"]:
            assert measured["requests"] == measured["ok"] > 0
            assert measured["rps"] > 0
    assert "rpc_tools_call_get_system_time" in result.stdout, (
        "the table of tests goes to stdout"
    )
    # ... and the HTML report is written beside the summary, every test in it
    html = (tmp_path / "results" / "latest" / "report.html").read_text()
    assert all(t["id"] in html for t in summary["tests"])

    stack_dir = KIT_ROOT / ".state" / "it-fresh"
    assert stack_processes(stack_dir) == [], (
        "the stack this run started must be stopped"
    )
    assert not answers("http://127.0.0.1:4460")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_interrupt_keeps_partial_results_and_leaves_no_process(
    stack_url: str, results_dir: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    env = kit_env(PERF_RESULTS_DIR=str(results_dir))
    args = [
        "./run-configurable.sh",
        "--profile",
        "light",
        "--scenarios",
        "tools",
        "--url",
        stack_url,
    ]
    proc = subprocess.Popen(
        args,
        cwd=KIT_ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while (
        not list(results_dir.glob("*/raw/tools/*/round-2.time"))
        and time.monotonic() < deadline
    ):
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.2)
    assert time.monotonic() < deadline, "the run never reached a second round"
    os.killpg(
        proc.pid, sig
    )  # what a terminal's Ctrl+C does: signal the whole foreground group
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 130, stderr[-2000:]
    summary = load_summary(results_dir)
    assert summary["status"] == "partial"
    measured = [t for t in summary["tests"] if t["rounds"]]
    assert measured, "rounds measured before the interrupt are kept"
    assert any(t["status"] == "skipped" for t in summary["tests"])
    time.sleep(0.5)
    assert run_processes((results_dir / "latest").resolve()) == [], (
        "no hey (or anything else) may outlive the run"
    )
    assert answers(stack_url), "a stack the run did not start is left running"


def test_gateway_down_is_exit_3(results_dir: Path) -> None:
    env = kit_env(PERF_RESULTS_DIR=str(results_dir))
    result = run(
        [
            "./run-configurable.sh",
            "--profile",
            "smoke",
            "--url",
            "http://127.0.0.1:4999",
        ],
        env,
    )
    assert result.code == 3
    assert "does not answer" in result.stderr and "4999" in result.stderr
    assert list(results_dir.iterdir()) == [], (
        "nothing is written for a run that cannot start"
    )


def test_manage_never_without_gateway_is_exit_3(results_dir: Path) -> None:
    env = kit_env(
        PERF_RESULTS_DIR=str(results_dir),
        PERF_MANAGE="never",
        PERF_BASE_URL="http://127.0.0.1:4998",
    )
    result = run(["./run-configurable.sh", "--profile", "smoke"], env)
    assert result.code == 3
    assert "service.manage is 'never'" in result.stderr


def test_wrong_password_is_exit_3(
    stack_url: str, results_dir: Path, tmp_path: Path
) -> None:
    env = kit_env(
        PERF_RESULTS_DIR=str(results_dir),
        PERF_AUTH_PASSWORD="not-the-password",
        PERF_TOKEN_CACHE=str(tmp_path / "token.json"),
    )
    result = run(
        ["./run-configurable.sh", "--profile", "smoke", "--url", stack_url], env
    )
    assert result.code == 3
    assert "wrong email or password" in result.stderr
    assert not (tmp_path / "token.json").exists()


def test_bad_profile_is_exit_2(results_dir: Path) -> None:
    result = run(
        ["./run-configurable.sh", "--profile", "heavvy"],
        kit_env(PERF_RESULTS_DIR=str(results_dir)),
    )
    assert result.code == 2
    assert "profile 'heavvy' not found" in result.stderr and "light" in result.stderr


def test_json_rpc_error_with_http_200_fails_the_test(
    stack_url: str, results_dir: Path, tmp_path: Path
) -> None:
    payload = tmp_path / "missing_tool.json"
    payload.write_text(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "no-such-tool", "arguments": {}},
            }
        )
    )
    env = kit_env(PERF_RESULTS_DIR=str(results_dir))
    args = [
        "./run-configurable.sh",
        "--profile",
        "smoke",
        "--endpoint",
        f"{stack_url}/rpc",
        "--method",
        "POST",
        "--payload",
        str(payload),
        "--skip-checks",
    ]
    result = run(args, env)
    assert result.code == 4, result.stderr[-2000:]
    summary = load_summary(results_dir)
    [test] = summary["tests"]
    assert test["status"] == "failed"
    assert "JSON-RPC error" in test["reason"] and test["rounds"] == []


def test_bench_endpoint_make_target(stack_url: str, results_dir: Path) -> None:
    env = kit_env(PERF_RESULTS_DIR=str(results_dir))
    result = run(
        ["make", "bench-endpoint", f"URL={stack_url}/tools?limit=10", "PROFILE=smoke"],
        env,
    )
    assert result.code == 0, result.stderr[-2000:]
    [test] = load_summary(results_dir)["tests"]
    assert test["id"].startswith("adhoc/") and test["status"] == "ok"
    assert test["rounds"][0]["ok"] == 20


def test_rate_limiting_left_on_is_exit_4_naming_429(tmp_path: Path) -> None:
    env = named_stack_env(
        "it-ratelimit", 4461, 9300, tmp_path, PERF_STACK_RATE_LIMITING="true"
    )
    url = "http://127.0.0.1:4461"
    try:
        started = run(["utils/local-stack.sh", "up"], env, timeout=600)
        assert started.code == 0, started.stderr[-2000:]
        args = [
            "./run-configurable.sh",
            "--profile",
            "smoke",
            "--scenarios",
            "tools",
            "--url",
            url,
        ]
        args += ["--requests", "300", "--concurrency", "10", "--warmup", "0"]
        result = run(args, env)
    finally:
        run(["utils/local-stack.sh", "down"], env, timeout=120)
    assert result.code == 4, result.stderr[-2000:]
    assert "429" in result.stdout and "rate limiter" in result.stdout
    summary = load_summary(tmp_path / "results")
    failed = [t for t in summary["tests"] if t["status"] == "failed"]
    assert failed and all(t["error_rate"] > 0.01 for t in failed if t["rounds"])
    assert stack_processes(KIT_ROOT / ".state" / "it-ratelimit") == []
