"""`perfkit trend [--results DIR] [--profile P] [--test GLOB] [--metric p50]`: history of runs.

Reads every RESULTS/*/summary.json (complete runs only; a corrupt one is skipped with a warning,
one of a schema version this kit does not read stops it with exit 2), takes per run and test the median of
the metric over its measured rounds, and prints per test the series of run medians, oldest first.

Change points: binary segmentation over the series of run medians. In a segment, every split
with at least --min-runs runs on each side is a candidate; a candidate counts when a two-sided
Mann-Whitney U test between the two sides gives p < --alpha (default 0.01) AND the medians of
the two sides differ by at least --threshold (default 0.10, the kit's regression threshold).
The candidate with the smallest p (then the largest change) is kept, and both sides are searched
again. Like asv's step detection and Otava's E-divisive, this needs several runs on both sides:
with p < 0.01 an exact test cannot fire before about 5 runs on each side (5+5, 4+6, 3+9), so a
one-run blip is never a change point. The method is informational: exit 0 whatever it finds.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from scipy.stats import mannwhitneyu  # type: ignore[import-untyped]

from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import JUDGED_METRICS
from perfkit.results.samples import round_metrics
from perfkit.results.summary import Summary, scan_summaries

UNITS = {"p50": "ms", "p95": "ms", "p99": "ms", "rps": "req/s", "total_time": "s"}


@dataclass
class RunPoint:
    run: str  # the run folder's name
    started_at: str
    value: float  # median over the run's measured rounds
    rounds: int


@dataclass
class ChangePoint:
    index: int  # first run of the new level
    run: str
    started_at: str
    before: float  # median of the run medians before / from the change point
    after: float
    change_pct: float
    p_value: float
    direction: str  # slower | faster (worse | better for error_rate)
    runs_before: int
    runs_after: int


@dataclass
class TestTrend:
    __test__ = False  # not a pytest test class

    profile: str
    test: str
    metric: str
    points: list[RunPoint]
    change_points: list[ChangePoint] = field(default_factory=list)


def warn(message: str) -> None:
    print(f"perfkit trend: warning: {message}", file=sys.stderr)


def run_rows(run_dir: Path, summary: Summary, metric: str) -> list[dict[str, Any]]:
    """One row per test of a complete run: the median of the metric over its rounds."""
    rows = []
    for test in summary.tests:
        if test.status != "ok":
            continue
        values = [
            m[metric] for m in (round_metrics(r) for r in test.rounds) if m is not None
        ]
        if values:
            rows.append(
                {
                    "profile": summary.profile,
                    "test": test.id,
                    "run": run_dir.name,
                    "started_at": summary.started_at,
                    "value": float(statistics.median(values)),
                    "rounds": len(values),
                }
            )
    return rows


def load_history(results: Path, metric: str) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for run_dir, summary in scan_summaries(results, warn):
        if summary.status != "complete":
            continue
        try:
            rows += run_rows(run_dir, summary, metric)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            warn(f"skipping {run_dir}: unexpected content ({exc})")
    columns = ["profile", "test", "run", "started_at", "value", "rounds"]
    return pd.DataFrame(rows, columns=columns)


def relative_change(before: float, after: float) -> float:
    if before == 0:
        return 0.0 if after == 0 else float("inf")
    return after / before - 1


def best_split(
    values: list[float], lo: int, hi: int, alpha: float, threshold: float, min_runs: int
) -> tuple[int, float, float] | None:
    """The split k in (lo, hi) that qualifies with the smallest p: (k, p, change), or None."""
    best: tuple[int, float, float] | None = None
    for k in range(lo + min_runs, hi - min_runs + 1):
        left, right = values[lo:k], values[k:hi]
        change = relative_change(statistics.median(left), statistics.median(right))
        if abs(change) < threshold:
            continue
        p = float(mannwhitneyu(left, right, alternative="two-sided").pvalue)
        if p >= alpha:
            continue
        if best is None or (p, -abs(change)) < (best[1], -abs(best[2])):
            best = (k, p, change)
    return best


def change_points(
    values: list[float], alpha: float, threshold: float, min_runs: int
) -> list[tuple[int, float]]:
    """Binary segmentation: the indices (first run of a new level) with their p-values."""
    found: list[tuple[int, float]] = []
    segments = [(0, len(values))]
    while segments:  # each split makes two strictly shorter segments: this ends
        lo, hi = segments.pop()
        split = best_split(values, lo, hi, alpha, threshold, min_runs)
        if split is None:
            continue
        k, p, _ = split
        found.append((k, p))
        segments += [(lo, k), (k, hi)]
    return sorted(found)


def describe(trend: TestTrend, index: int, p: float, indices: list[int]) -> ChangePoint:
    values = [point.value for point in trend.points]
    bounds = [0, *indices, len(values)]
    # the level just before and just after this change point (between neighbouring ones)
    start = max(b for b in bounds if b < index)
    end = min(b for b in bounds if b > index)
    before = statistics.median(values[start:index])
    after = statistics.median(values[index:end])
    change = relative_change(before, after)
    worse = change > 0 if JUDGED_METRICS[trend.metric] == "lower" else change < 0
    labels = (
        ("worse", "better") if trend.metric == "error_rate" else ("slower", "faster")
    )
    point = trend.points[index]
    return ChangePoint(
        index=index,
        run=point.run,
        started_at=point.started_at,
        before=round(before, 4),
        after=round(after, 4),
        change_pct=round(100 * change, 2),
        p_value=p,
        direction=labels[0] if worse else labels[1],
        runs_before=index - start,
        runs_after=end - index,
    )


def build_trends(history: pd.DataFrame, args: argparse.Namespace) -> list[TestTrend]:
    if args.profile:
        history = history[history["profile"] == args.profile]
    if args.test:
        history = history[[fnmatch.fnmatch(t, args.test) for t in history["test"]]]
    trends = []
    for (profile, test), group in history.groupby(["profile", "test"], sort=True):
        group = group.sort_values(["started_at", "run"])
        points = [
            RunPoint(str(r["run"]), str(r["started_at"]), r["value"], r["rounds"])
            for r in group.to_dict("records")
        ]
        trend = TestTrend(str(profile), str(test), args.metric, points)
        values = [p.value for p in points]
        found = change_points(values, args.alpha, args.threshold, args.min_runs)
        indices = [k for k, _ in found]
        trend.change_points = [describe(trend, k, p, indices) for k, p in found]
        trends.append(trend)
    return trends


def render(trends: list[TestTrend], min_runs: int) -> str:
    lines: list[str] = []
    for trend in trends:
        unit = UNITS.get(trend.metric, "")
        lines.append(
            f"{trend.test}  (profile {trend.profile}, median {trend.metric} {unit} per run, "
            f"{len(trend.points)} runs)"
        )
        marks = {c.index: c for c in trend.change_points}
        for i, point in enumerate(trend.points):
            mark = ""
            if i in marks:
                c = marks[i]
                mark = (
                    f"  <- change point: {c.before:g} -> {c.after:g} {unit}, "
                    f"{c.change_pct:+.1f}% {c.direction} (Mann-Whitney p={c.p_value:.2g}, "
                    f"{c.runs_before} runs before, {c.runs_after} after)"
                )
            date = point.started_at[:16].replace("T", " ")
            lines.append(f"  {date:<16}  {point.run:<34} {point.value:>10.2f}{mark}")
        if len(trend.points) < 2 * min_runs:
            lines.append(
                f"  too few runs to look for a change point (need {2 * min_runs})"
            )
        elif not trend.change_points:
            lines.append("  no change point")
        lines.append("")
    return "\n".join(lines).rstrip()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="perfkit trend", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--results", default="results", help="results folder")
    parser.add_argument("--profile", help="only runs of this profile")
    parser.add_argument("--test", help="only tests whose id matches this glob")
    parser.add_argument(
        "--metric",
        default="p50",
        choices=[m for m in JUDGED_METRICS if m != "error_rate"],
    )
    parser.add_argument("--threshold", type=float, default=0.10)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--min-runs", type=int, default=2)
    parser.add_argument("--json", help="also write the trends as JSON to this file")
    args = parser.parse_args(argv)
    if not 0 < args.alpha < 1 or args.threshold < 0 or args.min_runs < 1:
        raise KitError(
            "--alpha must be in (0, 1), --threshold >= 0 and --min-runs >= 1",
            ExitCode.USAGE,
        )
    return args


def cli(argv: list[str]) -> int:
    args = parse_args(argv)
    results = Path(args.results)
    if not results.is_dir():
        raise KitError(
            f"results folder '{results}' not found; run a benchmark first or pass --results DIR",
            ExitCode.USAGE,
        )
    trends = build_trends(load_history(results, args.metric), args)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(t) for t in trends], indent=2))
    if not trends:
        which = f" of profile '{args.profile}'" if args.profile else ""
        print(f"perfkit trend: no complete runs{which} in {results}", file=sys.stderr)
        return 0
    print(render(trends, args.min_runs))
    return 0
