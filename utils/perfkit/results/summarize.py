"""`perfkit summarize RUN_DIR [--partial] [--quiet] [--force]`: build RUN_DIR/summary.json
(its model and loader: perfkit.results.summary).

Reads run.json, plan.tsv, events.jsonl and raw/<id>/round-<k>.* (see docs/internals.md), judges
each planned test (a test above the error threshold fails, with the status codes and a hint),
writes summary.json atomically and prints the table. Exit 4 when any test failed, else 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.monitor.summary import for_summary
from perfkit.names import JUDGED_METRICS
from perfkit.results import speed
from perfkit.results.csvstats import (
    RoundStats,
    group_round_stats,
    iso_utc,
    round_index,
    round_stats,
)
from perfkit.results.database import for_summary as for_database
from perfkit.results.database import warnings as database_warnings
from perfkit.results.dbpool import for_summary as for_pool
from perfkit.results.dbqueries import for_summary as for_queries
from perfkit.results.events import Event, load_events
from perfkit.results.plan import PlanRow, read_plan
from perfkit.results.run import load_run
from perfkit.results.samples import TestSamples, round_metrics
from perfkit.results.servers import for_summary as for_servers
from perfkit.results.stalls import for_test as for_stalls
from perfkit.results.summary import (
    ComponentResult,
    Summary,
    TestResult,
    Totals,
    check_overwrite,
    summary_path,
)
from perfkit.results.upstream import for_test as for_upstream
from perfkit.table import describe_errors, render_summary

INTERRUPTED = "run interrupted before this test finished"


def collect_rounds(
    row: PlanRow, raw_dir: Path, components: list[PlanRow]
) -> tuple[list[RoundStats], list[str]]:
    """Every measured round found for a test, and messages for rounds that could not be read."""
    rounds, unreadable = [], []
    if row.kind == "group":
        expected = {c.component_name: c.requests for c in components}
        paths = [p for p in raw_dir.glob("round-*") if p.is_dir()]
    else:
        paths = list(raw_dir.glob("round-*.csv"))
    numbered = {index: p for p in paths if (index := round_index(p)) is not None}
    for index, path in sorted(numbered.items()):
        try:
            if row.kind == "group":
                rounds.append(group_round_stats(path, expected))
            else:
                rounds.append(
                    round_stats(path, path.with_suffix(".time"), row.requests)
                )
        except KitError as exc:
            unreadable.append(f"{row.id} round {index} unreadable: {exc}")
    return rounds, unreadable


def rounds_so_far(run_dir: Path, test_id: str) -> TestSamples:
    """One test's samples from the rounds its raw/ folder holds now, while the run goes on
    (perfkit settled); `failed` when a round is unreadable or errors exceed the threshold."""
    run = load_run(run_dir)
    plan = read_plan(run_dir)
    row = next((r for r in plan if r.id == test_id and r.kind != "component"), None)
    if row is None:
        raise KitError(f"{run_dir}: no test {test_id!r} in its plan", ExitCode.USAGE)
    members = [c for c in plan if c.kind == "component" and c.group == row.id]
    rounds, unreadable = collect_rounds(row, run_dir / "raw" / row.id, members)
    rate = error_rate(rounds)
    threshold = float(run["settings"]["error_threshold"])
    ok = not unreadable and rate is not None and rate <= threshold
    values: dict[str, list[float]] = {metric: [] for metric in JUDGED_METRICS}
    for measured in rounds:
        for metric, value in (round_metrics(measured.to_dict()) or {}).items():
            values[metric].append(value)
    return TestSamples(test_id, "ok" if ok else "failed", None, rate, values)


def error_rate(rounds: list[RoundStats]) -> float | None:
    requests = sum(r.requests for r in rounds)
    errors = sum(r.errors.non_2xx + (r.errors.transport or 0) for r in rounds)
    return round(errors / requests, 6) if requests else None


def _errors_text(rounds: list[RoundStats]) -> str:
    codes: Counter[int] = Counter()
    for stats in rounds:
        codes.update({int(code): n for code, n in stats.status_codes.items()})
    return describe_errors(dict(codes), sum(r.errors.transport or 0 for r in rounds))


def judge(
    event: Event | None,
    rounds: list[RoundStats],
    unreadable: list[str],
    threshold: float,
) -> tuple[str, str | None]:
    """A test's status and reason: its event's verdict, unless its measurements contradict it.

    Measured errors above the threshold are named first, whatever else went wrong: "1905 x 429
    (the rate limiter is on)" says more than the final probe's single 429.
    """
    if event is None:
        return "skipped", INTERRUPTED
    rate = error_rate(rounds) if rounds else None
    if event.status == "failed" and rate is not None and rate > threshold:
        measured = f"error rate {rate:.2%} above the threshold {threshold:.2%}: {_errors_text(rounds)}"
        return "failed", f"{measured}; {event.reason}" if event.reason else measured
    if event.status != "ok":
        return event.status, event.reason
    if unreadable:
        return "failed", "; ".join(unreadable)
    if not rounds:
        return "failed", "no measured rounds found in its raw/ folder"
    if sum(r.ok for r in rounds) == 0:
        counted = f"{len(rounds)} round{'s' if len(rounds) > 1 else ''}"
        return "failed", f"no 2xx responses in {counted}: {_errors_text(rounds)}"
    rate = error_rate(rounds) or 0.0
    if rate > threshold:
        return "failed", (
            f"error rate {rate:.2%} above the threshold {threshold:.2%}: {_errors_text(rounds)}"
        )
    return (
        "ok",
        event.reason,
    )  # e.g. its rounds stopped early (perfkit.compare.sequential)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 2) if known else None


def aggregate(rounds: list[RoundStats]) -> dict[str, Any] | None:
    """Medians over the complete rounds."""
    done = [r for r in rounds if r.complete]
    if not done:
        return None
    return {
        "rounds": len(done),
        "rps": _median([r.rps for r in done]),
        "p50_ms": _median([r.latency_ms.p50 for r in done]),
        "p95_ms": _median([r.latency_ms.p95 for r in done]),
        "p99_ms": _median([r.latency_ms.p99 for r in done]),
    }


def round_warnings(
    test_id: str, rounds: list[RoundStats], cpu_warning: float, generator: bool = True
) -> list[str]:
    """A round whose load generator used too much CPU, or that did not finish. A db test has
    no generator apart from what it measures: its driver is the gateway's own code."""
    warnings = []
    for r in rounds:
        cores = r.generator.cores
        if generator and cores is not None and cores >= cpu_warning:
            warnings.append(
                f"hey used {cores:.2f} cores during {test_id} round {r.index}: "
                "the load generator may be the bottleneck"
            )
        if not r.complete:
            warnings.append(
                f"{test_id} round {r.index}: hey did not finish cleanly (exit status unknown "
                "or not 0): left out of the aggregate"
            )
    return warnings


