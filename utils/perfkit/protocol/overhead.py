"""The same MCP operation over each path of one run, side by side: /rpc (the gateway's plain
JSON-RPC endpoint), /servers/<id>/mcp (a virtual server's MCP streamable-HTTP endpoint) and
/mcp (the global one).

The mcp scenario names its tests PATH_OPERATION (`rpc_tools_list`, `server_tools_list`,
`global_tools_list`), all at the same concurrency in the same run. For every operation that
ran on /rpc and on at least one MCP path: each path's req/s, p50 and p95 (medians over rounds),
and the MCP path's p50 and req/s as a ratio to /rpc's with the distribution-free 95% interval
of the per-round values (perfkit.compare.verdict.shift_interval - the interval the verdicts use).
The paths' rounds are not interleaved: a drift within the run lands in the ratio too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from perfkit.compare.verdict import median, shift_interval
from perfkit.results.summary import Summary, TestResult

SCENARIO = "mcp"
PATHS = {"rpc": "/rpc", "server": "/servers/<id>/mcp", "global": "/mcp"}
TEST_NAME = re.compile(
    r"^(rpc|server|global)_(tools_list|tools_call|resources_list|resources_read|prompts_list|prompts_get)(?:_(\w+))?$"
)


@dataclass(frozen=True)
class Ratio:
    """A path's value over /rpc's: the ratio of medians, and the interval of the ratio (95%,
    or the widest the rounds allow, at its real level; none with a single round a side)."""

    value: float
    low: float | None
    high: float | None
    level: float | None


@dataclass(frozen=True)
class PathFigures:
    path: str  # /rpc, /servers/<id>/mcp, /mcp
    test_id: str
    rps: float | None
    p50_ms: float | None
    p95_ms: float | None
    p50_ratio: Ratio | None  # None on /rpc itself, or without rounds to compare
    rps_ratio: Ratio | None


@dataclass(frozen=True)
class OperationRow:
    operation: str  # "tools/call get_system_time"
    paths: list[PathFigures]


def operation_name(kind: str, target: str | None) -> str:
    method = kind.replace("_", "/", 1)
    return f"{method} {target}" if target else method


def per_round(test: TestResult, metric: str) -> list[float]:
    values = []
    for measured in test.rounds:
        if not measured.get("complete", False):
            continue
        value = (
            measured.get("rps")
            if metric == "rps"
            else (measured.get("latency_ms") or {}).get(metric)
        )
        if isinstance(value, int | float) and value > 0:
            values.append(float(value))
    return values


def ratio(base: list[float], other: list[float]) -> Ratio | None:
    """other / base: the ratio of medians and the interval of the per-round shift."""
    base_median, other_median = median(base), median(other)
    if not base_median or other_median is None:
        return None
    interval = shift_interval(base, other) if min(len(base), len(other)) >= 2 else None
    if interval is None:
        return Ratio(other_median / base_median, None, None, None)
    low, high, level = interval
    return Ratio(other_median / base_median, math.exp(low), math.exp(high), level)


def ok_tests(
    summary: Summary, pattern: re.Pattern[str]
) -> Iterator[tuple[re.Match[str], TestResult]]:
    """The mcp scenario's ok tests whose name matches `pattern`, with the match."""
    for test in summary.tests:
        scenario, _, name = test.id.partition("/")
        match = pattern.match(name) if scenario == SCENARIO else None
        if match is not None and test.status == "ok":
            yield match, test


def path_figures(test: TestResult, path: str, base: TestResult | None) -> PathFigures:
    """`test`'s medians over rounds, and with `base` its p50 and req/s as ratios to base's."""
    return PathFigures(
        path=path,
        test_id=test.id,
        rps=median(per_round(test, "rps")),
        p50_ms=median(per_round(test, "p50")),
        p95_ms=median(per_round(test, "p95")),
        p50_ratio=None
        if base is None
        else ratio(per_round(base, "p50"), per_round(test, "p50")),
        rps_ratio=None
        if base is None
        else ratio(per_round(base, "rps"), per_round(test, "rps")),
    )


def overhead(summary: Summary) -> list[OperationRow]:
    """One row per operation measured on /rpc and at least one MCP path, in plan order."""
    found: dict[str, dict[str, TestResult]] = {}
    for match, test in ok_tests(summary, TEST_NAME):
        path, kind, target = match.groups()
        found.setdefault(operation_name(kind, target), {})[path] = test
    rows = []
    for operation, tests in found.items():
        if "rpc" not in tests or len(tests) < 2:
            continue
        rpc = tests["rpc"]
        figures = [
            path_figures(tests[path], shown, None if path == "rpc" else rpc)
            for path, shown in PATHS.items()
            if path in tests
        ]
        rows.append(OperationRow(operation, figures))
    return rows


def format_ratio(value: Ratio | None) -> str:
    if value is None:
        return "-"
    if value.low is None or value.high is None or value.level is None:
        return f"x{value.value:.2f}"
    level = "" if value.level >= 0.95 - 1e-9 else f", {value.level:.0%}"
    return f"x{value.value:.2f} ({value.low:.2f}-{value.high:.2f}{level})"


def render(rows: list[OperationRow]) -> str:
    """The text table printed after a run's own table; empty without rows."""
    if not rows:
        return ""
    header = (
        "operation",
        "path",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p50 vs /rpc",
        "req/s vs /rpc",
    )
    lines = [header]
    for row in rows:
        for index, figures in enumerate(row.paths):
            lines.append(
                (
                    row.operation if index == 0 else "",
                    figures.path,
                    "-" if figures.rps is None else f"{figures.rps:.1f}",
                    "-" if figures.p50_ms is None else f"{figures.p50_ms:.1f}",
                    "-" if figures.p95_ms is None else f"{figures.p95_ms:.1f}",
                    format_ratio(figures.p50_ratio),
                    format_ratio(figures.rps_ratio),
                )
            )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    title = (
        "MCP protocol paths, same operation, same concurrency, this run (medians over rounds;"
        " ratios to /rpc with their 95% interval, or the level fewer rounds allow; none with"
        " one round):"
    )
    body = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip()
        for line in lines
    ]
    return "\n".join([title, *body])
