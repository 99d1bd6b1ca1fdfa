"""`perfkit calibrate-jobs record|report`: the computing half of utils/calibrate-jobs.sh.

calibrate-jobs.sh runs whole jobs on the real gateway, as a CI would: each job brings the local
stack up on a fresh database, runs the workload, takes the stack down and is judged - against a
stored baseline with its run-to-run history (mode `stored`), or as an interleaved A/B of two
gateways in one job (mode `ab`). Some jobs change nothing (kind `aa`); others carry a real
slowdown (`mcp+<ms>ms`: the benchmark MCP server slowed by that much a call; `gw:<NAME=VALUE>`:
the gateway started with a setting that costs it time). This module records each job's verdict
and reports, per mode and kind, how often a regression was reported - the false-alarm rate of
unchanged jobs, the detection rate of slowed ones - with 95% Wilson intervals, how many tests a
job could vouch for (unchanged) or not (inconclusive), and, from the unchanged stored jobs,
how far a job's medians moved from the baseline's: the job-to-job drift of this machine.

  record TRIALS.jsonl --mode stored|ab --kind K --job N --run RUN_DIR --exit RC [--seconds S]
         [--note TEXT]
  report TRIALS.jsonl --output FILE --started-at EPOCH [--setting NAME=VALUE ...]
         [--include RESULT ...]   (earlier results of the same workload and machine count too)
  rounds TRIALS.jsonl   (the A/B jobs judged again on fewer rounds: perfkit.calibration.rounds;
                         report does it too while the jobs' run folders are there)
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfkit.baseline.file import load_baseline
from perfkit.calibration import rounds
from perfkit.calibration.rates import (
    load_result,
    rate_text,
    wilson_interval,
    write_result,
)
from perfkit.compare.model import Comparison, load_comparison
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import malformed
from perfkit.results import speed
from perfkit.results.summary import load_summary

MODES = ("stored", "ab")
ERROR = "error"
VERDICTS = ("unchanged", "inconclusive", "regression", "improvement", "failed", "new")


@dataclass
class JobTrial:
    mode: str
    kind: str
    job: int
    run: str
    exit: int
    verdict: str  # the comparison's run verdict, or "error"
    tests: dict[str, int]  # test verdict -> count
    p50_changes: dict[
        str, float
    ]  # test -> p50 change against the baseline, % (+ = better)
    seconds: float
    note: str | None = None
    # the job's and the baseline's p50 medians (ms) and machine-speed references (ms a unit of
    # perfkit.results.speed's work): what the reference would discount (speed_correction)
    p50_ms: dict[str, float] = field(default_factory=dict)
    base_p50_ms: dict[str, float] = field(default_factory=dict)
    speed_ms: float | None = None
    base_speed_ms: float | None = None

    @property
    def reported(self) -> bool:
        return self.verdict == "regression"


@dataclass
class KindResult:
    mode: str
    kind: str
    jobs: int
    reported: int
    errors: int
    rate_name: str  # false_alarm_rate | detection_rate
    rate: float | None
    ci95: tuple[float, float] | None
    unchanged_share: (
        float | None
    )  # mean over jobs of the share of tests judged unchanged
    inconclusive_share: float | None
    verdicts: dict[str, int] = field(default_factory=dict)
    # unchanged stored jobs: |p50 change| of every test of every job, against the baseline
    drift_p50_pct: dict[str, float] | None = None
    # unchanged stored jobs with a machine-speed reference: the spread of a test's job medians
    # as measured and as the reference would correct them (speed_correction)
    speed_correction: dict[str, Any] | None = None


def load_job(run_dir: Path) -> tuple[Comparison | None, str | None]:
    """A job's comparison (read once), or why it has none."""
    try:
        comparison = load_comparison(run_dir)
    except KitError as exc:
        return None, f"no verdict: {exc}"
    if comparison is None:
        return None, f"no verdict: {run_dir} was not compared"
    return comparison, None


