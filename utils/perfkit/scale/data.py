"""What the scalability report says, as plain dataclasses: each point's outcome (measured,
failed, missing, not run), the scale/spread figures per database and server count with speedup,
efficiency and marginal req/s, which MCP servers the tool calls reached, and PostgreSQL against
SQLite per server count. The sweep is perfkit.scale.sweep; rendering perfkit.scale.html.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.compare.verdict import mann_whitney
from perfkit.exitcodes import meaning
from perfkit.results.summary import Summary, TestResult, has_summary, load_summary
from perfkit.scale.points import Advanced, Point
from perfkit.scale.sweep import Sweep, sweeps

# This module owns scalability.json (written by `perfkit advanced report`, read by no one in
# the kit: it is the computed data for other tools). Schema versions of scalability.json:
#   1 - adv_dir, settings, scalability (per database: rows), comparison, sweeps, warnings,
#       generated_at
DATA_FILE = "scalability.json"
SCHEMA_VERSION = 1
SCALE_TEST = "scale/spread"
SERVER_NAME = "bench-time-{}"  # the benchmark MCP servers the scale workload calls
ALPHA = 0.05
MIN_DIFF_PCT = 5.0
MIN_ROUNDS = 3


def exit_text(code: int) -> str:
    return f"exit {code} ({meaning(code)})"


@dataclass
class Coverage:
    """Tool calls each benchmark MCP server served over the point's whole run."""

    servers: int  # N: bench-time-1..N should all have served tool calls
    counts: dict[str, int | None]  # name -> tool calls; None: no count (error)
    errors: dict[str, str]
    min_calls: int | None
    max_calls: int | None
    total_calls: int | None
    all_reached: bool | None  # None: the run recorded no per-server counts
    text: str


@dataclass
class Resources:
    """The scale/spread test's resource use (its measured rounds only)."""

    gateway_cpu_mean: float | None  # percent, 100 = one core
    gateway_rss_max: int | None  # bytes
    generator_cpu_mean: float | None
    pg_connections_max: int | None  # all connections to the stack's database
    gateway_db_connections: int | None  # pg_connections_max minus the monitor's own


@dataclass
class ScaleRow:
    servers: int
    run: str | None
    exit_code: int | None  # None: no point recorded
    state: str  # measured | failed | missing | not run
    problem: str | None
    report: str | None  # the point's report.html, relative to ADV_DIR
    concurrency: int | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    error_rate: float | None = None
    status: str | None = None
    reason: str | None = None
    rounds_rps: list[float] = field(default_factory=list)
    tool_rps: float | None = None  # the tool-call components alone (see tool_call_rps)
    speedup: float | None = None
    efficiency: float | None = None
    marginal_rps: float | None = None  # req/s per server added since the previous row
    coverage: Coverage | None = None
    resources: Resources | None = None


@dataclass
class Scalability:
    database: str
    reference_servers: int | None  # the row speedup is measured against
    rows: list[ScaleRow]


@dataclass
class Side:
    rps: float | None
    p95_ms: float | None
    rounds_rps: list[float]
    state: str


@dataclass
class DbComparison:
    servers: int
    sqlite: Side
    postgresql: Side
    rps_diff_pct: float | None  # PostgreSQL vs SQLite; positive = PostgreSQL more req/s
    p95_diff_pct: float | None  # positive = PostgreSQL slower
    p_value: float | None
    verdict: str
    note: str | None


@dataclass
class AdvancedReport:
    adv_dir: str
    settings: dict[str, Any]
    scalability: list[Scalability]
    comparison: list[DbComparison]
    sweeps: list[Sweep]
    warnings: list[str]
    generated_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}


def load_point(adv_dir: Path, point: Point) -> tuple[ScaleRow, Summary | None]:
    """The point's row without figures yet, and its summary (None when it has none)."""
    row = ScaleRow(point.servers, point.run, point.exit_code, "measured", None, None)
    failed = point.exit_code != 0
    if point.run is None:
        row.state = "failed"
        row.problem = f"the run left no folder ({exit_text(point.exit_code)})"
        return row, None
    run_dir = adv_dir / point.run
    if not has_summary(run_dir):
        where = "not found" if not run_dir.is_dir() else "has no summary"
        row.state = "failed" if failed else "missing"
        row.problem = f"run folder {point.run} {where} ({exit_text(point.exit_code)})"
        return row, None
    if (run_dir / "report.html").is_file():
        row.report = f"{point.run}/report.html"
    return row, load_summary(run_dir)


