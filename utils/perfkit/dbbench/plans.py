"""Runs inside the gateway's own venv (utils/local-stack.sh python): the statements operations of
perfkit.dbbench.ops send, each operation called alone; the statements at or over the slow-query
limit explained, and for a scan the index its filter suggests tried and measured.

  python -m perfkit.dbbench.plans --test ID=OP:LIMIT [--test ...] --slow-ms MS --out FILE

For every test: OP called CALLS times one after the other, the statements it sent caught through
SQLAlchemy's engine events; each read then run alone CALLS times, all its rows fetched (a
write: the events' timing of its calls); a statement's time is the median. One at or over MS is
a slow query:
its plan (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL, which runs
it, in a transaction rolled back) and what the plan shows - a full scan of a table, a temporary
B-tree, a sort on disk. For each table it scans that the statement filters by a bound value,
the index on those columns is tried: the statement timed REPEATS times without it, the index
created, the statement timed as often with it and explained again. An index is recommended only
when the planner used it and the statement's median got at least MIN_GAIN times faster; never
one that was not measured. The index never reaches the gateway's database: on SQLite the trial
runs on a scratch copy of the file (the gateway's file is only read; SQLite's Python driver
commits DDL at once, so a transaction could not take the index back); on PostgreSQL inside a
transaction rolled back, during which the table takes no writes (at most 2 x REPEATS runs of
one statement). Afterwards the database is checked for trial indexes (`leftover`).

FILE (schema 1): {"schema_version", "backend", "slow_ms", "calls", "min_gain", "leftover",
  "tests": [{"test", "op", "limit", "statements": [{"sql", "ms", "calls"}], "error"}],
  "slow_queries": [{"test", "sql", "ms", "plan": [line], "findings": [text],
                    "trials": [{"table", "columns", "index", "before_ms", "after_ms", "gain",
                                "used", "repeats", "recommended"}], "note"}],
  "recommendations": [{"test", "table", "columns", "index", "before_ms", "after_ms", "gain"}]}
Standard library, SQLAlchemy and mcpgateway.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.dbbench.ops import OPS, SQL_KEEP, Gateway, missing

PROG = "dbbench-plans"
SCHEMA_VERSION = 1
CALLS = 5  # calls of an operation whose statements are timed
MIN_GAIN = 1.5  # an index is recommended only when the statement got this much faster
TRIAL_BUDGET_S = 2.0  # a trial's timed runs of one statement, both sides together
MAX_REPEATS = 31
MIN_REPEATS = 5
MAX_INDEX_COLUMNS = 3
LOCK_TIMEOUT = "2s"  # PostgreSQL: a trial waits no longer for its table's lock
# a column compared to a bound value: tools.name = ?, t.team_id IN (...), %(name)s, :name
FILTER = re.compile(
    r"\b(?P<qual>\w+)\.(?P<col>\w+)\s*(?:=|\bIN\b|\bIS\b(?!\s+NOT))\s*(?:\?|%\(|:\w|\(|\$\d)",
    re.IGNORECASE,
)
ALIAS = re.compile(
    r"\b(?:FROM|JOIN)\s+(?P<table>\w+)(?:\s+AS)?\s+(?P<alias>\w+)", re.IGNORECASE
)
# PostgreSQL: a node's estimated rows against the rows that came (EXPLAIN ANALYZE)
ESTIMATE = re.compile(
    r"rows=(\d+) width=\d+\) \(actual time=[\d.]+\.\.[\d.]+ rows=(\d+)"
)
STALE_ROWS = (
    100  # an estimate this far off, on at least this many rows, is worth a word
)
STALE_FACTOR = 10
NOT_ALIASES = {"where", "join", "left", "right", "inner", "outer", "on", "group", "order",
               "limit", "cross", "full", "union", "offset", "having"}  # fmt: skip


# -- statements an operation sends -------------------------------------------------------------
@dataclass
class Recorder:
    """Each statement sent while `on`: its driver-level SQL, parameters and seconds."""

    on: bool = False
    local: threading.local = field(default_factory=threading.local)
    seen: list[tuple[str, Any, float]] = field(default_factory=list)

    def attach(self, engine: Any) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, *_args: Any) -> None:
        self.local.started = time.perf_counter()

    def after(
        self, _conn: Any, _cursor: Any, statement: str, params: Any, *_: Any
    ) -> None:
        if self.on:
            took = time.perf_counter() - getattr(
                self.local, "started", time.perf_counter()
            )
            self.seen.append((statement, params, took))


@dataclass
class Statement:
    sql: str
    params: Any
    times: list[float]

    @property
    def ms(self) -> float:
        return statistics.median(self.times) * 1000


def is_read(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "WITH"))


def statements_of(
    gw: Gateway, op_name: str, limit: int, calls: int, rec: Recorder
) -> list[Statement]:
    """OP called `calls` times; its statements in the order first sent. A read is then timed
    alone, run and all its rows fetched, `calls` times (the engine's events see only its
    execute: SQLite steps to the first row there and reads the rest at fetch); a write keeps
    the events' timing of its calls."""
    op = OPS[op_name]
    found: dict[str, Statement] = {}
    for _ in range(calls):
        rec.seen.clear()
        rec.on = True
        try:
            with gw.session() as db:
                op.call(gw, db, limit)
        finally:
            rec.on = False
        for sql, params, took in rec.seen:
            if sql in found:
                found[sql].times.append(took)
            else:
                found[sql] = Statement(sql, params, [took])
    reads = [stmt for stmt in found.values() if is_read(stmt.sql)]
    with gw.db.engine.connect() as conn:
        for stmt in reads:
            sql, params = stmt.sql, stmt.params
            stmt.times = timed(lambda: conn.exec_driver_sql(sql, params).all(), calls)  # noqa: B023 - called at once
        conn.rollback()
    return list(found.values())


