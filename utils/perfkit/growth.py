"""`perfkit growth OUT_DIR RUN_DIR...`: how each test's cost grows with the data in the gateway's
database - the runs utils/growth.sh made, one per dataset on a fresh local stack each (make
growth), side by side.

Rows: the rows of the gateway's database when each run started (summary.json's
database.before, every table's count summed; its tools too). Per test present in every run:
p50, p95 (medians over rounds) and req/s at each size, and the growth - the slope b of log(p50)
against log(rows) (p50 ~ rows^b) between the two largest sizes, what the cost does where the
data is largest: under FLAT it is flat, under LINEAR sublinear, up to WORSE about linear, above
it worse than linear. A fixed cost hides a linear part at small sizes (40 ms + 0.004 ms a row
looks flat from 500 to 16,000 rows), so the slope over every size, by least squares, is given
beside it (`slope_overall`). A test that failed at some size is left out there, saying so.

Writes OUT_DIR/growth.json (schema 1: {"schema_version", "runs": [{"run", "dataset", "rows",
"tools"}], "tests": [{"id", "points": [{"rows", "p50_ms", "p95_ms", "rps"}], "slope",
"slope_overall", "growth", "text"}]}) and OUT_DIR/growth.html (a table and charts against rows, log scale),
and prints the table with the growth in words. Exit 0; 2 on a run folder it cannot read or
with no database rows recorded (not a run of the kit's local stack).
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic, write_text_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.results.summary import Summary, load_summary

SCHEMA_VERSION = 1
FLAT = 0.1  # slope of log p50 on log rows under which cost does not grow with data
LINEAR = 0.5  # ... under which it grows slower than the data
WORSE = 1.3  # ... up to which about as fast as the data; above, faster
GROWTH_FILE = "growth.json"
PAGE_FILE = "growth.html"


def rows_of(summary: Summary, run_dir: Path) -> tuple[int, int]:
    before = (summary.database or {}).get("before") or {}
    counts = {k: v for k, v in before.items() if isinstance(v, int)}
    if not counts:
        raise KitError(
            f"{run_dir}: no database rows recorded (summary.json database.before): growth "
            "needs runs on the kit's local stack (utils/growth.sh makes them)",
            ExitCode.USAGE,
        )
    return sum(counts.values()), int(counts.get("tools", 0))


def _setting(summary: Summary, key: str) -> Any:
    return summary.profile if key == "profile" else summary.settings.get(key)


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) on log(x); None with fewer than two distinct x."""
    usable = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len({x for x, _ in usable}) < 2:
        return None
    mx = sum(x for x, _ in usable) / len(usable)
    my = sum(y for _, y in usable) / len(usable)
    sxx = sum((x - mx) ** 2 for x, _ in usable)
    return sum((x - mx) * (y - my) for x, y in usable) / sxx


def growth_word(b: float | None) -> str:
    if b is None:
        return "not fitted"
    if b < FLAT:
        return "flat"
    if b < LINEAR:
        return "sublinear"
    if b <= WORSE:
        return "about linear"
    return "worse than linear"


def analyse(runs: list[tuple[Path, Summary]]) -> dict[str, Any]:
    for key in ("db_backend", "profile"):
        seen = sorted({str(_setting(s, key)) for _, s in runs})
        if len(seen) > 1:
            raise KitError(
                f"the runs differ in {key} ({', '.join(seen)}): growth holds datasets side "
                "by side on one database and profile, so nothing else may change",
                ExitCode.USAGE,
            )
    runs_out: list[dict[str, Any]] = []
    per_run = []
    for run_dir, summary in runs:
        rows, tools = rows_of(summary, run_dir)
        runs_out.append(
            {
                "run": str(run_dir),
                "dataset": summary.settings.get("dataset") or "empty",
                "rows": rows,
                "tools": tools,
            }
        )
        per_run.append({t.id: t for t in summary.tests})
    tests = []
    ids = [t.id for t in runs[0][1].tests]
    for test_id in ids:
        if not all(test_id in found for found in per_run):
            continue
        points: list[dict[str, Any]] = []
        failed: list[str] = []
        for run, found in zip(runs_out, per_run, strict=True):
            test = found[test_id]
            agg = test.aggregate or {}
            if test.status != "ok" or not agg.get("p50_ms"):
                failed.append(str(run["dataset"]))
                continue
            points.append(
                {
                    "rows": run["rows"],
                    "p50_ms": agg.get("p50_ms"),
                    "p95_ms": agg.get("p95_ms"),
                    "rps": agg.get("rps"),
                }
            )
        pairs = [(float(p["rows"]), float(p["p50_ms"])) for p in points]
        b, overall = slope(pairs[-2:]), slope(pairs)
        tests.append(
            {
                "id": test_id,
                "points": points,
                "slope": None if b is None else round(b, 3),
                "slope_overall": None if overall is None else round(overall, 3),
                "growth": growth_word(b),
                "text": describe(points, b, overall, failed),
            }
        )
    return {"schema_version": SCHEMA_VERSION, "runs": runs_out, "tests": tests}


