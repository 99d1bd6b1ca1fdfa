"""What a multi-user run reports (perfkit.workflows.metrics), from request times, and the
driver's refusal of bad options (its own process: Locust patches whatever imports it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from perfkit.names import KIT_ROOT
from perfkit.workflows.metrics import Sample, figures, render, summarize

A, B = "a@perfkit.example.com", "b@perfkit.example.com"


def samples() -> list[Sample]:
    made = [Sample(0.5, "baseline:list_tools", A, 999.0, True)]  # warm-up: left out
    made += [
        Sample(1 + i / 10, "baseline:list_tools", A, float(i), True)
        for i in range(1, 101)
    ]
    made += [
        Sample(2.0, "baseline:call_tool", B, 50.0, False, "HTTP 500"),
        Sample(2.5, "baseline:call_tool", B, 70.0, True),
    ]
    return made


def result(cpu: float = 1.0) -> dict:
    return summarize(
        samples(),
        workload="baseline",
        url="http://127.0.0.1:4444",
        users=2,
        warmup=1.0,
        duration=10.0,
        driver_cpu_s=cpu,
    )


def test_percentiles_are_exact_and_the_warm_up_is_left_out() -> None:
    steps = {s["step"]: s for s in result()["steps"]}
    tools = steps["baseline:list_tools"]
    assert (
        tools["requests"] == 100 and tools["max"] == 100.0
    )  # not the 999 ms of warm-up
    assert (tools["p50"], tools["p95"], tools["p99"], tools["min"]) == (
        50.5,
        95.05,
        99.01,
        1.0,
    )
    assert tools["rps"] == 10.0 and tools["mean"] == 50.5
    assert figures([], 10.0)["p50"] is None


def test_users_errors_and_totals_add_up() -> None:
    measured = result()
    per_user = {u["user"]: u for u in measured["per_user"]}
    assert per_user[A]["requests"] == 100 and per_user[B]["failures"] == 1
    assert measured["total"]["requests"] == 102 and measured["total"]["failures"] == 1
    assert measured["errors"] == [
        {"step": "baseline:call_tool", "error": "HTTP 500", "count": 1}
    ]
    text = render(measured)
    assert "failed: baseline:call_tool: HTTP 500 (1x)" in text
    assert "load generator" not in text


def test_a_busy_generator_is_said() -> None:
    measured = result(cpu=10.5)  # 10.5 s of CPU over 11 s
    assert measured["generator"] == {"cpu_cores": 0.955, "busy": True, "workers": 0}
    assert "the load generator used 0.95 of a core" in render(measured)


def test_the_driver_refuses_bad_options_before_any_load(tmp_path: Path) -> None:
    (tmp_path / "people.json").write_text('{"a@x": {"no": "token"}}')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfkit.workflows.drive",
            "--url",
            "http://127.0.0.1:9",
            "--people",
            str(tmp_path / "people.json"),
            "--users",
            "0",
            "--duration",
            "0",
            "--out",
            str(tmp_path / "out.json"),
            "--abort-on-slo",
            "--workers",
            "2",
        ],
        env={"PYTHONPATH": str(KIT_ROOT / "utils"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--users 0: from 1 to 500" in done.stderr
    assert "--duration 0: over 0" in done.stderr
    assert "not a tokens file of workflows-people" in done.stderr
    assert "--abort-on-slo with --workers is not built" in done.stderr
    assert not (tmp_path / "out.json").exists()


def test_workflows_have_their_table_and_waits_are_no_requests() -> None:
    made = [
        Sample(1.0, "share", A, 500.0, True, kind="workflow"),
        Sample(
            2.0,
            "share",
            A,
            900.0,
            False,
            "step share:outsider_blind failed",
            "workflow",
        ),
        Sample(1.0, "share:create_server", A, 60.0, True),
        Sample(1.1, "share:visible_after", A, 65.0, True, kind="derived"),
        Sample(
            2.0,
            "share:outsider_blind",
            B,
            0.0,
            False,
            "visibility leak: b sees s",
            "derived",
        ),
    ]
    measured = summarize(
        made,
        workload="share",
        url="u",
        users=2,
        warmup=0.0,
        duration=2.0,
        driver_cpu_s=0.1,
    )
    assert [
        (w["workflow"], w["requests"], w["failures"]) for w in measured["workflows"]
    ] == [("share", 2, 1)]
    assert [s["step"] for s in measured["steps"]] == [
        "share:create_server",
        "share:outsider_blind",
        "share:visible_after",
    ]
    assert (
        measured["total"]["requests"] == 1
    )  # the request; not the wait, check or workflow
    assert [u["user"] for u in measured["per_user"]] == [A]
    text = render(measured)
    assert text.index("workflow ") < text.index("step ")
    assert "failed: share:outsider_blind: visibility leak: b sees s (1x)" in text


def test_slos_are_checked_on_workflows_steps_and_the_total(tmp_path: Path) -> None:
    from perfkit.compare.slo import parse_slos
    from perfkit.workflows import slo

    measured = result()
    rules = parse_slos(
        {
            "workflows/baseline:list_tools": {"p95_ms": 90, "min_rps": 5},
            "workflows/all": {"max_error_rate": 0.0},
            "workflows/shar*": {"p99_ms": 1},
            "tools/*": {"p95_ms": 1},  # another run's test: not this one's
        }
    )
    breaches, unmatched = slo.check(measured, rules)
    assert [b.describe() for b in breaches] == [
        "workflows/baseline.list_tools: p95_ms 95.05 breaks <= 90 (slos.workflows/baseline:list_tools)",
        "workflows/all: max_error_rate 0.009804 breaks <= 0 (slos.workflows/all)",
    ]
    assert unmatched == ["workflows/shar*"]


def test_a_breach_is_exit_1_and_written_into_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from perfkit.workflows import slo

    path = tmp_path / "workflows.json"
    path.write_text(json.dumps(result()))
    config = tmp_path / "config.yaml"
    config.write_text('slos:\n  "workflows/baseline:call_tool": {p95_ms: 60}\n')
    assert slo.cli([str(path), "--config", str(config)]) == 1
    assert "SLO breached: workflows/baseline.call_tool: p95_ms 69 breaks <= 60" in (
        capsys.readouterr().out
    )
    assert json.loads(path.read_text())["slos"]["breaches"] == [
        "workflows/baseline.call_tool: p95_ms 69 breaks <= 60 (slos.workflows/baseline:call_tool)"
    ]
    config.write_text('slos:\n  "workflows/baseline:call_tool": {p95_ms: 100}\n')
    assert slo.cli([str(path), "--config", str(config)]) == 0


def test_workers_and_the_servers_counts_are_said() -> None:
    measured = summarize(
        samples(),
        workload="baseline",
        url="u",
        users=2,
        warmup=1.0,
        duration=10.0,
        driver_cpu_s=1.0,
        workers={"workers": 2, "connected": 2, "finished": 1},
    )
    measured["servers"] = {"answered": 5, "served": 6, "errors": [], "servers": ["s"]}
    text = render(measured)
    assert "2 worker processes: 2 connected, 1 finished - partial" in text
    assert "tool calls: 5 answered to the users; the MCP servers served 6" in text
    measured["servers"] = {
        "answered": 5,
        "served": None,
        "errors": ["GET s/stats failed"],
    }
    assert "the MCP servers' counts could not be read (GET s/stats failed)" in render(
        measured
    )


def test_a_collaborations_edits_are_counted_not_timed() -> None:
    made = [
        Sample(1.0, "collaborate:owner_updates", A, 90.0, True),
        Sample(1.0, "collaborate:owner_updates", B, 95.0, True),
        Sample(1.2, "collaborate:update_kept", A, 0.0, True, kind="tally"),
        Sample(1.2, "collaborate:update_lost", B, 0.0, True, kind="tally"),
        Sample(0.1, "collaborate:update_lost", B, 0.0, True, kind="tally"),  # warm-up
    ]
    measured = summarize(
        made,
        workload="collaborate",
        url="u",
        users=2,
        warmup=0.5,
        duration=2.0,
        driver_cpu_s=0.1,
    )
    assert measured["tallies"] == {
        "collaborate:update_kept": 1,
        "collaborate:update_lost": 1,
    }
    assert [s["step"] for s in measured["steps"]] == ["collaborate:owner_updates"]
    assert measured["total"]["requests"] == 2
    assert (
        "collaboration: 2 concurrent edits taken, 1 of them lost (overwritten by another "
        "edit: the gateway's update is last-writer-wins), 0 refused as conflicts (409)"
        in render(measured)
    )
    assert "collaboration:" not in render(result())


def test_a_locust_the_kit_is_not_built_on_is_named() -> None:
    probe = (
        "from perfkit.workflows.drive import locust_problem as p; "
        "print(p('2.47.0')); print(p('2.39.1')); print(p('3.0.0'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(KIT_ROOT / "utils"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    fine, old, new = done.stdout.splitlines()
    assert fine == "None"
    assert old.startswith("Locust 2.39.1 is not the kit's (>=2.40,<3): `make setup`")
    assert new.startswith("Locust 3.0.0 is not the kit's")


RECORD = """
import json, time
from locust.env import Environment
from perfkit.workflows.drive import recorder
env, samples = Environment(), []
recorder(env, samples, time.time())
env.events.request.fire(request_type="POST", name="share:member_calls", response_time=12.5,
    response_length=10, exception=None, context={"user": "a"},
    url="http://127.0.0.1:4444/servers/3f2a/mcp?x=1")
