"""`perfkit report-compare RUN_DIR RUN_DIR ... [--output FILE] [--open]`: one page comparing
several runs side by side (e.g. light -> medium -> heavy): per test p50, p95 and req/s of every
run, each with its change relative to the first run (positive = better, as in comparison.json),
and the runs' metadata. Data (RunColumn, TestLine) first, then rendering with
templates/report_compare.html.j2.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfkit.atomic import write_text_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.gateway.record import build_text, overrides_text
from perfkit.results.summary import (
    Summary,
    TestResult,
    has_summary,
    load_summary,
    scan_summaries,
)

COLUMN_METRICS = ("p50", "p95", "rps")
LOWER_IS_BETTER = {"p50": True, "p95": True, "rps": False}


@dataclass
class RunColumn:
    label: str
    path: str
    meta: dict[str, Any]


@dataclass
class Cell:
    value: float | None
    change_pct: (
        float | None
    )  # vs the first run; positive = better; None for the first run


@dataclass
class TestLine:
    __test__ = False

    id: str
    cells: list[dict[str, Cell]]  # one per run: metric -> Cell


def run_meta(summary: Summary) -> dict[str, Any]:
    settings, env, target = summary.settings, summary.environment, summary.target
    return {
        "profile": summary.profile,
        "status": summary.status,
        "started at": summary.started_at,
        "tests ok / all": f"{summary.totals.ok} / {summary.totals.tests}",
        "requests x concurrency": f"{settings.get('requests')} x {settings.get('concurrency')}",
        "duration": settings.get("duration"),
        "rounds": settings.get("iterations"),
        "gateway version": target.get("gateway_version"),
        "gateway build": build_text(target.get("build")),
        "gateway settings overrides": overrides_text(target.get("env_overrides")),
        "database": settings.get("db_backend"),
        "CPU": f"{env.get('cpu_model')} ({env.get('logical_cores')} cores)",
        "hey": env.get("hey_version"),
        "kit commit": env.get("kit_commit"),
    }


def values(test: TestResult) -> dict[str, float | None]:
    agg = test.aggregate or {}
    return {"p50": agg.get("p50_ms"), "p95": agg.get("p95_ms"), "rps": agg.get("rps")}


def change(metric: str, base: float | None, value: float | None) -> float | None:
    if base is None or value is None or base == 0:
        return None
    if LOWER_IS_BETTER[metric]:
        return round(100 * (base - value) / base, 1)
    return round(100 * (value - base) / base, 1)


def build(run_dirs: list[Path]) -> tuple[list[RunColumn], list[TestLine]]:
    """Columns per run and lines per test (union of tests, in order of first appearance)."""
    summaries = [load_summary(d) for d in run_dirs]
    runs = [
        RunColumn(d.name, str(d), run_meta(s))
        for d, s in zip(run_dirs, summaries, strict=True)
    ]
    by_run = [{t.id: values(t) for t in s.tests} for s in summaries]
    order = list(dict.fromkeys(t.id for s in summaries for t in s.tests))
    lines = []
    for test_id in order:
        first = by_run[0].get(test_id, {})
        cells = []
        for n, tests in enumerate(by_run):
            current = tests.get(test_id, {})
            cells.append(
                {
                    m: Cell(
                        current.get(m),
                        None if n == 0 else change(m, first.get(m), current.get(m)),
                    )
                    for m in COLUMN_METRICS
                }
            )
        lines.append(TestLine(test_id, cells))
    return runs, lines


def render(run_dirs: list[Path], generated_at: str | None = None) -> str:
    from perfkit.report.charts import comparison_chart
    from perfkit.report.page import environment

    runs, lines = build(run_dirs)
    labels = [line.id for line in lines]
    charts = [
        (
            title,
            comparison_chart(
                labels,
                [r.label for r in runs],
                [[line.cells[n][m].value for line in lines] for n in range(len(runs))],
                title,
                f"m{m}",
            ),
        )
        for m, title in (("p50", "p50 latency (ms)"), ("rps", "2xx requests/s"))
    ]
    return (
        environment()
        .get_template("report_compare.html.j2")
        .render(
            runs=runs,
            lines=lines,
            metrics=COLUMN_METRICS,
            charts=charts,
            generated_at=generated_at
            or datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )


PROFILE_ORDER = ("smoke", "light", "medium", "heavy", "spike", "soak")


def newest_per_profile(results: Path) -> list[Path]:
    """The newest complete suite run of each profile, lightest profile first."""
    newest: dict[str, Path] = {}
    for run_dir, summary in scan_summaries(results, warn):
        if summary.status == "complete" and not run_dir.name.startswith("adhoc_"):
            newest[summary.profile] = run_dir  # names sort by time stamp: the last wins
    if len(newest) < 2:
        raise KitError(
            f"need runs of at least two profiles in {results} (have: {', '.join(newest) or 'none'});"
            " name run folders: report-compare RUN_DIR RUN_DIR ...",
            ExitCode.USAGE,
        )
    rank = {name: i for i, name in enumerate(PROFILE_ORDER)}
    return [
        newest[p] for p in sorted(newest, key=lambda p: (rank.get(p, len(rank)), p))
    ]


def warn(message: str) -> None:
    print(f"perfkit report-compare: warning: {message}", file=sys.stderr)


def cli(argv: list[str]) -> int:
    from perfkit.report.page import deliver

    parser = argparse.ArgumentParser(prog="perfkit report-compare", description=__doc__)
    parser.add_argument(
        "run_dirs", type=Path, nargs="*", help="run folders, first = reference"
    )
    parser.add_argument(
        "--results",
        type=Path,
        help="no run folders given: the newest complete run of each profile in this folder",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write (default: LAST_RUN/report-compare.html)",
    )
    parser.add_argument("--open", action="store_true", help="open when interactive")
    args = parser.parse_args(argv)
    if not args.run_dirs:
        args.run_dirs = newest_per_profile(args.results or Path("results"))
    missing = [str(d) for d in args.run_dirs if not has_summary(d)]
    if missing:
        raise KitError(
            f"no summary.json in {', '.join(missing)} (give run folders under results/)",
            ExitCode.USAGE,
        )
    output = args.output or args.run_dirs[-1] / "report-compare.html"
    html = render(args.run_dirs)
    write_text_atomic(output, html)
    print(f"perfkit report-compare: {output} ({len(html.encode()) / 1024:.0f} KiB)",
          file=sys.stderr)  # fmt: skip
    deliver(output, args.open)
    return 0
