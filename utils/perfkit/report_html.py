"""`perfkit report RUN_DIR [--output FILE] [--open]`: write one self-contained report.html.

Renders a perfkit.report_data.Report with templates/report.html.j2 (jinja2, autoescape on) and
the inline SVG charts of perfkit.report_charts. The page has inline CSS, no script and no
external URL: it reads the same from a CI artifact on an offline laptop and prints.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import webbrowser
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from perfkit.atomic import write_text_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.report_data import Report, TestDetail, TestRow, build_report

TEMPLATES = Path(__file__).resolve().parent / "templates"
VERDICT_CLASS = {
    "regression": "bad",
    "failed": "bad",
    "improvement": "good",
    "unchanged": "neutral",
    "inconclusive": "warn",
    "new": "neutral",
}


@dataclass
class TestView:
    """One test's section: its table row, its data and its rendered charts."""

    __test__ = False

    anchor: str
    row: TestRow
    detail: TestDetail
    latency_svg: str | None
    throughput_svg: str | None


def anchor(test_id: str) -> str:
    return "test-" + re.sub(r"[^A-Za-z0-9_-]+", "-", test_id).strip("-")


def fmt_number(value: Any, decimals: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.{decimals}f}"


def fmt_plain(value: Any) -> str:
    """A setting as a person would write it: 20, 0.1, true, a, b; '–' for unset."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt_plain(v) for v in value)
    return str(value)


def fmt_rate(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.2f}%"


def fmt_signed(value: Any) -> str:
    return "–" if value is None else f"{float(value):+.1f}%"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        plain=fmt_plain, num=fmt_number, rate=fmt_rate, signed=fmt_signed, anchor=anchor
    )
    env.globals["verdict_class"] = lambda v: VERDICT_CLASS.get(str(v), "neutral")
    return env


def test_views(report: Report) -> list[TestView]:
    from perfkit.report_charts import latency_chart, throughput_chart

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
    from perfkit.report_charts import resource_chart

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


def render(report: Report, generated_at: str | None = None) -> str:
    stamp = generated_at or datetime.now(UTC).isoformat(timespec="seconds")
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            views=test_views(report),
            resource_charts=resource_charts(report),
            generated_at=stamp,
        )
    )


def interactive() -> bool:
    """A person at a desktop: stdout is a terminal, not CI, and a display to open a browser."""
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return sys.stdout.isatty() and not os.environ.get("CI") and has_display


def deliver(
    path: Path, want_open: bool, prog: str = "perfkit report", announce: bool = True
) -> None:
    """Print the report's path (unless `announce` is off: the caller prints results on
    stdout); with --open, also open it in a browser when interactive."""
    if announce:
        print(path)
    if want_open and interactive():
        webbrowser.open(path.resolve().as_uri())
    elif want_open:
        print(
            f"{prog}: not opening a browser (not interactive: CI set, no display "
            "or output not a terminal)",
            file=sys.stderr,
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