def read_job(comparison: Comparison) -> tuple[str, dict[str, int], dict[str, float]]:
    """The job's verdict, its tests' verdicts counted, and each test's p50 change."""
    counts = Counter(t.verdict for t in comparison.tests)
    changes = {
        t.id: p50.change_pct
        for t in comparison.tests
        if (p50 := t.metrics.get("p50")) is not None and p50.change_pct is not None
    }
    return comparison.verdict, dict(counts), changes


def run_speed(run_dir: Path) -> float | None:
    """The machine-speed reference a run measured (summary.json), if any."""
    try:
        return speed.speed_of(load_summary(run_dir).machine_speed)
    except KitError:
        return None


def read_medians(
    comparison: Comparison,
) -> tuple[dict[str, float], dict[str, float], float | None]:
    """The job's and the baseline's p50 medians, and the baseline run's machine speed."""
    p50s = [
        (t.id, m) for t in comparison.tests if (m := t.metrics.get("p50")) is not None
    ]
    job = {i: m.cand_median for i, m in p50s if m.cand_median}
    base = {i: m.base_median for i, m in p50s if m.base_median}
    # a stored baseline's file names the run it was saved from
    source = Path(str((comparison.baseline or {}).get("source") or ""))
    try:
        base_run = (
            Path(load_baseline(source).source.run_dir) if source.is_file() else source
        )
    except KitError:
        return job, base, None
    return job, base, run_speed(base_run)


def make_trial(args: argparse.Namespace) -> JobTrial:
    comparison, note = (
        load_job(Path(args.run)) if args.run else (None, "the job left no run folder")
    )
    verdict, tests, changes = read_job(comparison) if comparison else (ERROR, {}, {})
    if verdict != ERROR and args.exit not in (0, 1):
        verdict, note = ERROR, f"the job exited {args.exit}"
    elif verdict != ERROR and (verdict == "regression") != (args.exit == 1):
        note = f"verdict {verdict} but the job exited {args.exit}"
    job, base, base_speed = read_medians(comparison) if comparison else ({}, {}, None)
    return JobTrial(
        mode=args.mode, kind=args.kind, job=args.job, run=args.run, exit=args.exit,
        verdict=verdict, tests=tests, p50_changes=changes, seconds=args.seconds,
        note=args.note or note, p50_ms=job, base_p50_ms=base,
        speed_ms=run_speed(Path(args.run)) if args.run else None, base_speed_ms=base_speed,
    )  # fmt: skip


def speed_correction(trials: list[JobTrial]) -> dict[str, Any] | None:
    """Would the machine-speed reference narrow the job-to-job drift? Over the unchanged
    stored jobs and their baseline (all with a reference): per test, the spread (sd of log p50
    medians, as perfkit.compare.drift pools it) as measured, and with each job's medians
    divided by its reference's time; their medians over tests, and how the reference and the
    jobs' mean log p50 moved together (correlation). None without 3 such jobs (the baseline's
    counted)."""
    rows = [(t.speed_ms, t.p50_ms) for t in trials if t.speed_ms and t.p50_ms]
    base = next((t for t in trials if t.base_speed_ms and t.base_p50_ms), None)
    if base is not None and base.base_speed_ms:
        rows.insert(0, (base.base_speed_ms, base.base_p50_ms))
    if len(rows) < 3:
        return None
    tests = sorted(set.intersection(*(set(p) for _, p in rows)))
    if not tests:
        return None
    raw, corrected = {}, {}
    for test in tests:
        logs = [math.log(p[test]) for _, p in rows]
        logs_c = [math.log(p[test] / s) for s, p in rows]
        raw[test] = round(100 * statistics.stdev(logs), 2)
        corrected[test] = round(100 * statistics.stdev(logs_c), 2)
    level = [statistics.mean(math.log(p[t]) for t in tests) for _, p in rows]
    ref = [math.log(s) for s, _ in rows]
    return {
        "jobs": len(rows),
        "with_baseline": base is not None,
        "spread_pct": raw,
        "corrected_spread_pct": corrected,
        "median_spread_pct": round(statistics.median(raw.values()), 2),
        "median_corrected_spread_pct": round(statistics.median(corrected.values()), 2),
        "reference_spread_pct": round(100 * statistics.stdev(ref), 2),
        "correlation": round(statistics.correlation(ref, level), 3)
        if statistics.pstdev(ref) > 0 and statistics.pstdev(level) > 0
        else None,
    }


