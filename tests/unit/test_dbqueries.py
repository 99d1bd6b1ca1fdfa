"""The database scenario's SQL in the summary, the text after a run and the report
(perfkit.results.dbqueries), on a recorded real run: tests/fixtures/runs/smoke_database/ - the
database scenario on the `small` dataset (SQLite), smoke profile, 3 rounds of 10 calls, five of
its tests, the slow-query limit lowered to 0.05 ms (`--slow-ms`) so that the analysis has
statements to explain: tool_by_name reads all 1,003 tools (tools.name has no index) and the
index on it was tried and measured."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from perfkit.report.run_data import build_report
from perfkit.report.run_page import render as render_page
from perfkit.results.dbqueries import PLANS_FILE, for_summary, render, short

RUN = Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "smoke_database"
TESTS = [
    "database/list_tools_member_limit_10",
    "database/list_tools_admin_limit_100",
    "database/get_tool",
    "database/tool_by_name",
    "database/create_tool",
]


def copy(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    return run


def test_each_test_has_its_statements_and_the_run_its_slow_queries() -> None:
    block = for_summary(RUN, TESTS)
    assert block is not None and list(block["tests"]) == TESTS
    assert (
        block["tests"]["database/get_tool"]["statements_per_call"] == 3
    )  # tool, gateway, team
    assert all(t["statements_max"] >= 1 for t in block["tests"].values())
    assert block["backend"] == "sqlite" and block["slow_ms"] == 0.05
    slow = {e["test"]: e for e in block["slow_queries"]}
    by_name = slow["database/tool_by_name"]
    assert by_name["plan"] == ["SCAN tools"]
    assert by_name["findings"][0].startswith("reads all of tools (1,003 rows")
    [trial] = by_name["trials"]
    assert trial["used"] and trial["recommended"] and trial["gain"] >= block["min_gain"]
    [rec] = block["recommendations"]
    assert (
        rec["index"] == "CREATE INDEX ON tools (name)" and rec["gain"] == trial["gain"]
    )
    # a write is listed when slow, never explained (its plan would run it)
    assert slow["database/create_tool"]["plan"] == []


def test_no_db_test_no_block_and_a_missing_or_corrupt_analysis_says_so(
    tmp_path: Path,
) -> None:
    assert for_summary(RUN, ["tools/rest_list_tools_limit_10"]) is None
    run = copy(tmp_path)
    (run / PLANS_FILE).write_text('{"schema_version": 1, "slow_q')
    block = for_summary(run, TESTS)
    assert block is not None and "not valid JSON" in block["error"]
    assert "database/tool_by_name" in block["tests"]  # the rounds' SQL still stands
    assert "not analysed" in render(block)
    (run / PLANS_FILE).write_text(json.dumps({"schema_version": 9}))
    assert "newer kit" in (for_summary(run, TESTS) or {})["error"]
    (run / PLANS_FILE).unlink()
    assert "did not run" in (for_summary(run, TESTS) or {})["error"]


def test_the_text_names_the_slow_queries_and_the_measured_index() -> None:
    text = render(for_summary(RUN, TESTS))
    assert "database/get_tool: 3 statement(s) a call" in text
    assert (
        "slow queries (at least 0.05 ms, each operation called alone on sqlite)" in text
    )
    assert "SELECT ... FROM tools WHERE tools.name = ?" in text
    assert (
        "recommendations:\n    CREATE INDEX ON tools (name): database/tool_by_name's"
        in text
    )
    assert render(None) == ""


def test_a_long_select_is_shown_by_its_from_and_where() -> None:
    columns = ", ".join(f"tools.c{i}" for i in range(60))
    assert short(f"SELECT {columns}\nFROM tools\nWHERE tools.name = ?") == (
        "SELECT ... FROM tools WHERE tools.name = ?"
    )
    assert short("SELECT 1") == "SELECT 1"


def test_the_report_has_a_database_section(tmp_path: Path) -> None:
    html = render_page(build_report(copy(tmp_path)))
    section = html[
        html.index('<section id="database">') : html.index('<section id="tests">')
    ]
    assert 'href="#database"' in html
    assert 'data-slow-query="database/tool_by_name"' in section
    assert '<pre class="mono sql" data-plan>SCAN tools</pre>' in section
    assert "<strong>recommended</strong>" in section
    assert "CREATE INDEX ON tools (name)</span>: database/tool_by_name" in section
