"""The database scenario's connection pool analysis (perfkit.results.dbpool, and the levels of
perfkit.dbbench.pool), on recorded real analyses:
- tests/fixtures/runs/smoke_database/database-pool.json: the local stack's gateway 1.0.7 on
  SQLite with the `small` dataset, its pool 20 + 10 overflow (the kit's defaults),
  list_tools_admin at limit 100, 1 s a level, levels auto (the run of test_dbqueries);
- tests/fixtures/dbpool/postgresql_tiny.json: list_tools_admin at limit 50 on PostgreSQL with
  the `tiny` dataset (pg_stat_activity sampled).
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from perfkit.dbbench.pool import auto_levels, levels_arg
from perfkit.report.run_data import build_report
from perfkit.report.run_page import render as render_page
from perfkit.results.dbpool import POOL_FILE, analyse, for_summary, render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RUN = FIXTURES / "runs" / "smoke_database"
SQLITE = RUN / POOL_FILE
POSTGRES = FIXTURES / "dbpool" / "postgresql_tiny.json"


def recorded(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def in_run(tmp_path: Path, data: dict[str, Any] | str) -> Path:
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data)
    (run / POOL_FILE).write_text(text, encoding="utf-8")
    return run


def test_auto_levels_go_past_the_pools_capacity() -> None:
    assert auto_levels(30) == [1, 2, 4, 8, 16, 30, 45]
    assert auto_levels(70) == [1, 2, 4, 8, 16, 32, 64, 70, 105]
    assert auto_levels(1) == [1, 2]
    assert auto_levels(None)[-1] == 64  # no pool of its own (NullPool): a fixed ladder
    assert max(auto_levels(300)) == 400  # at most MAX_LEVEL threads
    assert levels_arg("auto") is None
    assert levels_arg("16,1,4,4") == [1, 4, 16]
    for bad in ("0,2", "two", "", "1,999"):
        with pytest.raises(argparse.ArgumentTypeError):
            levels_arg(bad)


def test_sqlite_the_pool_fills_past_its_capacity_without_adding_throughput(
    tmp_path: Path,
) -> None:
    data = recorded(SQLITE)
    block = for_summary(in_run(tmp_path, data))
    assert block is not None and "error" not in block
    capacity = data["pool"]["capacity"]
    assert capacity == 30 and data["levels"][-1]["concurrency"] > capacity
    full = next(lv for lv in data["levels"] if lv["queued"] > 0)
    assert (
        full["checked_out_max"] == capacity and block["full_at"] == full["concurrency"]
    )
    # below it no call found the pool full: that wait was for the CPU the threads share
    assert all(
        lv["queued"] == 0
        for lv in data["levels"]
        if lv is not full and lv["concurrency"] < full["concurrency"]
    )
    rates = [lv["calls_per_s"] for lv in data["levels"]]
    assert block["peak"] == data["levels"][rates.index(max(rates))]["concurrency"]
    # the waits this recording shows: calls queue for a connection once the pool is full
    assert full["wait_p95_ms"] > 10 * data["levels"][0]["wait_p95_ms"]
    assert any(
        f"was full from concurrency {full['concurrency']}" in f
        for f in block["findings"]
    )
    assert block["recommendation"].startswith("the pool does not limit throughput")
    assert "add workers, not connections" in block["recommendation"]
    assert "max_connections" not in block["recommendation"]  # SQLite has none


def test_postgresql_names_its_connections_and_max_connections(tmp_path: Path) -> None:
    data = recorded(POSTGRES)
    block = for_summary(in_run(tmp_path, data))
    assert block is not None and data["backend"] == "postgresql"
    seen = max(lv["db_connections_max"] for lv in data["levels"])
    assert (
        seen >= data["levels"][-1]["checked_out_max"]
    )  # the pool's, and the gateway's own
    text = next(f for f in block["findings"] if f.startswith("PostgreSQL saw"))
    assert f"up to {seen} connections" in text
    assert f"max_connections {data['max_connections']}" in text
    workers = data["max_connections"] // data["pool"]["capacity"]
    assert f"allows {workers} worker(s) of this pool" in block["recommendation"]


def test_throughput_growing_until_the_pool_is_full_says_raise_the_pool() -> None:
    data = copy.deepcopy(recorded(SQLITE))
    capacity = data["pool"]["capacity"]
    for lv in data["levels"]:  # as if each call waited on the database, not the CPU
        lv["calls_per_s"] = 100.0 * min(lv["concurrency"], capacity)
        lv["cpu_cores"] = 0.2
    block = analyse(data, data["levels"])
    assert block["knee"] == capacity and block["full_at"] > capacity
    assert block["recommendation"].startswith("the pool limits throughput")
    assert "raise DB_POOL_SIZE" in block["recommendation"]
    assert not any("core" in f for f in block["findings"])


def test_a_pool_never_full_says_so(tmp_path: Path) -> None:
    data = recorded(SQLITE)
    data["levels"] = [lv for lv in data["levels"] if lv["concurrency"] <= 16]
    block = for_summary(in_run(tmp_path, data))
    assert block is not None and block["full_at"] is None
    assert any("never full up to concurrency 16" in f for f in block["findings"])
    assert "never full up to concurrency 16" in block["recommendation"]


def test_missing_corrupt_or_newer_files(tmp_path: Path) -> None:
    assert for_summary(tmp_path) is None  # the analysis did not run: no block
    block = for_summary(in_run(tmp_path, '{"schema_version": 1, "lev'))
    assert block is not None and "not valid JSON" in block["error"]
    assert render(block).startswith("Connection pool: not analysed:")
    block = for_summary(in_run(tmp_path, {"schema_version": 7}))
    assert "newer kit" in (block or {})["error"]
    failed = recorded(SQLITE)
    for lv in failed["levels"]:
        lv["calls_per_s"] = 0.0
    block = for_summary(in_run(tmp_path, failed))
    assert block is not None and "no level" in block["error"]
    assert "concurrency  calls/s" in render(block)  # the levels still shown


def test_the_text_shows_every_level_and_the_recommendation(tmp_path: Path) -> None:
    data = recorded(SQLITE)
    text = render(for_summary(in_run(tmp_path, data)))
    lines = text.splitlines()
    assert lines[0].startswith(
        "Connection pool (sqlite, list_tools_admin limit 100, 1 s a level; "
        "pool 20 + 10 overflow = 30 connections)"
    )
    assert [int(line.split()[0]) for line in lines[2 : 2 + len(data["levels"])]] == [
        lv["concurrency"] for lv in data["levels"]
    ]
    assert lines[-1].startswith("  recommendation: the pool does not limit")
    assert render(None) == ""


def test_the_report_shows_the_pool_table_chart_and_recommendation(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["database"]["pool"] == for_summary(
        run
    )  # what perfkit summarize wrote
    html = render_page(build_report(run))
    section = html[
        html.index('<h3 id="database-pool">') : html.index('<section id="tests">')
    ]
    rows = section.count("<tr")
    assert rows == 1 + len(recorded(SQLITE)["levels"])
    assert 'data-chart="database-pool"' in section and "<svg" in section
    assert "pool capacity 30" in section  # the chart marks it
    assert "<strong>Recommendation:</strong> the pool does not limit" in section
    assert 'class="warn"' in section  # the levels past the full pool stand out


def test_levels_too_slow_to_drain_are_named() -> None:
    data = recorded(SQLITE) | {
        "single_ms": 300.0, "skipped_levels": [45], "max_drain_s": 10.0,
    }  # fmt: skip
    levels = [lv for lv in data["levels"] if lv["concurrency"] < 45]
    block = analyse(data, levels)
    assert (
        "not run at concurrency 45: one call alone took 300 ms, so its calls in flight "
        "would take over 10 s to finish"
    ) in block["findings"]
    assert block["full_at"] is None  # the level that filled the pool did not run
