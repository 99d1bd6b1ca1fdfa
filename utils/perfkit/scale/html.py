"""`perfkit advanced report`: ADV_DIR/scalability.json (the computed data, versioned),
ADV_DIR/report.html (templates/advanced.html.j2: inline CSS, inline SVG charts, no script, no
external URL) and the plain-text summary on stdout; the report's path on stderr.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from perfkit.atomic import write_text_atomic
from perfkit.scale.data import AdvancedReport, build, write_scalability
from perfkit.scale.points import Advanced

REPORT_FILE = "report.html"


@dataclass
class Chart:
    kind: str  # data-chart of the figure: scaling or sweep
    title: str
    svg: str
    caption: str


def not_drawn(report: AdvancedReport) -> str:
    gaps = [
        f"{t.database} {r.servers} server(s) ({r.state})"
        for t in report.scalability
        for r in t.rows
        if r.rps is None
    ]
    return f"; not drawn (no figures): {', '.join(gaps)}" if gaps else ""


def charts(report: AdvancedReport) -> list[Chart]:
    from perfkit.scale.charts import scaling_chart, sweep_chart

    gaps = not_drawn(report)
    found = [
        Chart("scaling", "req/s against server count",
              scaling_chart(report.scalability, "rps", "2xx responses/s", "s1"),
              "scale/spread, median over rounds, one line per database" + gaps),
        Chart("scaling", "p95 against server count",
              scaling_chart(report.scalability, "p95_ms", "p95 latency (ms)", "s2"),
              "scale/spread, median of the rounds' p95" + gaps),
    ]  # fmt: skip
    for n, sweep in enumerate(report.sweeps, start=1):
        if any(row.rps is not None for row in sweep.rows):
            found.append(Chart(
                "sweep", f"concurrency sweep, {sweep.database}", sweep_chart(sweep, f"w{n}"),
                f"{sweep.servers} server(s): req/s and p95 per client count; dashed: the SLO;"
                " green: the knee; dotted: the throughput plateau",
            ))  # fmt: skip
    return found


def server_names(report: AdvancedReport) -> list[str]:
    """Every MCP server any point counted, bench-time-2 before bench-time-10."""
    from perfkit.results.servers import natural_key

    names = {
        name
        for t in report.scalability
        for r in t.rows
        if r.coverage is not None
        for name in r.coverage.counts
    }
    return sorted(names, key=natural_key)


def render(report: AdvancedReport) -> str:
    from perfkit.report.page import environment

    return (
        environment()
        .get_template("advanced.html.j2")
        .render(
            report=report,
            s=report.settings,
            charts=charts(report),
            server_names=server_names(report),
        )
    )


def write_report(adv_dir: Path, advanced: Advanced, want_open: bool) -> int:
    from perfkit.report.page import deliver
    from perfkit.scale.text import render_text

    started = time.monotonic()
    report = build(adv_dir, advanced)
    report.generated_at = datetime.now(UTC).isoformat(timespec="seconds")
    html = render(report)
    data_file = write_scalability(adv_dir, report)
    output = adv_dir / REPORT_FILE
    write_text_atomic(output, html)
    print(render_text(report))
    print(
        f"perfkit advanced: {output} ({len(html.encode()) / 1024:.0f} KiB, "
        f"{time.monotonic() - started:.1f} s), data in {data_file}",
        file=sys.stderr,
    )
    deliver(output, want_open, "perfkit advanced", announce=False)
    return 0