def rounds_rps(test: TestResult) -> list[float]:
    return [
        float(r["rps"])
        for r in test.complete_rounds()
        if isinstance(r.get("rps"), int | float)
    ]


def tool_call_rps(test: TestResult) -> float | None:
    """req/s of the group's tool calls alone (its call_* components): summed per round, the
    median over rounds. The group's own req/s mixes in lists, a prompt and health, and the
    share of tool calls in that mix grows with the server count."""
    per_round: dict[int, list[float]] = {}
    calls = [c for c in test.components or [] if "/call_" in c.id]
    for component in calls:
        for r in component.rounds:
            if isinstance(r.get("rps"), int | float) and r.get("complete", True):
                per_round.setdefault(int(r["index"]), []).append(float(r["rps"]))
    sums = [sum(v) for v in per_round.values() if len(v) == len(calls)]
    return round(statistics.median(sums), 2) if sums else None


def test_resources(test: TestResult) -> Resources:
    res = test.resources or {}
    roles = res.get("roles") or {}
    gateway, generator = roles.get("gateway") or {}, roles.get("generator") or {}
    pg = res.get("postgres_connections_max")
    return Resources(
        gateway_cpu_mean=gateway.get("cpu_percent_mean"),
        gateway_rss_max=gateway.get("rss_bytes_max"),
        generator_cpu_mean=generator.get("cpu_percent_mean"),
        pg_connections_max=pg,
        gateway_db_connections=max(int(pg) - 1, 0) if isinstance(pg, int) else None,
    )


def coverage_text(n: int, zero: list[str], errors: dict[str, str]) -> str:
    if not zero and not errors:
        return (
            f"tool calls reached all {n} servers"
            if n > 1
            else "tool calls reached the 1 server"
        )
    parts = [f"{name} served 0 tool calls" for name in zero]
    parts += [f"{name}: no count ({why})" for name, why in errors.items()]
    return f"tool calls did NOT reach every one of the {n} servers: {'; '.join(parts)}"


def coverage(summary: Summary, n: int) -> Coverage:
    servers = summary.servers
    names = [SERVER_NAME.format(i) for i in range(1, n + 1)]
    if not isinstance(servers, dict):
        text = "per-server tool calls not recorded (no servers-before/after.json)"
        return Coverage(n, {}, {}, None, None, None, None, text)
    counts: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    for name in [*names, *(s for s in servers if s not in names)]:
        entry = servers.get(name) or {}
        calls = entry.get("tool_calls")
        counts[name] = int(calls) if isinstance(calls, int) else None
        if counts[name] is None and name in names:
            errors[name] = str(
                entry.get("error") or "not in the run's server snapshots"
            )
    known = [c for name in names if (c := counts[name]) is not None]
    zero = [name for name in names if counts[name] == 0]
    return Coverage(
        servers=n,
        counts=counts,
        errors=errors,
        min_calls=min(known, default=None),
        max_calls=max(known, default=None),
        total_calls=sum(known) if known else None,
        all_reached=not zero and not errors,
        text=coverage_text(n, zero, errors),
    )


def fill_row(row: ScaleRow, summary: Summary) -> None:
    row.coverage = coverage(summary, row.servers)
    test = summary.test(SCALE_TEST)
    if test is None:
        row.state = "failed"
        row.problem = f"no {SCALE_TEST} test in the summary of {row.run}"
        return
    agg = test.aggregate or {}
    row.concurrency = test.concurrency
    row.rps = agg.get("rps")
    row.p50_ms = agg.get("p50_ms")
    row.p95_ms = agg.get("p95_ms")
    row.error_rate = test.error_rate
    row.status = test.status
    row.reason = test.reason
    row.rounds_rps = rounds_rps(test)
    row.tool_rps = tool_call_rps(test)
    row.resources = test_resources(test)
    if row.rps is None:
        row.state = "failed"
        row.problem = f"{SCALE_TEST} has no throughput ({row.status}: {row.reason})"
    elif row.exit_code:
        partial = " (a partial run)" if summary.status == "partial" else ""
        row.problem = f"the run ended with {exit_text(row.exit_code)}{partial}"


def add_scaling(rows: list[ScaleRow]) -> int | None:
    """Speedup and efficiency against the smallest measured server count, marginal req/s
    against the previous measured one; returns the reference server count."""
    measured = [r for r in rows if r.rps is not None]
    if not measured:
        return None
    ref = measured[0]
    assert ref.rps is not None
    for prev, row in zip([None, *measured], measured, strict=False):
        assert row.rps is not None
        if ref.rps > 0:
            row.speedup = round(row.rps / ref.rps, 3)
            row.efficiency = round(row.speedup / (row.servers / ref.servers), 3)
        if prev is not None and prev.rps is not None:
            row.marginal_rps = round(
                (row.rps - prev.rps) / (row.servers - prev.servers), 2
            )
    return ref.servers


