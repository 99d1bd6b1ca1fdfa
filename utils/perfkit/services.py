"""Read the gateway's own answers for utils/check-services.sh and utils/local-stack.sh.

Each check prints one line (`detail`) and exits 0 when the service is fine, 3 when it is not.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from perfkit.exitcodes import ExitCode, KitError


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def check_health(doc: Any) -> tuple[bool, str]:
    status = doc.get("status") if isinstance(doc, dict) else None
    return (
        status == "healthy",
        f"status {status!r}" if status else "answer is not the expected JSON",
    )


def check_ready(doc: Any) -> tuple[bool, str]:
    if not isinstance(doc, dict):
        return False, "answer is not the expected JSON"
    return doc.get("status") == "ready", f"status {doc.get('status')!r}"


def check_database(doc: Any) -> tuple[bool, str]:
    """The database line, as /ready reports it (status_items entry named Database)."""
    items = doc.get("status_items", []) if isinstance(doc, dict) else []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("name", "")).lower() == "database":
            return item.get("status_code") == 200, str(
                item.get("message", item.get("status_code"))
            )
    return False, "the gateway's /ready answer has no Database item"


def bench_gateways(doc: Any, prefix: str) -> list[dict[str, Any]]:
    rows = (
        doc
        if isinstance(doc, list)
        else (doc.get("items", []) if isinstance(doc, dict) else [])
    )
    return [
        g
        for g in rows
        if isinstance(g, dict) and str(g.get("name", "")).startswith(prefix)
    ]


def check_servers(doc: Any, expected: int, prefix: str) -> tuple[bool, str]:
    if doc is None:
        return False, "GET /gateways did not answer JSON"
    servers = bench_gateways(doc, prefix)
    healthy = [g for g in servers if g.get("enabled") and g.get("reachable")]
    down = [str(g.get("name")) for g in servers if g not in healthy]
    detail = f"{len(healthy)} of {expected} expected '{prefix}*' MCP servers registered and reachable"
    if down:
        detail += f"; not reachable: {', '.join(down)}"
    return len(healthy) >= expected, detail


def cmd_version(doc: Any) -> int:
    """The gateway release from GET /version (`app.version`)."""
    app = doc.get("app") if isinstance(doc, dict) else None
    version = app.get("version") if isinstance(app, dict) else None
    if not version:
        return int(ExitCode.ENV_NOT_READY)
    print(version)
    return 0


def cmd_ids(
    doc: Any, name: str | None = None, except_gateways: tuple[str, ...] = ()
) -> int:
    """The ids of a list answer (e.g. GET /tools), as a JSON array; with `name`, only those of
    the entries of that name; none of the entries a gateway of `except_gateways` (ids) offers."""
    rows = doc if isinstance(doc, list) else []
    print(
        json.dumps(
            [
                row["id"]
                for row in rows
                if isinstance(row, dict)
                and "id" in row
                and name in (None, row.get("name"))
                and row.get("gatewayId") not in except_gateways
            ]
        )
    )
    return 0


def gateway_ids(text: str | None) -> tuple[str, ...]:
    """--except-gateways: a JSON array of ids (what `ids --name` printed)."""
    if not text:
        return ()
    try:
        ids = json.loads(text)
    except ValueError:
        ids = None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise KitError(
            f"--except-gateways wants a JSON array of ids, not {text!r}", ExitCode.USAGE
        )
    return tuple(ids)


def cmd_names(doc: Any, prefix: str) -> int:
    for gateway in bench_gateways(doc, prefix):
        print(gateway.get("name"))
    return 0


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perfkit services")
    parser.add_argument(
        "check",
        choices=["health", "ready", "database", "servers", "names", "version", "ids"],
    )
    parser.add_argument("file", type=Path, help="the JSON answer to read")
    parser.add_argument("--expected", type=int, default=1)
    parser.add_argument("--prefix", default="bench-time-")
    parser.add_argument("--name", default=None, help="ids: only entries of this name")
    parser.add_argument(
        "--except-gateways",
        default=None,
        help="ids: none of the entries these gateways offer (a JSON array of their ids)",
    )
    args = parser.parse_args(argv)
    doc = _load(args.file)
    if args.check == "names":
        return cmd_names(doc, args.prefix)
    if args.check == "version":
        return cmd_version(doc)
    if args.check == "ids":
        return cmd_ids(doc, args.name, gateway_ids(args.except_gateways))
    checks = {
        "health": lambda: check_health(doc),
        "ready": lambda: check_ready(doc),
        "database": lambda: check_database(doc),
        "servers": lambda: check_servers(doc, args.expected, args.prefix),
    }
    ok, detail = checks[args.check]()
    print(detail)
    return int(ExitCode.OK if ok else ExitCode.ENV_NOT_READY)
