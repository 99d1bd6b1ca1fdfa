"""What the HTML report shows, built from a run folder as plain dataclasses (no HTML here).

Inputs, each through its owner's loader: the summary (perfkit.results.summary, required), the
comparison (perfkit.compare.model, when the run was compared), the raw hey CSVs
(perfkit.report.series) and the resource samples (perfkit.report.resources). Rendering:
perfkit.report.run_page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfkit.benchtoken import load_as_text
from perfkit.compare.model import (
    COMPARISON_FILE,
    Comparison,
    MetricResult,
    TestComparison,
    load_comparison,
)
from perfkit.coverage.report import load_coverage
from perfkit.exitcodes import KitError
from perfkit.gateway.record import build_text, overrides_text
from perfkit.monitor.sampler import RESOURCES_FILE
from perfkit.protocol.federation import FederationRow, federation
from perfkit.protocol.overhead import OperationRow, overhead
from perfkit.protocol.sizes import SizeRow, payload_sizes
from perfkit.report.attention import (
    Attention,
    Banner,
    attention,
    banner,
    measurement_warnings,
)
from perfkit.report.resources import Resources, resources
from perfkit.report.series import (
    LatencyData,
    Throughput,
    latency_data,
    throughput,
)
from perfkit.results import upstream
from perfkit.results.csvstats import load_rounds
from perfkit.results.database import describe as describe_database
from perfkit.results.run import RUN_FILE
from perfkit.results.summary import SUMMARY_FILE, Summary, TestResult, load_summary
from perfkit.results.upstream import UpstreamRow

WORKFLOWS_FILE = "raw/workflows/workflows.json"

TABLE_METRICS = ("p50", "p95", "p99", "rps", "error_rate")
OVERLAY_METRICS = ("p50", "p95", "p99", "rps")


@dataclass
class Change:
    """One metric of a test against the baseline (comparison.json); positive = better."""

    base_median: float | None
    cand_median: float | None
    change_pct: float | None
    ci_pct: tuple[float, float] | None
    ci_level: float | None
    verdict: str
    note: str | None


@dataclass
class TestRow:
    __test__ = False  # not a pytest class

    id: str
    name: str
    method: str
    path: str
    concurrency: int
    status: str
    reason: str | None
    rounds: int
    values: dict[str, float | None]  # TABLE_METRICS: aggregate medians, error rate
    verdict: str | None  # comparison verdict of the test
    changes: dict[str, Change]  # by metric, when comparison.json has it


@dataclass
class Scenario:
    name: str
    tests: list[TestRow]


@dataclass
class TestDetail:
    __test__ = False

    id: str
    status: str
    reason: str | None
    latency: LatencyData | None
    throughput: Throughput | None
    baseline: dict[str, float]  # OVERLAY_METRICS -> baseline median
    status_codes: dict[str, int]
    errors: dict[str, int | None]  # non_2xx, transport (None: unknown)
    components: list[str]
    # perfkit.results.stalls: summary.json's `stalls` of the test (None: not computed)
    stalls: dict[str, Any] | None = None


@dataclass
class Report:
    run_dir: str
    title: str
    banner: Banner
    attention: list[Attention]
    configuration: dict[str, Any]
    settings: dict[str, Any]
    gateway_settings: dict[str, Any]
    system: dict[str, Any]
    scenarios: list[Scenario]
    details: list[TestDetail]
    resources: Resources | None
    warnings: list[str]
    has_comparison: bool
    baseline_source: str | None
    files: list[str] = field(default_factory=list)  # run files to link to
    # the mcp scenario's operations over /rpc, /servers/<id>/mcp and /mcp (perfkit.protocol.overhead)
    protocol: list[OperationRow] = field(default_factory=list)
    # the mcp scenario's large answers by size (perfkit.protocol.sizes)
    sizes: list[SizeRow] = field(default_factory=list)
    # a tool call through a federated peer gateway beside it made directly (perfkit.protocol.federation)
    federation: list[FederationRow] = field(default_factory=list)
    # per test whose requests did work at the benchmark MCP servers: where its time went
    # (perfkit.results.upstream), and the tests whose breakdown could not be taken
    upstream: list[UpstreamRow] = field(default_factory=list)
    upstream_unknown: list[str] = field(default_factory=list)
    # the database scenario's SQL: statements per test, slow queries with plans and index trials
    # (perfkit.results.dbqueries; summary.json's database.queries)
    database_queries: dict[str, Any] | None = None
    # the connection pool analysis (perfkit.results.dbpool; summary.json's database.pool)
    database_pool: dict[str, Any] | None = None
    # the scenario workflows' multi-user run (raw/workflows/workflows.json): per workflow,
    # step and user over the whole run, the collaborations' edits, the generator
    workflows: dict[str, Any] | None = None
    # make coverage's result for this run (coverage.json): the gateway's operations it covered
    coverage: dict[str, Any] | None = None


def _change(m: MetricResult) -> Change:
    ci = m.ci_pct
    return Change(
        base_median=m.base_median,
        cand_median=m.cand_median,
        change_pct=m.change_pct,
        ci_pct=(float(ci[0]), float(ci[1])) if ci else None,
        ci_level=m.ci_level,
        verdict=m.verdict,
        note=m.note,
    )


def test_row(test: TestResult, compared: TestComparison | None) -> TestRow:
    agg = test.aggregate or {}
    values = {m: agg.get(f"{m}_ms") for m in ("p50", "p95", "p99")}
    values["rps"] = agg.get("rps")
    values["error_rate"] = test.error_rate
    metrics = compared.metrics if compared else {}
    return TestRow(
        id=test.id,
        name=test.name,
        method=test.method,
        path=test.path,
        concurrency=test.concurrency,
        status=test.status,
        reason=test.reason,
        rounds=int(agg.get("rounds") or 0),
        values=values,
        verdict=compared.verdict if compared else None,
        changes={m: _change(metrics[m]) for m in TABLE_METRICS if m in metrics},
    )


def scenarios(summary: Summary, comparison: Comparison | None) -> list[Scenario]:
    """Tests grouped by scenario, in the run's order."""
    groups: dict[str, list[TestRow]] = {}
    for test in summary.tests:
        row = test_row(test, comparison.test(test.id) if comparison else None)
        groups.setdefault(test.scenario, []).append(row)
    return [Scenario(name, rows) for name, rows in groups.items()]