# -- plans ------------------------------------------------------------------------------------
def explain(conn: Any, backend: str, sql: str, params: Any) -> list[str]:
    """The statement's plan, one line a step (SQLite's steps indented by their depth)."""
    if backend == "postgresql":
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).all()
        return [str(row[0]) for row in rows]
    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    depth: dict[int, int] = {}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append(f"{'  ' * depth[node]}{detail}")
    return lines


def scanned_tables(plan: list[str], backend: str) -> list[str]:
    """Tables (or aliases) the plan reads in full, in plan order."""
    if backend == "postgresql":
        pattern = re.compile(r"Seq Scan on (\w+)(?: (\w+))?")
    else:  # SCAN tools, SCAN tools AS t; not SCAN t USING INDEX (an index walk)
        pattern = re.compile(r"^\s*SCAN (\w+)(?: AS (\w+))?\s*$")
    found = []
    for line in plan:
        match = pattern.search(line)
        if match:
            name = match.group(2) or match.group(1)
            if name not in found:
                found.append(name)
    return found


def findings(
    plan: list[str], backend: str, rows: dict[str, int] | None = None
) -> list[str]:
    """What the plan shows, in words; `rows`: the scanned tables' row counts by plan name."""
    rows = rows or {}
    said = [
        f"reads all of {name} ({rows[name]:,} rows, a full scan)"
        if name in rows
        else f"reads all of {name} (a full scan)"
        for name in scanned_tables(plan, backend)
    ]
    text = "\n".join(plan)
    if backend == "sqlite":
        for purpose in sorted(set(re.findall(r"USE TEMP B-TREE FOR ([A-Z ]+)", text))):
            said.append(f"builds a temporary B-tree for {purpose.strip().lower()}")
    else:
        for line in plan:
            found = ESTIMATE.search(line)
            if found is None:
                continue
            expected, came = int(found.group(1)), int(found.group(2))
            if max(expected, came) >= STALE_ROWS and max(
                expected, came
            ) >= STALE_FACTOR * max(min(expected, came), 1):
                said.append(
                    f"the planner expected {expected:,} rows where {came:,} came (statistics out of date? ANALYZE)"
                )
                break
        if "external merge" in text:
            said.append("sorts on disk (Sort Method: external merge)")
        if re.search(r"Buffers: .*read=\d+", text):
            said.append("reads pages from disk, not only from shared buffers")
    return said


def table_of(sql: str, name: str) -> str:
    """The table behind a plan's name (an alias of the statement's FROM/JOIN, or the table)."""
    for match in ALIAS.finditer(sql):
        if (
            match.group("alias").lower() == name.lower()
            and match.group("alias").lower() not in NOT_ALIASES
        ):
            return match.group("table")
    return name


def filter_columns(sql: str, name: str) -> list[str]:
    """Columns of NAME (table or alias) the statement compares to a bound value, first seen first;
    only the WHERE part (a join's ON compares columns, not values)."""
    where = re.split(r"\bWHERE\b", sql, maxsplit=1, flags=re.IGNORECASE)
    if len(where) < 2:
        return []
    columns: list[str] = []
    for match in FILTER.finditer(where[1]):
        if (
            match.group("qual").lower() == name.lower()
            and match.group("col") not in columns
        ):
            columns.append(match.group("col"))
    return columns[:MAX_INDEX_COLUMNS]


