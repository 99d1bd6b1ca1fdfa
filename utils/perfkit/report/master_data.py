"""What run-all.sh's master report shows, built from its folder as plain dataclasses (no HTML).

Inputs: ALL_DIR/runs.json (perfkit.results.run_all) and, of each profile's run folder, summary.json and
comparison.json when they exist, and the profile's log for why a run ended early. The per-test
side-by-side table is perfkit.report.compare_page's. Rendering: perfkit.report.master_page.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from perfkit.compare.model import Comparison, load_comparison
from perfkit.exitcodes import KitError, meaning, stops
from perfkit.jsonfile import UnknownVersion
from perfkit.report.compare_page import RunColumn, TestLine
from perfkit.report.compare_page import build as build_side_by_side
from perfkit.results.run_all import AllRuns, ProfileRun, read_runs
from perfkit.results.summary import Summary, load_summary

T = TypeVar("T")

# the critical section's order: regressions first
KINDS = ("regression", "failed", "slo breach", "run", "not run")
BANNER = {0: "pass", 1: "regression", 130: "inconclusive"}  # anything else: failed
CPU_ROLES = ("generator", "gateway")
VERDICTS = ("regression", "improvement", "unchanged", "inconclusive", "new", "failed")


@dataclass
class CriticalRow:
    """A failed test, a critical regression, an SLO breach, or a profile that did not end
    well (kind "run") or did not run."""

    kind: str  # one of KINDS
    profile: str
    detail: str  # p-value, reason, limit
    test: str | None = None
    metric: str | None = None
    baseline: float | None = None
    now: float | None = None
    change_pct: float | None = None  # positive = better, as in comparison.json


@dataclass
class ProfileStats:
    profile: str
    exit_code: int | None  # None: not run
    outcome: str
    compared: str  # against which baseline, or why not
    run_name: str | None = None
    run_link: str | None = None  # relative to the all_ folder
    report_link: str | None = None
    log_link: str | None = None
    status: str | None = None  # summary.json status: complete | partial
    verdict: str | None = None  # comparison.json verdict
    tests: dict[str, int] = field(default_factory=dict)  # tests, ok, failed, skipped
    verdicts: dict[str, int] = field(default_factory=dict)  # of VERDICTS
    medians: dict[str, float | None] = field(default_factory=dict)  # p50, p95, rps
    total_requests: int | None = None
    wall_s: float | None = None
    load: str | None = None  # requests x concurrency x rounds
    # role (CPU_ROLES) -> mean, max CPU in % of a core, from summary.json resources
    cpu: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


@dataclass
class MasterReport:
    all_dir: str
    runs: AllRuns
    outcome: str
    banner_kind: str  # pass | regression | failed | inconclusive (CSS banner-*)
    banner_lines: list[str]
    critical: list[CriticalRow]
    profiles: list[ProfileStats]
    columns: list[
        RunColumn
    ]  # the side-by-side table: one column per profile with a summary
    column_labels: list[str]
    lines: list[TestLine]


def read_optional(load: Callable[[Path], T | None], run_dir: Path) -> T | None:
    """A run's summary or comparison through its loader; None when missing, corrupt or
    malformed (the report shows the profile without it). A schema version this kit does not
    read stops the report (exit 2), as everywhere."""
    try:
        return load(run_dir)
    except UnknownVersion:
        raise
    except KitError:
        return None


def last_error(log: Path) -> str | None:
    """The last `... error: ...` line of a profile's log: why its run stopped."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    errors = [line.strip() for line in lines if ": error: " in line]
    return errors[-1][:400] if errors else None


def comparison_rows(profile: str, comparison: Comparison) -> list[CriticalRow]:
    rows = []
    for test in comparison.tests:
        if test.verdict == "failed":
            notes = "; ".join(test.notes) or "failed"
            rows.append(CriticalRow("failed", profile, notes, test=test.id))
        for name, m in test.metrics.items():
            if m.critical and m.verdict == "regression":
                p = m.p_adjusted
                p_text = "p = –" if p is None else f"p = {p:.3g} (Benjamini-Hochberg)"
                rows.append(
                    CriticalRow(
                        "regression", profile, p_text, test.id, name,
                        m.base_median, m.cand_median, m.change_pct,
                    )
                )  # fmt: skip
    for b in comparison.slo_breaches:
        sign = ">=" if str(b.get("slo", "")).startswith("min_") else "<="
        limit = f"must be {sign} {b.get('limit'):g} (slos.{b.get('pattern')})"
        rows.append(
            CriticalRow(
                "slo breach",
                profile,
                limit,
                b.get("test"),
                b.get("slo"),
                now=b.get("value"),
            )
        )
    return rows


def failed_test_rows(
    profile: str, summary: Summary, listed: set[str]
) -> list[CriticalRow]:
    """Tests summary.json calls failed that no comparison listed (e.g. the run was not compared)."""
    return [
        CriticalRow("failed", profile, t.reason or "failed", test=t.id)
        for t in summary.tests
        if t.status == "failed" and t.id not in listed
    ]


def run_row(
    run: ProfileRun, all_dir: Path, compared: bool, has_rows: bool
) -> list[CriticalRow]:
    """A row for the run itself when its exit code says more than its tests do."""
    if run.exit_code == 0 or (not stops(run.exit_code) and has_rows):
        return []
    parts = [f"exit {run.exit_code}: {meaning(run.exit_code)}"]
    if run.run_dir is None:
        parts.append("no run folder")
    elif not compared:
        parts.append("not compared with its baseline")
    error = last_error(all_dir / run.log) if run.log else None
    if error:
        parts.append(error)
    return [CriticalRow("run", run.profile, "; ".join(parts))]