def scalability(
    adv_dir: Path, advanced: Advanced, database: str
) -> tuple[Scalability, dict[int, Summary]]:
    """The database's rows, one per server count asked for or recorded; and the summaries."""
    points = {p.servers: p for p in advanced.points if p.database == database}
    rows, summaries = [], {}
    for n in sorted(set(advanced.servers) | set(points)):
        if n not in points:
            why = "no point recorded: the run stopped before it"
            rows.append(ScaleRow(n, None, None, "not run", why, None))
            continue
        row, summary = load_point(adv_dir, points[n])
        if summary is not None:
            summaries[n] = summary
            fill_row(row, summary)
        rows.append(row)
    return Scalability(database, add_scaling(rows), rows), summaries


def side(row: ScaleRow) -> Side:
    return Side(row.rps, row.p95_ms, row.rounds_rps, row.state)


def percent_change(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return round(100 * (new - old) / old, 1)


def verdict(
    sq: list[float], pg: list[float], diff: float | None
) -> tuple[float | None, str, str | None]:
    """(p, verdict, note) for PostgreSQL against SQLite on per-round req/s."""
    rounds = min(len(sq), len(pg))
    if diff is None:
        return None, "not comparable", None
    if rounds < MIN_ROUNDS:
        return None, f"too few rounds to judge ({rounds} rounds)", None
    p = round(mann_whitney(pg, sq, "two-sided"), 4)
    note = None
    smallest = 2 / math.comb(len(sq) + len(pg), len(sq))
    if smallest >= ALPHA:
        note = (
            f"with {len(pg)} and {len(sq)} rounds p cannot go below {smallest:.2f}: 4 or "
            "more rounds a side are needed to see a difference (--iterations 4)"
        )
    if p < ALPHA and abs(diff) >= MIN_DIFF_PCT:
        return p, "PostgreSQL faster" if diff > 0 else "PostgreSQL slower", note
    return p, "no clear difference", note


def compare(by_db: dict[str, Scalability]) -> list[DbComparison]:
    if "sqlite" not in by_db or "postgresql" not in by_db:
        return []
    sq_rows = {r.servers: r for r in by_db["sqlite"].rows}
    pg_rows = {r.servers: r for r in by_db["postgresql"].rows}
    result = []
    for n in sorted(set(sq_rows) & set(pg_rows)):
        sq, pg = sq_rows[n], pg_rows[n]
        diff = percent_change(pg.rps, sq.rps)
        p, text, note = verdict(sq.rounds_rps, pg.rounds_rps, diff)
        if diff is None:
            broken = [
                f"{db} {r.state}"
                for db, r in (("sqlite", sq), ("postgresql", pg))
                if r.rps is None
            ]
            text = "not comparable: " + ", ".join(broken)
        result.append(
            DbComparison(
                n,
                side(sq),
                side(pg),
                diff,
                percent_change(pg.p95_ms, sq.p95_ms),
                p,
                text,
                note,
            )
        )
    return result


def database_warnings(database: str, summaries: dict[int, Summary]) -> list[str]:
    """A run whose gateway reported another database than the point says."""
    found = []
    for n, summary in summaries.items():
        reported = (summary.target.get("gateway_settings") or {}).get("database")
        if reported and reported != database:
            found.append(
                f"{database}, {n} server(s): the gateway reported database {reported!r}"
            )
    return found


def build(adv_dir: Path, advanced: Advanced) -> AdvancedReport:
    settings = {
        k: v
        for k, v in asdict(advanced).items()
        if k not in {"points", "schema_version"}
    }
    settings["pool_capacity"] = advanced.pool_capacity
    tables, warnings, summaries = [], [], {}
    for database in advanced.databases:
        table, found = scalability(adv_dir, advanced, database)
        tables.append(table)
        summaries[database] = found
        warnings += database_warnings(database, found)
    by_db = {t.database: t for t in tables}
    return AdvancedReport(
        adv_dir=str(adv_dir),
        settings=settings,
        scalability=tables,
        comparison=compare(by_db),
        sweeps=sweeps(advanced, summaries),
        warnings=warnings,
    )


def write_scalability(adv_dir: Path, report: AdvancedReport) -> Path:
    path = adv_dir / DATA_FILE
    write_json_atomic(path, report.to_dict())
    return path
