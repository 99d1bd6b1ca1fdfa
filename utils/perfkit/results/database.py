"""The gateway's database around a run: the state it started from, and the rows of every table
just before and just after the tests - so that a run says whether the gateway's own history
(tool_metrics, token_usage_logs, ...) grew while it was measured.

`perfkit database-rows RUN_DIR --phase before|after --database-url URL --state STATE` counts the
rows of every table of the gateway's database (SQLite: read-only through the sqlite3 module;
PostgreSQL: `psql`) into RUN_DIR/database-<phase>.json. This module owns those two files; the
summary's `database` block (`for_summary`) is made from them:
  {"state", "backend", "before": {table: rows}, "after": {...}, "grew": {table: [before, after]},
   "error"}
`state` says where the run started from: `fresh` (the run brought the kit's local stack up on
an empty database), `kept` (it brought the stack up on the database earlier runs left, on
purpose: service.db_state keep), `as-found` (the gateway was already running: whatever earlier
runs left), `unknown` (a gateway the kit does not run). A comparison holds it in the
fingerprint: runs that started from different states are not like for like.

Schema versions of database-<phase>.json:
  1 - phase, at, state, backend, tables (name -> rows) or error
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from perfkit.atomic import write_json_atomic
from perfkit.clock import iso_utc
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import check_version, read_object

PHASES = ("before", "after")
STATES = ("fresh", "kept", "as-found", "unknown")
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
PSQL_TIMEOUT_S = 30.0


def snapshot_path(run_dir: Path, phase: str) -> Path:
    return run_dir / f"database-{phase}.json"


def backend_of(url: str) -> str:
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme in ("sqlite", "postgresql", "postgres"):
        return "postgresql" if scheme.startswith("postgres") else "sqlite"
    raise KitError(
        f"--database-url: '{scheme}' is not a database the kit can count (sqlite, postgresql)",
        ExitCode.USAGE,
    )


def sqlite_rows(url: str) -> dict[str, int]:
    """Rows per table of an SQLite database, opened read-only (the gateway keeps writing)."""
    path = url.split("sqlite:///", 1)[1]
    if not Path(path).is_file():
        raise OSError(f"{path}: no such database file")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        names = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            n: int(db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0])
            for n in names
        }


def psql_url(url: str) -> str:
    """The gateway's SQLAlchemy URL (postgresql+psycopg://) as libpq takes it."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def postgres_rows(url: str) -> dict[str, int]:
    """Rows per table of the public schema, in one psql call."""
    query = (
        "SELECT table_name, (xpath('/row/c/text()', query_to_xml("
        "format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), "
        "false, true, '')))[1]::text FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
    )
    done = subprocess.run(
        ["psql", "-X", "-q", "-tA", "-F", "\t", "-d", psql_url(url), "-c", query],
        capture_output=True,
        text=True,
        timeout=PSQL_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise OSError(done.stderr.strip() or f"psql exited {done.returncode}")
    rows = {}
    for line in done.stdout.splitlines():
        name, _, count = line.partition("\t")
        rows[name] = int(count)
    return rows


def count_rows(url: str) -> dict[str, int]:
    if backend_of(url) == "sqlite":
        return sqlite_rows(url)
    return postgres_rows(url)


def snapshot(phase: str, state: str, url: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "phase": phase,
        "at": iso_utc(time.time()),
        "state": state,
    }
    if url is None:
        return data | {
            "backend": None,
            "error": "not the kit's stack: its database is unknown",
        }
    data["backend"] = backend_of(url)
    try:
        data["tables"] = count_rows(url)
    except (OSError, sqlite3.Error, subprocess.TimeoutExpired, ValueError) as exc:
        data["error"] = f"could not count the rows: {exc}"
    return data


def load_snapshot(path: Path) -> dict[str, Any]:
    data = read_object(path, path.name, fix="it is remade by the next run")
    check_version(path, data, READABLE_VERSIONS)
    return data


def grew(before: dict[str, int], after: dict[str, int]) -> dict[str, list[int]]:
    """The tables whose row count changed during the run: table -> [before, after]."""
    return {
        name: [before.get(name, 0), rows]
        for name, rows in sorted(after.items())
        if rows != before.get(name, 0)
    }


def for_summary(run_dir: Path) -> dict[str, Any] | None:
    """summary.json's `database`: None when the run took no snapshot."""
    paths = [snapshot_path(run_dir, phase) for phase in PHASES]
    if not paths[0].is_file():
        return None
    before = load_snapshot(paths[0])
    after = load_snapshot(paths[1]) if paths[1].is_file() else None
    block: dict[str, Any] = {
        "state": before.get("state"),
        "backend": before.get("backend"),
    }
    error = before.get("error") or (after or {}).get("error")
    if after is None:
        error = error or "no snapshot after the tests (the run stopped early)"
    if error:
        block["error"] = error
    if "tables" in before:
        block["before"] = before["tables"]
    if after is not None and "tables" in after:
        block["after"] = after["tables"]
        if "tables" in before:
            block["grew"] = grew(before["tables"], after["tables"])
    return block


def describe(block: dict[str, Any]) -> str:
    """One line for people: the state, and the tables that grew (largest growth first)."""
    state = f"{block.get('state')} ({block.get('backend') or 'database unknown'})"
    if block.get("error"):
        return f"{state}: {block['error']}"
    changed = sorted(
        (block.get("grew") or {}).items(), key=lambda kv: kv[1][0] - kv[1][1]
    )
    if not changed:
        return f"{state}: no table changed during the run"
    shown = ", ".join(f"{name} {old:,} -> {new:,}" for name, (old, new) in changed[:6])
    more = f" and {len(changed) - 6} more" if len(changed) > 6 else ""
    return f"{state}: grew during the run: {shown}{more}"


def warnings(block: dict[str, Any] | None) -> list[str]:
    """A run that did not start from a fresh database says how much history the gateway held."""
    if block is None or block.get("state") not in ("kept", "as-found"):
        return []
    before = block.get("before") or {}
    held = sorted(((n, r) for n, r in before.items() if r), key=lambda kv: -kv[1])[:4]
    rows = ", ".join(f"{name} {count:,}" for name, count in held) or "no rows"
    text = (
        f"the gateway's database was not fresh ({block['state']}): before the run it held "
        f"{rows}; runs that start from other states are not like for like"
    )
    return [text]


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perfkit database-rows", description=__doc__)
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--phase", choices=PHASES, required=True)
    parser.add_argument("--state", choices=STATES, required=True)
    parser.add_argument(
        "--database-url", help="the gateway's DATABASE_URL; none: not the kit's stack"
    )
    args = parser.parse_args(argv)
    if not args.run_dir.is_dir():
        raise KitError(f"run folder '{args.run_dir}' not found", ExitCode.USAGE)
    data = snapshot(args.phase, args.state, args.database_url or None)
    write_json_atomic(snapshot_path(args.run_dir, args.phase), data)
    return 0
