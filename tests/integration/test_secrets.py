"""No admin token on a command line (README.md, "Secrets"), on the real gateway: while a run
goes on, no process's /proc/PID/cmdline holds the user's (admin's) token; the token hey carries
is the run's benchmark token, which may read and call tools but gets 403 on an administrative
call (creating a user), and 401 once the run ended - normally, after Ctrl+C, and after a
SIGKILL once the next run has started (it revokes what the killed one left)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
from conftest import KIT_ROOT, MAIN_URL, kit_env

TOKEN_CACHE = KIT_ROOT / ".state" / "auth" / "token.json"
LEDGER = KIT_ROOT / ".state" / "auth" / "bench-tokens.json"
BEARER = re.compile(r"Authorization: Bearer (\S+)")
# a light run cut short (CI time: two rounds): one scenario's REST lists, enough requests that
# hey runs for a while
RUN_ARGS = ["--profile", "light", "--scenarios", "tools", "--tests",
            "rest_list_tools_limit_10,rest_list_tools_limit_50", "--requests", "200",
            "--iterations", "2", "--baseline", "skip", "--skip-checks"]  # fmt: skip


# a shorter run where only the start matters (a later flag wins)
QUICK = ("--tests", "rest_list_tools_limit_10", "--requests", "20")


def user_tokens() -> set[str]:
    """The kit's cached login tokens for the target (the admin's)."""
    if not TOKEN_CACHE.exists():  # not logged in yet
        return set()
    data = json.loads(TOKEN_CACHE.read_text())
    return {t["access_token"] for t in data["tokens"] if t["url"] == MAIN_URL}


def status(
    method: str, path: str, token: str, body: dict[str, Any] | None = None
) -> int:
    request = urllib.request.Request(
        f"{MAIN_URL}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def create_user(token: str) -> int:
    body = {"email": "perfkit-intruder@perfkit.example.com", "password": "Qz7!wXk9#mLp2vRt",
            "full_name": "not to be made", "is_admin": True}  # fmt: skip
    return status("POST", "/auth/email/admin/users", token, body)


@dataclass
class Watch:
    """What a scan of every process's command line found while a run went on."""

    scans: int = 0
    user_token_seen: list[str] = field(default_factory=list)
    hey_tokens: set[str] = field(default_factory=set)

    def scan(self, secrets: set[str], results: Path) -> None:
        self.scans += 1
        for proc in psutil.process_iter(["pid", "name", "cmdline"]):
            line = " ".join(proc.info["cmdline"] or [])
            if any(secret in line for secret in secrets):
                self.user_token_seen.append(f"{proc.info['pid']} {line[:120]}")
            if proc.info["name"] != "hey" or not (found := BEARER.search(line)):
                continue
            try:
                if proc.environ().get("PERF_RUN_DIR", "").startswith(str(results)):
                    self.hey_tokens.add(found.group(1))
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue


@pytest.fixture()
def target(stack_url: str) -> Iterator[str]:
    # the kit's login must be cached before the run: its token is what must not leak
    yield stack_url


