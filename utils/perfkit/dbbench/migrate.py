"""Runs inside the venv of the release to migrate TO, with its settings (DATABASE_URL naming the
database an older release made): the gateway's own schema migration timed.

  python -m perfkit.dbbench.migrate --out FILE

mcpgateway.bootstrap_db is imported first (its imports are not the migration's), then its
main() - what the gateway runs when it starts: `alembic upgrade head` on a database behind the
head, then its idempotent bootstrap (admin, roles) - is timed, then timed again: at the head it
takes its fast path, so the difference is the migration itself. Before and after: the Alembic
revision, every table's rows and, on SQLite, the file's size.

FILE (schema 1): {"schema_version", "backend", "revision_before", "revision_after", "seconds",
  "seconds_at_head", "rows_before", "rows_after", "tables_added", "tables_dropped",
  "rows_changed": {table: [before, after]}, "bytes_before", "bytes_after"}
Standard library, SQLAlchemy and mcpgateway.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic

PROG = "dbbench-migrate"
SCHEMA_VERSION = 1


def state(engine: Any) -> tuple[str | None, dict[str, int]]:
    """The Alembic revision and every table's rows."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        tables = sorted(inspect(conn).get_table_names())
        counts = {
            t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() or 0)
            for t in tables
        }
        revision = None
        if "alembic_version" in tables:
            revision = conn.execute(
                text("SELECT version_num FROM alembic_version")
            ).scalar()
    return (None if revision is None else str(revision)), counts


def file_bytes(url: Any) -> int | None:
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    path = Path(url.database)
    files = [path, path.with_name(path.name + "-wal")]
    return sum(f.stat().st_size for f in files if f.is_file())


def measure() -> dict[str, Any]:
    import mcpgateway.bootstrap_db as boot
    from mcpgateway.config import settings
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(settings.database_url, poolclass=NullPool)
    revision_before, before = state(engine)
    bytes_before = file_bytes(engine.url)
    started = time.perf_counter()
    asyncio.run(boot.main())
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    asyncio.run(boot.main())
    at_head = time.perf_counter() - started
    revision_after, after = state(engine)
    engine.dispose()
    return {
        "schema_version": SCHEMA_VERSION,
        "backend": engine.url.get_backend_name(),
        "revision_before": revision_before,
        "revision_after": revision_after,
        "seconds": round(seconds, 3),
        "seconds_at_head": round(at_head, 3),
        "rows_before": sum(before.values()),
        "rows_after": sum(after.values()),
        "tables_added": sorted(set(after) - set(before)),
        "tables_dropped": sorted(set(before) - set(after)),
        "rows_changed": {
            t: [before[t], after[t]]
            for t in sorted(set(before) & set(after))
            if before[t] != after[t]
        },
        "bytes_before": bytes_before,
        "bytes_after": file_bytes(engine.url),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m perfkit.dbbench.migrate", description=__doc__
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    report = measure()
    write_json_atomic(args.out, report)
    print(
        f"{PROG}: {report['revision_before']} -> {report['revision_after']} in "
        f"{report['seconds']:.2f} s ({report['seconds_at_head']:.2f} s at the head)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
