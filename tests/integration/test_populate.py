"""A populated gateway, on the real gateway and its real databases: README's `make populate
DATASET=tiny` on a local stack of its own, on SQLite and on PostgreSQL - rows as planned, the
database checks clean, the gateway's REST lists counting them, a generated user logging in;
a second populate refused, --append adding a batch beside the first, and `make
populate-clean` removing exactly what the kit made (the stack's own MCP server registrations
and the admin stay)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    KIT_ROOT,
    Result,
    answers,
    kit_env,
    readme_command,
    run,
    run_processes,
    stack_processes,
)

URL = "http://127.0.0.1:4472"
STACK = "it-populate"


def own_stack(results: Path, **more: str) -> dict[str, str]:
    return kit_env(
        PERF_STACK_NAME=STACK, PERF_BASE_URL=URL, PERF_SERVER_BASE_PORT="9572",
        PERF_RESULTS_DIR=str(results), **more,
    )  # fmt: skip


def readme_output(
    tmp_path: Path, start: str, folder: str, name: str
) -> tuple[Result, Path, dict[str, Any]]:
    """Run the README command starting with `start` with results of its own; it must exit 0
    and leave one `folder` (a glob) holding JSON file `name`: the result, the folder, the JSON."""
    results = tmp_path / "results"
    env = kit_env(
        PERF_RESULTS_DIR=str(results), PERF_TOKEN_CACHE=str(tmp_path / "token.json")
    )
    done = run(["bash", "-c", readme_command(start)], env, timeout=900)
    assert done.code == 0, done.stderr[-3000:]
    [out] = results.glob(folder)
    return done, out, json.loads((out / name).read_text())


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
        "dataset 'smal' not found (have: history-100k, history-10k, history-1m, large, "
        "massive, medium, small, tiny)" in unknown.stderr
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
        # the report says what went in before the interrupt, labelled partial
        partial = newest_report(results)
        assert partial["state"] == "partial"
        assert 0 < sum(partial["written"].values()) < sum(partial["planned"].values())
        clean = run(["make", "populate-clean"], env)
        assert clean.code == 0, clean.stderr
        assert "removed" in clean.stdout
        assert api_total("/tools", env) == tools
    finally:
        run(["utils/local-stack.sh", "down"], env, timeout=120)
    assert stack_processes(KIT_ROOT / ".state" / STACK) == []


SCALED = {
    "PERF_ITERATIONS": "1",
    "PERF_REQUESTS": "4",
    "PERF_CONCURRENCY": "2",
    "PERF_WARMUP": "0",
    "PERF_GENERATE_REPORT": "false",
}


def test_readme_run_on_a_populated_gateway(tmp_path: Path) -> None:
    """README's `make test DATASET=small ...`: the run starts the stack, the stack writes the
    dataset, the run records it (settings.dataset, part of the fingerprint: test_database.py);
    a stack running without that dataset is refused."""
    assert not answers(URL), f"something already answers at {URL}"
    results = tmp_path / "results"
    # the lists that grow with the data, and one test that does not
    env = own_stack(results, PERF_TESTS="rest_list_tools_limit_*,health", **SCALED)
    command = readme_command("make test DATASET=").split()
    try:
        done = run(command, env, timeout=900)
        assert done.code == 0, done.stderr[-3000:]
        assert "writing dataset small into the gateway's database" in done.stderr
        populated = (results / "latest").resolve()
        summary = json.loads((populated / "summary.json").read_text())
        assert summary["settings"]["dataset"] == "small"
        before = summary["database"]["before"]
        assert before["tools"] >= 1000 and before["email_users"] >= 100
        assert [t["id"] for t in summary["tests"] if t["status"] != "ok"] == []
        # a stack that runs without the dataset is not silently measured as if it held it
        assert run(["utils/local-stack.sh", "up"], env).code == 0
        refused = run(["./run-configurable.sh", "--profile", "smoke", "--scenarios",
                       "tools,gateway-core", "--dataset", "tiny"], env)  # fmt: skip
        assert refused.code == 3
        assert "holds dataset 'none', not 'tiny'" in refused.stderr
    finally:
        run(["utils/local-stack.sh", "down"], env, timeout=120)
    assert stack_processes(KIT_ROOT / ".state" / STACK) == []


def test_readme_database_scenario(tmp_path: Path) -> None:
    """README's database scenario on a populated local stack of its own: the gateway's service
    layer timed without HTTP, each round's SQL kept, and the slow queries explained - with the
    limit lowered to 0.05 ms, tool_by_name's statement is one: it reads all of `small`'s tools
    (tools.name has no index) and the index on tools(name) is tried and measured (7.7-10x here)
    without ever reaching the gateway's database. Against a gateway the kit does not run the
    tests are skipped saying why."""
    assert not answers(URL), f"something already answers at {URL}"
    results = tmp_path / "results"
    chosen = "list_tools_member_limit_10,delete_tool,tool_by_name"
    env = own_stack(
        results, PERF_TESTS=chosen, PERF_DB_SLOW_MS="0.05", PERF_DB_POOL_SECONDS="0.3",
        **(SCALED | {"PERF_GENERATE_REPORT": "true"}),  # the Database section is read
    )  # fmt: skip
    command = readme_command("./scenarios/database-benchmark.sh --profile").split()
    try:
        done = run(command, env, timeout=900)
        assert done.code == 0, done.stderr[-3000:]
        assert "load generator may be the bottleneck" not in done.stderr
        # the calls went to the run's database worker, which ended with the run
        assert "no worker started" not in done.stderr
        run_dir = (results / "latest").resolve()
        assert run_processes(run_dir) == []
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["settings"]["dataset"] == "small"
        tests = {t["id"]: t for t in summary["tests"]}
        assert sorted(tests) == sorted(f"database/{n}" for n in chosen.split(","))
        assert all(t["status"] == "ok" for t in tests.values())
        assert all(t["aggregate"]["p50_ms"] > 0 for t in tests.values())
        sql = json.loads(
            (
                run_dir / "raw/database/list_tools_member_limit_10/round-1.sql.json"
            ).read_text()
        )
        assert sql["calls"] == int(SCALED["PERF_REQUESTS"])
        assert sql["statements_per_call"] >= 1
        assert (
            "SELECT" in sql["slowest"][0]["sql"] and "tools" in sql["slowest"][0]["sql"]
        )
        # the slow queries: tool_by_name's scan, explained, the index measured and recommended
        queries = summary["database"]["queries"]
        assert set(queries["tests"]) == set(tests)
        slow = {e["test"]: e for e in queries["slow_queries"]}
        by_name = slow["database/tool_by_name"]
        assert by_name["plan"] == ["SCAN tools"], by_name["plan"]
        [trial] = by_name["trials"]
        assert trial["index"] == "CREATE INDEX ON tools (name)" and trial["used"]
        assert trial["before_ms"] > 0 and trial["after_ms"] > 0
        [rec] = queries["recommendations"]
        assert rec["index"] == trial["index"] and rec["gain"] >= queries["min_gain"]
        assert "recommendations:\n    CREATE INDEX ON tools (name)" in done.stdout
        # the connection pool: levels auto go past the gateway's pool (the kit's 20 + 10),
        # which fills there and never hands out more
        pool = summary["database"]["pool"]
        capacity = pool["pool"]["capacity"]
        assert capacity == 30 and pool["op"] == "list_tools_member"
        levels = pool["levels"]
        assert [lv["concurrency"] for lv in levels] == [1, 2, 4, 8, 16, 30, 45]
        assert all(lv["calls"] > 0 and lv["errors"] == 0 for lv in levels), levels
        assert all(lv["checked_out_max"] <= capacity for lv in levels)
        # no call can find the pool full while there are no more callers than connections;
        # past it they may (45 threads for 30 connections: 33-48% of the calls did here)
        assert all(lv["queued"] == 0 for lv in levels if lv["concurrency"] <= capacity)
        assert pool["full_at"] in (None, 45)
        assert pool["recommendation"] and "Connection pool (sqlite" in done.stdout
        html = (run_dir / "report.html").read_text()
        assert (
            'data-table="database-pool"' in html and "data-pool-recommendation" in html
        )
        # ... and the trial's index is nowhere in the gateway's database
        # (the run took the stack it started down again; its database file stays)
        [db_file] = (KIT_ROOT / ".state" / STACK / "data").glob("*/mcp.db")
        with closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as db:
            indexes = [
                r[0]
                for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index'"
                )
            ]
        assert indexes and not any(n.startswith("perfkit_trial_") for n in indexes), (
            indexes
        )
        # the rolled-back writes left the dataset as it was
        assert (
            json.loads((run_dir / "database-after.json").read_text())["tables"]["tools"]
            == summary["database"]["before"]["tools"]
        )
        # the same gateway seen as one the kit does not run: no database to reach
        assert run(["utils/local-stack.sh", "up"], env).code == 0
        other = kit_env(
            PERF_STACK_NAME="it-none", PERF_RESULTS_DIR=str(tmp_path / "other"),
            PERF_TESTS="get_tool", **SCALED,
        )  # fmt: skip
        skipped = run(["./scenarios/database-benchmark.sh", "--profile", "smoke", "--url", URL,
                       "--baseline", "skip"], other)  # fmt: skip
        assert skipped.code == 0, skipped.stderr[-2000:]
        assert "skipped" in skipped.stderr and "is not it" in skipped.stderr
    finally:
        run(["utils/local-stack.sh", "down"], env, timeout=120)
    assert stack_processes(KIT_ROOT / ".state" / STACK) == []


def test_sqlite_against_postgresql_side_by_side(tmp_path: Path) -> None:
    """--database both: the configured release on two stacks (the A/B ports), SQLite and
    PostgreSQL, each written the same dataset; the rounds alternate and PostgreSQL is judged
    against SQLite. Each side's run names its database and has its slow-query analysis; both
    stacks stop, the PostgreSQL database the kit made is dropped."""
    from test_ab_builds import assert_nothing_left_running

    results = tmp_path / "results"
    env = kit_env(
        PERF_RESULTS_DIR=str(results), PERF_TOKEN_CACHE=str(tmp_path / "token.json"),
        PERF_DB_POOL_LEVELS="1,4", PERF_DB_POOL_SECONDS="0.3", **SCALED,
    )  # fmt: skip
    command = readme_command("./scenarios/database-benchmark.sh --database both")
    done = run(["bash", "-c", command], env, timeout=900)
    assert done.code == 0, done.stderr[-3000:]
    assert (
        "on sqlite; candidate" in done.stderr
        and "on postgresql; rounds alternate" in done.stderr
    )
    [run_dir] = sorted(results.glob("smoke_ab_*"))
    for side, backend in (("base", "sqlite"), ("candidate", "postgresql")):
        info = json.loads((run_dir / side / "run.json").read_text())
        assert info["settings"]["db_backend"] == backend
        summary = json.loads((run_dir / side / "summary.json").read_text())
        assert summary["settings"]["dataset"] == "tiny"
        assert [t["status"] for t in summary["tests"]] == ["ok", "ok"]
        plans = json.loads((run_dir / side / "database-plans.json").read_text())
        assert plans["backend"] == backend and plans["leftover"] == []
        assert set(summary["database"]["queries"]["tests"]) == {
            "database/get_tool",
            "database/tool_by_name",
        }
        # each side's pool, on its own database: PostgreSQL's connections seen as they were
        pool = summary["database"]["pool"]
        assert pool["backend"] == backend and pool["op"] == "get_tool"
        assert [lv["concurrency"] for lv in pool["levels"]] == [1, 4]
        if backend == "postgresql":
            assert pool["max_connections"] > 0
            assert max(lv["db_connections_max"] for lv in pool["levels"]) >= 4
        else:
            assert pool["max_connections"] is None
    comparison = json.loads((run_dir / "candidate" / "comparison.json").read_text())
    assert {t["id"] for t in comparison["tests"]} == {
        "database/get_tool",
        "database/tool_by_name",
    }
    # which database to use at this size, with the figures behind it
    [note] = [
        n for n in comparison["notes"] if n.startswith("postgresql against sqlite")
    ]
    assert "on the `tiny` dataset: p50" in note and "Recommendation:" in note
    assert "note: postgresql against sqlite" in done.stdout
    assert_nothing_left_running()
    listed = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SELECT datname FROM pg_database"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout.split()  # fmt: skip
    assert "perfkit_ab_candidate" not in listed


def test_readme_growth_command(tmp_path: Path) -> None:
    """make growth: the same tests on a fresh stack of its own per dataset (empty, then tiny),
    side by side against the database's rows, each test's growth fitted and said in words; the
    stack is down afterwards."""
    growth_url = "http://127.0.0.1:4477"
    assert not answers(growth_url), f"something already answers at {growth_url}"
    done, out, data = readme_output(
        tmp_path, "make growth DATASETS=empty", "growth_*", "growth.json"
    )
    runs = data["runs"]
    assert [r["dataset"] for r in runs] == ["empty", "tiny"]
    assert runs[0]["rows"] < runs[1]["rows"] and runs[0]["tools"] < runs[1]["tools"]
    for r in runs:  # each run on its own fresh stack, holding what it says
        summary = json.loads((Path(r["run"]) / "summary.json").read_text())
        assert summary["database"]["state"] == "fresh"
        assert summary["settings"]["dataset"] == (
            "" if r["dataset"] == "empty" else "tiny"
        )
    assert [t["id"] for t in data["tests"]] == [
        "tools/rest_list_tools_limit_100",
        "tools/rpc_tools_call_get_system_time",
        "database/list_tools_admin_limit_100",
    ]
    words = {"flat", "sublinear", "about linear", "worse than linear"}
    assert all(len(t["points"]) == 2 and t["growth"] in words for t in data["tests"])
    assert "Growth with data: empty (" in done.stdout
    assert (out / "growth.html").read_text().count('data-chart="growth"') == 3
    assert not answers(growth_url)
    assert stack_processes(KIT_ROOT / ".state" / "growth") == []


def test_readme_history_growth_command(tmp_path: Path) -> None:
    """make growth over the call-history datasets: the servers list with its metrics loads
    every raw server_metrics row, so it grows with the recorded calls - the README's finding,
    checked where it cannot be noise: from 2,000 to 20,000 server calls the service call got
    several times slower, and its SQL names the table."""
    _, _, data = readme_output(
        tmp_path, "make growth DATASETS=tiny,history", "growth_*", "growth.json"
    )
    assert [r["dataset"] for r in data["runs"]] == [
        "tiny",
        "history-10k",
        "history-100k",
    ]
    tests = {t["id"]: t for t in data["tests"]}
    assert set(tests) == {
        "history/rest_list_servers_metrics_limit_50",
        "history/rest_list_prompts_metrics_limit_50",
        "history/list_servers_metrics_limit_50",
    }
    for test_id in (
        "history/rest_list_servers_metrics_limit_50",
        "history/list_servers_metrics_limit_50",
    ):
        p50s = [p["p50_ms"] for p in tests[test_id]["points"]]
        assert p50s[2] > 3 * p50s[1], (
            test_id,
            p50s,
        )  # 10x the rows: measured 9.6-19.6x
    # the statements the call sent, each timed with its rows fetched: the raw metrics read
    last = Path(data["runs"][2]["run"])
    [plans] = json.loads((last / "database-plans.json").read_text())["tests"]
    assert any(
        re.search(r"FROM server_metrics\s+WHERE", st["sql"])
        for st in plans["statements"]
    ), plans
    assert not answers("http://127.0.0.1:4477")


def test_readme_migration_cost_command(tmp_path: Path) -> None:
    """make migration-cost: 1.0.6's databases (empty, tiny) migrated by the configured release's
    bootstrap_db, timed, every row kept; the stack it used is down afterwards."""
    done, _, summary = readme_output(
        tmp_path, "make migration-cost FROM=", "migration_*", "migration.json"
    )
    assert summary["from"] == "1.0.6"
    empty, tiny = summary["databases"]
    assert (empty["dataset"], tiny["dataset"]) == ("empty", "tiny")
    for measured in (empty, tiny):
        assert measured["revision_before"] != measured["revision_after"]
        assert measured["rows_before"] == measured["rows_after"]
        assert measured["seconds"] > 0 and measured["seconds_at_head"] > 0
    assert tiny["rows_before"] > empty["rows_before"] + 400  # tiny's ~500 rows went in
    assert "Schema migration 1.0.6 -> " in done.stdout
    assert not answers("http://127.0.0.1:4478")
    assert stack_processes(KIT_ROOT / ".state" / "migration") == []
