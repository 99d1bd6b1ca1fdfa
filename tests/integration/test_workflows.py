"""Users in teams made on demand and removed again (make workflows-users / workflows-clean)
against the real gateway, checked through its own admin API."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import psutil
from conftest import KIT_ROOT, answers, kit_env, readme_command, run, stack_processes
from perfkit.workflows.rounds import MIXED, TIMED_STEPS

PREFIX = "it-wf"
STATE = KIT_ROOT / ".state" / "workflows"


def ask(url: str, token: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def test_users_in_teams_log_in_and_are_gone_after_clean(
    stack_url: str, tmp_path: Path
) -> None:
    env = kit_env(
        PERF_BASE_URL=stack_url, PERF_TOKEN_CACHE=str(tmp_path / "token.json")
    )
    admin = run(
        ["utils/setup-auth.sh", "--url", stack_url, "--print"], env
    ).stdout.strip()
    made = run(
        ["make", "workflows-users", "USERS=3", "TEAMS=2", f"PREFIX={PREFIX}"], env
    )
    assert made.code == 0, made.stderr[-2000:]
    assert "made 3 users in 2 teams (4 memberships)" in made.stdout
    tokens_file = STATE / f"{PREFIX}.tokens.json"
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    tokens = json.loads(tokens_file.read_text())
    assert all(t["token"] not in made.stdout + made.stderr for t in tokens.values())
    emails = sorted(tokens)
    assert emails == [f"{PREFIX}_user_{n}@perfkit.example.com" for n in (1, 2, 3)]
    for email, entry in tokens.items():
        # each user is who the token says, in the teams the plan put them in
        status, teams = ask(f"{stack_url}/v1/teams/", entry["token"])
        assert status == 200, teams
        rows = teams["teams"] if isinstance(teams, dict) else teams
        mine = {t["id"] for t in rows if t["name"].startswith(f"{PREFIX}_team_")}
        assert mine == set(entry["teams"]), email
    assert len(tokens[emails[2]]["teams"]) == 2  # every third user is in two teams

    dry = run(["make", "workflows-clean", f"PREFIX={PREFIX}", "DRY_RUN=1"], env)
    assert dry.code == 0 and "would remove 9" in dry.stdout, dry.stdout + dry.stderr
    cleaned = run(["make", "workflows-clean", f"PREFIX={PREFIX}"], env)
    assert cleaned.code == 0, cleaned.stderr[-2000:]
    assert not tokens_file.exists() and not (STATE / f"{PREFIX}.ledger.jsonl").exists()
    for email in emails:
        status, user = ask(
            f"{stack_url}/v1/auth/email/admin/users/{urllib.parse.quote(email)}", admin
        )
        # deleted, or - a former team member the gateway cannot delete - deactivated
        assert status == 404 or (status == 200 and user["is_active"] is False), user
        status, _ = ask(f"{stack_url}/v1/tools?limit=1", tokens[email]["token"])
        assert status in (401, 403), f"{email}'s token still works after clean"
    status, teams = ask(f"{stack_url}/v1/teams/?limit=500", admin)
    rows = teams["teams"] if isinstance(teams, dict) else teams
    assert not [t for t in rows if t["name"].startswith(f"{PREFIX}_team_")]
    # a second round with the same prefix works: deactivated users are made active again
    again = run(["make", "workflows-users", "USERS=1", f"PREFIX={PREFIX}"], env)
    assert again.code == 0, again.stderr[-2000:]
    assert run(["make", "workflows-clean", f"PREFIX={PREFIX}"], env).code == 0


def test_no_gateway_is_exit_3_naming_the_fix() -> None:
    result = run(
        ["utils/workflows.sh", "clean", "--url", "http://127.0.0.1:9"], kit_env()
    )
    assert result.code == 3
    assert "no gateway answers at http://127.0.0.1:9; start it or fix --url" in (
        result.stderr
    )


def drivers(out: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "perfkit.workflows.drive" in cmdline and str(out) in cmdline:
            found.append(proc)
    return found


def drive(url: str, prefix: str, env: dict[str, str], *flags: str) -> Any:
    """perfkit.workflows.drive itself, as the users of `workflows.sh people --prefix` made
    them (for what workflows.sh does not pass: a leaking visibility, another config)."""
    return run(
        [
            str(KIT_ROOT / ".state/venv/bin/python"), "-m", "perfkit.workflows.drive",
            "--url", url, "--people", str(STATE / f"{prefix}.tokens.json"), *flags,
        ],
        {**env, "PYTHONPATH": str(KIT_ROOT / "utils")},
        timeout=120,
    )  # fmt: skip


def failures(stdout: str) -> str:
    """What a run said failed (its `failed:` lines), else the end of its output."""
    said = [line for line in stdout.splitlines() if line.startswith("failed: ")]
    return "\n".join(said) or stdout[-2000:]


def worker_processes(out: Path) -> list[psutil.Process]:
    """The worker processes of the run writing `out` (its driver's children)."""
    return [
        child
        for proc in drivers(out)
        for child in proc.children()
        if "--worker-of" in child.cmdline()
    ]


def test_a_run_measures_each_workflow_step_and_user_then_removes_them(
    stack_url: str, tmp_path: Path
) -> None:
    """README's `make workflows USERS=3 DURATION=20`, as written."""
    env = kit_env(PERF_BASE_URL=stack_url, PERF_RESULTS_DIR=str(tmp_path / "results"))
    command = readme_command("make workflows USERS=3 DURATION=20")
    result = run(["bash", "-c", command], env)
    assert result.code == 0, failures(result.stdout) + result.stderr[-3000:]
    [out] = (tmp_path / "results").glob("workflows_*/workflows.json")
    measured = json.loads(out.read_text())
    assert (measured["workload"], measured["users"], measured["interrupted"]) == (
        "mixed",
        3,
        False,
    )
    workflows = {w["workflow"]: w for w in measured["workflows"]}
    assert set(workflows) == {"baseline", "share", "collaborate", "token", "agent"}, (
        "mixed runs every workflow"
    )
    assert all(w["requests"] > 0 and w["failures"] == 0 for w in workflows.values()), (
        measured["errors"]
    )
    steps = {s["step"]: s for s in measured["steps"]}
    # the steps the scenario workflows cuts into tests are the steps the workflows time
    timed = {f"{w}:{name}" for w in MIXED for name in TIMED_STEPS[w]}
    assert timed <= set(steps), sorted(timed - set(steps))
    for step in (
        "baseline:list_tools",
        "baseline:call_tool",
        "share:create_server",
        "share:visible_after",
        "share:member_calls",
        "share:outsider_lists",
        "collaborate:create_prompt",
        "collaborate:member_reads",
        "collaborate:owner_updates",
        "collaborate:owner_verifies",
        "token:use_revoked",
        "agent:initialize",
        "agent:tools_call",
    ):
        assert step in steps, step
        assert steps[step]["failures"] == 0
        assert steps[step]["min"] <= steps[step]["p50"] <= steps[step]["max"]
    users = [u["user"] for u in measured["per_user"]]
    assert users == [f"loadtest_user_{n}@perfkit.example.com" for n in (1, 2, 3)]
    assert (
        sum(u["requests"] for u in measured["per_user"])
        == measured["total"]["requests"]
    )
    # an edit taken is counted kept or lost once its workflow has read the final text (a
    # workflow the end of the run cut short counts none of its edits)
    tallies = measured["tallies"]
    taken = tallies.get("collaborate:update_kept", 0) + tallies.get(
        "collaborate:update_lost", 0
    )
    conflicts = tallies.get("collaborate:update_conflict", 0)
    assert 0 < taken <= steps["collaborate:owner_updates"]["requests"] - conflicts
    assert "collaboration: " in result.stdout
    assert "share:member_calls" in result.stdout and "loadtest_user_3" in result.stdout
    assert "deactivated 3" in result.stderr  # removed at the end
    assert "servers" in result.stderr.split("removed", 1)[1].split("\n", 1)[0]
    assert not (STATE / "loadtest.ledger.jsonl").exists()
    admin = run(
        ["utils/setup-auth.sh", "--url", stack_url, "--print"], env
    ).stdout.strip()
    status, servers = ask(f"{stack_url}/v1/servers?limit=0", admin)
    assert status == 200
    assert not [s for s in servers if s["name"].startswith("loadtest-share-")]
    status, prompts = ask(f"{stack_url}/prompts?limit=0", admin)
    assert status == 200
    assert not [p for p in prompts if p["name"].startswith("loadtest-collab-")]


def test_the_share_workflow_fails_naming_a_visibility_leak(
    stack_url: str, tmp_path: Path
) -> None:
    """a server made public is seen by the user outside its team: the check must say so."""
    env = kit_env(PERF_BASE_URL=stack_url)
    made = run(
        ["utils/workflows.sh", "people", "--users", "3", "--prefix", "it-wfleak"], env
    )
    assert made.code == 0, made.stderr[-2000:]
    try:
        done = drive(
            stack_url,
            "it-wfleak",
            env,
            "--users", "1", "--duration", "3", "--warmup", "0", "--workload", "share",
            "--share-visibility", "public", "--ledger", str(STATE / "it-wfleak.ledger.jsonl"),
            "--prefix", "it-wfleak", "--out", str(tmp_path / "leak.json"),
        )  # fmt: skip
    finally:
        cleaned = run(["utils/workflows.sh", "clean", "--prefix", "it-wfleak"], env)
    assert cleaned.code == 0, cleaned.stdout + cleaned.stderr
    assert done.code == 4, done.stdout + done.stderr
    measured = json.loads((tmp_path / "leak.json").read_text())
    [share] = measured["workflows"]
    assert share["failures"] == share["requests"] > 0
    leaks = [e for e in measured["errors"] if e["step"] == "share:outsider_blind"]
    assert leaks and leaks[0]["error"].startswith("visibility leak: it-wfleak_user_")
    assert "visibility leak" in done.stdout


def test_ctrl_c_writes_what_was_measured_removes_the_users_and_leaves_nothing_running(
    stack_url: str, tmp_path: Path
) -> None:
    env = kit_env(PERF_BASE_URL=stack_url)
    out = tmp_path / "wf.json"
    args = [
        "utils/workflows.sh",
        "run",
        "--users",
        "3",
        "--duration",
        "60",
        "--warmup",
        "0",
    ]
    proc = subprocess.Popen(
        [*args, "--prefix", "it-wfint", "--output", str(out)],
        cwd=KIT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not drivers(out) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert drivers(out), "the Locust driver did not start"
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr[-3000:]
    measured = json.loads(out.read_text())
    assert measured["interrupted"] is True and measured["total"]["requests"] > 0
    assert "interrupted, partial" in stdout
    assert "deactivated 3" in stderr
    assert not (STATE / "it-wfint.ledger.jsonl").exists()
    assert drivers(out) == []


def test_two_worker_processes_add_up_to_what_the_mcp_servers_served(
    stack_url: str, tmp_path: Path
) -> None:
    """Locust's master and 2 worker processes: every user driven, every sample merged, and the
    tool calls the users got answers to are the calls the benchmark MCP servers served (a call
    cut off at the end may reach a server without its answer: at most one a user)."""
    env = kit_env(PERF_BASE_URL=stack_url, PERF_RESULTS_DIR=str(tmp_path / "results"))
    command = readme_command("make workflows USERS=3 DURATION=10 WORKERS=2")
    result = run(["bash", "-c", command], env)
    assert result.code == 0, failures(result.stdout) + result.stderr[-3000:]
    [out] = (tmp_path / "results").glob("workflows_*/workflows.json")
    measured = json.loads(out.read_text())
    assert measured["generator"]["workers"] == 2
    assert (measured["generator"]["connected"], measured["generator"]["finished"]) == (
        2,
        2,
    )
    assert [u["user"] for u in measured["per_user"]] == [
        f"loadtest_user_{n}@perfkit.example.com" for n in (1, 2, 3)
    ]
    calls = measured["servers"]
    assert calls["errors"] == [] and calls["answered"] > 0
    assert calls["answered"] <= calls["served"] <= calls["answered"] + 3
    assert f"tool calls: {calls['answered']} answered to the users" in result.stdout
    assert "2 worker processes: 2 connected, 2 finished" in result.stdout
    assert drivers(out) == []


def test_a_worker_from_another_machine_joins_the_run_over_the_master_port(
    stack_url: str, tmp_path: Path
) -> None:
    """README's two commands for several machines, both on this one (loopback), as written:
    the run waits for one remote worker; `worker --master-host` joins it, takes the users and
    target from it and hands its samples back - and what its workflows made is removed with
    the rest."""
    env = kit_env(PERF_BASE_URL=stack_url, PERF_RESULTS_DIR=str(tmp_path / "results"))
    command = readme_command(
        "utils/workflows.sh run --users 3 --duration 5 --remote-workers"
    )
    done = run(["bash", "-c", command], env, timeout=300)
    assert done.code == 0, failures(done.stdout) + done.stderr[-3000:]
    [out] = (tmp_path / "results").glob("workflows_*/workflows.json")
    measured = json.loads(out.read_text())
    generator = measured["generator"]
    assert (generator["workers"], generator["remote"]) == (1, 1)
    assert (generator["connected"], generator["finished"]) == (1, 1)
    assert (
        "1 worker process (1 on other machines): 1 connected, 1 finished" in done.stdout
    )
    assert len(measured["per_user"]) == 3 and measured["errors"] == []
    assert "1 worker(s) from other machines" in done.stderr
    assert "a worker of 127.0.0.1:5557" in done.stderr
    admin = run(
        ["utils/setup-auth.sh", "--url", stack_url, "--print"], env
    ).stdout.strip()
    status, servers = ask(f"{stack_url}/v1/servers?limit=0", admin)
    assert status == 200
    assert not [s for s in servers if s["name"].startswith("loadtest-share-")]


def test_the_first_command_of_a_fresh_clone_brings_the_local_stack_up_and_down(
    tmp_path: Path,
) -> None:
    """as make test: nothing answers at the base URL, so the run brings up the local stack,
    and takes it down at its end."""
    url = "http://127.0.0.1:4474"
    assert not answers(url), "port 4474 must be free for this test"
    env = kit_env(
        PERF_STACK_NAME="it-wfstack",
        PERF_BASE_URL=url,
        PERF_SERVER_BASE_PORT="9480",
        PERF_RESULTS_DIR=str(tmp_path / "results"),
        PERF_TOKEN_CACHE=str(tmp_path / "token.json"),
    )
    result = run(
        ["make", "workflows", "USERS=3", "DURATION=3", "WARMUP=0"], env, timeout=600
    )
    assert result.code == 0, result.stderr[-3000:]
    assert "taking down the local stack this run started" in result.stderr
    assert stack_processes(KIT_ROOT / ".state" / "it-wfstack") == []
    assert not answers(url)
    # and clean with nothing answering has nothing to do
    cleaned = run(["make", "workflows-clean"], env)
    assert cleaned.code == 0 and "nothing to remove there" in cleaned.stderr


def test_a_worker_that_dies_marks_the_run_partial(
    stack_url: str, tmp_path: Path
) -> None:
    env = kit_env(PERF_BASE_URL=stack_url)
    out = tmp_path / "partial.json"
    args = [
        "utils/workflows.sh", "run", "--users", "3", "--duration", "8", "--warmup", "0",
        "--workers", "2", "--workload", "baseline", "--prefix", "it-wfdie", "--output", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(
        args,
        cwd=KIT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        workers = worker_processes(out)
        time.sleep(0.2)
    assert len(workers) == 2, "the worker processes did not start"
    time.sleep(3)
    workers[0].kill()
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 4, stdout[-2000:] + stderr[-2000:]
    measured = json.loads(out.read_text())
    assert (measured["generator"]["connected"], measured["generator"]["finished"]) == (
        2,
        1,
    )
    assert "2 worker processes: 2 connected, 1 finished - partial" in stdout
    assert measured["total"]["requests"] > 0  # what the other worker measured is kept
    assert "deactivated 3" in stderr and drivers(out) == []
    assert not any(
        w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers
    )


def test_a_token_that_is_not_an_admins_is_exit_3_before_any_load(
    stack_url: str, tmp_path: Path
) -> None:
    env = kit_env(PERF_BASE_URL=stack_url)
    made = run(
        ["utils/workflows.sh", "people", "--users", "1", "--prefix", "it-wfadm"], env
    )
    assert made.code == 0, made.stderr[-2000:]
    try:
        user_token = json.loads((STATE / "it-wfadm.tokens.json").read_text())
        [entry] = user_token.values()
        refused = run(
            [str(KIT_ROOT / ".state/venv/bin/python"), "-m", "perfkit", "workflows-people",
             "make", "--url", stack_url, "--users", "1", "--prefix", "it-wfadm2",
             "--ledger", str(tmp_path / "ledger.jsonl")],
            {**env, "PYTHONPATH": str(KIT_ROOT / "utils"), "PERFKIT_TOKEN": entry["token"]},
        )  # fmt: skip
    finally:
        assert (
            run(["utils/workflows.sh", "clean", "--prefix", "it-wfadm"], env).code == 0
        )
    assert refused.code == 3, refused.stdout + refused.stderr
    assert (
        "needs a platform admin's token (permission admin.user_management)"
        in refused.stderr
    )


def test_the_scenario_workflows_is_judged_and_reported_like_hey_s(
    stack_url: str, tmp_path: Path
) -> None:
    """run-configurable.sh's scenario workflows: one multi-user run cut into rounds, every
    workflow and timed step a test of summary.json, the report's per-user section, and the
    run's users gone after it."""
    env = kit_env(
        PERF_BASE_URL=stack_url,
        PERF_RESULTS_DIR=str(tmp_path / "results"),
        PERF_ITERATIONS="2",
    )
    command = readme_command(
        "./run-configurable.sh --profile smoke --scenarios workflows"
    )
    done = run(["bash", "-c", command], env)
    assert done.code == 0, done.stdout[-2000:] + done.stderr[-3000:]
    [run_dir] = (tmp_path / "results").glob("smoke_*")
    summary = json.loads((run_dir / "summary.json").read_text())
    tests = {t["id"]: t for t in summary["tests"]}
    assert {"workflows/baseline", "workflows/share.member_calls"} <= set(tests)
    assert "workflows/collaborate.owner_updates" in tests
    assert all(t["status"] in ("ok", "skipped") for t in tests.values())
    listed = tests["workflows/baseline.list_tools"]
    assert listed["status"] == "ok" and len(listed["rounds"]) == 2
    whole = json.loads((run_dir / "raw/workflows/workflows.json").read_text())
    steps = {s["step"]: s for s in whole["steps"]}
    # the rounds are windows of the run: never more requests than the run sent
    assert (
        0
        < sum(r["requests"] for r in listed["rounds"])
        <= (steps["baseline:list_tools"]["requests"])
    )
    report = (run_dir / "report.html").read_text()
    assert 'id="workflows"' in report and 'data-table="workflows-user"' in report
    assert "perfkit-run_user_3@perfkit.example.com" in report
    admin = run(
        ["utils/setup-auth.sh", "--url", stack_url, "--print"], env
    ).stdout.strip()
    status, users = ask(f"{stack_url}/v1/auth/email/admin/users?limit=0", admin)
    assert status == 200
    users = users.get("users", users) if isinstance(users, dict) else users
    assert not [
        u
        for u in users
        if u["email"].startswith("perfkit-run_user_") and u.get("is_active", True)
    ]


def test_abort_on_slo_stops_the_run_at_the_first_breach(
    stack_url: str, tmp_path: Path
) -> None:
    """An SLO no gateway meets (p95 of a list under 1 ms): a 60 s run stops after its first
    judged seconds, exit 1, the breach named in the result."""
    env = kit_env(PERF_BASE_URL=stack_url)
    made = run(
        ["utils/workflows.sh", "people", "--users", "2", "--prefix", "it-wfslo"], env
    )
    assert made.code == 0, made.stderr[-2000:]
    config = tmp_path / "config.yaml"
    config.write_text('slos:\n  "workflows/baseline:list_tools": {p95_ms: 1}\n')
    try:
        begun = time.monotonic()
        done = drive(
            stack_url,
            "it-wfslo",
            env,
            "--users", "2", "--duration", "60", "--warmup", "1", "--workload", "baseline",
            "--out", str(tmp_path / "out.json"), "--abort-on-slo", "--config", str(config),
        )  # fmt: skip
        took = time.monotonic() - begun
    finally:
        run(["utils/workflows.sh", "clean", "--prefix", "it-wfslo"], env)
    assert done.code == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert took < 40, f"the run went on for {took:.0f} s"
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["aborted"]["at_s"] < 30
    assert "workflows/baseline.list_tools: p95_ms" in result["aborted"]["breaches"][0]
    assert "stopped early at" in done.stdout
