"""`perfkit servers-stats RUN_DIR --phase before|after --server NAME=URL ...`: snapshot the call
counts the benchmark MCP servers keep themselves (`GET /stats` of utils/servers/bench_server.py) into
RUN_DIR/servers-<phase>.json. `perfkit summarize` turns the two snapshots into summary.json's
`servers` key: per server, the calls it served between them (probes, warm-up and measured rounds
alike), so a run shows that its tool calls really reached every server.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TypedDict

from perfkit.atomic import write_json_atomic
from perfkit.exitcodes import ExitCode, KitError

PHASES = ("before", "after")


class ServerCounts(TypedDict, total=False):
    url: str
    calls: dict[str, int]  # kind ("tool:get_system_time", "resource:...") -> count
    total: int
    error: str  # why the server's counts could not be read


class ServerServed(TypedDict, total=False):
    url: str
    tool_calls: int | None  # tool calls served between the snapshots
    calls: dict[str, int]
    total: int | None
    error: str


def fetch_counts(url: str, timeout: float = 5.0) -> ServerCounts:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/stats", timeout=timeout) as r:
            data = json.load(r)
    except (OSError, ValueError) as exc:
        return {"url": url, "error": f"GET {url}/stats failed: {exc}"}
    calls = data.get("calls") if isinstance(data, dict) else None
    if not isinstance(calls, dict):
        return {"url": url, "error": f"GET {url}/stats did not return call counts"}
    counts = {str(k): int(v) for k, v in calls.items()}
    return {"url": url, "calls": counts, "total": sum(counts.values())}


def served(before: ServerCounts, after: ServerCounts) -> ServerServed:
    """The calls a server served between two snapshots."""
    url = after.get("url") or before.get("url") or ""
    error = after.get("error") or before.get("error")
    if error:
        return {"url": url, "tool_calls": None, "total": None, "error": error}
    old, new = before.get("calls", {}), after.get("calls", {})
    delta = {k: new.get(k, 0) - old.get(k, 0) for k in sorted(set(old) | set(new))}
    if any(v < 0 for v in delta.values()):
        # the server restarted in between: its counts started again from zero
        return {
            "url": url,
            "tool_calls": None,
            "total": None,
            "error": "the server's counters went down (it restarted during the run)",
        }
    delta = {k: v for k, v in delta.items() if v}
    return {
        "url": url,
        "tool_calls": sum(v for k, v in delta.items() if k.startswith("tool:")),
        "calls": delta,
        "total": sum(delta.values()),
    }


def _load(path: Path) -> dict[str, ServerCounts]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KitError(f"{path} is unreadable ({exc})", ExitCode.USAGE) from None
    servers = data.get("servers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise KitError(f"{path} holds no `servers` object", ExitCode.USAGE)
    return servers


def for_summary(run_dir: Path) -> dict[str, ServerServed] | None:
    """summary.json's `servers`: None unless both snapshots exist."""
    paths = [run_dir / f"servers-{phase}.json" for phase in PHASES]
    if not all(p.exists() for p in paths):
        return None
    before, after = (_load(p) for p in paths)
    names = sorted(set(before) | set(after), key=natural_key)
    return {
        name: served(before.get(name, {"url": ""}), after.get(name, {"url": ""}))
        for name in names
    }


def natural_key(name: str) -> tuple[str, int]:
    head, _, tail = name.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (name, 0)


def parse_server(text: str) -> tuple[str, str]:
    name, sep, url = text.partition("=")
    if not sep or not name or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not NAME=URL (e.g. bench-time-1=http://127.0.0.1:9101)"
        )
    return name, url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perfkit servers-stats", description=__doc__)
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--phase", choices=PHASES, required=True)
    parser.add_argument(
        "--server", type=parse_server, action="append", default=[], metavar="NAME=URL"
    )
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if not args.run_dir.is_dir():
        raise KitError(f"run folder '{args.run_dir}' not found", ExitCode.USAGE)
    snapshot: dict[str, Any] = {
        "taken_at": time.time(),
        "servers": {name: fetch_counts(url) for name, url in args.server},
    }
    write_json_atomic(args.run_dir / f"servers-{args.phase}.json", snapshot)
    return int(ExitCode.OK)
