"""A populated gateway, on the real gateway and its real databases: README's `make populate
DATASET=tiny` on a local stack of its own, on SQLite and on PostgreSQL - rows as planned, the
database checks clean, the gateway's REST lists counting them, a generated user logging in;
a second populate refused, --append adding a batch beside the first, and `make
populate-clean` removing exactly what the kit made (the stack's own MCP server registrations
and the admin stay)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import KIT_ROOT, answers, kit_env, readme_command, run, stack_processes

URL = "http://127.0.0.1:4472"
STACK = "it-populate"


def own_stack(results: Path, **more: str) -> dict[str, str]:
    return kit_env(
        PERF_STACK_NAME=STACK, PERF_BASE_URL=URL, PERF_SERVER_BASE_PORT="9572",
        PERF_RESULTS_DIR=str(results), **more,
    )  # fmt: skip


def newest_report(results: Path, name: str = "report.json") -> dict[str, Any]:
    [folder] = sorted(results.glob("populate_*"), key=lambda p: p.stat().st_mtime)[-1:]
    data: dict[str, Any] = json.loads((folder / name).read_text())
    return data


def api_total(path: str, env: dict[str, str]) -> int:
    """The rows a REST list shows the admin, all of them at once (limit=0)."""
    token = run(["utils/setup-auth.sh", "--url", URL, "--print"], env).stdout.strip()
    request = urllib.request.Request(
        f"{URL}{path}?limit=0", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = json.loads(answer.read())
    return len(body)


def check_complete(report: dict[str, Any]) -> None:
    assert report["state"] == "complete"
    assert report["written"] == report["planned"]
    assert report["validation"]["ok"], report["validation"]["problems"]
    assert report["api"]["ok"], report["api"]["problems"]
    assert report["api"]["login"]["ok"] is True
    assert report["api"]["login"]["email"].endswith("@perfkit.example.com")
    assert oct(Path(report["credentials"]).stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_readme_populate_then_append_then_clean(tmp_path: Path, backend: str) -> None:
    assert not answers(URL), f"something already answers at {URL}"
    results = tmp_path / "results"
    env = own_stack(results, PERF_DB_BACKEND=backend)
    command = readme_command("make populate DATASET=tiny").split()
    try:
        assert run(["utils/local-stack.sh", "up"], env).code == 0
        before = {p: api_total(p, env) for p in ("/tools", "/servers", "/prompts")}
        done = run(command, env)
        assert done.code == 0, done.stderr
        first = newest_report(results)
        check_complete(first)
        assert first["planned"]["tools"] == 24 and first["planned"]["email_users"] == 6
        assert "tools" in done.stdout and "logged in" in done.stdout
        # the admin's lists count the dataset's non-private rows on top of what was there
        after = {p: api_total(p, env) for p in ("/tools", "/servers", "/prompts")}
        assert after["/tools"] > before["/tools"] >= 2
        assert after["/tools"] == first["visible_to_admin"]["tools"]

        again = run(command, env)
        assert again.code == 2
        assert (
            "already holds the kit's data" in again.stderr
            and "--append" in again.stderr
        )

        appended = run(
            ["utils/populate.sh", "--dataset", "tiny", "--append", "--quiet"], env
        )
        assert appended.code == 0, appended.stderr
        second = newest_report(results)
        check_complete(second)
        assert (first["generation"], second["generation"]) == (1, 2)
        assert api_total("/tools", env) > after["/tools"]

        dry = run(["make", "populate-clean", "DRY_RUN=1"], env)
        assert dry.code == 0, dry.stderr
        assert "would remove" in dry.stdout
        assert api_total("/tools", env) > after["/tools"]  # nothing removed

        clean = run(["make", "populate-clean"], env)
        assert clean.code == 0, clean.stderr
        removed = newest_report(results, "reset.json")["deleted"]
        assert removed["tools"] == 48 and removed["email_users"] == 12
        assert removed["server_tool_association"] > 0 and removed["user_roles"] >= 24
        # what the kit did not make is there as before
        assert {
            p: api_total(p, env) for p in ("/tools", "/servers", "/prompts")
        } == before
        nothing = run(["make", "populate-clean"], env)
        assert nothing.code == 0 and "nothing to remove" in nothing.stdout
    finally:
        run(["utils/local-stack.sh", "down"], env, timeout=120)
    assert stack_processes(KIT_ROOT / ".state" / STACK) == []


def test_bad_input_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    env = own_stack(tmp_path / "results")
    unknown = run(["make", "populate", "DATASET=smal"], env)
    assert unknown.code == 2
    assert (
        "dataset 'smal' not found (have: large, massive, medium, small, tiny)"
        in unknown.stderr
    )
    too_big = run(["utils/populate.sh", "--dataset", "large"], env)
    assert too_big.code == 2 and "too large for sqlite" in too_big.stderr
    seed = run(["utils/populate.sh", "--seed", "-3"], env)
    assert seed.code == 2 and "--seed must be a whole number" in seed.stderr
    dry = run(["make", "populate", "DATASET=medium", "DRY_RUN=1"], env)
    assert (
        dry.code == 0 and "estimate on sqlite" in dry.stdout and "10,000" in dry.stdout
    )
    # none of that brought a stack up
    assert not answers(URL)
    clean = run(["utils/populate.sh", "--clean"], env)
    assert clean.code == 3 and "does not run" in clean.stderr


def test_ctrl_c_leaves_whole_marked_batches_that_clean_removes(tmp_path: Path) -> None:
    assert not answers(URL), f"something already answers at {URL}"
    results = tmp_path / "results"
    env = own_stack(results)
    try:
        assert run(["utils/local-stack.sh", "up"], env).code == 0
        tools = api_total("/tools", env)
        proc = subprocess.Popen(
            ["utils/populate.sh", "--dataset", "small", "--batch-size", "1"],
            cwd=KIT_ROOT, env=env, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        assert proc.stderr is not None
        deadline = time.monotonic() + 120
        for line in proc.stderr:
            if "rows (" in line or time.monotonic() > deadline:
                break
        os.killpg(proc.pid, signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 130
        assert "make populate-clean" in rest
        clean = run(["make", "populate-clean"], env)
        assert clean.code == 0, clean.stderr
        assert "removed" in clean.stdout
        assert api_total("/tools", env) == tools
    finally:
        run(["utils/local-stack.sh", "down"], env, timeout=120)
    assert stack_processes(KIT_ROOT / ".state" / STACK) == []
