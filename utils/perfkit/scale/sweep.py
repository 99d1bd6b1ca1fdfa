"""The concurrency sweep of the scalability report (tests `sweep/c<L>` of the largest server
count's run): figures per client level, the knee (highest level within the p95 SLO with no
errors), where the gateway's PostgreSQL pool filled up, and where throughput stopped growing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perfkit.results.summary import Summary, TestResult

if TYPE_CHECKING:
    from perfkit.scale.points import Advanced

LEVEL = re.compile(r"^sweep/c(\d+)$")
PLATEAU_GAIN = 0.05  # a level adding less than 5% req/s over the previous one


@dataclass
class SweepRow:
    level: int  # clients asked for
    concurrency: int | None  # clients the group really ran
    rps: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_rate: float | None
    status: str  # the test's status, or "not measured"
    rounds: int
    gateway_connections: (
        int | None
    )  # PostgreSQL: max connections minus the monitor's own
    meets_slo: bool


@dataclass
class Sweep:
    database: str
    servers: int | None  # the point whose run holds the sweep
    run: str | None
    slo_ms: float
    pool_capacity: int | None  # PostgreSQL only
    rows: list[SweepRow] = field(default_factory=list)
    knee: int | None = None
    knee_text: str = ""
    saturation: int | None = None
    saturation_text: str = ""
    plateau: int | None = None
    plateau_text: str = ""


def clients(n: int) -> str:
    return f"{n} client" if n == 1 else f"{n} clients"


def sweep_row(level: int, test: TestResult | None, slo_ms: float) -> SweepRow:
    if test is None:
        nothing = dict.fromkeys(("concurrency", "rps", "p50_ms", "p95_ms", "p99_ms"))
        return SweepRow(level, **nothing, error_rate=None, status="not measured", rounds=0,
                        gateway_connections=None, meets_slo=False)  # fmt: skip
    agg = test.aggregate or {}
    pg = (test.resources or {}).get("postgres_connections_max")
    status, p95, errors = test.status, agg.get("p95_ms"), test.error_rate
    return SweepRow(
        level=level,
        concurrency=test.concurrency,
        rps=agg.get("rps"),
        p50_ms=agg.get("p50_ms"),
        p95_ms=p95,
        p99_ms=agg.get("p99_ms"),
        error_rate=errors,
        status=status,
        rounds=int(agg.get("rounds") or 0),
        gateway_connections=max(int(pg) - 1, 0) if isinstance(pg, int) else None,
        meets_slo=status == "ok" and errors == 0 and p95 is not None and p95 <= slo_ms,
    )


def knee(rows: list[SweepRow], slo_ms: float) -> tuple[int | None, str]:
    good = [r for r in rows if r.meets_slo]
    if not good:
        return None, f"no level met p95 <= {slo_ms:g} ms with no errors"
    best = good[-1]
    text = f"{clients(best.level)} (p95 {best.p95_ms:g} ms <= {slo_ms:g} ms, no errors)"
    measured = [r for r in rows if r.rps is not None]
    if measured and best is measured[-1]:
        text += "; the highest level measured: the knee may lie beyond it"
    return best.level, text


def saturation(rows: list[SweepRow], capacity: int | None) -> tuple[int | None, str]:
    if capacity is None:
        return None, "not applicable (SQLite)"
    seen = [r for r in rows if r.gateway_connections is not None]
    if not seen:
        return None, "unknown: no PostgreSQL connection samples in the sweep"
    full = [r for r in seen if (r.gateway_connections or 0) >= capacity]
    if full:
        at = full[0]
        return at.level, (
            f"{clients(at.level)}: the gateway held {at.gateway_connections} of "
            f"{capacity} pool connections"
        )
    most = max(seen, key=lambda r: r.gateway_connections or 0)
    return None, (
        f"not reached: at most {most.gateway_connections} of {capacity} connections "
        f"(at {clients(most.level)})"
    )


def plateau(rows: list[SweepRow]) -> tuple[int | None, str]:
    measured = [r for r in rows if r.rps is not None]
    if len(measured) < 2:
        return None, "needs two measured levels or more"
    for prev, row in itertools.pairwise(measured):
        assert prev.rps is not None and row.rps is not None
        if row.rps < prev.rps * (1 + PLATEAU_GAIN):
            gain = 100 * (row.rps - prev.rps) / prev.rps if prev.rps else 0.0
            return row.level, (
                f"throughput plateau at {clients(row.level)}: {row.rps:g} req/s, "
                f"{gain:+.1f}% over {clients(prev.level)}"
            )
    return None, "no plateau: req/s grew by 5% or more at every level"


def sweep_tests(summary: Summary) -> dict[int, TestResult]:
    found = {}
    for test in summary.tests:
        match = LEVEL.match(test.id)
        if match:
            found[int(match.group(1))] = test
    return found


def database_sweep(
    advanced: Advanced, database: str, summaries: dict[int, Summary]
) -> Sweep:
    """The sweep of the largest server count whose run holds one."""
    capacity = advanced.pool_capacity if database == "postgresql" else None
    holding = [n for n in sorted(summaries) if sweep_tests(summaries[n])]
    if not holding:
        largest = max(advanced.servers)
        text = (
            f"no sweep results: no {database} run holds sweep/c* tests (the sweep runs "
            f"with the largest server count, {largest})"
        )
        return Sweep(database, None, None, advanced.p95_slo_ms, capacity,
                     knee_text=text, saturation_text=text, plateau_text=text)  # fmt: skip
    n = holding[-1]
    tests = sweep_tests(summaries[n])
    levels = sorted(set(advanced.sweep) | set(tests))
    rows = [sweep_row(level, tests.get(level), advanced.p95_slo_ms) for level in levels]
    run = next(
        p.run for p in advanced.points if p.database == database and p.servers == n
    )
    sweep = Sweep(database, n, run, advanced.p95_slo_ms, capacity, rows)
    sweep.knee, sweep.knee_text = knee(rows, advanced.p95_slo_ms)
    sweep.saturation, sweep.saturation_text = saturation(rows, capacity)
    sweep.plateau, sweep.plateau_text = plateau(rows)
    return sweep


def sweeps(advanced: Advanced, summaries: dict[str, dict[int, Summary]]) -> list[Sweep]:
    """One sweep per database when a sweep was asked for (or found in a run)."""
    return [
        database_sweep(advanced, db, summaries.get(db, {}))
        for db in advanced.databases
        if advanced.sweep or any(sweep_tests(s) for s in summaries.get(db, {}).values())
    ]
