"""The scalability report as plain text for stdout: the scalability table of each database,
PostgreSQL against SQLite, each sweep's knee, plateau and pool saturation, and which MCP
servers the tool calls reached."""

from __future__ import annotations

from perfkit.scale.data import (
    AdvancedReport,
    DbComparison,
    Resources,
    Scalability,
    ScaleRow,
)
from perfkit.scale.sweep import Sweep
from perfkit.table import MISSING, Column, render_table

SCALE_COLUMNS = tuple(
    Column(title, align)
    for title, align in (
        ("servers", ">"), ("clients", ">"), ("req/s", ">"), ("tool req/s", ">"),
        ("p50 ms", ">"), ("p95 ms", ">"), ("errors", ">"), ("status", "<"), ("speedup", ">"), ("efficiency", ">"),
        ("+req/s/server", ">"), ("tool calls min/max/total", ">"), ("gw CPU%", ">"),
        ("gw RSS MiB", ">"), ("hey CPU%", ">"), ("gw DB conns", ">"),
    )
)  # fmt: skip
COMPARE_COLUMNS = tuple(
    Column(title, align)
    for title, align in (
        ("servers", ">"), ("sqlite req/s", ">"), ("postgresql req/s", ">"), ("diff", ">"),
        ("sqlite p95", ">"), ("postgresql p95", ">"), ("diff", ">"), ("p", ">"),
        ("verdict", "<"),
    )
)  # fmt: skip
SWEEP_COLUMNS = tuple(
    Column(title, align)
    for title, align in (
        ("clients", ">"), ("real", ">"), ("req/s", ">"), ("p50 ms", ">"), ("p95 ms", ">"),
        ("p99 ms", ">"), ("errors", ">"), ("status", "<"), ("gw DB conns", ">"),
    )
)  # fmt: skip


def num(value: float | None, decimals: int = 1) -> str:
    return MISSING if value is None else f"{value:.{decimals}f}"


def rate(value: float | None) -> str:
    return MISSING if value is None else f"{100 * value:.2f}%"


def signed(value: float | None) -> str:
    return MISSING if value is None else f"{value:+.1f}%"


def calls(row: ScaleRow) -> str:
    c = row.coverage
    if c is None or c.total_calls is None:
        return MISSING
    return f"{c.min_calls}/{c.max_calls}/{c.total_calls}"


def scale_cells(row: ScaleRow) -> list[str]:
    res = row.resources or Resources(None, None, None, None, None)
    rss = None if res.gateway_rss_max is None else res.gateway_rss_max / 2**20
    return [
        str(row.servers), num(row.concurrency, 0), num(row.rps), num(row.tool_rps),
        num(row.p50_ms, 2), num(row.p95_ms, 2), rate(row.error_rate),
        row.status if row.state == "measured" and row.status else row.state,
        num(row.speedup, 2), num(row.efficiency, 2), num(row.marginal_rps, 2), calls(row),
        num(res.gateway_cpu_mean), num(rss), num(res.generator_cpu_mean),
        num(res.gateway_db_connections, 0),
    ]  # fmt: skip


def scalability_text(table: Scalability) -> list[str]:
    ref = table.reference_servers
    lines = [
        f"{table.database}: scale/spread per server count"
        + (f", speedup against {ref} server(s)" if ref else ", nothing measured"),
        render_table([scale_cells(r) for r in table.rows], SCALE_COLUMNS),
    ]
    for row in table.rows:
        if row.problem:
            lines.append(f"  {row.servers} server(s): {row.state}: {row.problem}")
        if row.coverage is not None:
            lines.append(f"  {row.servers} server(s): {row.coverage.text}")
    return lines


def compare_cells(c: DbComparison) -> list[str]:
    return [
        str(c.servers), num(c.sqlite.rps), num(c.postgresql.rps), signed(c.rps_diff_pct),
        num(c.sqlite.p95_ms, 2), num(c.postgresql.p95_ms, 2), signed(c.p95_diff_pct),
        num(c.p_value, 3), c.verdict,
    ]  # fmt: skip


def round_range(rounds: list[float]) -> str:
    return f"{min(rounds):g}-{max(rounds):g}" if rounds else MISSING


def comparison_text(rows: list[DbComparison]) -> list[str]:
    lines = [
        (
            "PostgreSQL vs SQLite (scale/spread; diff = PostgreSQL against SQLite; verdict: "
            "two-sided Mann-Whitney on per-round req/s, p < 0.05 and |diff| >= 5%)"
        ),
        render_table([compare_cells(c) for c in rows], COMPARE_COLUMNS),
    ]
    for c in rows:
        lines.append(
            f"  {c.servers} server(s): rounds req/s sqlite {round_range(c.sqlite.rounds_rps)} "
            f"({len(c.sqlite.rounds_rps)}), postgresql {round_range(c.postgresql.rounds_rps)} "
            f"({len(c.postgresql.rounds_rps)})" + (f"; {c.note}" if c.note else "")
        )
    return lines


def sweep_text(sweep: Sweep) -> list[str]:
    where = f"{sweep.servers} server(s), run {sweep.run}" if sweep.servers else "no run"
    pool = f" / {sweep.pool_capacity}" if sweep.pool_capacity else ""
    rows = [
        [str(r.level), num(r.concurrency, 0), num(r.rps), num(r.p50_ms, 2), num(r.p95_ms, 2),
         num(r.p99_ms, 2), rate(r.error_rate), r.status,
         num(r.gateway_connections, 0) + (pool if r.gateway_connections is not None else "")]
        for r in sweep.rows
    ]  # fmt: skip
    lines = [
        f"Concurrency sweep, {sweep.database} ({where}; SLO p95 <= {sweep.slo_ms:g} ms)"
    ]
    if rows:
        lines.append(render_table(rows, SWEEP_COLUMNS))
    lines += [
        f"  knee: {sweep.knee_text}",
        f"  throughput: {sweep.plateau_text}",
        f"  DB pool saturation: {sweep.saturation_text}",
    ]
    return lines


def render_text(report: AdvancedReport) -> str:
    s = report.settings
    lines = [
        (
            f"Scalability report: profile {s['profile']}, {s['mode']} mode, servers "
            f"{','.join(map(str, s['servers']))}, databases {','.join(s['databases'])}, "
            f"p95 SLO {s['p95_slo_ms']:g} ms, DB pool {s['pool_size']}+{s['max_overflow']}"
            f" = {s['pool_capacity']}"
        )
    ]
    for table in report.scalability:
        lines += ["", *scalability_text(table)]
    if report.comparison:
        lines += ["", *comparison_text(report.comparison)]
    for sweep in report.sweeps:
        lines += ["", *sweep_text(sweep)]
    if report.warnings:
        lines += ["", *(f"warning: {w}" for w in report.warnings)]
    return "\n".join(lines)
