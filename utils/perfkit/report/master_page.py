"""`perfkit report-master ALL_DIR [--output FILE] [--open]`: run-all.sh's master report.

One self-contained page (inline CSS, no script, no external URL) for a results/all_<stamp>/
folder: the overall verdict and exit code; first the critical regressions and failures of every
profile; summary statistics per profile side by side; the per-test table (p50, p95, req/s per
profile, as perfkit report-compare shows it); links to each run's own report.html. Data:
perfkit.report.master_data; template: templates/report_master.html.j2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from perfkit.atomic import write_text_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.report.compare_page import COLUMN_METRICS
from perfkit.report.master_data import KINDS, MasterReport, build_master
from perfkit.results.run_all import RUNS_FILE

REPORT_NAME = "report.html"


def render(report: MasterReport, generated_at: str | None = None) -> str:
    from perfkit.report.page import environment

    env = environment()
    env.filters["duration"] = fmt_duration
    return env.get_template("report_master.html.j2").render(
        report=report,
        kinds=KINDS,
        metrics=COLUMN_METRICS,
        columns=report.columns,
        column_labels=report.column_labels,
        lines=report.lines,
        generated_at=generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
    )


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def cli(argv: list[str]) -> int:
    from perfkit.report.page import deliver

    parser = argparse.ArgumentParser(prog="perfkit report-master", description=__doc__)
    parser.add_argument("all_dir", type=Path, help="a results/all_<stamp>/ folder")
    parser.add_argument("--output", type=Path, help="default: ALL_DIR/report.html")
    parser.add_argument("--open", action="store_true", help="open when interactive")
    args = parser.parse_args(argv)
    if not (args.all_dir / RUNS_FILE).is_file():
        raise KitError(
            f"no {RUNS_FILE} in '{args.all_dir}' (give a results/all_<stamp>/ folder"
            " that run-all.sh wrote)",
            ExitCode.USAGE,
        )
    html = render(build_master(args.all_dir))
    output = args.output or args.all_dir / REPORT_NAME
    write_text_atomic(output, html)
    print(
        f"perfkit report-master: {output} ({len(html.encode()) / 1024:.0f} KiB)",
        file=sys.stderr,
    )
    deliver(output, args.open)
    return 0