def load_trials(path: Path) -> list[JobTrial]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KitError(
            f"cannot read trials {path}: {exc.strerror}", ExitCode.USAGE
        ) from None
    return [JobTrial(**json.loads(line)) for line in lines if line.strip()]


def share(trials: list[JobTrial], verdict: str) -> float | None:
    shares = [
        t.tests.get(verdict, 0) / sum(t.tests.values()) for t in trials if t.tests
    ]
    return round(statistics.mean(shares), 3) if shares else None


def drift(trials: list[JobTrial]) -> dict[str, float] | None:
    moved = sorted(abs(v) for t in trials for v in t.p50_changes.values())
    if not moved:
        return None
    q95 = moved[min(len(moved) - 1, round(0.95 * (len(moved) - 1)))]
    return {"median": statistics.median(moved), "p95": q95, "max": moved[-1]}


def summarize(mode: str, kind: str, trials: list[JobTrial]) -> KindResult:
    done = [t for t in trials if t.verdict != ERROR]
    reported = sum(t.reported for t in done)
    return KindResult(
        mode=mode,
        kind=kind,
        jobs=len(done),
        reported=reported,
        errors=len(trials) - len(done),
        rate_name="false_alarm_rate" if kind == "aa" else "detection_rate",
        rate=reported / len(done) if done else None,
        ci95=wilson_interval(reported, len(done)) if done else None,
        unchanged_share=share(done, "unchanged"),
        inconclusive_share=share(done, "inconclusive"),
        verdicts=dict(Counter(t.verdict for t in trials)),
        drift_p50_pct=drift(done) if mode == "stored" and kind == "aa" else None,
        speed_correction=speed_correction(done)
        if mode == "stored" and kind == "aa"
        else None,
    )


def render(results: list[KindResult], wall_s: float) -> str:
    width = max([len(r.kind) for r in results] + [4]) + 2
    head = f"{'mode':<8}{'kind':<{width}}{'jobs':>5}{'regressions':>13}{'rate':>17}{'95% CI':>12}"
    lines = [head + f"{'tests unchanged':>17}{'inconclusive':>14}  verdicts"]
    for r in results:
        rate = f"{rate_text(r.rate)} {'false alarm' if r.kind == 'aa' else 'detected'}"
        ci = f"{rate_text(r.ci95[0])}-{rate_text(r.ci95[1])}" if r.ci95 else "-"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r.verdicts.items()))
        lines.append(
            f"{r.mode:<8}{r.kind:<{width}}{r.jobs:>5}{r.reported:>13}{rate:>17}{ci:>12}"
            f"{rate_text(r.unchanged_share):>17}{rate_text(r.inconclusive_share):>14}  {counts}"
        )
    for r in results:
        if r.drift_p50_pct:
            d = r.drift_p50_pct
            lines.append(
                f"\njob-to-job drift of a test's p50 (unchanged stored jobs, against the "
                f"baseline): median {d['median']:.1f}%, 95th percentile {d['p95']:.1f}%, "
                f"max {d['max']:.1f}%"
            )
        if r.speed_correction:
            c = r.speed_correction
            lines.append(
                f"machine-speed reference over {c['jobs']} jobs: a test's job-to-job spread "
                f"(sd of log p50, median over tests) {c['median_spread_pct']:.1f}% as "
                f"measured, {c['median_corrected_spread_pct']:.1f}% corrected by the "
                f"reference (which itself moved {c['reference_spread_pct']:.1f}%; "
                f"correlation with the jobs' p50 level {c['correlation']})"
            )
    minutes, seconds = divmod(round(wall_s), 60)
    lines.append(f"\nwall time {minutes}m{seconds:02d}s")
    return "\n".join(lines)


