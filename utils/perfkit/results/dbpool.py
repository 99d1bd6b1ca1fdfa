"""The database scenario's connection pool analysis, for the summary, the text after a run and
the report: database-pool.json (written by perfkit.dbbench.pool in the gateway's venv; this
module reads it) and what its levels show.

summary.json's `database.pool` (optional; None when the analysis did not run):
  the file as written (backend, op, limit, seconds, pool, max_connections, levels) and
  {"peak", "knee", "full_at", "findings": [text], "recommendation": text}, or {"error"}.
`peak`: the level with the most calls/s; `knee`: the lowest concurrency reaching KNEE of the
peak (past it, more concurrent calls add little); `full_at`: the lowest concurrency at which
calls found every connection the pool can hand out (size + overflow) checked out and waited
for the pool itself (`queued`). Below it the checkout wait is the wait for the CPU the
process's threads share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfkit.exitcodes import KitError
from perfkit.jsonfile import check_version, read_object

POOL_FILE = "database-pool.json"
READABLE_VERSIONS = (1,)  # database-pool.json's schema_version (perfkit.dbbench.pool)
KNEE = 0.9  # a level within this share of the peak's calls/s is as good as the peak
CPU_BOUND = 0.85  # cores of CPU at the peak from which one process is bound by its CPU
WAIT_MS = (
    1.0  # a checkout wait p95 at least this long is calls queuing for a connection
)


def load(run_dir: Path) -> dict[str, Any]:
    path = run_dir / POOL_FILE
    data = read_object(
        path, POOL_FILE, fix="it is remade by the next run of the database scenario"
    )
    check_version(path, data, READABLE_VERSIONS)
    return data


def for_summary(run_dir: Path) -> dict[str, Any] | None:
    """The block, or None when the pool analysis did not run (no file)."""
    if not (run_dir / POOL_FILE).is_file():
        return None
    try:
        data = load(run_dir)
    except KitError as exc:
        return {"error": str(exc)}
    levels = [lv for lv in data.get("levels") or [] if lv.get("calls_per_s")]
    if not levels:
        return data | {"error": "no level of the pool analysis completed a call"}
    return data | analyse(data, levels)


def _cap(pool: dict[str, Any]) -> str:
    size, overflow = pool.get("size"), pool.get("max_overflow")
    if size is None:
        return f"a {pool.get('class') or 'pool'} without a size"
    return f"{size} + {overflow or 0} overflow = {pool.get('capacity')} connections"


def analyse(data: dict[str, Any], levels: list[dict[str, Any]]) -> dict[str, Any]:
    pool = data.get("pool") or {}
    capacity = pool.get("capacity")
    peak = max(levels, key=lambda lv: lv["calls_per_s"])
    knee = next(lv for lv in levels if lv["calls_per_s"] >= KNEE * peak["calls_per_s"])
    last = levels[-1]
    full = next((lv for lv in levels if capacity and (lv.get("queued") or 0) > 0), None)
    before_full = (
        None
        if full is None
        else next(
            (lv for lv in reversed(levels) if lv["concurrency"] < full["concurrency"]),
            None,
        )
    )
    findings = [
        (
            f"calls/s peaked at concurrency {peak['concurrency']} ({peak['calls_per_s']:g}); "
            f"{KNEE:.0%} of it from concurrency {knee['concurrency']}; at concurrency "
            f"{last['concurrency']}: {last['calls_per_s']:g} "
            f"({last['calls_per_s'] / peak['calls_per_s']:.0%} of the peak)"
        )
    ]
    cpu = peak.get("cpu_cores")
    cpu_bound = cpu is not None and cpu >= CPU_BOUND
    if cpu_bound:
        findings.append(
            f"the calling process used {cpu:g} of a core at the peak: one Python process "
            "(as one gateway worker) is bound by its CPU there, not by connections"
        )
    if full is not None:
        waits = f"checkout wait p95 {full['wait_p95_ms']:g} ms there" + (
            ""
            if before_full is None
            else f" (at concurrency {before_full['concurrency']}: {before_full['wait_p95_ms']:g} ms)"
        )
        if last is not full:
            waits += (
                f", {last['wait_p95_ms']:g} ms at concurrency {last['concurrency']}"
            )
        findings.append(
            f"the pool ({_cap(pool)}) was full from concurrency {full['concurrency']}: "
            f"{full['queued']:.0%} of its calls found every connection checked out and "
            f"waited for one; {waits}"
        )
    else:
        most = max(lv["checked_out_max"] for lv in levels)
        findings.append(
            f"the pool ({_cap(pool)}) was never full up to concurrency {last['concurrency']} "
            f"(at most {most} checked out at once, no call found them all out): the checkout "
            f"wait (p95 at most {max(lv['wait_p95_ms'] or 0 for lv in levels):g} ms) is the "
            "wait for the CPU the threads share"
        )
    skipped = data.get("skipped_levels") or []
    if skipped:
        findings.append(
            f"not run at concurrency {', '.join(map(str, skipped))}: one call alone took "
            f"{data.get('single_ms'):g} ms, so its calls in flight would take over "
            f"{data.get('max_drain_s'):g} s to finish"
        )
    for lv in levels:
        if lv.get("errors"):
            findings.append(
                f"{lv['errors']} of {lv['calls']} calls failed at concurrency "
                f"{lv['concurrency']}: {lv.get('error')}"
            )
    seen = [lv for lv in levels if lv.get("db_connections_max") is not None]
    if seen:
        most = max(seen, key=lambda lv: lv["db_connections_max"])
        findings.append(
            f"PostgreSQL saw up to {most['db_connections_max']} connections to the database "
            f"({most['db_active_max']} active) at concurrency {most['concurrency']}, the "
            f"running gateway's own included; max_connections {data.get('max_connections')}"
        )
    return {
        "peak": peak["concurrency"],
        "knee": knee["concurrency"],
        "full_at": None if full is None else full["concurrency"],
        "findings": findings,
        "recommendation": recommend(data, peak, knee, full, cpu_bound),
    }


def recommend(
    data: dict[str, Any],
    peak: dict[str, Any],
    knee: dict[str, Any],
    full: dict[str, Any] | None,
    cpu_bound: bool,
) -> str:
    pool = data.get("pool") or {}
    capacity = pool.get("capacity")
    if not capacity:
        return (
            f"no pool of the gateway's own to size ({pool.get('class')}): throughput peaked at "
            f"concurrency {peak['concurrency']} ({peak['calls_per_s']:g} calls/s)"
        )
    room = ""
    if data.get("max_connections"):
        room = (
            f"; PostgreSQL's max_connections {data['max_connections']} allows "
            f"{data['max_connections'] // capacity} worker(s) of this pool (workers x "
            f"(DB_POOL_SIZE + DB_MAX_OVERFLOW) must stay under it)"
        )
    before = [
        lv for lv in data["levels"] if full and lv["concurrency"] < full["concurrency"]
    ]
    if full is not None and before and knee["concurrency"] >= before[-1]["concurrency"]:
        return (
            f"the pool limits throughput: calls/s still grew up to concurrency "
            f"{knee['concurrency']}, where the {capacity} connections the pool hands out ran out "
            f"(checkout wait p95 {full['wait_p95_ms']:g} ms from concurrency "
            f"{full['concurrency']}): raise DB_POOL_SIZE{room}"
        )
    why = "its CPU" if cpu_bound else "the database or the process"
    past = (
        f"never full up to concurrency {data['levels'][-1]['concurrency']}: a larger pool "
        "would buy nothing"
        if full is None
        else f"full from concurrency {full['concurrency']}, where calls waited for a "
        f"connection (checkout wait p95 {full['wait_p95_ms']:g} ms) without gaining throughput"
    )
    return (
        f"the pool does not limit throughput: calls/s reached {KNEE:.0%} of the peak at "
        f"concurrency {knee['concurrency']} ({knee['calls_per_s']:g} calls/s), bound by {why}, "
        f"with fewer than the pool's {capacity} connections in use; the pool was {past}. Keep "
        "DB_POOL_SIZE + DB_MAX_OVERFLOW at least the requests one worker takes at once; for "
        f"more throughput add workers, not connections{room}"
    )


def render(block: dict[str, Any] | None) -> str:
    """The text block after a run's table; empty when the analysis did not run."""
    if not block:
        return ""
    if block.get("error") and not block.get("levels"):
        return f"Connection pool: not analysed: {block['error']}"
    lines = [
        (
            f"Connection pool ({block.get('backend')}, {block.get('op')} limit "
            f"{block.get('limit')}, {block.get('seconds'):g} s a level; pool "
            f"{_cap(block.get('pool') or {})}):"
        ),
        "  concurrency  calls/s  p50 ms  p95 ms  wait p95 ms  queued  checked out  cores",
    ]
    for lv in block.get("levels") or []:
        lines.append(
            f"  {lv['concurrency']:>11}  {_num(lv['calls_per_s']):>7}  {_num(lv['p50_ms']):>6}"
            f"  {_num(lv['p95_ms']):>6}  {_num(lv['wait_p95_ms']):>11}"
            f"  {_share(lv.get('queued')):>6}  {lv['checked_out_max']:>11}  {_num(lv['cpu_cores']):>5}"
        )
    if block.get("error"):
        lines.append(f"  {block['error']}")
        return "\n".join(lines)
    lines += [f"  {text}" for text in block.get("findings") or []]
    lines.append(f"  recommendation: {block['recommendation']}")
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