def _components(rows: list[PlanRow], rounds: list[RoundStats]) -> list[ComponentResult]:
    result = []
    for row in rows:
        per_round = [
            r.components.get(row.component_name) for r in rounds if r.components
        ]
        found = [stats.to_dict() for stats in per_round if stats is not None]
        result.append(
            ComponentResult(row.id, row.method, row.path, row.concurrency, found)
        )
    return result


def build_test(
    row: PlanRow,
    run_dir: Path,
    plan: list[PlanRow],
    event: Event | None,
    settings: dict[str, Any],
) -> tuple[TestResult, list[str]]:
    members = [c for c in plan if c.kind == "component" and c.group == row.id]
    raw_dir = run_dir / "raw" / row.id
    rounds, unreadable = collect_rounds(row, raw_dir, members)
    complete = [r.index for r in rounds if r.complete and r.index is not None]
    status, reason = judge(
        event, rounds, unreadable, float(settings["error_threshold"])
    )
    round_dicts = [r.to_dict() for r in rounds]
    for data in round_dicts:
        data.pop("components", None)  # listed per component in test.components instead
    test = TestResult(
        id=row.id,
        scenario=row.scenario,
        method=row.method,
        path=row.path,
        concurrency=row.concurrency,
        requests_per_round=row.requests,
        duration=row.duration,
        auth=row.auth,
        status=status,
        reason=reason,
        error_rate=error_rate(rounds),
        rounds=round_dicts,
        aggregate=aggregate(rounds),
        probe=asdict(event.probe) if event and event.probe else None,
        components=_components(members, rounds) if row.kind == "group" else None,
        upstream=None if row.kind == "group" else for_upstream(raw_dir, rounds),
        stalls=for_stalls(raw_dir, complete, row.concurrency) if complete else None,
    )
    warnings = unreadable + round_warnings(
        row.id, rounds, float(settings["generator_cpu_warning"]), row.kind != "db"
    )
    return test, warnings