def record_cli(args: argparse.Namespace) -> int:
    trial = make_trial(args)
    with Path(args.trials_file).open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(trial)) + "\n")
    if not args.quiet:
        counts = ", ".join(f"{v} {k}" for k, v in sorted(trial.tests.items()))
        print(
            f"calibrate-jobs: {trial.mode} job {trial.job} ({trial.kind}): {trial.verdict}"
            f" ({counts or 'no tests'}) in {trial.seconds:.0f} s"
            + (f" [{trial.note}]" if trial.note else ""),
            file=sys.stderr,
        )
    return 0


# settings that may differ between results counted together (the rest must match)
PER_RUN_SETTINGS = {"jobs"}


def included_trials(paths: list[str], settings: list[str]) -> list[JobTrial]:
    """The trials of earlier results (--include), refused (exit 2) when a setting differs from
    this run's: jobs of another workload or machine are not the same experiment."""
    ours = dict(item.split("=", 1) for item in settings)
    found: list[JobTrial] = []
    for name in paths:
        path = Path(name)
        data = load_result(path)
        for key in sorted((set(ours) | set(data["settings"])) - PER_RUN_SETTINGS):
            if ours.get(key) != data["settings"].get(key):
                raise KitError(
                    f"--include {path}: its {key} is {data['settings'].get(key)!r}, this "
                    f"run's {ours.get(key)!r}; only results of the same workload and machine "
                    "count together",
                    ExitCode.USAGE,
                )
        try:
            found += [JobTrial(**trial) for trial in data["trials"]]
        except TypeError as exc:
            raise malformed(path, "calibration result", exc) from None
    return found


def report_cli(args: argparse.Namespace) -> int:
    trials = included_trials(args.include, args.setting) + load_trials(
        Path(args.trials_file)
    )
    groups = dict.fromkeys((t.mode, t.kind) for t in trials)
    results = [
        summarize(mode, kind, [t for t in trials if (t.mode, t.kind) == (mode, kind)])
        for mode, kind in groups
    ]
    replayed = rounds.summarize(rounds.replay(trials))
    wall_s = write_result(
        Path(args.output), args.started_at, args.setting,
        [asdict(r) for r in results], [asdict(t) for t in trials],
        {"included": args.include} | ({"fewer_rounds": replayed} if replayed else {}),
    )  # fmt: skip
    print(render(results, wall_s))
    if replayed:
        print("\n" + rounds.render(replayed))
    print(f"calibrate-jobs: wrote {args.output}", file=sys.stderr)
    return int(ExitCode.BENCHMARK_FAILED) if any(r.errors for r in results) else 0


def rounds_cli(args: argparse.Namespace) -> int:
    """The A/B jobs of a kept calibration judged again on fewer rounds, printed."""
    replayed = rounds.summarize(rounds.replay(load_trials(Path(args.trials_file))))
    if not replayed:
        raise KitError(
            f"{args.trials_file} has no A/B job whose run folder is still there "
            "(utils/calibrate-jobs.sh --mode ab --keep keeps them)",
            ExitCode.USAGE,
        )
    print(rounds.render(replayed))
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="perfkit calibrate-jobs", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    record = sub.add_parser("record")
    record.add_argument("trials_file")
    record.add_argument("--mode", choices=MODES, required=True)
    record.add_argument("--kind", required=True)
    record.add_argument("--job", type=int, required=True)
    record.add_argument("--run", default="", help="the judged run folder ('' if none)")
    record.add_argument("--exit", type=int, required=True, help="the job's exit code")
    record.add_argument("--seconds", type=float, default=0.0)
    record.add_argument("--note")
    record.add_argument("--quiet", action="store_true")
    report = sub.add_parser("report")
    report.add_argument("trials_file")
    report.add_argument("--output", required=True)
    report.add_argument("--started-at", type=float, required=True)
    report.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE")
    report.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="RESULT",
        help="an earlier result of the same workload and machine: its jobs count too",
    )
    again = sub.add_parser("rounds")
    again.add_argument("trials_file")
    return parser.parse_args(argv)


def cli(argv: list[str]) -> int:
    args = parse_args(argv)
    actions = {"record": record_cli, "report": report_cli, "rounds": rounds_cli}
    return actions[args.action](args)
