"""`perfkit report RUN_DIR [--output FILE] [--open]`: write one self-contained report.html.

Renders a perfkit.report.run_data.Report with templates/report.html.j2 (jinja2, autoescape on) and
the inline SVG charts of perfkit.report.charts. The page has inline CSS, no script and no
external URL: it reads the same from a CI artifact on an offline laptop and prints.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from perfkit.atomic import write_text_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.report.page import anchor, deliver, environment
from perfkit.report.run_data import Report, TestDetail, TestRow, build_report


@dataclass
class TestView:
    """One test's section: its table row, its data and its rendered charts."""

    __test__ = False

    anchor: str
    row: TestRow
    detail: TestDetail
    latency_svg: str | None
    throughput_svg: str | None


def test_views(report: Report) -> list[TestView]:
    from perfkit.report.charts import latency_chart, throughput_chart

    rows = {row.id: row for scenario in report.scenarios for row in scenario.tests}
    views = []
    for n, detail in enumerate(report.details, start=1):
        row = rows[detail.id]
        latency = throughput = None
        if detail.latency is not None:
            latency = latency_chart(
                detail.latency, row.values, detail.baseline, f"c{n}l"
            )
        if detail.throughput is not None and detail.throughput.rounds:
            throughput = throughput_chart(
                detail.throughput,
                row.values["rps"],
                detail.baseline.get("rps"),
                f"c{n}t",
            )
        views.append(TestView(anchor(detail.id), row, detail, latency, throughput))
    return views


def resource_charts(report: Report) -> list[tuple[str, str]]:
    """(title, svg) of each resource chart; empty when no sample was recorded."""
    from perfkit.report.charts import resource_chart

    res = report.resources
    if res is None or res.samples == 0:
        return []
    charts = []
    if res.cpu:
        charts.append(("CPU (%, 100 = one core)", res.cpu))
    if res.memory:
        charts.append(("resident memory (MiB)", res.memory))
    charts += [(f"{s.label} ({s.unit})", [s]) for s in res.extra]
    return [
        (title, resource_chart(series, title, f"r{n}"))
        for n, (title, series) in enumerate(charts, start=1)
    ]


def protocol_chart(report: Report) -> str | None:
    """p50 of each operation on each path it ran on (grouped bars), or None without any."""
    if not report.protocol:
        return None
    from perfkit.report.charts import comparison_chart

    paths = list(dict.fromkeys(f.path for row in report.protocol for f in row.paths))
    values = [
        [
            next((f.p50_ms for f in row.paths if f.path == path), None)
            for row in report.protocol
        ]
        for path in paths
    ]
    labels = [row.operation for row in report.protocol]
    return comparison_chart(
        labels, paths, values, "p50 (ms), median over rounds", "proto"
    )


def pool_chart(report: Report) -> str | None:
    """The connection pool analysis' levels, or None without them."""
    pool = report.database_pool or {}
    levels = [lv for lv in pool.get("levels") or [] if lv.get("calls_per_s")]
    if not levels:
        return None
    from perfkit.report.charts import pool_chart as chart

    return chart(levels, (pool.get("pool") or {}).get("capacity"), "pool")


def render(report: Report, generated_at: str | None = None) -> str:
    stamp = generated_at or datetime.now(UTC).isoformat(timespec="seconds")
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            views=test_views(report),
            resource_charts=resource_charts(report),
            protocol_svg=protocol_chart(report),
            pool_svg=pool_chart(report),
            generated_at=stamp,
        )
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="perfkit report", description=__doc__)
    parser.add_argument("run_dir", type=Path, help="a run folder with summary.json")
    parser.add_argument(
        "--output", type=Path, help="where to write (RUN_DIR/report.html)"
    )
    parser.add_argument(
        "--open", action="store_true", help="open in the browser when interactive"
    )
    return parser.parse_args(argv)


def cli(argv: list[str]) -> int:
    args = parse_args(argv)
    if not args.run_dir.is_dir():
        raise KitError(
            f"run folder '{args.run_dir}' not found (have a look in results/)",
            ExitCode.USAGE,
        )
    started = time.monotonic()
    html = render(build_report(args.run_dir))
    output = args.output or args.run_dir / "report.html"
    write_text_atomic(output, html)
    took = time.monotonic() - started
    print(
        f"perfkit report: {output} ({len(html.encode()) / 1024:.0f} KiB, {took:.1f} s)",
        file=sys.stderr,
    )
    deliver(output, args.open)
    return 0