def start_run(results: Path, *extra: str) -> subprocess.Popen[str]:
    env = kit_env(PERF_RESULTS_DIR=str(results))
    for name in (
        "PERF_STACK_NAME",
        "PERF_SERVER_BASE_PORT",
    ):  # the stack serving the target
        if name in os.environ:
            env[name] = os.environ[name]
    return subprocess.Popen(
        ["./run-configurable.sh", "--url", MAIN_URL, *RUN_ARGS, *extra],
        cwd=KIT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def watch_until(
    run: subprocess.Popen[str], results: Path, stop: Callable[[Watch], bool]
) -> Watch:
    watch = Watch()
    deadline = time.monotonic() + 240
    while run.poll() is None and not stop(watch) and time.monotonic() < deadline:
        watch.scan(user_tokens(), results)
        time.sleep(0.05)
    return watch


def run_processes(results: Path) -> list[psutil.Process]:
    """Processes of the runs writing under results (they inherit PERF_RUN_DIR)."""
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.environ().get("PERF_RUN_DIR", "").startswith(str(results)):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def ledger_ids() -> set[str]:
    if not LEDGER.exists():
        return set()
    assert LEDGER.stat().st_mode & 0o777 == 0o600
    return {t["id"] for t in json.loads(LEDGER.read_text())["tokens"]}


def test_a_run_sends_a_benchmark_token_that_can_read_not_administer_and_is_revoked_after(
    target: str, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    run = start_run(results)
    checked: dict[str, int] = {}

    def check_while_running(watch: Watch) -> bool:
        if watch.hey_tokens and not checked:
            token = next(iter(watch.hey_tokens))
            checked["create_user"] = create_user(token)
            checked["list_tools"] = status("GET", "/tools?limit=1", token)
        return False  # watch the whole run

    watch = watch_until(run, results, check_while_running)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 0, err[-2000:]
    assert watch.scans > 10 and not watch.user_token_seen, watch.user_token_seen
    assert len(watch.hey_tokens) == 1, "hey carried no token, or several"
    assert not watch.hey_tokens & user_tokens()
    # while the run went on: reads work, administration does not
    assert checked == {"create_user": 403, "list_tools": 200}
    [token] = watch.hey_tokens
    assert status("GET", "/tools?limit=1", token) == 401  # revoked at the end
    [run_dir] = [p for p in results.iterdir() if p.is_dir() and not p.is_symlink()]
    summary = json.loads((run_dir / "summary.json").read_text())
    load_as = summary["target"]["load_as"]
    assert load_as["kind"] == "benchmark-token"
    assert load_as["email"] == "perfkit-benchmark@perfkit.example.com"
    assert "tools.execute" in load_as["permissions"]
    assert load_as["token_id"] not in ledger_ids()
    assert (
        token
        not in (run_dir / "summary.json").read_text()
        + (run_dir / "run.json").read_text()
    )
    assert "load ran as" in (run_dir / "report.html").read_text()


def test_ctrl_c_revokes_the_benchmark_token_too(target: str, tmp_path: Path) -> None:
    results = tmp_path / "results"
    run = start_run(results)
    watch = watch_until(run, results, lambda w: bool(w.hey_tokens))
    assert watch.hey_tokens, "no hey with a token seen before the run ended"
    [token] = watch.hey_tokens
    assert status("GET", "/tools?limit=1", token) == 200
    os.killpg(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err[-2000:]
    assert "revoked the benchmark token of this run" in err
    assert status("GET", "/tools?limit=1", token) == 401
    assert not watch.user_token_seen
    assert not run_processes(results)


def test_the_token_of_a_killed_run_is_revoked_by_the_next_run(
    target: str, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    run = start_run(results)
    watch = watch_until(run, results, lambda w: bool(w.hey_tokens))
    assert watch.hey_tokens, "no hey with a token seen before the run ended"
    [token] = watch.hey_tokens
    # no trap runs: the token stays valid, and in the ledger
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    for proc in run_processes(results):  # its hey and monitor, in sessions of their own
        proc.kill()
    run.communicate(timeout=60)
    assert status("GET", "/tools?limit=1", token) == 200
    next_run = start_run(tmp_path / "next", *QUICK)
    _, err = next_run.communicate(timeout=240)
    assert next_run.returncode == 0, err[-2000:]
    assert "benchmark token(s) an earlier run at" in err
    assert status("GET", "/tools?limit=1", token) == 401


def test_a_gateway_that_issues_no_benchmark_token_falls_back_or_refuses_when_strict(
    target: str, tmp_path: Path
) -> None:
    """A benchmark user somebody made a platform admin must not get a token: the run says
    so once and sends the user's token - or, --strict-secrets, stops with exit 3."""
    bench = "/auth/email/admin/users/perfkit-benchmark@perfkit.example.com"
    start_run(tmp_path / "first", *QUICK).communicate(timeout=240)  # the user exists
    [admin] = user_tokens()  # the kit's login, cached by that run
    assert status("PUT", bench, admin, {"is_admin": True}) == 200
    try:
        strict = start_run(tmp_path / "strict", "--strict-secrets", *QUICK)
        _, err = strict.communicate(timeout=240)
        assert strict.returncode == 3, err[-2000:]
        assert "error: --strict-secrets: " in err and "is a platform admin" in err
        loose = start_run(tmp_path / "loose", *QUICK)
        _, err = loose.communicate(timeout=240)
        assert loose.returncode == 0, err[-2000:]
        assert err.count("issued no benchmark token") == 1
    finally:
        assert status("PUT", bench, admin, {"is_admin": False}) == 200
    [run_dir] = [
        p for p in (tmp_path / "loose").iterdir() if p.name.startswith("light_")
    ]
    load_as = json.loads((run_dir / "summary.json").read_text())["target"]["load_as"]
    assert load_as["kind"] == "user-token" and load_as["permissions"] is None
    assert "is a platform admin" in load_as["note"]