def _unknown_transport_warning(tests: list[TestResult], counted: set[str]) -> list[str]:
    """`counted`: tests whose rows hold every failure (a workflow test writes one for each)."""
    ids = [
        t.id
        for t in tests
        if t.id not in counted
        and any(r["errors"]["transport"] is None for r in t.rounds)
    ]
    if not ids:
        return []
    text = (
        "transport errors are not counted in duration mode (hey -z writes no row for them):"
        f" the error rates of {', '.join(ids)} count non-2xx responses only"
    )
    return [text]


def summarize(run_dir: Path, partial: bool) -> Summary:
    run = load_run(run_dir)
    plan = read_plan(run_dir)
    events = load_events(run_dir)
    tests, warnings = [], []
    for row in (r for r in plan if r.kind != "component"):
        test, test_warnings = build_test(
            row, run_dir, plan, events.get(row.id), run["settings"]
        )
        tests.append(test)
        warnings += test_warnings
    warnings += _unknown_transport_warning(
        tests, {r.id for r in plan if r.kind == "workflow"}
    )
    resources, per_test, resource_warnings = for_summary(
        run_dir,
        {t.id: t.rounds for t in tests},
        float(run["settings"]["generator_cpu_warning"]),
    )
    for test in tests:
        test.resources = per_test.get(test.id)
    warnings += resource_warnings
    database = for_database(run_dir)
    warnings += database_warnings(database)
    queries = for_queries(run_dir, [t.id for t in tests])
    if (
        queries is not None
    ):  # the database scenario's SQL (an A/B side has no snapshots)
        database = (database or {}) | {"queries": queries}
    pool = for_pool(run_dir)  # the database scenario's connection pool analysis
    if pool is not None:
        database = (database or {}) | {"pool": pool}
    totals = Totals(tests=len(tests))
    for test in tests:
        setattr(totals, test.status, getattr(totals, test.status) + 1)
    interrupted = any(t.id not in events for t in tests)
    return Summary(
        profile=run.get("profile", ""),
        status="partial" if partial or interrupted else "complete",
        started_at=run.get("started_at", ""),
        finished_at=iso_utc(time.time()),
        target=dict(run.get("target") or {}),
        environment=dict(run.get("environment") or {}),
        settings=run["settings"],
        tests=tests,
        totals=totals,
        warnings=list(dict.fromkeys(warnings)),
        resources=resources,
        servers=for_servers(run_dir),
        database=database,
        machine_speed=speed.for_summary(run_dir),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perfkit summarize", description=__doc__)
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument(
        "--partial", action="store_true", help="the run was interrupted"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the table")
    parser.add_argument(
        "--force", action="store_true", help="replace a complete summary.json"
    )
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        raise KitError(f"run folder '{run_dir}' not found", ExitCode.USAGE)
    check_overwrite(run_dir, args.force)
    summary = summarize(run_dir, args.partial)
    target = summary_path(run_dir)
    write_json_atomic(target, summary.to_dict())
    if not args.quiet:
        print(render_summary(summary))
        print(f"perfkit summarize: wrote {target}", file=sys.stderr)
    return int(ExitCode.BENCHMARK_FAILED if summary.totals.failed else ExitCode.OK)