def describe(
    points: list[dict[str, Any]],
    b: float | None,
    overall: float | None,
    failed: list[str],
) -> str:
    if len(points) < 2 or b is None:
        text = "too few sizes measured to fit"
    else:
        before, last = points[-2], points[-1]
        text = (
            f"{growth_word(b)} (p50 ~ rows^{b:.2f}): {before['p50_ms']:g} -> "
            f"{last['p50_ms']:g} ms ({last['p50_ms'] / before['p50_ms']:.1f}x) for "
            f"{last['rows'] / before['rows']:.0f}x the rows ({before['rows']:,} -> {last['rows']:,})"
        )
        if len(points) > 2 and overall is not None:
            first = points[0]
            text += (
                f"; over every size {first['p50_ms']:g} -> {last['p50_ms']:g} ms "
                f"({last['p50_ms'] / first['p50_ms']:.1f}x, rows^{overall:.2f})"
            )
    if failed:
        text += f"; failed on {', '.join(failed)}, left out"
    return text


def render_text(data: dict[str, Any]) -> str:
    sizes = ", ".join(
        f"{r['dataset']} ({r['rows']:,} rows, {r['tools']:,} tools)"
        for r in data["runs"]
    )
    lines = [f"Growth with data: {sizes}"]
    width = max((len(t["id"]) for t in data["tests"]), default=4)
    lines.append(f"  {'test':<{width}}  p50 ms at each size" + " " * 8 + "growth")
    for t in data["tests"]:
        p50s = " / ".join(f"{p['p50_ms']:g}" for p in t["points"])
        lines.append(f"  {t['id']:<{width}}  {p50s:<26}  {t['text']}")
    return "\n".join(lines)


def charts(data: dict[str, Any]) -> list[tuple[str, str]]:
    from perfkit.report.charts import figure, to_svg

    out = []
    for metric, label in (
        ("p50_ms", "p50 (ms)"),
        ("p95_ms", "p95 (ms)"),
        ("rps", "req/s"),
    ):
        with figure(7.6, 3.2) as (fig, (ax,)):
            for t in data["tests"]:
                xs = [p["rows"] for p in t["points"]]
                ys = [p[metric] for p in t["points"]]
                ax.plot(xs, ys, marker="o", markersize=3, label=t["id"])
            if not ax.lines:
                continue
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("rows in the gateway's database (log)")
            ax.set_ylabel(f"{label} (log)")
            ax.legend(loc="best", fontsize=5, frameon=False, ncol=2)
            fig.tight_layout()
            out.append((label, to_svg(fig, f"growth-{metric.split('_')[0]}")))
    return out


def render_page(data: dict[str, Any]) -> str:
    from perfkit.report.page import environment

    return (
        environment()
        .get_template("growth.html.j2")
        .render(
            data=data,
            charts=charts(data),
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="perfkit growth", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "out_dir", type=Path, help="where growth.json and growth.html go"
    )
    parser.add_argument(
        "runs", type=Path, nargs="+", help="run folders, smallest first"
    )
    return parser.parse_args(argv)


def cli(argv: list[str]) -> int:
    args = parse_args(argv)
    runs = [(run, load_summary(run)) for run in args.runs]
    data = analyse(runs)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out_dir / GROWTH_FILE, data)
    write_text_atomic(args.out_dir / PAGE_FILE, render_page(data))
    print(render_text(data))
    print(f"perfkit growth: wrote {args.out_dir / PAGE_FILE}", file=sys.stderr)
    return 0
