"""`perfkit migration OUT_DIR`: what upgrading the gateway's schema costs with data in it - the
measurements utils/migration-cost.sh made (OUT_DIR/<dataset>.json each, written by
perfkit.dbbench.migrate in the newer release's venv: `empty` and the dataset), side by side.

Per database: the Alembic revisions, the migration's time (bootstrap_db on the older schema)
and its time again at the head (the start-up every later start pays), what the data adds (the
populated database's time less the empty one's), the rows before and after (a migration that
changes rows says which), the file's size. Prints the table; writes OUT_DIR/migration.json
(schema 1: {"schema_version", "from", "to", "databases": [{"dataset", ...the file's keys}]}).
Exit 0; 2 when OUT_DIR holds no measurement or one it cannot read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import check_version, read_object

SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)  # perfkit.dbbench.migrate's files
SUMMARY_FILE = "migration.json"


def load(path: Path) -> dict[str, Any]:
    data = read_object(path, path.name, fix="make it again: utils/migration-cost.sh")
    check_version(path, data, READABLE_VERSIONS)
    return data


def collect(out_dir: Path, datasets: list[str]) -> list[dict[str, Any]]:
    found = []
    for name in datasets:
        path = out_dir / f"{name}.json"
        if not path.is_file():
            raise KitError(
                f"{path}: no measurement (utils/migration-cost.sh writes it)",
                ExitCode.USAGE,
            )
        found.append({"dataset": name} | load(path))
    return found


def render(source: str, target: str, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"Schema migration {source} -> {target} (bootstrap_db of {target} on {source}'s database):",
        "  dataset        rows   revision                      migration s  at head s  size",
    ]
    for r in rows:
        size = (
            "-" if not r.get("bytes_after") else f"{r['bytes_after'] / 2**20:.1f} MiB"
        )
        lines.append(
            f"  {r['dataset']:<10} {r['rows_before']:>9,}   {r['revision_before']} -> "
            f"{r['revision_after']:<13} {r['seconds']:>10.2f}  {r['seconds_at_head']:>9.2f}  {size}"
        )
    if len(rows) > 1:
        empty, full = rows[0], rows[-1]
        lines.append(
            f"  the data ({full['rows_before']:,} rows of {full['dataset']}) adds "
            f"{full['seconds'] - empty['seconds']:+.2f} s to the migration "
            f"({empty['seconds']:.2f} s on an empty database)"
        )
    for r in rows:
        if r["revision_before"] == r["revision_after"]:
            lines.append(
                f"  {r['dataset']}: already at {r['revision_after']}, nothing migrated"
            )
        if r["tables_added"] or r["tables_dropped"]:
            lines.append(
                f"  {r['dataset']}: tables added {', '.join(r['tables_added']) or '-'}; "
                f"dropped {', '.join(r['tables_dropped']) or '-'}"
            )
        for table, (before, after) in r["rows_changed"].items():
            lines.append(f"  {r['dataset']}: {table} {before:,} -> {after:,} rows")
    return "\n".join(lines)


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="perfkit migration", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument(
        "--from", dest="source", required=True, help="the older release"
    )
    parser.add_argument("--to", dest="target", required=True, help="the newer release")
    parser.add_argument("--datasets", required=True, help="e.g. empty,small (in order)")
    args = parser.parse_args(argv)
    rows = collect(args.out_dir, [d for d in args.datasets.split(",") if d])
    write_json_atomic(
        args.out_dir / SUMMARY_FILE,
        {
            "schema_version": SCHEMA_VERSION,
            "from": args.source,
            "to": args.target,
            "databases": rows,
        },
    )
    print(render(args.source, args.target, rows))
    print(f"perfkit migration: wrote {args.out_dir / SUMMARY_FILE}", file=sys.stderr)
    return 0