def test_detail(
    run_dir: Path, test: TestResult, compared: TestComparison | None
) -> TestDetail:
    rounds = test.rounds
    complete = [int(r["index"]) for r in test.complete_rounds()]
    frames = load_rounds(run_dir / "raw" / test.id, complete)
    codes: dict[str, int] = {}
    non_2xx, transport = 0, 0
    transport_known = True
    for r in rounds:
        for code, n in (r.get("status_codes") or {}).items():
            codes[str(code)] = codes.get(str(code), 0) + int(n)
        errors = r.get("errors") or {}
        non_2xx += int(errors.get("non_2xx") or 0)
        if errors.get("transport") is None:
            transport_known = False
        else:
            transport += int(errors["transport"])
    metrics = compared.metrics if compared else {}
    baseline = {
        m: float(median)
        for m in OVERLAY_METRICS
        if m in metrics and (median := metrics[m].base_median) is not None
    }
    return TestDetail(
        id=test.id,
        status=test.status,
        reason=test.reason,
        latency=latency_data(frames),
        throughput=throughput(frames),
        baseline=baseline,
        status_codes=dict(sorted(codes.items())),
        errors={
            "non_2xx": non_2xx,
            "transport": transport if transport_known else None,
        },
        components=[c.id for c in test.components or []],
        stalls=test.stalls,
    )


def system_info(summary: Summary) -> dict[str, Any]:
    env = summary.environment
    settings = summary.settings
    gateway = summary.target.get("gateway_settings") or {}
    memory = env.get("memory_total_bytes")
    return {
        "CPU model": env.get("cpu_model"),
        "logical cores": env.get("logical_cores"),
        "memory": f"{memory / 2**30:.1f} GiB"
        if isinstance(memory, int | float)
        else None,
        "OS": env.get("os"),
        "kernel": env.get("kernel"),
        "Python": env.get("python_version"),
        "hey version": env.get("hey_version"),
        "database backend": gateway.get("database") or settings.get("db_backend"),
        "cache": gateway.get("settings.cache_type") or settings.get("cache"),
        "Redis reachable": gateway.get("redis_reachable"),
        "host": env.get("hostname"),
        "kit commit": env.get("kit_commit"),
    }