env.events.request.fire(request_type="WORKFLOW", name="share", response_time=99.0,
    response_length=0, exception=None, context={"user": "a"})
print(json.dumps([[s.kind, s.method, s.path] for s in samples]))
"""


def test_each_request_keeps_its_method_and_path_for_coverage() -> None:
    """A step's sample names the request (method, path without host or query): what REST
    coverage counts; a workflow's whole time is no request."""
    done = subprocess.run(
        [sys.executable, "-c", RECORD],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(KIT_ROOT / "utils")},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [
        ["step", "POST", "/servers/3f2a/mcp"],
        ["workflow", "", ""],
    ]


def test_a_new_prompt_read_again_after_a_404_is_counted() -> None:
    made = [
        Sample(1.0, "collaborate:member_reads", A, 20.0, True),
        Sample(1.1, "collaborate:read_again", A, 0.0, True, kind="tally"),
        Sample(1.2, "collaborate:read_again", B, 0.0, True, kind="tally"),
    ]
    measured = summarize(
        made,
        workload="collaborate",
        url="u",
        users=2,
        warmup=0.5,
        duration=2.0,
        driver_cpu_s=0.1,
    )
    assert measured["tallies"] == {"collaborate:read_again": 2}
    assert (
        "0 refused as conflicts (409); 2 reads of a team's new prompt were 404 and were read "
        "again" in render(measured)
    )