def indexed(conn: Any, table: str, columns: list[str]) -> bool:
    """Whether an existing index (or the primary key) already starts with these columns."""
    from sqlalchemy import inspect

    inspector = inspect(conn)
    leading = [
        list(ix.get("column_names") or []) for ix in inspector.get_indexes(table)
    ]
    leading.append(
        list(inspector.get_pk_constraint(table).get("constrained_columns") or [])
    )
    leading += [
        list(u.get("column_names") or [])
        for u in inspector.get_unique_constraints(table)
    ]
    return any(cols[: len(columns)] == columns for cols in leading)


def timed(run: Callable[[], Any], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        begun = time.perf_counter()
        run()
        times.append(time.perf_counter() - begun)
    return times


def repeats_for(ms: float) -> int:
    return max(
        MIN_REPEATS, min(MAX_REPEATS, int(TRIAL_BUDGET_S * 1000 / (2 * max(ms, 0.001))))
    )


def sqlite_trial(
    path: str, stmt: Statement, ddl: str, repeats: int
) -> tuple[list[float], list[float], list[str]]:
    """On a scratch copy of the database (SQLite's Python driver commits DDL at once, so a
    transaction cannot take an index back): the gateway's file is only read."""
    with tempfile.TemporaryDirectory(prefix="perfkit-index-trial-") as scratch:
        copy = Path(scratch) / "copy.db"
        with (
            closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source,
            closing(sqlite3.connect(copy)) as target,
        ):
            source.backup(target)
        with closing(sqlite3.connect(copy)) as conn:
            before = timed(
                lambda: conn.execute(stmt.sql, stmt.params).fetchall(), repeats
            )
            conn.execute(ddl)
            after = timed(
                lambda: conn.execute(stmt.sql, stmt.params).fetchall(), repeats
            )
            rows = conn.execute(
                f"EXPLAIN QUERY PLAN {stmt.sql}", stmt.params
            ).fetchall()
    return before, after, [str(row[3]) for row in rows]


def executed(conn: Any, stmt: Statement, repeats: int) -> list[float]:
    """PostgreSQL's own execution time of the statement (EXPLAIN ANALYZE, timing of the nodes
    off), seconds: what an index changes, without the driver's fetch of wide rows around it."""
    times = []
    for _ in range(repeats):
        found = conn.exec_driver_sql(
            f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {stmt.sql}", stmt.params
        ).scalar()
        data = json.loads(found) if isinstance(found, str) else found
        times.append(float(data[0]["Execution Time"]) / 1000)
    return times


def postgresql_trial(
    engine: Any, stmt: Statement, ddl: str, repeats: int
) -> tuple[list[float], list[float], list[str]]:
    """In a transaction rolled back (PostgreSQL's DDL is transactional); while it is open the
    table takes no writes, and a lock the trial cannot get within LOCK_TIMEOUT fails it."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            before = executed(conn, stmt, repeats)
            conn.exec_driver_sql(ddl)
            after = executed(conn, stmt, repeats)
            plan = explain(conn, "postgresql", stmt.sql, stmt.params)
        finally:
            transaction.rollback()
    return before, after, plan


def trial(
    engine: Any,
    backend: str,
    stmt: Statement,
    table: str,
    columns: list[str],
    number: int,
) -> dict[str, Any]:
    """The statement timed without and with an index on TABLE(COLUMNS); the index never
    reaches the gateway's database."""
    name = f"perfkit_trial_{number}_{table}"[:60]
    ddl = f"CREATE INDEX {name} ON {table} ({', '.join(columns)})"
    repeats = repeats_for(stmt.ms)
    if backend == "sqlite":
        before, after, plan = sqlite_trial(engine.url.database, stmt, ddl, repeats)
    else:
        before, after, plan = postgresql_trial(engine, stmt, ddl, repeats)
    before_ms = statistics.median(before) * 1000
    after_ms = statistics.median(after) * 1000
    gain = before_ms / after_ms if after_ms > 0 else None
    used = any(name in line for line in plan)
    return {
        "table": table,
        "columns": columns,
        "index": f"CREATE INDEX ON {table} ({', '.join(columns)})",
        "before_ms": round(before_ms, 4),
        "after_ms": round(after_ms, 4),
        "gain": None if gain is None else round(gain, 2),
        "used": used,
        "repeats": repeats,
        # what was timed: the statement run and fetched (sqlite), or PostgreSQL's execution time
        "timed": "run and fetched"
        if backend == "sqlite"
        else "execution time (EXPLAIN ANALYZE)",
        "plan_with_index": plan,
        "recommended": bool(used and gain is not None and gain >= MIN_GAIN),
    }


def leftover_trials(engine: Any) -> list[str]:
    """Trial indexes found in the gateway's database (there must be none)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        inspector = inspect(conn)
        return [
            f"{table}.{ix['name']}"
            for table in inspector.get_table_names()
            for ix in inspector.get_indexes(table)
            if str(ix.get("name") or "").startswith("perfkit_trial_")
        ]


def slow_query(
    engine: Any, backend: str, test: str, stmt: Statement, number: int
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "test": test, "sql": stmt.sql[:SQL_KEEP], "ms": round(stmt.ms, 4),
        "plan": [], "findings": [], "trials": [], "note": None,
    }  # fmt: skip
    if not is_read(stmt.sql):
        entry["note"] = "a write: not explained (its plan would run it)"
        return entry
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            entry["plan"] = explain(conn, backend, stmt.sql, stmt.params)
        finally:
            transaction.rollback()
        rows = {
            name: int(
                conn.exec_driver_sql(
                    f"SELECT count(*) FROM {table_of(stmt.sql, name)}"
                ).scalar()
            )
            for name in scanned_tables(entry["plan"], backend)
        }
        entry["findings"] = findings(entry["plan"], backend, rows)
        notes = []
        for name in scanned_tables(entry["plan"], backend):
            table = table_of(stmt.sql, name)
            columns = filter_columns(stmt.sql, name)
            if not columns:
                notes.append(
                    f"{table} is read in full without a filter on a bound value: no index to try"
                )
            elif indexed(conn, table, columns):
                notes.append(
                    f"an index on {table} ({', '.join(columns)}) exists; the planner did not use it"
                )
            else:
                entry["trials"].append((table, columns))
    entry["trials"] = [
        trial(engine, backend, stmt, table, columns, number * 10 + k)
        for k, (table, columns) in enumerate(entry["trials"])
    ]
    entry["note"] = "; ".join(notes) or None
    return entry


def analyse(
    gw: Gateway, tests: list[tuple[str, str, int]], slow_ms: float, calls: int
) -> dict[str, Any]:
    engine = gw.db.engine
    backend = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
    rec = Recorder()
    rec.attach(engine)
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "backend": backend, "slow_ms": slow_ms,
        "calls": calls, "min_gain": MIN_GAIN, "tests": [], "slow_queries": [],
        "recommendations": [],
    }  # fmt: skip
    for test, op_name, limit in tests:
        row: dict[str, Any] = {
            "test": test,
            "op": op_name,
            "limit": limit,
            "statements": [],
            "error": None,
        }
        report["tests"].append(row)
        why = missing(gw, OPS[op_name])
        if why is not None:
            row["error"] = why
            continue
        try:
            found = statements_of(gw, op_name, limit, calls, rec)
        except Exception as exc:  # noqa: BLE001 - the operation's own failure, recorded
            row["error"] = f"{type(exc).__name__}: {exc}"
            continue
        row["statements"] = [
            {"sql": s.sql[:SQL_KEEP], "ms": round(s.ms, 4), "calls": len(s.times)}
            for s in found
        ]
        for stmt in found:
            if stmt.ms < slow_ms:
                continue
            entry = slow_query(
                engine, backend, test, stmt, len(report["slow_queries"]) + 1
            )
            report["slow_queries"].append(entry)
            for t in entry["trials"]:
                if t["recommended"]:
                    report["recommendations"].append(
                        {"test": test}
                        | {
                            k: t[k]
                            for k in (
                                "table",
                                "columns",
                                "index",
                                "before_ms",
                                "after_ms",
                                "gain",
                            )
                        }
                    )
    report["leftover"] = leftover_trials(engine)
    return report


# -- the command ------------------------------------------------------------------------------
def test_spec(text: str) -> tuple[str, str, int]:
    """ID=OP:LIMIT."""
    match = re.fullmatch(r"(?P<id>[^=]+)=(?P<op>\w+):(?P<limit>\d+)", text)
    if match is None or match.group("op") not in OPS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected ID=OP:LIMIT with OP one of {', '.join(sorted(OPS))}"
        )
    return match.group("id"), match.group("op"), int(match.group("limit"))


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a number of milliseconds above 0"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m perfkit.dbbench.plans", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument(
        "--test", dest="tests", action="append", type=test_spec, required=True
    )
    parser.add_argument("--slow-ms", type=positive, required=True)
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.calls < 1:
        print(
            f"{PROG}: error: --calls {args.calls}: must be at least 1", file=sys.stderr
        )
        return 2
    report = analyse(Gateway(), args.tests, args.slow_ms, args.calls)
    write_json_atomic(args.out, report)
    if report["leftover"]:
        print(
            f"{PROG}: error: trial indexes left in the gateway's database: {', '.join(report['leftover'])}; "
            "drop them (DROP INDEX name)",
            file=sys.stderr,
        )
        return 1
    for entry in report["slow_queries"]:
        print(
            f"{entry['test']}: slow query {entry['ms']:.1f} ms: {'; '.join(entry['findings']) or 'no scan in its plan'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