def configuration(summary: Summary) -> dict[str, Any]:
    target = summary.target
    found = {
        "profile": summary.profile,
        "status": summary.status,
        "started at": summary.started_at,
        "finished at": summary.finished_at,
        "target URL": target.get("url"),
        "gateway version": target.get("gateway_version"),
    }
    if (build := build_text(target.get("build"))) is not None:
        found["gateway build"] = build
    if (overrides := overrides_text(target.get("env_overrides"))) is not None:
        found["gateway settings overrides"] = overrides
    if (load_as := load_as_text(target.get("load_as"))) is not None:
        found["load ran as"] = load_as
    if summary.database is not None and "state" in summary.database:
        found["gateway database"] = describe_database(summary.database)
    return found


def build_report(run_dir: Path) -> Report:
    summary = load_summary(run_dir)
    comparison = load_comparison(run_dir)
    baseline = (comparison.baseline if comparison else None) or {}
    files = [SUMMARY_FILE, COMPARISON_FILE, RUN_FILE, RESOURCES_FILE, WORKFLOWS_FILE]
    upstream_rows, upstream_unknown = upstream.rows(summary.tests)
    grouped = scenarios(summary, comparison)
    return Report(
        run_dir=str(run_dir),
        title=f"{summary.profile or 'run'} run {run_dir.name}",
        banner=banner(summary, comparison),
        attention=attention(summary, comparison),
        configuration=configuration(summary),
        settings=summary.settings,
        gateway_settings=dict(summary.target.get("gateway_settings") or {}),
        system=system_info(summary),
        scenarios=grouped,
        details=[
            test_detail(run_dir, t, comparison.test(t.id) if comparison else None)
            for t in summary.tests
        ],
        resources=resources(run_dir),
        warnings=measurement_warnings(summary, comparison),
        has_comparison=bool(comparison and comparison.tests),
        baseline_source=baseline.get("source"),
        files=[name for name in files if (run_dir / name).is_file()],
        protocol=overhead(summary),
        sizes=payload_sizes(summary),
        federation=federation(summary),
        upstream=upstream_rows,
        upstream_unknown=upstream_unknown,
        database_queries=(summary.database or {}).get("queries"),
        database_pool=(summary.database or {}).get("pool"),
        workflows=multi_user(run_dir),
        coverage=rest_coverage(run_dir, grouped),
    )


def rest_coverage(
    run_dir: Path, grouped: list[Scenario] | None = None
) -> dict[str, Any] | None:
    """make coverage's coverage.json of this run, or None (not computed, or unreadable);
    with `figures`: each covered operation's tests of this run and their figures."""
    try:
        coverage = load_coverage(run_dir)
    except KitError:
        return None
    if coverage is not None:
        coverage["figures"] = operation_figures(coverage, grouped or [])
    return coverage


def operation_figures(
    coverage: dict[str, Any], grouped: list[Scenario]
) -> list[dict[str, Any]]:
    """Per covered operation (by group), each test of the run that made its requests, with
    that test's figures: p50, p95, req/s, error rate and verdict. A workflow step's source
    (`workflows/<workflow>:<step>`) is its test `workflows/<workflow>.<step>`; a source that
    is no test of the run (a step no window timed) is named with no figures."""
    rows = {row.id: row for scenario in grouped for row in scenario.tests}
    found = []
    for covered in coverage.get("covered_operations") or []:
        for source in covered.get("by") or []:
            test = str(source)
            if test.startswith("workflows/"):
                test = test.replace(":", ".", 1)
            row = rows.get(test)
            found.append(
                {
                    "group": covered.get("group"),
                    "operation": covered.get("operation"),
                    "test": test,
                    "values": row.values if row else None,
                    "verdict": row.verdict if row else None,
                }
            )
    found.sort(key=lambda f: (str(f["group"]), str(f["operation"]), f["test"]))
    return found


def multi_user(run_dir: Path) -> dict[str, Any] | None:
    """The scenario workflows' whole-run tables, or None (not run, or its file unreadable)."""
    try:
        found = json.loads((run_dir / WORKFLOWS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and "per_user" in found else None