def load_text(settings: dict[str, Any]) -> str | None:
    amount = settings.get("duration") or settings.get("requests")
    if amount is None:
        return None
    return f"{amount} x {settings.get('concurrency')} x {settings.get('iterations')}"


def median(values: list[Any]) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    return round(statistics.median(numbers), 2) if numbers else None


def summary_stats(stats: ProfileStats, summary: Summary) -> None:
    tests = summary.tests
    aggregates = [t.aggregate or {} for t in tests]
    stats.status = summary.status
    stats.tests = {k: int(v) for k, v in asdict(summary.totals).items()}
    stats.medians = {
        "p50": median([a.get("p50_ms") for a in aggregates]),
        "p95": median([a.get("p95_ms") for a in aggregates]),
        "rps": median([a.get("rps") for a in aggregates]),
    }
    stats.total_requests = sum(
        int(r.get("requests") or 0) for t in tests for r in t.rounds
    )
    stats.load = load_text(summary.settings)
    roles = (summary.resources or {}).get("roles") or {}
    stats.cpu = {
        role: (roles[role].get("cpu_percent_mean"), roles[role].get("cpu_percent_max"))
        for role in CPU_ROLES
        if roles.get(role)
    }


def compared_text(comparison: Comparison | None) -> str:
    if comparison is None:
        return "not compared"
    if not comparison.baseline:
        return "no baseline yet (failures and SLOs only; a first clean run becomes the baseline)"
    return "against " + Path(str(comparison.baseline.get("source"))).name


def profile_stats(
    all_dir: Path, run: ProfileRun
) -> tuple[ProfileStats, list[CriticalRow], Path | None]:
    """One profile's statistics and critical rows, and its run folder if it has summary.json."""
    stats = ProfileStats(
        run.profile, run.exit_code, meaning(run.exit_code), "not compared",
        run_link=run.run_dir, log_link=run.log, wall_s=run.wall_s,
    )  # fmt: skip
    run_dir = all_dir / run.run_dir if run.run_dir else None
    summary = comparison = None
    if run_dir is not None:
        stats.run_name = run_dir.name
        if (run_dir / "report.html").is_file():
            stats.report_link = f"{run.run_dir}/report.html"
        summary = read_optional(load_summary, run_dir)
        comparison = read_optional(load_comparison, run_dir)
    rows: list[CriticalRow] = []
    if comparison is not None:
        stats.verdict = comparison.verdict
        counts = comparison.summary
        stats.verdicts = {v: int(counts.get(v) or 0) for v in VERDICTS}
        rows += comparison_rows(run.profile, comparison)
    stats.compared = compared_text(comparison)
    if summary is not None:
        summary_stats(stats, summary)
        rows += failed_test_rows(
            run.profile, summary, {r.test or "" for r in rows if r.kind == "failed"}
        )
    rows += run_row(run, all_dir, comparison is not None, bool(rows))
    return stats, rows, run_dir if summary is not None else None


def not_run(runs: AllRuns) -> tuple[list[ProfileStats], list[CriticalRow]]:
    why = "nothing ran"
    if runs.interrupted:
        why = "interrupted"
    elif runs.runs:
        last = runs.runs[-1]
        why = f"the sequence stopped after {last.profile} (exit {last.exit_code})"
    stats = [ProfileStats(p, None, "not run", "not run") for p in runs.not_run()]
    rows = [CriticalRow("not run", p, f"not run: {why}") for p in runs.not_run()]
    return stats, rows


def banner_lines(runs: AllRuns, critical: list[CriticalRow]) -> list[str]:
    ran = ", ".join(f"{r.profile} (exit {r.exit_code})" for r in runs.runs) or "none"
    lines = [f"profiles run: {ran}"]
    if runs.not_run():
        lines.append(f"not run: {', '.join(runs.not_run())}")
    if runs.status == "partial":
        lines.append(
            "partial: "
            + ("interrupted" if runs.interrupted else "not every profile ran")
        )
    counts = {k: sum(r.kind == k for r in critical) for k in KINDS}
    found = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    lines.append(f"critical: {found}" if found else "critical: none")
    return lines


def build_master(all_dir: Path) -> MasterReport:
    runs = read_runs(all_dir)
    profiles, critical, summarized = [], [], []
    for run in runs.runs:
        stats, rows, run_dir = profile_stats(all_dir, run)
        profiles.append(stats)
        critical += rows
        if run_dir is not None:
            summarized.append((run.profile, run_dir))
    missing_stats, missing_rows = not_run(runs)
    profiles += missing_stats
    critical += missing_rows
    order = {name: i for i, name in enumerate(runs.profiles)}
    critical.sort(key=lambda r: (KINDS.index(r.kind), order.get(r.profile, len(order))))
    columns, lines = (
        build_side_by_side([d for _, d in summarized]) if summarized else ([], [])
    )
    return MasterReport(
        all_dir=str(all_dir),
        runs=runs,
        outcome=meaning(runs.exit_code),
        banner_kind=BANNER.get(runs.exit_code, "failed"),
        banner_lines=banner_lines(runs, critical),
        critical=critical,
        profiles=profiles,
        columns=columns,
        column_labels=[p for p, _ in summarized],
        lines=lines,
    )
