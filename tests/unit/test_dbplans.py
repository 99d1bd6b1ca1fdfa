"""Slow queries of the database scenario (perfkit.dbbench.plans): reading plans recorded from
the real gateway 1.0.7 on the `small` dataset (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's
EXPLAIN (ANALYZE, BUFFERS)), the columns a statement filters on, and an index trial run for
real on a scratch copy of an SQLite file - which must leave the file as it was."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from perfkit.dbbench import plans
from perfkit.dbbench.plans import Statement

# tool_by_name's statement (its column list cut) and the list_tools statement's FROM part
BY_NAME = "SELECT tools.id, tools.original_name, tools.name \nFROM tools \nWHERE tools.name = ?"
LIST_FROM = (
    "SELECT tools.id FROM tools LEFT OUTER JOIN gateways AS gateways_1 ON tools.gateway_id = "
    "gateways_1.id LEFT OUTER JOIN email_teams AS email_teams_1 ON tools.team_id = "
    "email_teams_1.id AND email_teams_1.is_active = 1 WHERE tools.enabled = 1 AND "
    "(tools.visibility = %(visibility_1)s OR tools.owner_email = %(owner_email_1)s AND "
    "tools.visibility = %(visibility_2)s OR tools.team_id IN (%(team_id_1_1)s) AND "
    "tools.visibility IN (%(visibility_3_1)s, %(visibility_3_2)s)) ORDER BY tools.created_at "
    "DESC, tools.id DESC LIMIT %(param_1)s"
)
SQLITE_SCAN = ["SCAN tools"]
SQLITE_SORTED = [
    "MULTI-INDEX OR",
    "  INDEX 1",
    "    SEARCH tools USING INDEX idx_tools_visibility_active_created (visibility=? AND enabled=?)",
    "SEARCH gateways_1 USING INDEX sqlite_autoindex_gateways_1 (id=?) LEFT-JOIN",
    "USE TEMP B-TREE FOR ORDER BY",
]
PG_LIST = [
    "Limit  (cost=65.49..65.50 rows=3 width=11666) (actual time=3.927..3.945 rows=101 loops=1)",
    "  ->  Sort  (cost=65.49..65.50 rows=3 width=11666) (actual time=3.926..3.937 rows=101 loops=1)",
    "        Sort Method: top-N heapsort  Memory: 577kB",
    "        ->  Seq Scan on gateways gateways_1  (cost=0.00..10.10 rows=10 width=4284) (actual time=0.011..0.030 rows=21 loops=1)",
    "        ->  Seq Scan on email_teams email_teams_1  (cost=0.00..10.40 rows=20 width=1750) (actual time=0.006..0.043 rows=111 loops=1)",
    "Execution Time: 4.112 ms",
]
PG_BY_NAME = [
    "Seq Scan on tools  (cost=0.00..174.15 rows=1 width=5632) (actual time=0.133..0.134 rows=1 loops=1)",
    "  Filter: ((name)::text = 'datadog-g1-00001-import-alert-000992'::text)",
    "  Rows Removed by Filter: 1002",
]


def test_full_scans_are_found_in_either_backends_plan() -> None:
    assert plans.scanned_tables(SQLITE_SCAN, "sqlite") == ["tools"]
    assert (
        plans.scanned_tables(SQLITE_SORTED, "sqlite") == []
    )  # SEARCH is an index lookup
    assert plans.scanned_tables(["SCAN tools USING INDEX idx"], "sqlite") == []
    assert plans.scanned_tables(PG_LIST, "postgresql") == [
        "gateways_1",
        "email_teams_1",
    ]
    assert plans.scanned_tables(PG_BY_NAME, "postgresql") == ["tools"]


def test_findings_say_what_the_plan_shows_in_words() -> None:
    assert plans.findings(SQLITE_SCAN, "sqlite", {"tools": 1003}) == [
        "reads all of tools (1,003 rows, a full scan)"
    ]
    assert plans.findings(SQLITE_SORTED, "sqlite") == [
        "builds a temporary B-tree for order by"
    ]
    said = plans.findings(PG_LIST, "postgresql")
    # the planner's 3 rows where 101 came: statistics older than the data
    assert said[-1].startswith("the planner expected 3 rows where 101 came")
    assert plans.findings(PG_BY_NAME, "postgresql") == [
        "reads all of tools (a full scan)"
    ]


def test_an_estimate_close_enough_or_on_few_rows_is_no_finding() -> None:
    close = [
        "Seq Scan on t  (cost=0.00..1.00 rows=900 width=4) (actual time=0.1..0.2 rows=1000 loops=1)"
    ]
    few = [
        "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4) (actual time=0.1..0.2 rows=50 loops=1)"
    ]
    assert plans.findings(close, "postgresql") == ["reads all of t (a full scan)"]
    assert plans.findings(few, "postgresql") == ["reads all of t (a full scan)"]


def test_the_columns_a_statement_filters_by_value() -> None:
    assert plans.filter_columns(BY_NAME, "tools") == ["name"]
    # the join's ON compares columns with columns: not a filter; only the WHERE's bound values
    # `enabled = 1` is a literal, not a bound value; at most MAX_INDEX_COLUMNS, first seen first
    assert plans.filter_columns(LIST_FROM, "tools") == [
        "visibility",
        "owner_email",
        "team_id",
    ]
    assert plans.filter_columns(LIST_FROM, "gateways_1") == []
    assert plans.filter_columns("SELECT * FROM tools", "tools") == []
    assert plans.table_of(LIST_FROM, "gateways_1") == "gateways"
    assert plans.table_of(LIST_FROM, "email_teams_1") == "email_teams"
    assert plans.table_of(BY_NAME, "tools") == "tools"


def test_a_test_is_named_id_op_limit() -> None:
    assert plans.test_spec("database/tool_by_name=tool_by_name:50") == (
        "database/tool_by_name",
        "tool_by_name",
        50,
    )
    with pytest.raises(Exception, match="expected ID=OP:LIMIT"):
        plans.test_spec("database/x=no_such_op:50")
    with pytest.raises(Exception, match="above 0"):
        plans.positive("0")


def test_repeats_fit_the_trial_budget() -> None:
    assert plans.repeats_for(0.01) == plans.MAX_REPEATS
    assert plans.repeats_for(100.0) == 10  # 2 s over 2 x 100 ms
    assert plans.repeats_for(5000.0) == plans.MIN_REPEATS


def gateway_like(path: Path, rows: int) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE tools (id TEXT PRIMARY KEY, name TEXT, description TEXT)"
        )
        db.executemany(
            "INSERT INTO tools VALUES (?, ?, ?)",
            ((f"id-{i}", f"tool-{i:06d}", "x" * 300) for i in range(rows)),
        )
        db.commit()


def test_an_index_trial_measures_on_a_copy_and_leaves_the_file_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mcp.db"
    gateway_like(path, 20_000)
    before_bytes = path.read_bytes()
    stmt = Statement(
        "SELECT tools.id FROM tools WHERE tools.name = ?", ("tool-012345",), [0.001]
    )
    ddl = "CREATE INDEX perfkit_trial_1_tools ON tools (name)"
    before, after, plan = plans.sqlite_trial(str(path), stmt, ddl, 7)
    assert len(before) == len(after) == 7
    assert any("USING INDEX perfkit_trial_1_tools" in line for line in plan), plan
    # 20,000 rows scanned against one index lookup: far more than any noise
    assert sorted(after)[3] * 5 < sorted(before)[3]
    with closing(sqlite3.connect(path)) as db:
        names = [
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        ]
    assert not any(n.startswith("perfkit_trial_") for n in names), names
    assert path.read_bytes() == before_bytes
