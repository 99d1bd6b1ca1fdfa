"""Where a test's time goes, by the benchmark MCP servers' own account.

bench-lib.sh's perf_upstream_snapshot writes raw/<test>/upstream-before.txt and
upstream-after.txt around a test's measured rounds: one line per benchmark MCP server behind the
gateway, `NAME JSON`, the JSON its `GET /stats` answered (utils/servers/bench_server.py; nothing
after the name when it did not answer). Between the two, each server booked every request its MCP
endpoint received, per JSON-RPC method, with the seconds it spent answering them.

Against the answers the test's rounds counted, that says per request the gateway answered: how
many requests of each method reached the servers (`initialize` per request is the upstream
sessions the gateway opened per call), the servers' own time (`server_ms`), and the rest of the
mean latency, the gateway's share (its own work, its waiting and the loopback hops). The window
also holds whatever else reached the servers meanwhile (the gateway's health checks of them), so
the counts are an upper bound on what the test caused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if (
    TYPE_CHECKING
):  # csvstats loads pandas: the table (and `perfkit validate`) must stay light
    from perfkit.results.csvstats import RoundStats

PHASES = ("before", "after")
# the requests that do a test's work upstream: a test without any has no breakdown to show
WORK_METHODS = ("tools/call", "resources/read", "prompts/get")


def snapshot_path(raw_dir: Path, phase: str) -> Path:
    return raw_dir / f"upstream-{phase}.txt"


def read_snapshot(path: Path) -> dict[str, dict[str, Any] | str]:
    """Per server: its `requests` ledger ({method: {count, seconds}}), or why it is unknown."""
    servers: dict[str, dict[str, Any] | str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        name, _, text = line.partition(" ")
        if not name:
            continue
        try:
            data = json.loads(text)
        except ValueError:
            servers[name] = "did not answer GET /stats"
            continue
        ledger = data.get("requests") if isinstance(data, dict) else None
        if not isinstance(ledger, dict):
            servers[name] = (
                "GET /stats has no request ledger (an older benchmark server?)"
            )
            continue
        servers[name] = ledger
    return servers


def _delta(
    before: dict[str, dict[str, Any] | str], after: dict[str, dict[str, Any] | str]
) -> tuple[dict[str, int], dict[str, float], list[str]]:
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    problems: list[str] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, "not in the first snapshot"), after.get(name)
        if new is None:
            new = "not in the second snapshot"
        if isinstance(old, str) or isinstance(new, str):
            problems.append(f"{name}: {old if isinstance(old, str) else new}")
            continue
        for method in sorted(set(old) | set(new)):
            first, last = old.get(method, {}), new.get(method, {})
            count = int(last.get("count", 0)) - int(first.get("count", 0))
            spent = float(last.get("seconds", 0.0)) - float(first.get("seconds", 0.0))
            if count < 0 or spent < -1e-6:
                problems.append(
                    f"{name}: its counts went down (restarted during the test)"
                )
                break
            if count:
                counts[method] = counts.get(method, 0) + count
                seconds[method] = seconds.get(method, 0.0) + spent
    return counts, seconds, problems


def for_test(raw_dir: Path, rounds: list[RoundStats]) -> dict[str, Any] | None:
    """summary.json's `upstream` of one test: None without both snapshots or any answer."""
    paths = [snapshot_path(raw_dir, phase) for phase in PHASES]
    if not all(p.is_file() for p in paths):
        return None
    requests = sum(r.requests for r in rounds)
    if not requests:
        return None
    before, after = (read_snapshot(p) for p in paths)
    counts, seconds, problems = _delta(before, after)
    if problems:
        return {"servers": len(after), "error": "; ".join(problems)}
    timed = [
        (r.latency_ms.mean, r.requests) for r in rounds if r.latency_ms.mean is not None
    ]
    weight = sum(n for _, n in timed)
    mean = sum(m * n for m, n in timed) / weight if weight else None
    server_ms = 1000.0 * sum(seconds.values()) / requests
    result: dict[str, Any] = {
        "servers": len(after),
        "requests": requests,
        "received": counts,
        "seconds": {k: round(v, 6) for k, v in seconds.items()},
        "per_request": {k: round(v / requests, 4) for k, v in counts.items()},
        "server_ms": round(server_ms, 3),
        "latency_mean_ms": round(mean, 3) if mean is not None else None,
        "gateway_ms": None,
        "gateway_share": None,
    }
    if mean:
        result["gateway_ms"] = round(mean - server_ms, 3)
        result["gateway_share"] = round((mean - server_ms) / mean, 4)
    return result


@dataclass(frozen=True)
class UpstreamRow:
    """One test's breakdown, as the table and the report show it."""

    test_id: str
    latency_mean_ms: float | None
    server_ms: float
    gateway_ms: float | None
    gateway_share: float | None
    work_per_request: float  # tools/call + resources/read + prompts/get per answer
    initialize_per_request: float
    other_per_request: float  # everything else the servers received, per answer


def rows(tests: list[Any]) -> tuple[list[UpstreamRow], list[str]]:
    """The tests whose requests did work upstream, and the tests whose breakdown is unknown."""
    found, unknown = [], []
    for test in tests:
        data = getattr(test, "upstream", None)
        if not data:
            continue
        if "error" in data:
            unknown.append(f"{test.id}: {data['error']}")
            continue
        per = data.get("per_request") or {}
        work = sum(per.get(m, 0.0) for m in WORK_METHODS)
        if not work:
            continue
        initialize = per.get("initialize", 0.0)
        found.append(
            UpstreamRow(
                test_id=test.id,
                latency_mean_ms=data.get("latency_mean_ms"),
                server_ms=float(data["server_ms"]),
                gateway_ms=data.get("gateway_ms"),
                gateway_share=data.get("gateway_share"),
                work_per_request=work,
                initialize_per_request=initialize,
                other_per_request=sum(per.values()) - work - initialize,
            )
        )
    return found, unknown
